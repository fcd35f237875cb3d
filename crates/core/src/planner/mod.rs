//! The planner: a pure function from (aws-auth, optional cluster facts, policy) to a [`Plan`].
//!
//! # Guarantees
//! - Never plans a `create` for a row that grants nothing today (dropped, shadowed, dead,
//!   unparseable) — invariant 1: no revived rows, no broader policy than the row implied, no
//!   dropped groups (a group that cannot be kept blocks the row instead).
//! - Every row that grants access today is either `create`d with an equivalent entry, `skip`ped
//!   because EKS manages or already holds an equivalent entry, or `blocked` with a blocker
//!   finding; [`Plan::blocks_api_mode`] is true exactly when a blocker exists.
//! - Deterministic: the same inputs give the same plan.

mod context;
mod existing;
mod principal;
mod translate;

use crate::access_entry::Action;
use crate::aws_auth::{AwsAuth, Row, RowStatus, Section};
use crate::facts::{AuthenticationMode, ClusterFacts};
use crate::finding::{Finding, FindingCode, Location, Severity};
use crate::owner::acceptance::Acceptance;
use crate::owner::detect::aws_auth_owners;
use crate::owner::findings::owner_findings;
use crate::owner::ownership::{MetadataSeen, Owners};
use crate::plan::{EksManagedEntry, PLAN_FORMAT_VERSION, Plan, PlannedEntry, Source, Summary};
use crate::policy::MigrationPolicy;
use context::Context;
use principal::Outcome;

/// Plans the migration of one cluster's aws-auth to access entries, accepting no owner
/// ([`plan_with_owners`] with nothing accepted).
///
/// `facts` is `None` for an offline plan from a ConfigMap alone: principal paths are then not
/// resolved and managed node-group / Fargate roles are not known, which the plan says.
pub fn plan(auth: &AwsAuth, facts: Option<&ClusterFacts>, policy: &MigrationPolicy) -> Plan {
    plan_with_owners(auth, facts, policy, &Acceptance::default())
}

/// [`plan`], with the owners the configuration accepts for this cluster: an owner of aws-auth
/// that would undo a prune, or an owner of the cluster, blocks finalize unless `accepted` names
/// it (docs/owners.md).
pub fn plan_with_owners(
    auth: &AwsAuth,
    facts: Option<&ClusterFacts>,
    policy: &MigrationPolicy,
    accepted: &Acceptance,
) -> Plan {
    let partition = facts
        .and_then(|f| f.partition.clone())
        .or_else(|| {
            auth.rows
                .iter()
                .find_map(|r| r.arn.parse::<crate::arn::Arn>().ok())
                .map(|a| a.partition().to_owned())
        })
        .unwrap_or_else(|| "aws".to_owned());
    let ctx = Context {
        facts,
        policy,
        partition: &partition,
    };
    let mut entries: Vec<PlannedEntry> = auth.rows.iter().map(|row| plan_row(row, &ctx)).collect();
    let mut findings = auth.findings.clone();
    findings.extend(account_findings(auth));
    let owners = owner_facts(auth, facts);
    findings.extend(owner_findings(
        &owners,
        accepted,
        cluster_arn(facts, &partition).as_deref(),
    ));
    if facts.is_none()
        && entries
            .iter()
            .any(|e| e.action == Action::Create && e.source.section == Section::MapRoles)
    {
        findings.push(Finding::general(
            FindingCode::PathUnresolved,
            Severity::Info,
            "offline plan: role ARNs are shown as aws-auth writes them (without IAM paths) and managed node-group / Fargate roles are not known. EKS needs each role's full ARN: the live plan or --facts resolves them, and the aws-cli and terraform outputs look them up at run time.",
        ));
    }
    if facts.and_then(|f| f.authentication_mode) == Some(AuthenticationMode::Api) {
        findings.push(Finding::general(
            FindingCode::NotAwsAuth,
            Severity::Info,
            "the cluster is already in API mode: EKS ignores aws-auth, so none of its rows grant access and nothing is migrated.",
        ));
        for entry in &mut entries {
            entry.action = Action::Skip;
            for finding in &mut entry.findings {
                if finding.severity == Severity::Blocker {
                    finding.severity = Severity::Warning;
                }
            }
        }
        for finding in &mut findings {
            if finding.severity == Severity::Blocker {
                finding.severity = Severity::Warning;
            }
        }
    }
    let mut plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        cluster_name: facts.and_then(|f| f.cluster_name.clone()),
        partition,
        principals_resolved: facts.is_some(),
        entries,
        findings,
        blocks_api_mode: false,
        summary: Summary::default(),
        rbac: None,
        eks_managed_entries: facts
            .map(|f| {
                crate::eks_managed::eks_managed_entries(f)
                    .into_iter()
                    .map(|(e, managed_by)| EksManagedEntry {
                        principal_arn: e.principal_arn.clone(),
                        entry_type: e.entry_type,
                        managed_by,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        reach: facts.and_then(|f| f.reach.clone()),
        owners,
    };
    plan.summary = summarize(&plan);
    plan.blocks_api_mode = plan.summary.blockers > 0;
    plan
}

/// Who owns aws-auth and the cluster: as the live gather detected them (facts), else aws-auth's
/// owner from the ConfigMap file's own metadata (the cluster's tags are not known offline).
fn owner_facts(auth: &AwsAuth, facts: Option<&ClusterFacts>) -> Owners {
    if let Some(owners) = facts.and_then(|f| f.owners.clone()) {
        return owners;
    }
    let metadata = auth.metadata.as_ref();
    Owners {
        aws_auth: aws_auth_owners(metadata, MetadataSeen::of_file(metadata)),
        cluster: None,
    }
}

/// The cluster's ARN, when the facts name its account, region and name.
fn cluster_arn(facts: Option<&ClusterFacts>, partition: &str) -> Option<String> {
    let f = facts?;
    Some(format!(
        "arn:{partition}:eks:{}:{}:cluster/{}",
        f.region.as_deref()?,
        f.account_id.as_deref()?,
        f.cluster_name.as_deref()?
    ))
}

fn plan_row(row: &Row, ctx: &Context<'_>) -> PlannedEntry {
    let mut entry = PlannedEntry {
        source: Source {
            section: row.section,
            index: row.index,
            line: Some(row.line),
            arn: (!row.arn.is_empty()).then(|| row.arn.clone()),
        },
        principal_arn: (!row.arn.is_empty()).then(|| row.arn.clone()),
        action: Action::Skip,
        entry_type: None,
        username: None,
        kubernetes_groups: Vec::new(),
        access_policies: Vec::new(),
        findings: row.findings.clone(),
    };
    let loc = row.location();
    match row.status {
        RowStatus::Dropped => return entry,
        RowStatus::Shadowed { section, index } => {
            entry.findings.push(Finding::at(
                loc,
                FindingCode::DuplicatePrincipal,
                Severity::Warning,
                format!("shadowed by {section}[{index}] for the same principal (the last row wins, and mapRoles is matched before mapUsers); this row's username and groups never apply, so it is not migrated. Delete it."),
            ));
            return entry;
        }
        RowStatus::Ambiguous => {
            entry.action = Action::Blocked;
            entry.findings.push(Finding::at(
                loc,
                FindingCode::DuplicatePrincipal,
                Severity::Blocker,
                "mapUsers has rows for this user whose ARNs differ only in letter case; the authenticator keeps both and picks one at random per request, so the user's access is not well defined. Delete all but the intended row.",
            ));
            return entry;
        }
        RowStatus::Effective => {}
    }
    if let Some(sso) = &row.sso {
        entry.principal_arn = None;
        if sso.partition.is_empty() {
            entry.action = Action::Blocked;
            entry.findings.push(Finding::at(
                loc,
                FindingCode::SsoMatcher,
                Severity::Blocker,
                format!("an `sso:` matcher (permission set {}, account {}) depends on an alpha authenticator feature gate that is off by default and not known to be enabled on EKS; the migrator will not guess which roles it matched. Create an entry for the permission set's role (arn:aws:iam::{}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_{}_…) explicitly, then delete this row.", sso.permission_set_name, sso.account_id, sso.account_id, sso.permission_set_name),
            ));
        } else {
            entry.findings.push(Finding::at(
                loc,
                FindingCode::SsoMatcher,
                Severity::Warning,
                format!("an `sso:` matcher with an explicit partition (`{}`) never matches: the authenticator builds an invalid pattern when partition is set. It grants nothing and is not migrated; map the permission set's role ARN instead.", sso.partition),
            ));
        }
        return entry;
    }
    let mut findings = Vec::new();
    let outcome = principal::resolve(row, ctx, &mut findings);
    entry.findings.extend(findings);
    match outcome {
        Outcome::Dead => entry,
        Outcome::Blocked => {
            entry.action = Action::Blocked;
            entry
        }
        Outcome::Resolved(who) => {
            entry.principal_arn = Some(who.arn.clone());
            translate::translate(row, &who, ctx, &mut entry);
            if let Some(facts) = ctx.facts {
                existing::reconcile(&mut entry, facts, ctx.policy, &loc);
            }
            entry
        }
    }
}

/// One blocker per mapAccounts item: there is no access-entry equivalent.
fn account_findings(auth: &AwsAuth) -> Vec<Finding> {
    auth.accounts
        .iter()
        .map(|account| {
            let location = Location {
                key: "mapAccounts".to_owned(),
                index: Some(account.index),
                line: Some(account.line),
            };
            if crate::arn::is_account_id(&account.account_id) {
                Finding::at(
                    location,
                    FindingCode::MapAccounts,
                    Severity::Blocker,
                    format!("every IAM principal in account {} authenticates today (as its own ARN, with no groups), and access entries have no equivalent. Create entries for the principals of that account that need access (RBAC bound to their ARN usernames), then remove the account from mapAccounts.", account.account_id),
                )
            } else {
                Finding::at(
                    location,
                    FindingCode::MapAccounts,
                    Severity::Warning,
                    format!("`{}` is not a 12-digit account ID, so it never matches a caller and grants nothing. Quote account IDs (a leading zero is lost otherwise) or delete the item.", account.account_id),
                )
            }
        })
        .collect()
}

/// Counts of actions and findings.
pub(crate) fn summarize(plan: &Plan) -> Summary {
    let mut summary = Summary::default();
    for entry in &plan.entries {
        match entry.action {
            Action::Create => summary.create += 1,
            Action::Skip => summary.skip += 1,
            Action::Blocked => summary.blocked += 1,
        }
    }
    for finding in plan.all_findings() {
        match finding.severity {
            Severity::Blocker => summary.blockers += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::Info => {}
        }
    }
    summary
}

#[cfg(test)]
mod tests;
