//! RBAC-aware translation: what each aws-auth group (and each username with User bindings) can
//! really do on the cluster, which EKS access policy grants exactly that, and whether a group →
//! policy mapping in the policy file keeps every permission (docs/rbac-suggestions.md).
//!
//! # Guarantees
//! - Only an access policy whose grant equals the subject's RBAC grant at the suggested scope
//!   (as permission sets, `rbac::grant`) is suggested; closer non-exact candidates are
//!   reported with every permission they would lose or add.
//! - A subject whose permissions could depend on an RBAC object that could not be read gets no
//!   suggestion and no verdict other than "unreadable".
//! - Nothing is applied: suggestions are data and a policy-file snippet. When the policy file
//!   maps a group, the mapping is checked: a difference the file does not name in
//!   `accept_differences` is a blocker on the mapping's rows (their entries are not created).

mod analyse;
mod check;
mod context;
mod listing;
pub(crate) mod report;
mod snippet;
mod subject;

pub use analyse::RbacInput;
pub use report::{
    BoundRole, Candidate, Fit, MappingCheck, RbacReport, Sources, SubjectReport, SuggestionCounts,
    Verdict,
};

use crate::access_entry::Action;
use crate::aws_auth::AwsAuth;
use crate::facts::{AuthenticationMode, ClusterFacts};
use crate::finding::Severity;
use crate::plan::Plan;
use crate::policy::MigrationPolicy;
use check::Blocked;

/// Plans like [`crate::plan()`], then analyses RBAC and attaches it ([`attach`]).
pub fn plan_with_rbac(
    auth: &AwsAuth,
    facts: Option<&ClusterFacts>,
    policy: &MigrationPolicy,
    input: &RbacInput<'_>,
) -> Plan {
    let mut plan = crate::plan(auth, facts, policy);
    attach(&mut plan, auth, facts, policy, input);
    plan
}

/// Adds the RBAC analysis to a plan: the `rbac` section, its findings, and blocks the rows of
/// groups whose policy-file mapping has differences the file does not accept.
pub fn attach(
    plan: &mut Plan,
    auth: &AwsAuth,
    facts: Option<&ClusterFacts>,
    policy: &MigrationPolicy,
    input: &RbacInput<'_>,
) {
    let mut analysis = analyse::analyse(auth, policy, input);
    let api_mode = facts.and_then(|f| f.authentication_mode) == Some(AuthenticationMode::Api);
    if api_mode {
        // aws-auth grants nothing in API mode: nothing is migrated, so nothing blocks.
        for f in &mut analysis.findings {
            if f.severity == Severity::Blocker {
                f.severity = Severity::Warning;
            }
        }
    } else {
        for blocked in &analysis.blocked {
            block_rows(plan, auth, blocked);
        }
    }
    plan.findings.extend(analysis.findings);
    plan.rbac = Some(analysis.report);
    plan.summary = crate::planner::summarize(plan);
    plan.blocks_api_mode = plan.summary.blockers > 0;
}

/// Blocks the planned creates of every row carrying a group whose mapping does not keep its
/// permissions: in API_AND_CONFIG_MAP an entry overrides its row at once, so the entry must not
/// be created.
fn block_rows(plan: &mut Plan, auth: &AwsAuth, blocked: &Blocked) {
    for row in auth
        .rows
        .iter()
        .filter(|r| r.groups.contains(&blocked.group))
    {
        let Some(entry) = plan
            .entries
            .iter_mut()
            .find(|e| e.source.section == row.section && e.source.index == row.index)
        else {
            continue;
        };
        if entry.action == Action::Create {
            entry.action = Action::Blocked;
            entry.findings.push(crate::finding::Finding::at(
                row.location(),
                blocked.code,
                Severity::Blocker,
                format!(
                    "group `{}` is mapped to {} by the policy file, which changes its permissions in ways the file does not accept (the cluster-level {} finding lists them); the entry is not created. Accept the differences in `accept_differences` or change the mapping.",
                    blocked.group, blocked.policy, blocked.code
                ),
            ));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
