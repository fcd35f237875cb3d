//! A cluster's access inventory: who reaches the cluster today, how (an aws-auth row or an
//! access entry), with which username, groups and policies, and what the plan would give each
//! aws-auth principal — the part of a plan the fleet report keeps (docs/report-format.md).
//!
//! [`ClusterInventory::from_plan`] digests one plan and the facts it was made from. The digest is
//! stored per cluster by every engine run and read back by `eks-auth-migrator report`; it is
//! versioned ([`INVENTORY_FORMAT_VERSION`]) so a report can name records an older or newer
//! version wrote instead of misreading them.

use crate::access_entry::{AccessPolicy, AccessScope, Action, EntryType, ScopeType};
use crate::access_policies::CLUSTER_ADMIN_POLICY;
use crate::aws_auth::mapping::MASTERS_GROUP;
use crate::aws_auth::{AwsAuth, Row, RowStatus};
use crate::facts::{AuthenticationMode, ClusterFacts, ExistingEntry, IamResolution, same_role};
use crate::finding::{Finding, FindingCode};
use crate::plan::{Plan, PlannedEntry, Source, Summary};
use crate::rbac::SubjectKind;
use crate::render::handoff::Handoff;
use crate::suggest::report::{RbacReport, SuggestionCounts, Verdict};
use serde::{Deserialize, Serialize};

/// Version of the inventory format; bumped on any incompatible change.
pub const INVENTORY_FORMAT_VERSION: u32 = 1;

/// What the fleet report keeps of one cluster's latest plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInventory {
    /// [`INVENTORY_FORMAT_VERSION`].
    pub format_version: u32,
    /// The authentication mode the plan was made for.
    pub authentication_mode: Option<AuthenticationMode>,
    /// The plan's counts.
    pub summary: Summary,
    /// Whether switching to API mode would lose access someone has today.
    pub blocks_api_mode: bool,
    /// Every finding of the plan (cluster-level first, then per row), with its location.
    pub findings: Vec<Finding>,
    /// Every principal that reaches the cluster today or that an aws-auth row names, ordered
    /// by principal ARN.
    pub principals: Vec<PrincipalAccess>,
    /// What the cluster's RBAC analysis found (access-policy suggestions), when the run read or
    /// tried to read its RBAC; absent for records written before it did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rbac: Option<RbacDigest>,
    /// The migrated access in the form the owner formats render (`export`): absent for records
    /// written before export was recorded, which `export` names instead of guessing.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub handoff: Option<Handoff>,
}

/// The cluster's RBAC analysis, reduced to what the fleet report sums
/// (docs/rbac-suggestions.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RbacDigest {
    /// RBAC was read and every aws-auth group (and username with User bindings) compared with
    /// the access policies.
    Analysed {
        /// Subjects by verdict.
        counts: SuggestionCounts,
        /// One line per subject.
        subjects: Vec<SubjectVerdict>,
    },
    /// RBAC could not be read: no suggestion is made without it.
    Unreadable {
        /// Why (what to grant).
        reason: String,
    },
}

/// One subject's verdict and the policy it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectVerdict {
    /// Group or user.
    pub kind: SubjectKind,
    /// Its name.
    pub name: String,
    /// Exact, lossy, broader, none, unbound or unreadable.
    pub verdict: Verdict,
    /// The suggested policy (exact) or the closest candidate (lossy, broader).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub policy: Option<String>,
    /// That policy's scope.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub access_scope: Option<AccessScope>,
    /// Permissions the closest candidate would lose.
    pub lost: usize,
    /// Permissions it would add.
    pub added: usize,
}

impl RbacDigest {
    /// The digest of a plan's RBAC analysis.
    pub fn of(report: &RbacReport) -> Self {
        let subjects = report
            .subjects
            .iter()
            .map(|s| {
                let candidate = s.suggested.as_ref().or_else(|| s.candidates.first());
                SubjectVerdict {
                    kind: s.kind,
                    name: s.name.clone(),
                    verdict: s.verdict,
                    policy: candidate.map(|c| c.policy.clone()),
                    access_scope: candidate.map(|c| c.access_scope.clone()),
                    lost: candidate.map_or(0, |c| c.lost.len()),
                    added: candidate.map_or(0, |c| c.added.len()),
                }
            })
            .collect();
        RbacDigest::Analysed {
            counts: report.counts,
            subjects,
        }
    }
}

/// How a principal reaches the cluster today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessPath {
    /// Through its aws-auth row (CONFIG_MAP, or API_AND_CONFIG_MAP without an entry for it).
    AwsAuth,
    /// Through an access entry (which, in API_AND_CONFIG_MAP, overrides any aws-auth row).
    AccessEntry,
    /// Not at all: the row never matched (dead, shadowed, dropped), the principal no longer
    /// exists, or aws-auth is ignored (API mode).
    None,
}

/// Who made what carries the principal's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// An aws-auth row (and possibly an entry the migrator made from it).
    AwsAuth,
    /// An access entry the migrator did not create, for a principal no aws-auth row names
    /// (the cluster creator's, EKS's own for node groups and Fargate, or someone else's).
    OtherEntry,
    /// An access entry the migrator created for a principal aws-auth no longer names.
    MigratorEntry,
}

/// What IAM said about the principal when the plan was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IamStatus {
    /// IAM knows it (its real ARN is `principal_arn`).
    Found,
    /// IAM says it does not exist (any more).
    NotFound,
    /// The lookup could not be made.
    Unresolved,
    /// Not looked up (an offline plan, or an entry outside aws-auth).
    NotChecked,
}

/// The access entry the plan gives an aws-auth principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetEntry {
    /// Entry type.
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    /// Username (absent: EKS's default for the type).
    pub username: Option<String>,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// Access policies with their scopes.
    pub policies: Vec<AccessPolicy>,
}

/// One principal's access to one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalAccess {
    /// The principal's ARN: its real ARN, with IAM path, when resolved; else as aws-auth writes it.
    pub principal_arn: String,
    /// The principal's account (from the ARN).
    pub account: Option<String>,
    /// How it reaches the cluster today.
    pub via: AccessPath,
    /// What carries it.
    pub origin: Origin,
    /// The aws-auth row that names it (the one the authenticator uses), when one does.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<Source>,
    /// The Kubernetes username it gets today (aws-auth's template, or the entry's).
    pub username: Option<String>,
    /// The Kubernetes groups it gets today (aws-auth's, `system:masters` included, or the
    /// entry's).
    pub groups: Vec<String>,
    /// The access policies it has today (an entry's; none through aws-auth).
    pub policies: Vec<AccessPolicy>,
    /// Its entry's type, when it reaches the cluster through an entry.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entry_type: Option<EntryType>,
    /// Whether it is a cluster administrator today (`system:masters`, or the cluster-admin
    /// policy at cluster scope).
    pub cluster_admin: bool,
    /// Whether an entry carrying it was created by the migrator.
    pub managed_by_migrator: bool,
    /// What IAM said.
    pub iam: IamStatus,
    /// The plan's decision for its aws-auth row.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub action: Option<Action>,
    /// The entry the plan gives it (for rows that are created or already carried by an entry).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<TargetEntry>,
    /// The codes of the findings on its row.
    pub codes: Vec<FindingCode>,
}

impl ClusterInventory {
    /// Digests `plan`, made from `auth` and (for a live or facts-based plan) `facts`.
    ///
    /// Every aws-auth row that names a principal contributes one [`PrincipalAccess`] — the row
    /// the authenticator uses for it, so shadowed rows only add their codes — and every
    /// existing access entry for a principal no row names contributes one too.
    pub fn from_plan(auth: &AwsAuth, plan: &Plan, facts: Option<&ClusterFacts>) -> Self {
        let mode = facts.and_then(|f| f.authentication_mode);
        let entries: &[ExistingEntry] = facts.map_or(&[], |f| f.existing_entries.as_slice());
        let mut principals: Vec<PrincipalAccess> = Vec::new();
        for planned in &plan.entries {
            let Some(arn) = planned.principal_arn.as_deref() else {
                continue;
            };
            let row = auth
                .rows
                .iter()
                .find(|r| r.section == planned.source.section && r.index == planned.source.index);
            let access = row_access(planned, row, arn, mode, entries, facts);
            match principals
                .iter_mut()
                .find(|p| same_principal(&p.principal_arn, arn))
            {
                // A later row for the same principal: the effective one replaces a dead one;
                // either way the codes of both stay visible.
                Some(seen) => {
                    let mut codes = std::mem::take(&mut seen.codes);
                    if seen.via == AccessPath::None && access.via != AccessPath::None {
                        *seen = access;
                    }
                    codes.extend(seen.codes.iter().copied());
                    codes.sort_unstable();
                    codes.dedup();
                    seen.codes = codes;
                }
                None => principals.push(access),
            }
        }
        for entry in entries {
            if principals
                .iter()
                .any(|p| same_principal(&p.principal_arn, &entry.principal_arn))
            {
                continue;
            }
            principals.push(entry_access(entry, mode));
        }
        principals.sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
        ClusterInventory {
            format_version: INVENTORY_FORMAT_VERSION,
            authentication_mode: mode,
            summary: plan.summary.clone(),
            blocks_api_mode: plan.blocks_api_mode,
            findings: plan.all_findings().cloned().collect(),
            principals,
            rbac: plan.rbac.as_ref().map(RbacDigest::of),
            handoff: Some(Handoff::from_plan(plan, facts)),
        }
    }
}

/// Whether two ARNs name the same principal (roles compare by account and name, as EKS does).
fn same_principal(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || same_role(a, b)
}

/// The access of the principal an aws-auth row names.
fn row_access(
    planned: &PlannedEntry,
    row: Option<&Row>,
    arn: &str,
    mode: Option<AuthenticationMode>,
    entries: &[ExistingEntry],
    facts: Option<&ClusterFacts>,
) -> PrincipalAccess {
    let existing = entries
        .iter()
        .find(|e| same_principal(&e.principal_arn, arn));
    let target = planned.entry_type.map(|entry_type| TargetEntry {
        entry_type,
        username: planned.username.clone(),
        groups: planned.kubernetes_groups.clone(),
        policies: planned.access_policies.clone(),
    });
    // A row the authenticator does not use, or a skipped row with no entry type and no entry
    // for its principal (a dead ARN), never matched a caller.
    let unused =
        row.is_none_or(|r| !matches!(r.status, RowStatus::Effective | RowStatus::Ambiguous));
    let dead = unused
        || (planned.action == Action::Skip && planned.entry_type.is_none() && existing.is_none());
    let iam = iam_status(planned, facts);
    let via = match (mode, existing) {
        (Some(AuthenticationMode::ApiAndConfigMap | AuthenticationMode::Api), Some(_)) => {
            AccessPath::AccessEntry
        }
        (Some(AuthenticationMode::Api), None) => AccessPath::None,
        _ if dead || iam == IamStatus::NotFound => AccessPath::None,
        _ => AccessPath::AwsAuth,
    };
    let mut codes: Vec<FindingCode> = planned.findings.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let base = PrincipalAccess {
        principal_arn: arn.to_owned(),
        account: account_of(arn),
        via,
        origin: Origin::AwsAuth,
        source: Some(planned.source.clone()),
        username: None,
        groups: Vec::new(),
        policies: Vec::new(),
        entry_type: None,
        cluster_admin: false,
        managed_by_migrator: existing.is_some_and(|e| e.managed_by_migrator),
        iam,
        action: Some(planned.action),
        target,
        codes,
    };
    match (via, existing) {
        (AccessPath::AccessEntry, Some(entry)) => with_entry(base, entry),
        _ => {
            let groups = row.map(|r| r.groups.clone()).unwrap_or_default();
            PrincipalAccess {
                username: row.map(|r| r.username.clone()).filter(|u| !u.is_empty()),
                cluster_admin: via == AccessPath::AwsAuth
                    && groups.iter().any(|g| g == MASTERS_GROUP),
                groups,
                ..base
            }
        }
    }
}

/// The access of a principal that only an access entry names.
fn entry_access(entry: &ExistingEntry, mode: Option<AuthenticationMode>) -> PrincipalAccess {
    let base = PrincipalAccess {
        principal_arn: entry.principal_arn.clone(),
        account: account_of(&entry.principal_arn),
        via: if mode == Some(AuthenticationMode::ConfigMap) {
            AccessPath::None
        } else {
            AccessPath::AccessEntry
        },
        origin: if entry.managed_by_migrator {
            Origin::MigratorEntry
        } else {
            Origin::OtherEntry
        },
        source: None,
        username: None,
        groups: Vec::new(),
        policies: Vec::new(),
        entry_type: None,
        cluster_admin: false,
        managed_by_migrator: entry.managed_by_migrator,
        iam: IamStatus::NotChecked,
        action: None,
        target: None,
        codes: Vec::new(),
    };
    with_entry(base, entry)
}

/// `access` as carried by `entry`.
fn with_entry(access: PrincipalAccess, entry: &ExistingEntry) -> PrincipalAccess {
    PrincipalAccess {
        username: entry.username.clone(),
        groups: entry.kubernetes_groups.clone(),
        policies: entry.access_policies.clone(),
        entry_type: Some(entry.entry_type),
        cluster_admin: entry.entry_type == EntryType::Standard
            && entry.access_policies.iter().any(|p| {
                p.name() == CLUSTER_ADMIN_POLICY && p.access_scope.scope_type == ScopeType::Cluster
            }),
        ..access
    }
}

fn iam_status(planned: &PlannedEntry, facts: Option<&ClusterFacts>) -> IamStatus {
    let Some(facts) = facts else {
        return IamStatus::NotChecked;
    };
    let Some(written) = planned.source.arn.as_deref() else {
        return IamStatus::NotChecked;
    };
    match facts.resolution(written) {
        Some(IamResolution::Found { .. }) => IamStatus::Found,
        Some(IamResolution::NotFound) => IamStatus::NotFound,
        Some(IamResolution::Unresolvable { .. }) => IamStatus::Unresolved,
        None => IamStatus::NotChecked,
    }
}

fn account_of(arn: &str) -> Option<String> {
    arn.parse::<crate::arn::Arn>()
        .ok()
        .map(|a| a.account().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_entry::AccessScope;
    use crate::policy::MigrationPolicy;

    const AWS_AUTH: &str = include_str!("../../../examples/aws-auth.yaml");
    const FACTS: &str = include_str!("../../../examples/facts.json");
    const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

    fn inventory(facts: Option<&ClusterFacts>) -> ClusterInventory {
        let auth = AwsAuth::parse_configmap(AWS_AUTH).expect("example parses");
        let plan = crate::plan(&auth, facts, &MigrationPolicy::default());
        ClusterInventory::from_plan(&auth, &plan, facts)
    }

    fn facts() -> ClusterFacts {
        serde_json::from_str(FACTS).expect("example facts")
    }

    fn find<'a>(inv: &'a ClusterInventory, arn: &str) -> &'a PrincipalAccess {
        inv.principals
            .iter()
            .find(|p| p.principal_arn == arn)
            .unwrap_or_else(|| panic!("{arn} in the inventory"))
    }

    #[test]
    fn config_map_principals_reach_the_cluster_through_their_rows() {
        let inv = inventory(Some(&facts()));
        let admin = find(&inv, "arn:aws:iam::111122223333:role/platform-admin");
        assert_eq!(admin.via, AccessPath::AwsAuth);
        assert_eq!(admin.origin, Origin::AwsAuth);
        assert_eq!(admin.username.as_deref(), Some("platform-admin"));
        assert_eq!(admin.groups, vec!["system:masters", "platform-oncall"]);
        assert!(admin.cluster_admin);
        assert_eq!(admin.iam, IamStatus::Found);
        let target = admin.target.as_ref().expect("a target entry");
        assert_eq!(target.groups, vec!["platform-oncall"]);
        assert_eq!(target.policies[0].name(), CLUSTER_ADMIN_POLICY);
        // The resolved ARN, with its IAM path, is the principal.
        let deployer = find(
            &inv,
            "arn:aws:iam::111122223333:role/deployers/team-payments-deployer",
        );
        assert_eq!(deployer.via, AccessPath::AwsAuth);
        assert!(!deployer.cluster_admin);
        // Another account's principal keeps its account.
        let reader = find(&inv, "arn:aws:iam::444455556666:role/observability-reader");
        assert_eq!(reader.account.as_deref(), Some("444455556666"));
    }

    #[test]
    fn rows_that_never_matched_or_whose_principal_is_gone_give_no_access() {
        let inv = inventory(Some(&facts()));
        let dead = find(
            &inv,
            "arn:aws:iam::111122223333:role/teams/data/data-engineer",
        );
        assert_eq!(dead.via, AccessPath::None);
        assert!(dead.codes.contains(&FindingCode::DeadRolePath));
        let sts = find(
            &inv,
            "arn:aws:sts::111122223333:assumed-role/ci-runner/gitlab",
        );
        assert_eq!(sts.via, AccessPath::None);
        assert!(
            !sts.cluster_admin,
            "a dead system:masters row makes nobody an admin"
        );
        let gone = find(&inv, "arn:aws:iam::111122223333:role/metrics-scraper");
        assert_eq!(gone.iam, IamStatus::NotFound);
        assert_eq!(gone.via, AccessPath::None);
    }

    #[test]
    fn entries_override_rows_and_entries_outside_aws_auth_are_listed() {
        let mut f = facts();
        f.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
        let admin_policy = AccessPolicy {
            policy_arn: ADMIN.to_owned(),
            access_scope: AccessScope::cluster(),
        };
        f.existing_entries = vec![
            ExistingEntry {
                principal_arn: "arn:aws:iam::111122223333:role/platform-admin".to_owned(),
                entry_type: EntryType::Standard,
                username: Some("platform-admin".to_owned()),
                kubernetes_groups: vec!["platform-oncall".to_owned()],
                access_policies: vec![admin_policy.clone()],
                managed_by_migrator: true,
            },
            ExistingEntry {
                principal_arn: "arn:aws:iam::111122223333:user/creator".to_owned(),
                entry_type: EntryType::Standard,
                username: None,
                kubernetes_groups: Vec::new(),
                access_policies: vec![admin_policy],
                managed_by_migrator: false,
            },
        ];
        let inv = inventory(Some(&f));
        let admin = find(&inv, "arn:aws:iam::111122223333:role/platform-admin");
        assert_eq!(admin.via, AccessPath::AccessEntry);
        assert_eq!(admin.origin, Origin::AwsAuth);
        assert!(admin.managed_by_migrator && admin.cluster_admin);
        assert_eq!(admin.groups, vec!["platform-oncall"]);
        assert_eq!(admin.entry_type, Some(EntryType::Standard));
        let creator = find(&inv, "arn:aws:iam::111122223333:user/creator");
        assert_eq!(creator.via, AccessPath::AccessEntry);
        assert_eq!(creator.origin, Origin::OtherEntry);
        assert!(creator.cluster_admin && creator.source.is_none());
        // A row without an entry still works through aws-auth in API_AND_CONFIG_MAP.
        let deployer = find(
            &inv,
            "arn:aws:iam::111122223333:role/deployers/team-payments-deployer",
        );
        assert_eq!(deployer.via, AccessPath::AwsAuth);
    }

    #[test]
    fn api_mode_ignores_aws_auth() {
        let mut f = facts();
        f.authentication_mode = Some(AuthenticationMode::Api);
        let inv = inventory(Some(&f));
        assert!(inv.principals.iter().all(|p| p.via == AccessPath::None));
        assert!(!inv.principals.iter().any(|p| p.cluster_admin));
    }

    #[test]
    fn the_inventory_keeps_the_plans_counts_and_findings_and_round_trips() {
        let auth = AwsAuth::parse_configmap(AWS_AUTH).expect("example parses");
        let f = facts();
        let plan = crate::plan(&auth, Some(&f), &MigrationPolicy::default());
        let inv = ClusterInventory::from_plan(&auth, &plan, Some(&f));
        assert_eq!(inv.summary, plan.summary);
        assert_eq!(inv.findings.len(), plan.all_findings().count());
        assert_eq!(inv.blocks_api_mode, plan.blocks_api_mode);
        let mut sorted = inv.principals.clone();
        sorted.sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
        assert_eq!(sorted, inv.principals);
        let json = serde_json::to_string(&inv).expect("serializes");
        let back: ClusterInventory = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, inv);
    }

    #[test]
    fn an_offline_plan_checks_no_principal() {
        let inv = inventory(None);
        assert!(
            inv.principals
                .iter()
                .all(|p| p.iam == IamStatus::NotChecked)
        );
        assert!(inv.authentication_mode.is_none());
    }
}
