//! A Kubernetes client for one EKS cluster: DescribeCluster's endpoint and CA, a bearer token,
//! timeouts, and optionally an HTTP CONNECT proxy; and the errors of one call, sorted the way
//! both routes report them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::time::Duration;

/// A cluster's Kubernetes API as DescribeCluster describes it.
#[derive(Debug, Clone, Copy)]
pub struct ClusterEndpoint<'a> {
    /// `endpoint` (`https://…`).
    pub url: &'a str,
    /// `certificateAuthority.data` (base64 of PEM).
    pub ca_data: &'a str,
}

/// Why a call to the Kubernetes API failed. Messages never carry the bearer token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeCallError {
    /// No client could be built (endpoint, CA or proxy unusable).
    #[error("cannot build a Kubernetes client: {0}")]
    Config(String),
    /// 401 or 403.
    #[error("the Kubernetes API answered {code} {status_reason}: {message}")]
    Denied {
        /// 401 or 403.
        code: u16,
        /// `Unauthorized` / `Forbidden`.
        status_reason: String,
        /// The API server's message.
        message: String,
    },
    /// 409: the object changed since it was read.
    #[error("the Kubernetes API answered 409 Conflict: {message}")]
    Conflict {
        /// The API server's message.
        message: String,
    },
    /// 404.
    #[error("the Kubernetes API answered 404 NotFound")]
    NotFound,
    /// Another error status.
    #[error("the Kubernetes API answered {code} {status_reason}: {message}")]
    Api {
        /// HTTP status.
        code: u16,
        /// The Status reason.
        status_reason: String,
        /// The API server's message.
        message: String,
    },
    /// No answer: connection, TLS, timeout, or a body that is not Kubernetes JSON.
    #[error("{0}")]
    Unreachable(String),
}

impl KubeCallError {
    /// Sorts a kube client error.
    pub fn from_kube(err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => {
                let (code, status_reason, message) =
                    (status.code, status.reason.clone(), status.message.clone());
                match code {
                    401 | 403 => Self::Denied {
                        code,
                        status_reason,
                        message,
                    },
                    404 => Self::NotFound,
                    409 => Self::Conflict { message },
                    _ => Self::Api {
                        code,
                        status_reason,
                        message,
                    },
                }
            }
            other => Self::Unreachable(error_chain(&other)),
        }
    }
}

/// A Kubernetes client for the cluster at `endpoint`, authenticating with `bearer`; through the
/// HTTP CONNECT proxy `proxy` (`http://host:port`) when one is given.
///
/// # Errors
///
/// [`KubeCallError::Config`] when the endpoint is not a URL, the CA holds no PEM certificate or
/// the proxy is not an `http` URL.
pub fn connect(
    endpoint: ClusterEndpoint<'_>,
    bearer: String,
    proxy: Option<&str>,
) -> Result<kube::Client, KubeCallError> {
    let uri = endpoint.url.parse().map_err(|e| {
        KubeCallError::Config(format!("endpoint {} is not a URL: {e}", endpoint.url))
    })?;
    let certs = ca_der(endpoint.ca_data).map_err(KubeCallError::Config)?;
    let mut config = kube::Config::new(uri);
    config.default_namespace = "kube-system".to_owned();
    config.root_cert = Some(certs);
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(30));
    config.write_timeout = Some(Duration::from_secs(30));
    config.auth_info.token = Some(bearer.into());
    if let Some(proxy) = proxy {
        config.proxy_url = Some(
            proxy
                .parse()
                .map_err(|e| KubeCallError::Config(format!("proxy {proxy} is not a URL: {e}")))?,
        );
    }
    kube::Client::try_from(config).map_err(|e| KubeCallError::Config(error_chain(&e)))
}

/// DER certificates from DescribeCluster's `certificateAuthority.data` (base64 of PEM).
///
/// # Errors
///
/// What is wrong with the data.
pub fn ca_der(data: &str) -> Result<Vec<Vec<u8>>, String> {
    let pem = STANDARD
        .decode(data.trim())
        .map_err(|e| format!("certificateAuthority.data is not base64: {e}"))?;
    let pem = String::from_utf8(pem)
        .map_err(|_| "certificateAuthority.data is not PEM text".to_owned())?;
    let mut certs = Vec::new();
    let mut body: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            body = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            let b64 = body
                .take()
                .ok_or_else(|| "certificateAuthority.data: END without BEGIN".to_owned())?;
            certs.push(
                STANDARD
                    .decode(b64)
                    .map_err(|e| format!("certificateAuthority.data: bad certificate: {e}"))?,
            );
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if certs.is_empty() {
        return Err("certificateAuthority.data holds no PEM certificate".to_owned());
    }
    Ok(certs)
}

/// An error and its sources, `: `-joined.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_pem_to_der() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBAU=\n-----END CERTIFICATE-----\n";
        let data = STANDARD.encode(pem);
        assert_eq!(ca_der(&data), Ok(vec![vec![0, 1, 2, 3], vec![4, 5]]));
        assert!(ca_der("!!").is_err());
        assert!(ca_der(&STANDARD.encode("no cert")).is_err());
    }

    #[test]
    fn unusable_endpoints_and_proxies_are_config_errors() {
        let ca = STANDARD.encode("-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n");
        let endpoint = |url| ClusterEndpoint { url, ca_data: &ca };
        assert!(matches!(
            connect(endpoint("not a url"), "t".to_owned(), None),
            Err(KubeCallError::Config(_))
        ));
        assert!(matches!(
            connect(
                endpoint("https://127.0.0.1:1"),
                "t".to_owned(),
                Some("not a url")
            ),
            Err(KubeCallError::Config(_))
        ));
    }
}
