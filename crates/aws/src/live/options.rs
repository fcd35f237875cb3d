//! How a live read runs: the member role for principals of other accounts, whose credentials
//! assume it, the route to the Kubernetes API, and how many calls run at once.

use crate::route::RoutePolicy;
use crate::route::signer::AgentSigner;
use eks_auth_core::owner::acceptance::OwnerTag;

/// How many per-entry or per-principal calls run at once.
pub(crate) const CONCURRENCY: usize = 8;

/// Options of a gather.
#[derive(Debug, Clone, Default)]
pub struct GatherOptions {
    /// Name of the role to assume in a principal's account (other than the cluster's) for its
    /// IAM lookup; `None` makes such principals `Unresolvable`.
    pub member_role_name: Option<String>,
    /// Whose credentials assume that role: the functions pass their own (central) configuration,
    /// which the member roles trust; `None`: the gather's own configuration (the operator's, in
    /// the CLI).
    pub assume_from: Option<aws_config::SdkConfig>,
    /// How the cluster's Kubernetes API is reached: directly (the default, the CLI), or as the
    /// cluster's reachability and the configuration's network section say (the functions).
    pub route: RoutePolicy,
    /// Cluster tags the configuration names as ownership tags (`ManagedBy=terraform`), besides
    /// the ones recognised by default (docs/owners.md).
    pub owner_tags: Vec<OwnerTag>,
    /// Signs the requests sent to in-VPC agents (the worker's KMS key); `None`: no agent is
    /// called (its calls fail with what to configure).
    pub agent_signer: Option<AgentSigner>,
}
