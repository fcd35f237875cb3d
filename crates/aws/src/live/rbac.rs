//! What `plan --suggest` compares, read-only: the cluster's ClusterRoles, Roles,
//! ClusterRoleBindings and RoleBindings through its Kubernetes API (every page), and the access
//! policies EKS offers (ListAccessPolicies, every page).
//!
//! The objects are returned as the API sends them, with `kind` and `apiVersion` set on each
//! (list items carry neither), for [`eks_auth_core::rbac::Rbac::from_items`]: a malformed
//! object becomes a finding there, never an error here.

use super::eks;
use super::error::GatherError;
use super::kube::{KubeCtx, ListError};
use super::{GatherOptions, caller_identity, choose_route, eks_client, region_of};
use crate::ids::ClusterName;
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

/// Why reading RBAC failed: refused (401/403, with what to grant) or another API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot {verb} {resource}.rbac.authorization.k8s.io on cluster `{cluster}` (account {account}, region {region}): the Kubernetes API answered {code} {status_reason}: {message}. The migrator runs as {caller}. --suggest reads RBAC: grant get and list on clusterroles, clusterrolebindings, roles and rolebindings (the ClusterRole eks-auth-migrator-rbac-reader in infra/kubernetes/migrator-rbac.yaml), or plan without --suggest, or offline with --rbac FILE from `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml`"
)]
pub struct RbacDenied {
    /// The cluster.
    pub cluster: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `list`.
    pub verb: &'static str,
    /// The resource refused.
    pub resource: &'static str,
    /// HTTP status.
    pub code: u16,
    /// The Status reason.
    pub status_reason: String,
    /// The API server's message.
    pub message: String,
    /// The caller's ARN (sts:GetCallerIdentity) or why it is unknown.
    pub caller: String,
}

/// Why [`gather_rbac`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RbacError {
    /// The Kubernetes API refused to list an RBAC kind.
    #[error("{0}")]
    Denied(Box<RbacDenied>),
    /// The Kubernetes API answered a list with another error.
    #[error(
        "listing {resource}.rbac.authorization.k8s.io on cluster `{cluster}` failed: {code} {status_reason}: {message}"
    )]
    Api {
        /// The cluster.
        cluster: String,
        /// The resource listed.
        resource: &'static str,
        /// HTTP status.
        code: u16,
        /// The Status reason.
        status_reason: String,
        /// The API server's message.
        message: String,
    },
    /// Describing the cluster, signing the token, listing access policies or reaching the API
    /// failed.
    #[error(transparent)]
    Live(#[from] GatherError),
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
/// As [`gather_rbac`]; [`GatherError::Unreachable`] (in [`RbacError::Live`]) when no route
/// reaches the cluster.
pub async fn gather_rbac_with(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
    options: &GatherOptions,
) -> Result<RbacGathered, RbacError> {
    let cluster = ClusterName::parse(cluster_name).map_err(GatherError::from)?;
    let region = region_of(config, cluster_name)?;
    let ctx = eks::Ctx {
        cluster: cluster.as_ref(),
        region: region.as_ref(),
    };
    let eks = eks_client(config);
    let info = eks::describe(&eks, &ctx).await?;
    let access_policies = access_policies(&eks, &ctx).await?;
    let access = choose_route(config, &cluster, &region, &info, &options.route)?;
    let kctx = KubeCtx {
        cluster: &cluster,
        region: &region,
        info: &info,
        reach: &access.reach,
    };
    let mut objects = Vec::new();
    for (resource, _) in RBAC_KINDS {
        match super::kube::list_rbac(config, &kctx, &access.via, resource).await {
            Ok(items) => objects.extend(items),
            Err(ListError::Denied(d)) => {
                return Err(RbacError::Denied(Box::new(RbacDenied {
                    cluster: cluster.to_string(),
                    account: info.account.clone(),
                    region: region.to_string(),
                    verb: "list",
                    resource,
                    code: d.code,
                    status_reason: d.status_reason,
                    message: d.message,
                    caller: match d.caller {
                        Some(caller) => caller,
                        None => caller_identity(config).await,
                    },
                })));
            }
            Err(ListError::Api(code, status_reason, message)) => {
                return Err(RbacError::Api {
                    cluster: cluster.to_string(),
                    resource,
                    code,
                    status_reason,
                    message,
                });
            }
            Err(ListError::Other(e)) => return Err(e.into()),
        }
    }
    tracing::debug!(cluster = %cluster, objects = objects.len(), policies = access_policies.len(), "read RBAC");
    Ok(RbacGathered {
        objects,
        access_policies,
    })
}

/// ListAccessPolicies, every page: the policies' names.
async fn access_policies(
    eks: &aws_sdk_eks::Client,
    ctx: &eks::Ctx<'_>,
) -> Result<Vec<String>, GatherError> {
    let mut names = Vec::new();
    let mut pages = eks.list_access_policies().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| GatherError::Eks {
            operation: "ListAccessPolicies",
            cluster: ctx.cluster.to_owned(),
            region: ctx.region.to_owned(),
            reason: eks::sdk_reason(&e),
        })?;
        names.extend(
            page.access_policies()
                .iter()
                .filter_map(|p| p.name().map(str::to_owned)),
        );
    }
    Ok(names)
}
