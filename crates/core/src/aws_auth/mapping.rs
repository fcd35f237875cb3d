//! The aws-auth mapping vocabulary, as the authenticator's `pkg/config` types define it: the
//! section a row sits in, a loaded row with its status, mapAccounts items, the identity a caller
//! is mapped to, and the well-known usernames and groups EKS gives meaning to (eksctl keeps the
//! same names in `pkg/authconfigmap`). Plain data: the parser, the planner, the prune and the
//! inventory all build on it.

use crate::finding::{Finding, Location};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The group that makes a caller a cluster administrator (Kubernetes binds it to
/// `cluster-admin`); access entries cannot carry it.
pub const MASTERS_GROUP: &str = "system:masters";
/// The username of EC2 (managed node group, self-managed, Karpenter) node roles.
pub const NODE_EC2_USERNAME: &str = "system:node:{{EC2PrivateDNSName}}";
/// The username of Fargate and hybrid node roles.
pub const NODE_SESSION_USERNAME: &str = "system:node:{{SessionName}}";
/// The group nodes bootstrap with (TLS bootstrapping).
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers";
/// The group of every node.
pub const NODES_GROUP: &str = "system:nodes";
/// The group Fargate nodes carry beside the node groups.
pub const NODE_PROXIER_GROUP: &str = "system:node-proxier";
/// The group Windows nodes carry beside the node groups.
pub const KUBE_PROXY_WINDOWS_GROUP: &str = "eks:kube-proxy-windows";

/// The aws-auth section a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Section {
    /// `data.mapRoles`.
    #[serde(rename = "mapRoles")]
    MapRoles,
    /// `data.mapUsers`.
    #[serde(rename = "mapUsers")]
    MapUsers,
}

impl Section {
    /// The data key name.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::MapRoles => "mapRoles",
            Section::MapUsers => "mapUsers",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `sso:` matcher row's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoMatcher {
    /// `permissionSetName`.
    pub permission_set_name: String,
    /// `accountID`.
    pub account_id: String,
    /// `partition` (empty when not given).
    pub partition: String,
}

/// Whether the authenticator uses a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// Loaded and not shadowed (it may still never match, e.g. a role ARN with a path).
    Effective,
    /// Dropped by validation.
    Dropped,
    /// Loaded but shadowed by a later row or a mapRoles row for the same principal.
    Shadowed {
        /// The section of the row that wins.
        section: Section,
        /// Its index.
        index: usize,
    },
    /// mapUsers rows whose ARNs differ only in case: which one applies is random.
    Ambiguous,
}

/// One row of mapRoles or mapUsers as the authenticator loaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The section.
    pub section: Section,
    /// 0-based index in the section's list.
    pub index: usize,
    /// 1-based line within the section's value.
    pub line: u64,
    /// `rolearn` / `userarn` as written (empty when absent).
    pub arn: String,
    /// The `sso:` matcher, for mapRoles rows that use one.
    pub sso: Option<SsoMatcher>,
    /// `username` as written (templates unrendered; empty when absent).
    pub username: String,
    /// `groups` as written (templates unrendered).
    pub groups: Vec<String>,
    /// Whether the row is used.
    pub status: RowStatus,
    /// Decoding and validation findings for this row.
    pub findings: Vec<Finding>,
}

impl Row {
    /// Where the row is.
    pub fn location(&self) -> Location {
        Location {
            key: self.section.as_str().to_owned(),
            index: Some(self.index),
            line: Some(self.line),
        }
    }
}

/// One mapAccounts item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// 0-based index.
    pub index: usize,
    /// 1-based line within mapAccounts.
    pub line: u64,
    /// The account ID as the authenticator reads it.
    pub account_id: String,
}

/// The identity a caller gets from aws-auth, templates not yet rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedIdentity {
    /// Username template as written (for mapAccounts: the caller's canonical ARN).
    pub username: String,
    /// Group templates as written.
    pub groups: Vec<String>,
    /// The row that matched (`None` for a mapAccounts match).
    pub row: Option<(Section, usize)>,
}
