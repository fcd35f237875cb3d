//! What a cluster's owner must declare so that its next run changes nothing: the migrated access
//! (every entry a plan creates, and every equivalent entry that already exists) with which of its
//! parts already exist on the cluster (the owner imports those instead of creating them), the
//! authentication mode to write down, and the rows left out with why.
//!
//! The owner formats (terraform, terraform-aws-eks, eksctl, cloudformation) render a [`Handoff`];
//! it is built from a plan and the facts it was made from ([`Handoff::from_plan`]), or from what
//! the state table keeps of a cluster (the inventory's `handoff`, which `crate::export` renders). The aws-cli script and the table keep
//! working on the plan itself.

use crate::access_entry::{AccessPolicy, Action, EntryType};
use crate::facts::{AuthenticationMode, ClusterFacts, ExistingEntry, same_role};
use crate::finding::FindingCode;
use crate::plan::{Plan, PlannedEntry, Source, Summary};
use serde::{Deserialize, Serialize};

/// Everything an owner format renders for one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    /// The cluster, as far as the source knows it.
    pub cluster: ClusterContext,
    /// The plan format version the access was planned with.
    pub plan_format_version: u32,
    /// The partition of the plan's policy ARNs.
    pub partition: String,
    /// True when every principal ARN is complete (with its IAM path); false for an offline plan,
    /// whose path-less role ARNs the renderers look up or ask for.
    pub principals_resolved: bool,
    /// True when switching to API mode would remove access someone has today.
    pub blocks_api_mode: bool,
    /// The plan's counts.
    pub summary: Summary,
    /// The codes of the plan's cluster-level findings.
    pub cluster_codes: Vec<FindingCode>,
    /// The access to declare, in plan order.
    pub entries: Vec<HandoffEntry>,
    /// Rows that are not declared, in plan order, with why.
    pub left_out: Vec<LeftOut>,
}

/// What is known of the cluster itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterContext {
    /// The cluster's name.
    pub name: Option<String>,
    /// Its account.
    pub account: Option<String>,
    /// Its region.
    pub region: Option<String>,
    /// Its authentication mode when the access was planned.
    pub authentication_mode: Option<AuthenticationMode>,
}

/// One access entry to declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffEntry {
    /// The aws-auth row it carries.
    pub source: Source,
    /// The principal, as the plan names it (path-less for an unresolved role).
    pub principal_arn: String,
    /// The entry type.
    pub entry_type: EntryType,
    /// The username (absent: EKS's default).
    pub username: Option<String>,
    /// The Kubernetes groups.
    pub kubernetes_groups: Vec<String>,
    /// The policy associations, each with whether it exists already.
    pub policies: Vec<HandoffPolicy>,
    /// The entry on the cluster, when it exists already.
    pub existing: Option<ExistingRef>,
    /// The codes of the row's findings.
    pub codes: Vec<FindingCode>,
}

/// One policy association to declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffPolicy {
    /// The policy and its scope.
    pub policy: AccessPolicy,
    /// True when the entry has it associated already (same ARN and scope).
    pub exists: bool,
}

/// An entry that exists on the cluster already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingRef {
    /// Its principal ARN as EKS stores it (the import identifier).
    pub principal_arn: String,
    /// True when the migrator made it (it carries the migrator's tag) or adopts it.
    pub by_migrator: bool,
}

/// A row that is not declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The row.
    pub source: Source,
    /// Why: the plan's action, or a defect of the plan.
    pub reason: String,
    /// The codes of the row's findings.
    pub codes: Vec<FindingCode>,
}

impl Handoff {
    /// The handoff of `plan`, made with `facts` (which say what exists already; without facts
    /// nothing does, as the planner then assumes).
    pub fn from_plan(plan: &Plan, facts: Option<&ClusterFacts>) -> Self {
        let existing: &[ExistingEntry] = facts.map_or(&[], |f| f.existing_entries.as_slice());
        let mut entries = Vec::new();
        let mut left_out = Vec::new();
        for planned in &plan.entries {
            match declared(planned, existing, plan.principals_resolved) {
                Ok(entry) => entries.push(entry),
                Err(reason) => left_out.push(LeftOut {
                    source: planned.source.clone(),
                    reason,
                    codes: codes(planned),
                }),
            }
        }
        Handoff {
            cluster: ClusterContext {
                name: plan
                    .cluster_name
                    .clone()
                    .or_else(|| facts.and_then(|f| f.cluster_name.clone())),
                account: facts.and_then(|f| f.account_id.clone()),
                region: facts.and_then(|f| f.region.clone()),
                authentication_mode: facts.and_then(|f| f.authentication_mode),
            },
            plan_format_version: plan.format_version,
            partition: plan.partition.clone(),
            principals_resolved: plan.principals_resolved,
            blocks_api_mode: plan.blocks_api_mode,
            summary: plan.summary.clone(),
            cluster_codes: plan.findings.iter().map(|f| f.code).collect(),
            entries,
            left_out,
        }
    }

    /// The authentication mode the owner's configuration should say: the mode the migrator
    /// leaves the cluster in at its next step. CONFIG_MAP becomes API_AND_CONFIG_MAP (access
    /// entries need it; the migrator switches first); API_AND_CONFIG_MAP and API stay. Writing
    /// `API` before the migrator's finalize would let the owner switch the cluster behind the
    /// migrator's back (no backup, no verification): the owner follows the migrator instead.
    pub fn authentication_mode(&self) -> AuthenticationMode {
        match self.cluster.authentication_mode {
            Some(AuthenticationMode::Api) => AuthenticationMode::Api,
            _ => AuthenticationMode::ApiAndConfigMap,
        }
    }

    /// True when something declared exists already (an entry or an association to import).
    pub fn imports_anything(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.existing.is_some() || e.policies.iter().any(|p| p.exists))
    }
}

/// The entry a plan row declares, or why it declares none. A `create` declares its entry; a
/// `skip` because an equivalent entry exists (`ENTRY_EXISTS`) declares it too — it is the row's
/// migrated access, already in place; every other skip and every block is left out.
fn declared(
    planned: &PlannedEntry,
    existing: &[ExistingEntry],
    resolved: bool,
) -> Result<HandoffEntry, String> {
    let carried = planned.action == Action::Skip && has(planned, FindingCode::EntryExists);
    if planned.action != Action::Create && !carried {
        return Err(planned.action.as_str().to_owned());
    }
    let principal_arn = planned
        .principal_arn
        .clone()
        .ok_or("an entry without a principal ARN: not rendered (re-plan)")?;
    let entry_type = planned
        .entry_type
        .ok_or("an entry without an entry type: not rendered (re-plan)")?;
    let found = existing
        .iter()
        .find(|e| same_principal(&e.principal_arn, &principal_arn, resolved));
    let existing_ref = match found {
        Some(entry) => Some(ExistingRef {
            principal_arn: entry.principal_arn.clone(),
            by_migrator: entry.managed_by_migrator || has(planned, FindingCode::EntryAdopted),
        }),
        // A plan that says an entry exists, read without its facts: the plan's ARN is EKS's.
        None if carried || has(planned, FindingCode::EntryAdopted) => Some(ExistingRef {
            principal_arn: principal_arn.clone(),
            by_migrator: has(planned, FindingCode::EntryAdopted),
        }),
        None => None,
    };
    let policies = planned
        .access_policies
        .iter()
        .map(|policy| HandoffPolicy {
            exists: match found {
                Some(entry) => entry.has_policy(policy),
                // Equivalent entries have every planned association.
                None => existing_ref.is_some() && !has(planned, FindingCode::EntryIncomplete),
            },
            policy: policy.clone(),
        })
        .collect();
    Ok(HandoffEntry {
        source: planned.source.clone(),
        principal_arn,
        entry_type,
        username: planned.username.clone(),
        kubernetes_groups: planned.kubernetes_groups.clone(),
        policies,
        existing: existing_ref,
        codes: codes(planned),
    })
}

/// Whether an existing entry's principal is the planned one: the same ARN, or (for a plan whose
/// role ARNs lack their paths) the same role.
fn same_principal(existing: &str, planned: &str, resolved: bool) -> bool {
    existing.eq_ignore_ascii_case(planned) || (!resolved && same_role(existing, planned))
}

fn has(planned: &PlannedEntry, code: FindingCode) -> bool {
    planned.findings.iter().any(|f| f.code == code)
}

fn codes(planned: &PlannedEntry) -> Vec<FindingCode> {
    planned.findings.iter().map(|f| f.code).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_entry::AccessScope;
    use crate::aws_auth::AwsAuth;
    use crate::policy::MigrationPolicy;

    const AWS_AUTH: &str = include_str!("../../../../examples/aws-auth.yaml");
    const FACTS: &str = include_str!("../../../../examples/facts.json");
    const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

    fn facts() -> ClusterFacts {
        serde_json::from_str(FACTS).expect("example facts")
    }

    fn handoff(facts: &ClusterFacts) -> Handoff {
        let auth = AwsAuth::parse_configmap(AWS_AUTH).expect("example parses");
        let plan = crate::plan(&auth, Some(facts), &MigrationPolicy::default());
        Handoff::from_plan(&plan, Some(facts))
    }

    fn entry<'a>(h: &'a Handoff, arn: &str) -> &'a HandoffEntry {
        h.entries
            .iter()
            .find(|e| e.principal_arn == arn)
            .unwrap_or_else(|| panic!("{arn} declared"))
    }

    fn existing(arn: &str, groups: &[&str], by_migrator: bool) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.to_owned(),
            entry_type: EntryType::Standard,
            username: Some("platform-admin".to_owned()),
            kubernetes_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            access_policies: vec![AccessPolicy {
                policy_arn: ADMIN.to_owned(),
                access_scope: AccessScope::cluster(),
            }],
            managed_by_migrator: by_migrator,
        }
    }

    #[test]
    fn a_config_map_cluster_declares_every_create_and_imports_nothing() {
        let h = handoff(&facts());
        let plan_creates = h.summary.create;
        assert_eq!(h.entries.len(), plan_creates);
        assert!(!h.imports_anything());
        assert_eq!(h.cluster.name.as_deref(), Some("prod-eu"));
        assert_eq!(h.cluster.region.as_deref(), Some("eu-west-1"));
        assert_eq!(h.authentication_mode(), AuthenticationMode::ApiAndConfigMap);
        assert_eq!(
            h.entries.len() + h.left_out.len(),
            h.summary.create + h.summary.skip + h.summary.blocked
        );
    }

    #[test]
    fn entries_the_migrator_made_are_declared_and_marked_for_import() {
        let mut f = facts();
        f.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
        f.existing_entries = vec![existing(
            "arn:aws:iam::111122223333:role/platform-admin",
            &["platform-oncall"],
            true,
        )];
        let h = handoff(&f);
        let admin = entry(&h, "arn:aws:iam::111122223333:role/platform-admin");
        assert!(admin.codes.contains(&FindingCode::EntryExists));
        let existing = admin.existing.as_ref().expect("exists");
        assert!(existing.by_migrator);
        assert!(admin.policies.iter().all(|p| p.exists));
        assert!(h.imports_anything());
        // Rows without an entry are still created.
        let alice = entry(&h, "arn:aws:iam::111122223333:user/alice");
        assert!(alice.existing.is_none());
    }

    #[test]
    fn an_incomplete_entry_imports_the_entry_and_creates_the_missing_association() {
        let mut f = facts();
        f.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
        let mut made = existing(
            "arn:aws:iam::111122223333:role/platform-admin",
            &["platform-oncall"],
            true,
        );
        made.access_policies.clear();
        f.existing_entries = vec![made];
        let h = handoff(&f);
        let admin = entry(&h, "arn:aws:iam::111122223333:role/platform-admin");
        assert!(admin.codes.contains(&FindingCode::EntryIncomplete));
        assert!(admin.existing.is_some());
        assert_eq!(admin.policies.len(), 1);
        assert!(!admin.policies[0].exists);
    }

    #[test]
    fn a_conflicting_entry_is_left_out_with_its_reason() {
        let mut f = facts();
        f.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
        f.existing_entries = vec![existing(
            "arn:aws:iam::111122223333:role/platform-admin",
            &["someone-else"],
            false,
        )];
        let h = handoff(&f);
        assert!(
            h.entries
                .iter()
                .all(|e| e.principal_arn != "arn:aws:iam::111122223333:role/platform-admin")
        );
        let out = h
            .left_out
            .iter()
            .find(|l| l.codes.contains(&FindingCode::EntryConflict))
            .expect("left out");
        assert_eq!(out.reason, "skip");
    }

    #[test]
    fn the_mode_follows_the_migrator() {
        let mut f = facts();
        for (now, written) in [
            (None, AuthenticationMode::ApiAndConfigMap),
            (
                Some(AuthenticationMode::ConfigMap),
                AuthenticationMode::ApiAndConfigMap,
            ),
            (
                Some(AuthenticationMode::ApiAndConfigMap),
                AuthenticationMode::ApiAndConfigMap,
            ),
            (Some(AuthenticationMode::Api), AuthenticationMode::Api),
        ] {
            f.authentication_mode = now;
            assert_eq!(handoff(&f).authentication_mode(), written, "{now:?}");
        }
    }
}
