//! The access inventory of a fleet report: every principal and the clusters it reaches, with the
//! call-outs an auditor asks for (cluster administrators, other accounts' principals, principals
//! IAM no longer knows).

use super::cluster_ref::ClusterRef;
use crate::access_entry::{AccessPolicy, Action, EntryType};
use crate::finding::FindingCode;
use crate::inventory::{AccessPath, IamStatus, Origin, TargetEntry};
use crate::plan::Source;
use serde::{Deserialize, Serialize};

/// Who has access where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessInventory {
    /// Every principal that reaches at least one cluster, ordered by ARN.
    pub principals: Vec<PrincipalAccessSummary>,
    /// Principals an aws-auth row (or an entry in CONFIG_MAP mode) names on clusters it does
    /// not reach, ordered by ARN; a principal can be here and in `principals` for other clusters.
    pub named_without_access: Vec<PrincipalAccessSummary>,
    /// Principals that are cluster administrators, with the clusters where they are.
    pub cluster_admins: Vec<CallOut>,
    /// Principals reaching clusters of another account, with those clusters.
    pub other_account: Vec<CallOut>,
    /// Principals IAM says no longer exist, with the clusters that name them.
    pub iam_not_found: Vec<CallOut>,
}

/// One principal and its access to each cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalAccessSummary {
    /// The principal's full ARN (its real ARN, with IAM path, when IAM resolved it).
    pub principal_arn: String,
    /// Its account (from the ARN).
    pub account: Option<String>,
    /// Clusters listed in `clusters`.
    pub cluster_count: usize,
    /// Of which it administers.
    pub cluster_admin_on: usize,
    /// Of which belong to another account.
    pub other_account_on: usize,
    /// One line per cluster, ordered by account, region and name.
    pub clusters: Vec<ClusterAccess>,
}

/// One principal's access to one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterAccess {
    /// The cluster's account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name.
    pub cluster: String,
    /// How the principal reaches it today.
    pub via: AccessPath,
    /// What carries the access.
    pub origin: Origin,
    /// Kubernetes username today.
    pub username: Option<String>,
    /// Kubernetes groups today.
    pub groups: Vec<String>,
    /// Access policies today.
    pub policies: Vec<AccessPolicy>,
    /// Its entry's type, when it reaches the cluster through an entry.
    pub entry_type: Option<EntryType>,
    /// A cluster administrator here.
    pub cluster_admin: bool,
    /// The principal's account differs from the cluster's.
    pub other_account: bool,
    /// The principal is the cluster's recorded creator.
    pub creator: bool,
    /// The entry carrying it was created by the migrator.
    pub managed_by_migrator: bool,
    /// What IAM said.
    pub iam: IamStatus,
    /// The aws-auth row naming it.
    pub source: Option<Source>,
    /// The plan's decision for that row.
    pub action: Option<Action>,
    /// The entry the plan gives it.
    pub target: Option<TargetEntry>,
    /// Finding codes on its row.
    pub codes: Vec<FindingCode>,
}

impl ClusterAccess {
    /// The cluster's keys.
    pub fn cluster_ref(&self) -> ClusterRef {
        ClusterRef {
            account: self.account.clone(),
            region: self.region.clone(),
            name: self.cluster.clone(),
        }
    }
}

/// A principal and the clusters a call-out concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallOut {
    /// The principal's ARN.
    pub principal_arn: String,
    /// Its account.
    pub account: Option<String>,
    /// The clusters, ordered by account, region and name.
    pub clusters: Vec<ClusterRef>,
}
