//! The access-entry vocabulary every layer speaks: what is done for a row ([`Action`]), the
//! entry's type ([`EntryType`]), its policy associations ([`AccessPolicy`], [`AccessScope`],
//! [`ScopeType`]) and the tag that marks the entries the migrator made ([`MANAGED_TAG`]). Plain
//! data with their EKS spellings; it imports nothing from the crate, so the facts, the policy,
//! the planner, the plan and the suggestions all build on it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The tag (key, value) on every access entry the migrator creates; an entry without it is
/// someone else's and is never changed.
pub const MANAGED_TAG: (&str, &str) = ("managed-by", "eks-auth-migrator");

/// What the executor should do for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Make the access entry (and its policy associations) exist as specified.
    Create,
    /// Nothing to do: the row grants nothing, EKS manages the entry, or it already exists.
    Skip,
    /// The row grants access that cannot be expressed safely: it blocks the switch to API mode.
    Blocked,
}

impl Action {
    /// The lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Skip => "skip",
            Action::Blocked => "blocked",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// EKS access-entry types (the type is immutable once created).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryType {
    /// Any IAM role or user; username, groups and access policies allowed.
    Standard,
    /// Self-managed / Karpenter Linux node role.
    Ec2Linux,
    /// Self-managed Windows node role.
    Ec2Windows,
    /// Fargate pod-execution role (EKS creates these itself).
    FargateLinux,
    /// EKS Hybrid Nodes role.
    HybridLinux,
    /// EKS Auto Mode node role.
    Ec2,
    /// SageMaker HyperPod node role.
    HyperpodLinux,
}

impl EntryType {
    /// The EKS API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Standard => "STANDARD",
            EntryType::Ec2Linux => "EC2_LINUX",
            EntryType::Ec2Windows => "EC2_WINDOWS",
            EntryType::FargateLinux => "FARGATE_LINUX",
            EntryType::HybridLinux => "HYBRID_LINUX",
            EntryType::Ec2 => "EC2",
            EntryType::HyperpodLinux => "HYPERPOD_LINUX",
        }
    }
}

impl fmt::Display for EntryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Access scope of a policy association.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccessScope {
    /// `cluster` or `namespace`.
    #[serde(rename = "type")]
    pub scope_type: ScopeType,
    /// Namespaces (only for `namespace` scope; a trailing `*` is a prefix wildcard).
    #[serde(default)]
    pub namespaces: Vec<String>,
}

impl AccessScope {
    /// Cluster-wide scope.
    pub fn cluster() -> Self {
        AccessScope {
            scope_type: ScopeType::Cluster,
            namespaces: Vec::new(),
        }
    }
}

impl fmt::Display for AccessScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope_type {
            ScopeType::Cluster => f.write_str("cluster"),
            ScopeType::Namespace => write!(f, "namespace:{}", self.namespaces.join(",")),
        }
    }
}

/// Kind of access scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeType {
    /// The whole cluster.
    Cluster,
    /// Listed namespaces only.
    Namespace,
}

/// One access policy association.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccessPolicy {
    /// Full policy ARN, in the cluster's partition.
    pub policy_arn: String,
    /// Where it applies.
    pub access_scope: AccessScope,
}

impl AccessPolicy {
    /// The policy's short name (the part after `cluster-access-policy/`).
    pub fn name(&self) -> &str {
        self.policy_arn
            .rsplit_once('/')
            .map_or(self.policy_arn.as_str(), |(_, name)| name)
    }
}
