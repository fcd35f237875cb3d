//! What the RBAC analysis reports (the plan's `rbac` section, docs/rbac-suggestions.md): each
//! subject's bindings, verdict and candidate policies with their differences, the policy-file
//! mapping checks, the totals and where the data came from. Plain data, so the plan, the
//! inventory and the renderers read it without depending on the analysis.

use crate::access_entry::AccessScope;
use crate::rbac::{Difference, SubjectKind};
use serde::{Deserialize, Serialize};

/// How a candidate access policy compares with a subject's RBAC grant at one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// The same permissions.
    Exact,
    /// A subset: replacing the group by it loses `lost`.
    Narrower,
    /// A superset: it adds `added`.
    Broader,
    /// Neither (kept only for a policy-file mapping).
    Different,
}

/// One access policy at one scope, compared with a subject's RBAC grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The policy's name.
    pub policy: String,
    /// The scope compared.
    pub access_scope: AccessScope,
    /// How it compares.
    pub fit: Fit,
    /// What the subject's RBAC grants that the policy does not.
    pub lost: Vec<Difference>,
    /// What the policy grants that the subject's RBAC does not.
    pub added: Vec<Difference>,
}

/// The policy file's mapping of a group, checked at the permission level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingCheck {
    /// The mapping compared (`lost` is empty when the mapping keeps the group).
    pub candidate: Candidate,
    /// Whether the mapping keeps the group (its RBAC then still applies).
    pub keep_group: bool,
    /// Differences the mapping's `accept_differences` does not name (each blocks its rows).
    pub unaccepted: Vec<String>,
    /// `accept_differences` items that are no difference (stale after an RBAC change).
    pub stale_accepts: Vec<String>,
}

/// The overall answer for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An access policy grants exactly what the subject gets: suggested.
    Exact,
    /// The closest policy grants less (reported with what would be lost).
    Lossy,
    /// The closest policy grants more (reported with what it adds).
    Broader,
    /// No policy is equal, a subset or a (non-cluster-admin) superset.
    None,
    /// No binding names the subject (a group carried by aws-auth that grants nothing).
    Unbound,
    /// Some RBAC object it may depend on could not be read: no suggestion.
    Unreadable,
}

impl Verdict {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Exact => "exact",
            Verdict::Lossy => "lossy",
            Verdict::Broader => "broader",
            Verdict::None => "none",
            Verdict::Unbound => "unbound",
            Verdict::Unreadable => "unreadable",
        }
    }
}

/// One binding that grants a subject something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundRole {
    /// `ClusterRoleBinding/NAME` or `RoleBinding/NAMESPACE/NAME`.
    pub binding: String,
    /// `ClusterRole/NAME` or `Role/NAMESPACE/NAME`.
    pub role: String,
    /// Where it applies; absent: cluster-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Everything about one aws-auth group or username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectReport {
    /// `group` or `user`.
    pub kind: SubjectKind,
    /// The group or username as aws-auth writes it.
    pub name: String,
    /// The aws-auth rows carrying it (`mapRoles[2]`).
    pub rows: Vec<String>,
    /// What binds it, and where.
    pub bindings: Vec<BoundRole>,
    /// The overall answer.
    pub verdict: Verdict,
    /// The suggested policy (an exact candidate), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested: Option<Candidate>,
    /// The candidates worth reading: every exact one, else the closest narrower and broader.
    pub candidates: Vec<Candidate>,
    /// The policy file's mapping of this group, checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingCheck>,
    /// Why nothing is suggested because of unreadable RBAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// Totals, summable across clusters (the fleet report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestionCounts {
    /// aws-auth groups analysed.
    pub groups: usize,
    /// Usernames with User bindings analysed.
    pub users: usize,
    /// Subjects with an exact suggestion.
    pub exact: usize,
    /// Subjects whose closest policy loses permissions.
    pub lossy: usize,
    /// Subjects whose closest policy adds permissions.
    pub broader: usize,
    /// Subjects no policy comes close to.
    pub none: usize,
    /// Groups no binding names.
    pub unbound: usize,
    /// Subjects with unreadable RBAC.
    pub unreadable: usize,
    /// Groups named by bindings that no aws-auth row carries.
    pub unmapped_binding_groups: usize,
}

impl std::ops::AddAssign for SuggestionCounts {
    fn add_assign(&mut self, o: Self) {
        self.groups += o.groups;
        self.users += o.users;
        self.exact += o.exact;
        self.lossy += o.lossy;
        self.broader += o.broader;
        self.none += o.none;
        self.unbound += o.unbound;
        self.unreadable += o.unreadable;
        self.unmapped_binding_groups += o.unmapped_binding_groups;
    }
}

/// Where the comparison's data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sources {
    /// The EKS user guide page the access-policy rules come from.
    pub access_policies: String,
    /// The date of the newest change that page records.
    pub access_policies_as_of: String,
    /// Kubernetes' bootstrap ClusterRoles (repository@commit:path).
    pub kubernetes_bootstrap_roles: String,
    /// Bootstrap ClusterRoles the dump lacked and the bundled data supplied (a partial dump).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumed_bootstrap_roles: Vec<String>,
    /// Whether the candidates were limited to the cluster's ListAccessPolicies answer.
    pub list_access_policies: bool,
}

/// The RBAC analysis of one cluster (the plan's `rbac` section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RbacReport {
    /// Data sources.
    pub sources: Sources,
    /// Groups (sorted), then usernames with User bindings (sorted).
    pub subjects: Vec<SubjectReport>,
    /// Totals.
    pub counts: SuggestionCounts,
    /// A policy-file snippet (`group_policies:`) with the exact suggestions, and the closest
    /// non-exact candidates commented out, to review.
    pub policy_snippet: String,
}
