//! The `ExecCredential` a kubectl exec credential plugin prints, exactly as `aws eks get-token`
//! prints it (awscli `customizations/eks/get_token.py`): same fields, order, indentation,
//! timestamp format and trailing newlines, and the same `KUBERNETES_EXEC_INFO` handling.

use eks_auth_kube::token::Token;
use serde::Serialize;
use std::fmt;

/// The client authentication API version of an `ExecCredential`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    /// `client.authentication.k8s.io/v1alpha1` (deprecated; still honoured like the aws CLI).
    V1Alpha1,
    /// `client.authentication.k8s.io/v1beta1`, the default.
    V1Beta1,
    /// `client.authentication.k8s.io/v1`.
    V1,
}

impl ApiVersion {
    /// The `apiVersion` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1Alpha1 => "client.authentication.k8s.io/v1alpha1",
            ApiVersion::V1Beta1 => "client.authentication.k8s.io/v1beta1",
            ApiVersion::V1 => "client.authentication.k8s.io/v1",
        }
    }

    /// Choose the version from the `KUBERNETES_EXEC_INFO` environment variable the way the aws
    /// CLI does: absent or empty → v1beta1 silently; v1 and v1beta1 as asked; v1alpha1 as asked
    /// with a deprecation notice; anything else → v1beta1 with a notice. Notices are the aws
    /// CLI's stderr lines, word for word.
    pub fn from_exec_info(raw: Option<&str>) -> ApiVersionChoice {
        const FALLBACK: ApiVersion = ApiVersion::V1Beta1;
        let raw = raw.unwrap_or("");
        if raw.is_empty() {
            return ApiVersionChoice::silent(FALLBACK);
        }
        let Ok(info) = serde_json::from_str::<serde_json::Value>(raw) else {
            return ApiVersionChoice {
                version: FALLBACK,
                notice: Some(format!(
                    "Error parsing KUBERNETES_EXEC_INFO, defaulting to {}. This is likely a bug \
                     in your Kubernetes client. Please update your Kubernetes client.",
                    FALLBACK.as_str()
                )),
            };
        };
        match info.get("apiVersion").and_then(|v| v.as_str()) {
            Some(v) if v == ApiVersion::V1.as_str() => ApiVersionChoice::silent(ApiVersion::V1),
            Some(v) if v == ApiVersion::V1Beta1.as_str() => {
                ApiVersionChoice::silent(ApiVersion::V1Beta1)
            }
            Some(v) if v == ApiVersion::V1Alpha1.as_str() => ApiVersionChoice {
                version: ApiVersion::V1Alpha1,
                notice: Some(format!(
                    "Kubeconfig user entry is using deprecated API version {v}. Run 'aws eks \
                     update-kubeconfig' to update."
                )),
            },
            _ => ApiVersionChoice {
                version: FALLBACK,
                notice: Some(format!(
                    "Unrecognized API version in KUBERNETES_EXEC_INFO, defaulting to {}. This is \
                     likely due to an outdated AWS CLI. Please update your AWS CLI.",
                    FALLBACK.as_str()
                )),
            },
        }
    }
}

/// The outcome of [`ApiVersion::from_exec_info`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionChoice {
    /// The version to print.
    pub version: ApiVersion,
    /// A line for stderr, when the aws CLI would print one.
    pub notice: Option<String>,
}

impl ApiVersionChoice {
    fn silent(version: ApiVersion) -> Self {
        Self {
            version,
            notice: None,
        }
    }
}

/// An `ExecCredential` carrying an EKS bearer token.
///
/// `Debug` redacts the token.
#[derive(Clone, PartialEq, Eq)]
pub struct ExecCredential {
    api_version: ApiVersion,
    token: Token,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    kind: &'static str,
    api_version: &'static str,
    spec: Empty,
    status: Status<'a>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    expiration_timestamp: String,
    token: &'a str,
}

impl ExecCredential {
    /// Wrap `token` for `api_version`.
    pub fn new(token: Token, api_version: ApiVersion) -> Self {
        Self { api_version, token }
    }

    /// The token inside.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// Exactly what `aws eks get-token` writes to stdout: the object as JSON indented by four
    /// spaces, then two newlines.
    pub fn to_cli_output(&self) -> String {
        let wire = Wire {
            kind: "ExecCredential",
            api_version: self.api_version.as_str(),
            spec: Empty {},
            status: Status {
                expiration_timestamp: self.token.expiration_timestamp(),
                token: self.token.as_str(),
            },
        };
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        // Serializing plain strings into a Vec cannot fail.
        if wire.serialize(&mut ser).is_err() {
            out.clear();
        }
        let mut text = String::from_utf8_lossy(&out).into_owned();
        text.push_str("\n\n");
        text
    }
}

impl fmt::Debug for ExecCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecCredential")
            .field("api_version", &self.api_version.as_str())
            .field("token", &self.token)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use eks_auth_kube::ids::{ClusterName, Region};
    use eks_auth_kube::token::token;
    use std::time::{Duration, UNIX_EPOCH};

    fn sample() -> Token {
        token(
            &Credentials::new("AKID", "secret", None, None, "test"),
            &Region::parse("us-east-1").expect("region"),
            &ClusterName::parse("prod").expect("cluster"),
            UNIX_EPOCH + Duration::from_secs(1_767_323_045),
        )
        .expect("sign")
    }

    #[test]
    fn renders_like_the_aws_cli() {
        let t = sample();
        let out = ExecCredential::new(t.clone(), ApiVersion::V1Beta1).to_cli_output();
        let want = format!(
            "{{\n    \"kind\": \"ExecCredential\",\n    \"apiVersion\": \
             \"client.authentication.k8s.io/v1beta1\",\n    \"spec\": {{}},\n    \"status\": {{\n        \
             \"expirationTimestamp\": \"2026-01-02T03:18:05Z\",\n        \"token\": \"{}\"\n    }}\n}}\n\n",
            t.as_str()
        );
        assert_eq!(out, want);
    }

    #[test]
    fn api_version_from_exec_info() {
        let pick = |raw: Option<&str>| ApiVersion::from_exec_info(raw);
        assert_eq!(pick(None), ApiVersionChoice::silent(ApiVersion::V1Beta1));
        assert_eq!(
            pick(Some("")),
            ApiVersionChoice::silent(ApiVersion::V1Beta1)
        );
        let v1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
        assert_eq!(pick(Some(v1)), ApiVersionChoice::silent(ApiVersion::V1));
        let beta = r#"{"apiVersion":"client.authentication.k8s.io/v1beta1"}"#;
        assert_eq!(
            pick(Some(beta)),
            ApiVersionChoice::silent(ApiVersion::V1Beta1)
        );
        let alpha = pick(Some(
            r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
        ));
        assert_eq!(alpha.version, ApiVersion::V1Alpha1);
        assert!(alpha.notice.is_some_and(|n| n.starts_with("Kubeconfig user entry is using deprecated API version client.authentication.k8s.io/v1alpha1.")));
        let junk = pick(Some("{not json"));
        assert_eq!(junk.version, ApiVersion::V1Beta1);
        assert!(junk.notice.is_some_and(|n| n.starts_with("Error parsing KUBERNETES_EXEC_INFO, defaulting to client.authentication.k8s.io/v1beta1.")));
        let unknown = pick(Some(r#"{"apiVersion":"client.authentication.k8s.io/v2"}"#));
        assert_eq!(unknown.version, ApiVersion::V1Beta1);
        assert!(
            unknown
                .notice
                .is_some_and(|n| n.starts_with("Unrecognized API version in KUBERNETES_EXEC_INFO"))
        );
    }

    #[test]
    fn debug_redacts_the_token() {
        let t = sample();
        let debug = format!("{:?}", ExecCredential::new(t.clone(), ApiVersion::V1));
        assert!(!debug.contains(t.as_str()), "{debug}");
    }
}
