//! The Kubernetes side of a gather: read kube-system/aws-auth through the cluster's API with an
//! EKS bearer token, endpoint and CA from DescribeCluster.

use super::AwsAuthConfigMap;
use super::eks::ClusterInfo;
use super::error::{GatherError, KubeStatus};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use std::collections::BTreeMap;
use std::time::Duration;

/// Where errors say the call went.
pub(crate) struct KubeCtx<'a> {
    pub(crate) cluster: &'a str,
    pub(crate) region: &'a str,
    pub(crate) info: &'a ClusterInfo,
}

/// Why reading aws-auth failed, before the caller's identity is added to a 401/403.
pub(crate) enum ReadError {
    /// 401 or 403: (code, reason, message).
    Denied(u16, String, String),
    /// Anything else, already worded.
    Other(GatherError),
}

/// Reads kube-system/aws-auth; `Ok(None)` when it does not exist (404).
pub(crate) async fn read_aws_auth(
    ctx: &KubeCtx<'_>,
    bearer: String,
) -> Result<Option<AwsAuthConfigMap>, ReadError> {
    let client = client(ctx, bearer).map_err(ReadError::Other)?;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-system");
    match api.get_opt("aws-auth").await {
        Ok(None) => Ok(None),
        Ok(Some(cm)) => Ok(Some(AwsAuthConfigMap {
            data: cm.data.unwrap_or_default(),
            resource_version: cm.metadata.resource_version.unwrap_or_default(),
        })),
        Err(kube::Error::Api(status)) if matches!(status.code, 401 | 403) => Err(
            ReadError::Denied(status.code, status.reason.clone(), status.message.clone()),
        ),
        Err(kube::Error::Api(status)) => Err(ReadError::Other(GatherError::KubeApi(Box::new(
            KubeStatus {
                cluster: ctx.cluster.to_owned(),
                account: ctx.info.account.clone(),
                region: ctx.region.to_owned(),
                code: status.code,
                status_reason: status.reason.clone(),
                message: status.message.clone(),
            },
        )))),
        Err(other) => Err(ReadError::Other(GatherError::KubeUnreachable {
            cluster: ctx.cluster.to_owned(),
            account: ctx.info.account.clone(),
            region: ctx.region.to_owned(),
            endpoint: ctx.info.endpoint.clone(),
            reason: error_chain(&other),
        })),
    }
}

/// Why writing aws-auth failed.
pub(crate) enum WriteError {
    /// 409: aws-auth changed since it was read (or the expected resourceVersion is stale).
    Conflict(String),
    /// 404: aws-auth does not exist.
    Missing,
    /// 401 or 403: (code, reason, message).
    Denied(u16, String, String),
    /// Anything else, already worded.
    Other(GatherError),
}

/// Sets aws-auth's `data` to exactly `data` (keys of `current` that `data` lacks are removed)
/// with a JSON merge patch whose `metadata.resourceVersion` is a precondition, so the write
/// only lands on the version that was read. Labels, annotations and other metadata are kept.
/// Returns the new resourceVersion.
pub(crate) async fn patch_aws_auth(
    ctx: &KubeCtx<'_>,
    bearer: String,
    expected_resource_version: &str,
    current: &BTreeMap<String, String>,
    data: &BTreeMap<String, String>,
) -> Result<String, WriteError> {
    let client = client(ctx, bearer).map_err(WriteError::Other)?;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-system");
    let mut patch_data = serde_json::Map::new();
    for key in current.keys().filter(|k| !data.contains_key(*k)) {
        patch_data.insert(key.clone(), serde_json::Value::Null);
    }
    for (key, value) in data {
        patch_data.insert(key.clone(), serde_json::Value::String(value.clone()));
    }
    let patch = serde_json::json!({
        "metadata": { "resourceVersion": expected_resource_version },
        "data": patch_data,
    });
    match api
        .patch("aws-auth", &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(cm) => Ok(cm.metadata.resource_version.unwrap_or_default()),
        Err(kube::Error::Api(status)) => match status.code {
            409 => Err(WriteError::Conflict(status.message.clone())),
            404 => Err(WriteError::Missing),
            401 | 403 => Err(WriteError::Denied(
                status.code,
                status.reason.clone(),
                status.message.clone(),
            )),
            code => Err(WriteError::Other(GatherError::KubeApi(Box::new(
                KubeStatus {
                    cluster: ctx.cluster.to_owned(),
                    account: ctx.info.account.clone(),
                    region: ctx.region.to_owned(),
                    code,
                    status_reason: status.reason.clone(),
                    message: status.message.clone(),
                },
            )))),
        },
        Err(other) => Err(WriteError::Other(GatherError::KubeUnreachable {
            cluster: ctx.cluster.to_owned(),
            account: ctx.info.account.clone(),
            region: ctx.region.to_owned(),
            endpoint: ctx.info.endpoint.clone(),
            reason: error_chain(&other),
        })),
    }
}

/// A Kubernetes client for the cluster with `bearer` as its token.
pub(crate) fn client(ctx: &KubeCtx<'_>, bearer: String) -> Result<kube::Client, GatherError> {
    let fail = |reason: String| GatherError::KubeConfig {
        cluster: ctx.cluster.to_owned(),
        account: ctx.info.account.clone(),
        region: ctx.region.to_owned(),
        reason,
    };
    let uri = ctx
        .info
        .endpoint
        .parse()
        .map_err(|e| fail(format!("endpoint {} is not a URL: {e}", ctx.info.endpoint)))?;
    let certs = ca_der(&ctx.info.ca_data).map_err(fail)?;
    let mut config = kube::Config::new(uri);
    config.default_namespace = "kube-system".to_owned();
    config.root_cert = Some(certs);
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(30));
    config.write_timeout = Some(Duration::from_secs(30));
    config.auth_info.token = Some(bearer.into());
    kube::Client::try_from(config).map_err(|e| fail(error_chain(&e)))
}

/// DER certificates from DescribeCluster's `certificateAuthority.data` (base64 of PEM).
pub(crate) fn ca_der(data: &str) -> Result<Vec<Vec<u8>>, String> {
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
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
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
}
