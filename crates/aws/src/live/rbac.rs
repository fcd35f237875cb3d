//! What `plan --suggest` compares, read-only: the cluster's ClusterRoles, Roles,
//! ClusterRoleBindings and RoleBindings through its Kubernetes API (every page), and the access
//! policies EKS offers (ListAccessPolicies, every page).
//!
//! The objects are returned as the API sends them, with `kind` and `apiVersion` set on each
//! (list items carry neither), for [`eks_auth_core::rbac::Rbac::from_items`]: a malformed
//! object becomes a finding there, never an error here.

use super::eks;
use super::error::GatherError;
use super::kube::{KubeCtx, client, error_chain};
use super::{bearer, caller_identity, eks_client, region_of};
use crate::ids::ClusterName;
use eks_auth_core::rbac::Rbac;
use kube::api::ListParams;
use serde_json::Value;

/// The RBAC kinds read, as (URL resource, kind).
const KINDS: [(&str, &str); 4] = [
    ("clusterroles", "ClusterRole"),
    ("clusterrolebindings", "ClusterRoleBinding"),
    ("roles", "Role"),
    ("rolebindings", "RoleBinding"),
];

/// Items per page.
const PAGE: u32 = 500;

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
/// policies EKS offers. Read-only.
///
/// # Errors
///
/// [`RbacError::Denied`] with what to grant when the API refuses a list, [`RbacError::Live`]
/// otherwise.
pub async fn gather_rbac(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
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
    let token = bearer(config, &cluster, &region).await?;
    let kctx = KubeCtx {
        cluster: cluster.as_ref(),
        region: region.as_ref(),
        info: &info,
    };
    let kube = client(&kctx, token)?;
    let mut objects = Vec::new();
    for (resource, kind) in KINDS {
        match list_all(&kube, &kctx, resource, kind).await {
            Ok(items) => objects.extend(items),
            Err(ListError::Denied(code, status_reason, message)) => {
                return Err(RbacError::Denied(Box::new(RbacDenied {
                    cluster: cluster.to_string(),
                    account: info.account.clone(),
                    region: region.to_string(),
                    verb: "list",
                    resource,
                    code,
                    status_reason,
                    message,
                    caller: caller_identity(config).await,
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

/// Why one list failed: (code, reason, message) of a refusal or another API error, or a
/// transport failure.
enum ListError {
    Denied(u16, String, String),
    Api(u16, String, String),
    Other(GatherError),
}

/// Lists one kind in every namespace, page by page, setting each item's kind and apiVersion.
async fn list_all(
    kube: &kube::Client,
    kctx: &KubeCtx<'_>,
    resource: &str,
    kind: &str,
) -> Result<Vec<Value>, ListError> {
    let path = format!("/apis/rbac.authorization.k8s.io/v1/{resource}");
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let request = kube::core::Request::new(&path)
            .list(&params)
            .map_err(|e| ListError::Other(other(kctx, &e)))?;
        let page: Value = match kube.request(request).await {
            Ok(page) => page,
            Err(kube::Error::Api(status)) if matches!(status.code, 401 | 403) => {
                return Err(ListError::Denied(
                    status.code,
                    status.reason.clone(),
                    status.message.clone(),
                ));
            }
            Err(kube::Error::Api(status)) => {
                return Err(ListError::Api(
                    status.code,
                    status.reason.clone(),
                    status.message.clone(),
                ));
            }
            Err(e) => return Err(ListError::Other(other(kctx, &e))),
        };
        for mut item in page
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            if let Some(map) = item.as_object_mut() {
                map.entry("kind").or_insert_with(|| Value::from(kind));
                map.entry("apiVersion")
                    .or_insert_with(|| Value::from("rbac.authorization.k8s.io/v1"));
            }
            items.push(item);
        }
        match page.pointer("/metadata/continue").and_then(Value::as_str) {
            Some(token) if !token.is_empty() => {
                params = ListParams::default().limit(PAGE).continue_token(token);
            }
            _ => return Ok(items),
        }
    }
}

fn other(kctx: &KubeCtx<'_>, e: &dyn std::error::Error) -> GatherError {
    GatherError::KubeUnreachable {
        cluster: kctx.cluster.to_owned(),
        account: kctx.info.account.clone(),
        region: kctx.region.to_owned(),
        endpoint: kctx.info.endpoint.clone(),
        reason: error_chain(e),
    }
}
