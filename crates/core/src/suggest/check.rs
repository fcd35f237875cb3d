//! The policy file's group → policy mappings, checked at the permission level: a mapping may
//! change permissions only in ways its `accept_differences` names.

use super::context::Ctx;
use super::listing::listing;
use super::report::{Candidate, Fit, MappingCheck, SubjectReport};
use crate::access_entry::ScopeType;
use crate::finding::{Finding, FindingCode, Severity};
use crate::policy::GroupPolicy;
use crate::rbac::Difference;
use crate::rbac::grant::{Grant, Ns};
use crate::rbac::policies::{AccessPolicyRules, Catalogue};

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

/// Checks the mapping of `group` (whose RBAC grant is `grant`; `None`: unreadable), in named
/// steps: refuse what cannot be checked, compare the mapped policy at its scope, sort the
/// differences by whether `accept_differences` names them, then say so.
pub(super) fn mapping(
    ctx: &mut Ctx<'_>,
    group: &str,
    report: &SubjectReport,
    grant: Option<&Grant>,
    mapping: &GroupPolicy,
) -> MappingOutcome {
    let name = mapping.policy_name();
    let said = Said {
        who: format!("group `{group}` ({})", report.rows.join(", ")),
        how: format!("{name} ({})", mapping.access_scope),
    };
    let Some(grant) = grant else {
        let why = report.unreadable.clone().unwrap_or_default();
        return said.unchecked(
            FindingCode::RbacInvalid,
            format!("the group's RBAC could not be read ({why})"),
        );
    };
    let Some(policy) = Catalogue::bundled().get(name) else {
        return said.unchecked(
            FindingCode::AccessPolicyUnknown,
            format!("this build does not know {name}'s Kubernetes rules"),
        );
    };
    let (lost, added) = compare(ctx, grant, policy, mapping);
    let fit = match (lost.is_empty(), added.is_empty()) {
        (true, true) => Fit::Exact,
        (false, true) => Fit::Narrower,
        (true, false) => Fit::Broader,
        (false, false) => Fit::Different,
    };
    let acceptance = Acceptance::of(mapping, &lost, &added);
    let code = acceptance.code(fit, &lost);
    let blocking = acceptance.blocks();
    let (severity, message) = said.verdict(mapping, fit, &lost, &added, &acceptance);
    let unaccepted = acceptance
        .lost
        .iter()
        .chain(&acceptance.added)
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
            stale_accepts: acceptance.stale,
        }),
        finding: Finding::general(code, severity, message),
        blocked: blocking.then(|| Blocked {
            group: group.to_owned(),
            code,
            policy: name.to_owned(),
        }),
    }
}

/// What the mapped policy loses (none when the mapping keeps the group) and adds against the
/// group's grant, at the mapping's scope.
fn compare(
    ctx: &mut Ctx<'_>,
    grant: &Grant,
    policy: &AccessPolicyRules,
    mapping: &GroupPolicy,
) -> (Vec<Difference>, Vec<Difference>) {
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
    (lost, ctx.describe(&added))
}

/// The differences `accept_differences` does not name, and what it names that is no difference.
struct Acceptance {
    lost: Vec<Difference>,
    added: Vec<Difference>,
    stale: Vec<String>,
}

impl Acceptance {
    fn of(mapping: &GroupPolicy, lost: &[Difference], added: &[Difference]) -> Acceptance {
        let accepted = |text: &str| mapping.accept_differences.iter().any(|a| a == text);
        let unaccepted = |diffs: &[Difference]| -> Vec<Difference> {
            diffs
                .iter()
                .filter(|d| !accepted(&d.text))
                .cloned()
                .collect()
        };
        Acceptance {
            lost: unaccepted(lost),
            added: unaccepted(added),
            stale: mapping
                .accept_differences
                .iter()
                .filter(|a| !lost.iter().chain(added).any(|d| d.text == **a))
                .cloned()
                .collect(),
        }
    }

    /// Whether a difference is not accepted: the mapping's rows are blocked.
    fn blocks(&self) -> bool {
        !self.lost.is_empty() || !self.added.is_empty()
    }

    /// The finding code: lossy when something unaccepted (or, everything accepted, anything at
    /// all) is lost, exact, else broader.
    fn code(&self, fit: Fit, lost: &[Difference]) -> FindingCode {
        if !self.lost.is_empty() || (self.added.is_empty() && !lost.is_empty()) {
            FindingCode::GroupPolicyLossy
        } else if fit == Fit::Exact {
            FindingCode::GroupPolicyExact
        } else {
            FindingCode::GroupPolicyBroader
        }
    }
}

/// How a mapping's finding names the group (`who`) and the mapped policy at its scope (`how`).
struct Said {
    who: String,
    how: String,
}

impl Said {
    /// The outcome of a mapping that cannot be checked at the permission level, and why.
    fn unchecked(&self, code: FindingCode, why: String) -> MappingOutcome {
        let Said { who, how } = self;
        MappingOutcome {
            check: None,
            finding: Finding::general(
                code,
                Severity::Warning,
                format!(
                    "{who}: the policy file maps it to {how}, which cannot be checked at the permission level: {why}. The mapping is applied as written."
                ),
            ),
            blocked: None,
        }
    }

    /// The severity and message of a checked mapping: a blocker naming what is not accepted,
    /// exact, or the accepted differences.
    fn verdict(
        &self,
        mapping: &GroupPolicy,
        fit: Fit,
        lost: &[Difference],
        added: &[Difference],
        acceptance: &Acceptance,
    ) -> (Severity, String) {
        let Said { who, how } = self;
        let stale = if acceptance.stale.is_empty() {
            String::new()
        } else {
            format!(
                " `accept_differences` also lists what is no difference now (remove it): {}.",
                acceptance.stale.join("; ")
            )
        };
        let kept = if mapping.keep_group {
            " (the group is kept, so its RBAC still applies and nothing is lost)"
        } else {
            ""
        };
        if acceptance.blocks() {
            let parts = changes(&acceptance.lost, &acceptance.added, "lose", "add");
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
            let parts = changes(lost, added, "loses", "adds");
            (
                Severity::Warning,
                format!(
                    "{who}: the policy file maps it to {how}{kept}, which {}; the policy file accepts each of these differences.{stale}",
                    parts.join(", and ")
                ),
            )
        }
    }
}

/// `lose a; b` and `add c` for the differences there are.
fn changes(lost: &[Difference], added: &[Difference], lose: &str, add: &str) -> Vec<String> {
    let mut parts = Vec::new();
    if !lost.is_empty() {
        parts.push(format!("{lose} {}", listing(lost)));
    }
    if !added.is_empty() {
        parts.push(format!("{add} {}", listing(added)));
    }
    parts
}
