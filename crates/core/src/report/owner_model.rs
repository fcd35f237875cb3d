//! The report's owner section as data: clusters grouped by who owns their aws-auth or the
//! cluster itself, so a platform team sees which repositories and tools must change before
//! finalize (docs/report-format.md, "Owners").

use serde::{Deserialize, Serialize};

/// What an owner group owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnedPart {
    /// kube-system/aws-auth.
    AwsAuth,
    /// The EKS cluster itself (its authentication mode and access entries).
    Cluster,
    /// Nothing known: the `unknown` group (something could not be seen) and the `none` group
    /// (nobody).
    Nothing,
}

/// How an owner stands with finalize on one cluster (the latest plan's finding for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerStatus {
    /// Its finding is a blocker: finalize waits until the owner is changed and accepted.
    Blocked,
    /// The configuration accepts it for the cluster: finalize may proceed.
    Accepted,
    /// It does not block finalize (kubectl, an unknown field manager: a warning or a note).
    NotBlocking,
    /// No finding says (no plan stored, or the plan predates the recorded owners).
    NotPlanned,
}

/// One owner and the clusters it owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerGroup {
    /// What it owns.
    pub part: OwnedPart,
    /// The owner's stable name (an owner kind, `unknown` or `none`; the `--owner` values).
    pub owner: String,
    /// The name a person reads.
    pub label: String,
    /// What to change in the owner (or, for `unknown`, how to find it out).
    pub what_to_change: String,
    /// Of its clusters, those it blocks.
    pub blocked: usize,
    /// Its clusters, ordered by account, region and name.
    pub clusters: Vec<OwnedCluster>,
}

/// One cluster of an owner group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedCluster {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// The owner as detection named it (`Argo CD argocd/aws-auth`, `CloudFormation stack
    /// x`), with its evidence; absent in the `unknown` and `none` groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How it stands with finalize.
    pub status: OwnerStatus,
}
