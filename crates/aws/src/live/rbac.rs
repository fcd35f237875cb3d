//! What `plan --suggest` compares, read-only: the cluster's ClusterRoles, Roles,
//! ClusterRoleBindings and RoleBindings through its Kubernetes API (every page), and the access
//! policies EKS offers (ListAccessPolicies, every page).
//!
//! The objects are returned as the API sends them, with `kind` and `apiVersion` set on each
//! (list items carry neither), for [`eks_auth_core::rbac::Rbac::from_items`]: a malformed
//! object becomes a finding there, never an error here.

use super::eks;
use super::error::RbacError;
use super::kube::list_rbac;
use super::kube_ctx::KubeCtx;
use super::options::GatherOptions;
use super::target::Target;
use eks_auth_core::rbac::Rbac;
use eks_auth_kube::rbac::RBAC_KINDS;
use serde_json::Value;

/// A cluster's RBAC objects and the access policies EKS offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacGathered {
    /// Every ClusterRole, ClusterRoleBinding, Role and RoleBinding, each with its kind.
    pub objects: Vec<Value>,
    /// ListAccessPolicies' names.
    pub access_policies: Vec<String>,
}

impl RbacGathered {
    /// The objects read by the core's RBAC reader (findings for malformed ones).
    pub fn rbac(&self) -> Rbac {
        Rbac::from_items(self.objects.iter().cloned())
    }
}

/// Reads the RBAC objects of cluster `cluster_name` (the configuration's region) and the access
/// policies EKS offers, directly (the CLI's `plan --suggest`). Read-only.
///
/// # Errors
///
/// [`RbacError::Denied`] with what to grant when the API refuses a list, [`RbacError::Live`]
/// otherwise.
pub async fn gather_rbac(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
) -> Result<RbacGathered, RbacError> {
    gather_rbac_with(config, cluster_name, &GatherOptions::default()).await
}

/// [`gather_rbac`] by the route `options.route` chooses (the functions: through the in-VPC
/// agent when the cluster's API is private). Read-only.
///
/// # Errors
///
/// As [`gather_rbac`]; [`super::GatherError::Unreachable`] (in [`RbacError::Live`]) when no
/// route reaches the cluster.
pub async fn gather_rbac_with(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
    options: &GatherOptions,
) -> Result<RbacGathered, RbacError> {
    let target = Target::describe(config, cluster_name).await?;
    let access_policies = eks::access_policy_names(&target.eks, &target.ctx()).await?;
    let access = target.route(config, &options.route, options.agent_signer.as_ref())?;
    let kctx = KubeCtx::new(&target, &access.reach);
    let mut objects = Vec::new();
    for (resource, _) in RBAC_KINDS {
        objects.extend(list_rbac(config, &kctx, &access.via, resource).await?);
    }
    tracing::debug!(cluster = %target.cluster, objects = objects.len(), policies = access_policies.len(), "read RBAC");
    Ok(RbacGathered {
        objects,
        access_policies,
    })
}
