//! Why a live gather failed. Messages name the cluster, account and region, say what failed and
//! why, and what to do; they never carry credentials, tokens or presigned URLs.

use crate::sdk_error::log::HasCallFailure;
use eks_auth_core::call_failure::CallFailure;

/// Why [`super::gather`] (or another read of one cluster) could not produce its facts.
///
/// Single-principal IAM problems are never errors: they become
/// [`eks_auth_core::facts::IamResolution::Unresolvable`] or `NotFound`.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// The cluster name or region is not valid.
    #[error("invalid input: {0}")]
    Input(#[from] eks_auth_kube::ids::IdError),
    /// The shared configuration has no region.
    #[error(
        "no AWS region configured: set AWS_REGION (or --region) to the region of cluster `{cluster}`"
    )]
    NoRegion {
        /// The cluster.
        cluster: String,
    },
    /// The credentials could not be loaded.
    #[error("{failure}")]
    Credentials {
        /// The cluster.
        cluster: String,
        /// Why, classified (no credentials anywhere, or a configured source that failed).
        failure: Box<CallFailure>,
    },
    /// DescribeCluster says there is no such cluster.
    #[error(
        "cluster `{cluster}` not found in region {region}: check the name and region, and that the credentials belong to the cluster's account ({reason})"
    )]
    ClusterNotFound {
        /// The cluster.
        cluster: String,
        /// The region asked.
        region: String,
        /// The service's message.
        reason: String,
        /// The failed DescribeCluster, classified.
        failure: Box<CallFailure>,
    },
    /// The cluster is not ACTIVE.
    #[error(
        "cluster `{cluster}` (account {account}, region {region}) is {status}, not ACTIVE: its access configuration can only be read and migrated while it is ACTIVE; retry when it is"
    )]
    ClusterNotActive {
        /// The cluster.
        cluster: String,
        /// Its account.
        account: String,
        /// Its region.
        region: String,
        /// Its status.
        status: String,
    },
    /// DescribeCluster's answer lacks something the gather needs.
    #[error("DescribeCluster of `{cluster}` in {region} returned no {what}")]
    Incomplete {
        /// The cluster.
        cluster: String,
        /// The region.
        region: String,
        /// The missing field.
        what: &'static str,
    },
    /// An EKS API call failed (after the SDK's retries).
    #[error("{failure}")]
    Eks {
        /// The operation.
        operation: &'static str,
        /// The cluster.
        cluster: String,
        /// The region.
        region: String,
        /// The failure, classified: one line, with what to do.
        failure: Box<CallFailure>,
    },
    /// The cluster's Kubernetes API refused the migrator (401/403): who it runs as and what to grant.
    #[error("{0}")]
    KubeForbidden(Box<KubeDenied>),
    /// The Kubernetes API answered with another error.
    #[error("{0}")]
    KubeApi(Box<KubeStatus>),
    /// The Kubernetes API endpoint could not be reached.
    #[error(
        "cannot reach the Kubernetes API of cluster `{cluster}` (account {account}, region {region}) at {endpoint}: {reason}"
    )]
    KubeUnreachable {
        /// The cluster.
        cluster: String,
        /// Its account.
        account: String,
        /// Its region.
        region: String,
        /// The API server URL.
        endpoint: String,
        /// The transport error, then what the cluster's reachability says to do.
        reason: String,
    },
    /// The route says the Kubernetes API cannot be reached until something is deployed.
    #[error("{0}")]
    Unreachable(Box<Unreachable>),
    /// The in-VPC agent gave no usable answer (timeout, a failed function, an answer that is
    /// not of this protocol version).
    #[error("{0}")]
    Agent(Box<AgentFailed>),
    /// The cluster's endpoint or CA could not be used to build a client.
    #[error(
        "cannot build a Kubernetes client for cluster `{cluster}` (account {account}, region {region}): {reason}"
    )]
    KubeConfig {
        /// The cluster.
        cluster: String,
        /// Its account.
        account: String,
        /// Its region.
        region: String,
        /// Why.
        reason: String,
    },
    /// The migrator's own principal could not be determined.
    #[error("cannot tell which IAM principal the migrator runs as: {failure}")]
    Caller {
        /// Why, classified.
        failure: Box<CallFailure>,
    },
    /// The bearer token could not be signed.
    #[error("cannot sign the EKS bearer token for cluster `{cluster}`")]
    Token {
        /// The cluster.
        cluster: String,
        /// The signing error.
        #[source]
        source: eks_auth_kube::token::TokenError,
    },
}

impl HasCallFailure for GatherError {
    fn call_failure(&self) -> Option<&CallFailure> {
        match self {
            GatherError::Credentials { failure, .. }
            | GatherError::Eks { failure, .. }
            | GatherError::Caller { failure }
            | GatherError::ClusterNotFound { failure, .. } => Some(failure),
            _ => None,
        }
    }
}

/// What the Kubernetes API refused the migrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Reading kube-system/aws-auth (every gather).
    ReadAwsAuth,
    /// Updating kube-system/aws-auth (the prune, a rollback).
    WriteAwsAuth,
    /// Listing one RBAC kind (`plan --suggest`, the worker's RBAC read).
    ListRbac {
        /// The resource refused (`clusterroles`, `rolebindings`, …).
        resource: &'static str,
    },
}

impl Refused {
    /// What was refused, as the error says it (`read kube-system/aws-auth`).
    fn action(self) -> String {
        match self {
            Refused::ReadAwsAuth => "read kube-system/aws-auth".to_owned(),
            Refused::WriteAwsAuth => "update kube-system/aws-auth".to_owned(),
            Refused::ListRbac { resource } => {
                format!("list {resource}.rbac.authorization.k8s.io")
            }
        }
    }

    /// What to grant the migrator so that the call is allowed.
    fn what_to_grant(self) -> &'static str {
        match self {
            Refused::ReadAwsAuth => {
                "Grant it read access: on a CONFIG_MAP cluster map that principal in aws-auth (mapRoles for a role, mapUsers for a user) to a group allowed to get configmaps in kube-system; on an API or API_AND_CONFIG_MAP cluster give it an access entry with an access policy that allows get on configmaps in kube-system (e.g. AmazonEKSViewPolicy with namespace scope kube-system)"
            }
            Refused::WriteAwsAuth => {
                "Grant it get, update and patch on the configmap aws-auth in kube-system (infra/kubernetes/migrator-rbac.yaml) or, on an API_AND_CONFIG_MAP cluster, an access entry with AmazonEKSEditPolicy scoped to the namespace kube-system"
            }
            Refused::ListRbac { .. } => {
                "--suggest reads RBAC: grant get and list on clusterroles, clusterrolebindings, roles and rolebindings (the ClusterRole eks-auth-migrator-rbac-reader in infra/kubernetes/migrator-rbac.yaml), or plan without --suggest, or offline with --rbac FILE from `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml`"
            }
        }
    }
}

/// The cluster's Kubernetes API refused the migrator (401/403): what it refused, who the
/// migrator runs as and what to grant. The one refusal of [`GatherError::KubeForbidden`],
/// [`WriteError::Denied`] and [`RbacError::Denied`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot {} on cluster `{cluster}` (account {account}, region {region}): the Kubernetes API answered {code} {status_reason}: {message}. The migrator runs as {caller}. {}",
    .refused.action(),
    .refused.what_to_grant()
)]
pub struct KubeDenied {
    /// What was refused.
    pub refused: Refused,
    /// The cluster.
    pub cluster: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// 401 or 403.
    pub code: u16,
    /// `Unauthorized` / `Forbidden`.
    pub status_reason: String,
    /// The API server's message.
    pub message: String,
    /// The caller's ARN (sts:GetCallerIdentity, or the in-VPC agent's role) or why it is
    /// unknown.
    pub caller: String,
}

/// Details of [`GatherError::KubeApi`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "reading kube-system/aws-auth on cluster `{cluster}` (account {account}, region {region}) failed: {code} {status_reason}: {message}"
)]
pub struct KubeStatus {
    /// The cluster.
    pub cluster: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// HTTP status.
    pub code: u16,
    /// The Status reason.
    pub status_reason: String,
    /// The API server's message.
    pub message: String,
}

/// Details of [`GatherError::Unreachable`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot reach the Kubernetes API of cluster `{cluster}` (account {account}, region {region}): {reason}"
)]
pub struct Unreachable {
    /// The cluster.
    pub cluster: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// The reachability fact and the (unreachable) route, for the record.
    pub reach: eks_auth_core::reach::ClusterReach,
    /// Why, and what to deploy.
    pub reason: String,
}

/// Details of [`GatherError::Agent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the in-VPC agent `{function}` for cluster `{cluster}` (account {account}, region {region}) gave no usable answer: {reason}. The next run reads the cluster again and goes on from what it finds; if this persists, see the function's log group /aws/lambda/{function}"
)]
pub struct AgentFailed {
    /// The cluster.
    pub cluster: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// The agent function.
    pub function: String,
    /// What went wrong.
    pub reason: String,
}

/// Why [`super::write_aws_auth`] did not write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// aws-auth changed since it was read: nothing was written; read it again and re-plan.
    #[error(
        "kube-system/aws-auth on cluster `{cluster}` changed since it was read (expected resourceVersion {expected}): nothing was written; the next run reads it again ({message})"
    )]
    Changed {
        /// The cluster.
        cluster: String,
        /// The resourceVersion the write was conditional on.
        expected: String,
        /// The API server's message.
        message: String,
    },
    /// aws-auth no longer exists.
    #[error("kube-system/aws-auth on cluster `{cluster}` no longer exists: nothing was written")]
    Missing {
        /// The cluster.
        cluster: String,
    },
    /// The Kubernetes API refused the write (401/403), with what to grant.
    #[error("{0}")]
    Denied(Box<KubeDenied>),
    /// Describing the cluster, signing the token or reaching the API failed.
    #[error(transparent)]
    Live(#[from] GatherError),
}

/// Why [`super::gather_rbac`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RbacError {
    /// The Kubernetes API refused to list an RBAC kind, with what to grant.
    #[error("{0}")]
    Denied(Box<KubeDenied>),
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
