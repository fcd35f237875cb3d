//! [`write_aws_auth`]: the one write of the live path, kube-system/aws-auth's `data`, conditional
//! on the resourceVersion it was read at, by the route chosen for the cluster.

use super::error::WriteError;
use super::kube::{Expected, patch_aws_auth};
use super::kube_ctx::KubeCtx;
use super::options::GatherOptions;
use super::target::Target;
use eks_auth_kube::AwsAuthConfigMap;
use std::collections::BTreeMap;

/// Sets kube-system/aws-auth's `data` to `data`, only if the ConfigMap is still at
/// `expected.resource_version` (`expected.data` is what was read there), by the route
/// `options.route` chooses (directly or through the in-VPC agent). Returns the new
/// resourceVersion. Other metadata (labels, annotations) is kept.
///
/// # Errors
///
/// [`WriteError::Changed`] when aws-auth changed since it was read (nothing written),
/// [`WriteError::Missing`], [`WriteError::Denied`] with what to grant, [`WriteError::Live`].
pub async fn write_aws_auth(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
    options: &GatherOptions,
    expected: &AwsAuthConfigMap,
    data: &BTreeMap<String, String>,
) -> Result<String, WriteError> {
    let target = Target::describe(config, cluster_name).await?;
    let access = target.route(config, &options.route, options.agent_signer.as_ref())?;
    let expected = Expected {
        resource_version: &expected.resource_version,
        data: &expected.data,
    };
    let kctx = KubeCtx::new(&target, &access.reach);
    patch_aws_auth(config, &kctx, &access.via, expected, data).await
}
