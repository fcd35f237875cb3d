//! The Plan: what the planner decided for every aws-auth row. A stable, documented JSON contract
//! (docs/plan-format.md, docs/plan.schema.json).

use crate::eks_managed::EksManaged;
use crate::finding::{Finding, Severity};
use crate::owner::ownership::Owners;
use crate::reach::ClusterReach;
use crate::suggest::report::RbacReport;
use serde::{Deserialize, Serialize};

/// The vocabulary a plan is written in, where its readers look for it: the aws-auth section a
/// row came from, and the access-entry types, actions and policy associations.
pub use crate::access_entry::{
    AccessPolicy, AccessScope, Action, EntryType, MANAGED_TAG, ScopeType,
};
pub use crate::aws_auth::Section;

/// Version of the plan JSON format; bumped on any incompatible change.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// Where a planned entry came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `mapRoles` or `mapUsers`.
    pub section: Section,
    /// 0-based row index within the section, as written (before any row is dropped).
    pub index: usize,
    /// 1-based line of the row within the section's value, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
    /// The ARN exactly as the row wrote it (`rolearn` / `userarn`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arn: Option<String>,
}

/// The planner's decision for one aws-auth row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedEntry {
    /// Where the row is.
    pub source: Source,
    /// The access-entry principal: the real IAM ARN (with path) when resolved, else the row's ARN.
    /// Absent for rows that name no principal.
    pub principal_arn: Option<String>,
    /// What to do.
    pub action: Action,
    /// The entry type, when the row maps to one.
    #[serde(rename = "type")]
    pub entry_type: Option<EntryType>,
    /// Kubernetes username to set (absent: EKS assigns its default for the type).
    pub username: Option<String>,
    /// Kubernetes groups to set (never `system:*`).
    pub kubernetes_groups: Vec<String>,
    /// Access policies to associate.
    pub access_policies: Vec<AccessPolicy>,
    /// Everything the planner noticed about this row.
    pub findings: Vec<Finding>,
}

/// Counts for a quick overview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Entries to create.
    pub create: usize,
    /// Rows skipped.
    pub skip: usize,
    /// Rows blocked.
    pub blocked: usize,
    /// Blocker findings (entries and cluster-level).
    pub blockers: usize,
    /// Warning findings.
    pub warnings: usize,
}

/// The whole plan for one cluster's aws-auth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// The cluster name, when facts named it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cluster_name: Option<String>,
    /// The partition policy ARNs were written for.
    pub partition: String,
    /// True when principals were resolved through IAM (cluster facts were given): every
    /// `principal_arn` is then the principal's complete ARN, path included, and renderers use it
    /// as it is. False for an offline plan, whose role ARNs may lack their IAM path.
    pub principals_resolved: bool,
    /// One entry per aws-auth row of mapRoles then mapUsers, in order.
    pub entries: Vec<PlannedEntry>,
    /// Findings about the ConfigMap or cluster as a whole.
    pub findings: Vec<Finding>,
    /// True when switching to API mode would lose access someone has today.
    pub blocks_api_mode: bool,
    /// Counts.
    pub summary: Summary,
    /// The RBAC analysis and access-policy suggestions, when the plan read the cluster's RBAC
    /// (`plan --suggest`; docs/rbac-suggestions.md).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rbac: Option<RbacReport>,
    /// Access entries EKS created and manages itself (node groups, Fargate, capabilities, Auto
    /// Mode, HyperPod): never adopted, changed or deleted by the migrator. Empty without facts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eks_managed_entries: Vec<EksManagedEntry>,
    /// Where the cluster's Kubernetes API can be reached from and how the migrator reached it
    /// (a live plan's facts say; docs/networking.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<ClusterReach>,
    /// Who owns aws-auth and the cluster, with the evidence (docs/owners.md); the findings
    /// `AWS_AUTH_OWNER`, `CLUSTER_OWNER` and `OWNER_UNKNOWN` say what it means for finalize.
    #[serde(default)]
    pub owners: Owners,
}

/// An access entry EKS manages itself, as a plan lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EksManagedEntry {
    /// The entry's principal.
    pub principal_arn: String,
    /// Its type.
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    /// The EKS feature that made it (`kind`, and for a capability its `name` and
    /// `capability_type`).
    #[serde(flatten)]
    pub managed_by: EksManaged,
}

impl Plan {
    /// Every finding, cluster-level first, then per entry in order.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.entries.iter().flat_map(|e| e.findings.iter()))
    }

    /// The highest severity of any finding, if there is one.
    pub fn max_severity(&self) -> Option<Severity> {
        self.all_findings().map(|f| f.severity).max()
    }
}
