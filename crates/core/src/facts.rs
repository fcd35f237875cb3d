//! Cluster facts: what the live engine gathers (or an operator writes down) that the ConfigMap
//! alone does not say. Documented in docs/plan-format.md ("Facts file").

use crate::access_entry::{AccessPolicy, EntryType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the facts JSON format.
pub const FACTS_FORMAT_VERSION: u32 = 1;

/// A cluster's authentication mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthenticationMode {
    /// aws-auth only.
    ConfigMap,
    /// Access entries and aws-auth.
    ApiAndConfigMap,
    /// Access entries only.
    Api,
}

impl AuthenticationMode {
    /// The EKS API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthenticationMode::ConfigMap => "CONFIG_MAP",
            AuthenticationMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            AuthenticationMode::Api => "API",
        }
    }
}

/// An access entry that already exists on the cluster (all pages of ListAccessEntries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingEntry {
    /// The entry's principal ARN (with path).
    pub principal_arn: String,
    /// Its type.
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    /// Its username.
    #[serde(default)]
    pub username: Option<String>,
    /// Its Kubernetes groups.
    #[serde(default)]
    pub kubernetes_groups: Vec<String>,
    /// Its associated access policies.
    #[serde(default)]
    pub access_policies: Vec<AccessPolicy>,
    /// True when the migrator created it (it carries the migrator's tag).
    #[serde(default)]
    pub managed_by_migrator: bool,
}

impl ExistingEntry {
    /// Whether the entry has `policy` associated: the same policy ARN with the same scope
    /// (namespaces compared as a set).
    pub fn has_policy(&self, policy: &AccessPolicy) -> bool {
        fn sorted(items: &[String]) -> Vec<&str> {
            let mut v: Vec<&str> = items.iter().map(String::as_str).collect();
            v.sort_unstable();
            v
        }
        self.access_policies.iter().any(|have| {
            have.policy_arn == policy.policy_arn
                && have.access_scope.scope_type == policy.access_scope.scope_type
                && sorted(&have.access_scope.namespaces) == sorted(&policy.access_scope.namespaces)
        })
    }
}

/// What IAM says about a principal named in aws-auth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IamResolution {
    /// The principal exists; `arn` is its real ARN, with its IAM path.
    Found {
        /// The real ARN.
        arn: String,
    },
    /// IAM says there is no such role or user.
    NotFound,
    /// The lookup could not be made (e.g. no role to assume in the principal's account).
    Unresolvable {
        /// Why.
        reason: String,
    },
}

/// Everything about the cluster the planner may use besides aws-auth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFacts {
    /// [`FACTS_FORMAT_VERSION`].
    #[serde(default = "facts_version")]
    pub format_version: u32,
    /// The cluster name.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The cluster's partition (`aws`, `aws-cn`, `aws-us-gov`).
    #[serde(default)]
    pub partition: Option<String>,
    /// The cluster's account ID.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The cluster's region.
    #[serde(default)]
    pub region: Option<String>,
    /// The cluster's current authentication mode.
    #[serde(default)]
    pub authentication_mode: Option<AuthenticationMode>,
    /// Node roles of managed node groups (EKS creates their entries on the switch).
    #[serde(default)]
    pub node_group_roles: Vec<String>,
    /// Pod-execution roles of Fargate profiles (EKS creates their entries on the switch).
    #[serde(default)]
    pub fargate_profile_roles: Vec<String>,
    /// Access entries that exist now (empty while the cluster is in CONFIG_MAP mode).
    #[serde(default)]
    pub existing_entries: Vec<ExistingEntry>,
    /// IAM resolution of each principal ARN as aws-auth writes it (keys compared case-insensitively).
    #[serde(default)]
    pub iam: BTreeMap<String, IamResolution>,
    /// The EKS features that make EKS create access entries of its own (capabilities, Auto
    /// Mode); see [`crate::eks_managed`].
    #[serde(default, skip_serializing_if = "EksFeatures::is_empty")]
    pub eks_features: EksFeatures,
    /// Where the cluster's Kubernetes API can be reached from and how the live gather reached
    /// it (docs/networking.md); absent in hand-written facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<crate::reach::ClusterReach>,
    /// Who owns aws-auth (from its live metadata) and the cluster (from its tags), as the live
    /// gather detected them (docs/owners.md); absent in hand-written facts, where an offline
    /// plan detects aws-auth's owner from the ConfigMap file's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<crate::owner::ownership::Owners>,
}

/// The EKS features whose access entries EKS creates and manages itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EksFeatures {
    /// EKS Capabilities (ListCapabilities + DescribeCapability): EKS creates an entry for each
    /// capability role.
    #[serde(default)]
    pub capabilities: Vec<CapabilityFact>,
    /// EKS Auto Mode, when enabled (DescribeCluster `computeConfig`).
    #[serde(default)]
    pub auto_mode: Option<AutoModeFact>,
}

impl EksFeatures {
    /// No capability and no Auto Mode.
    pub fn is_empty(&self) -> bool {
        self.capabilities.is_empty() && self.auto_mode.is_none()
    }
}

/// One EKS Capability (ACK, Argo CD, kro, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityFact {
    /// The capability's name.
    pub name: String,
    /// Its type (`ACK`, `ARGOCD`, `KRO`).
    #[serde(rename = "type")]
    pub capability_type: String,
    /// The capability role EKS made an access entry for.
    pub role_arn: String,
}

/// EKS Auto Mode's roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoModeFact {
    /// The cluster IAM role (its entry carries the Auto Mode cluster policies).
    #[serde(default)]
    pub cluster_role_arn: Option<String>,
    /// The node role of the built-in node pools (its entry has type `EC2`).
    #[serde(default)]
    pub node_role_arn: Option<String>,
}

fn facts_version() -> u32 {
    FACTS_FORMAT_VERSION
}

impl ClusterFacts {
    /// The resolution recorded for an aws-auth ARN, compared case-insensitively.
    pub fn resolution(&self, aws_auth_arn: &str) -> Option<&IamResolution> {
        self.iam
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(aws_auth_arn))
            .map(|(_, v)| v)
    }

    /// The existing entry for a principal ARN, compared case-insensitively.
    pub fn existing_entry(&self, principal_arn: &str) -> Option<&ExistingEntry> {
        self.existing_entries
            .iter()
            .find(|e| e.principal_arn.eq_ignore_ascii_case(principal_arn))
    }

    /// True when `arn` (any spelling, path or not) is one of the given roles.
    pub fn role_listed(roles: &[String], arn: &str) -> bool {
        roles.iter().any(|r| same_role(r, arn))
    }
}

/// Two role ARNs name the same role when account and name match, whatever their paths.
pub fn same_role(a: &str, b: &str) -> bool {
    fn key(arn: &str) -> Option<(String, String)> {
        let parsed: crate::arn::Arn = arn.parse().ok()?;
        match parsed.principal() {
            crate::arn::Principal::Role { name, .. } => {
                Some((parsed.account().to_owned(), name.to_lowercase()))
            }
            _ => None,
        }
    }
    match (key(a), key(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
