//! The policy file's group → policy mappings, checked at the permission level: a mapping may
//! change permissions only in ways its `accept_differences` names.

use super::context::Ctx;
use super::listing::listing;
use super::report::{Candidate, Fit, MappingCheck, SubjectReport};
use crate::access_entry::ScopeType;
use crate::finding::{Finding, FindingCode, Severity};
use crate::policy::GroupPolicy;
use crate::rbac::grant::{Grant, Ns};
use crate::rbac::policies::Catalogue;

/// A group whose policy-file mapping blocks its rows.
#[derive(Debug, Clone)]
pub(super) struct Blocked {
    pub(super) group: String,
    pub(super) code: FindingCode,
    pub(super) policy: String,
}

/// What checking one mapping gives.
pub(super) struct MappingOutcome {
    pub(super) check: Option<MappingCheck>,
    pub(super) finding: Finding,
    pub(super) blocked: Option<Blocked>,
}

/// Checks the mapping of `group` (whose RBAC grant is `grant`; `None`: unreadable).
pub(super) fn mapping(
    ctx: &mut Ctx<'_>,
    group: &str,
    report: &SubjectReport,
    grant: Option<&Grant>,
    mapping: &GroupPolicy,
) -> MappingOutcome {
    let name = mapping.policy_name();
    let how = format!("{name} ({})", mapping.access_scope);
    let who = format!("group `{group}` ({})", report.rows.join(", "));
    let unchecked = |code, why: String| MappingOutcome {
        check: None,
        finding: Finding::general(
            code,
            Severity::Warning,
            format!(
                "{who}: the policy file maps it to {how}, which cannot be checked at the permission level: {why}. The mapping is applied as written."
            ),
        ),
        blocked: None,
    };
    let Some(grant) = grant else {
        let why = report.unreadable.clone().unwrap_or_default();
        return unchecked(
            FindingCode::RbacInvalid,
            format!("the group's RBAC could not be read ({why})"),
        );
    };
    let Some(policy) = Catalogue::bundled().get(name) else {
        return unchecked(
            FindingCode::AccessPolicyUnknown,
            format!("this build does not know {name}'s Kubernetes rules"),
        );
    };
    let scope: Vec<Ns> = match mapping.access_scope.scope_type {
        ScopeType::Cluster => vec![Ns::All],
        ScopeType::Namespace => mapping
            .access_scope
            .namespaces
            .iter()
            .map(|n| Ns::of_scope(n))
            .collect(),
    };
    let (lost, added) = ctx.compare(grant, policy, &scope);
    let lost = if mapping.keep_group {
        Vec::new()
    } else {
        ctx.describe(&lost)
    };
    let added = ctx.describe(&added);
    let fit = match (lost.is_empty(), added.is_empty()) {
        (true, true) => Fit::Exact,
        (false, true) => Fit::Narrower,
        (true, false) => Fit::Broader,
        (false, false) => Fit::Different,
    };
    let accepted = |text: &str| mapping.accept_differences.iter().any(|a| a == text);
    let unaccepted_lost: Vec<_> = lost
        .iter()
        .filter(|d| !accepted(&d.text))
        .cloned()
        .collect();
    let unaccepted_added: Vec<_> = added
        .iter()
        .filter(|d| !accepted(&d.text))
        .cloned()
        .collect();
    let stale_accepts: Vec<String> = mapping
        .accept_differences
        .iter()
        .filter(|a| !lost.iter().chain(&added).any(|d| d.text == **a))
        .cloned()
        .collect();
    let code = if !unaccepted_lost.is_empty() || (unaccepted_added.is_empty() && !lost.is_empty()) {
        FindingCode::GroupPolicyLossy
    } else if fit == Fit::Exact {
        FindingCode::GroupPolicyExact
    } else {
        FindingCode::GroupPolicyBroader
    };
    let stale = if stale_accepts.is_empty() {
        String::new()
    } else {
        format!(
            " `accept_differences` also lists what is no difference now (remove it): {}.",
            stale_accepts.join("; ")
        )
    };
    let kept = if mapping.keep_group {
        " (the group is kept, so its RBAC still applies and nothing is lost)"
    } else {
        ""
    };
    let blocking = !unaccepted_lost.is_empty() || !unaccepted_added.is_empty();
    let (severity, message) = if blocking {
        let mut parts = Vec::new();
        if !unaccepted_lost.is_empty() {
            parts.push(format!("lose {}", listing(&unaccepted_lost)));
        }
        if !unaccepted_added.is_empty() {
            parts.push(format!("add {}", listing(&unaccepted_added)));
        }
        (
            Severity::Blocker,
            format!(
                "{who}: the policy file maps it to {how}{kept}, which would {} — differences its `accept_differences` does not name. The rows carrying the group are blocked (their entries are not created): list the differences in `accept_differences` if they are intended, or change the mapping.{stale}",
                parts.join(", and ")
            ),
        )
    } else if fit == Fit::Exact {
        (
            Severity::Info,
            format!(
                "{who}: the policy file maps it to {how}{kept}, which grants exactly what its RBAC grants.{stale}"
            ),
        )
    } else {
        let mut parts = Vec::new();
        if !lost.is_empty() {
            parts.push(format!("loses {}", listing(&lost)));
        }
        if !added.is_empty() {
            parts.push(format!("adds {}", listing(&added)));
        }
        (
            Severity::Warning,
            format!(
                "{who}: the policy file maps it to {how}{kept}, which {}; the policy file accepts each of these differences.{stale}",
                parts.join(", and ")
            ),
        )
    };
    let unaccepted = unaccepted_lost
        .iter()
        .chain(&unaccepted_added)
        .map(|d| d.text.clone())
        .collect();
    MappingOutcome {
        check: Some(MappingCheck {
            candidate: Candidate {
                policy: name.to_owned(),
                access_scope: mapping.access_scope.clone(),
                fit,
                lost,
                added,
            },
            keep_group: mapping.keep_group,
            unaccepted,
            stale_accepts,
        }),
        finding: Finding::general(code, severity, message),
        blocked: blocking.then(|| Blocked {
            group: group.to_owned(),
            code,
            policy: name.to_owned(),
        }),
    }
}
