//! One aws-auth group or username: its bindings, its grant, its verdict and the finding that
//! says so.

use super::context::{Ctx, RoleKey, RoleRules};
use super::listing::listing;
use super::report::{BoundRole, Candidate, SubjectReport, Verdict};
use crate::finding::{Finding, FindingCode, Severity};
use crate::rbac::grant::{Grant, Ns};
use crate::rbac::{BindingKind, PolicyRule, SubjectKind};
use std::rc::Rc;

/// One subject's analysis, before any mapping check.
pub(super) struct SubjectOut {
    pub(super) report: SubjectReport,
    pub(super) findings: Vec<Finding>,
    /// Its grant, when every object it depends on was read.
    pub(super) grant: Option<Rc<Grant>>,
}

/// One subject's analysis: its bindings, then (unless some RBAC it depends on is unreadable)
/// its grant and how the candidates compare, with the finding that says so.
pub(super) fn subject<'r>(
    ctx: &mut Ctx<'r>,
    kind: SubjectKind,
    name: &str,
    rows: &[String],
    binding_ids: &[usize],
    mapped: bool,
) -> SubjectOut {
    let who = match kind {
        SubjectKind::User => format!("user `{name}` ({}, bound by name)", rows.join(", ")),
        _ => format!("group `{name}` ({})", rows.join(", ")),
    };
    let Bound {
        bindings,
        mut signature,
        unreadable,
        mut findings,
    } = bound(ctx, kind, name, &who, binding_ids);
    let mut report = SubjectReport {
        kind,
        name: name.to_owned(),
        rows: rows.to_vec(),
        bindings,
        verdict: Verdict::Unbound,
        suggested: None,
        candidates: Vec::new(),
        mapping: None,
        unreadable: None,
    };
    if let Some(why) = unreadable {
        findings.push(Finding::general(
            FindingCode::RbacInvalid,
            Severity::Warning,
            format!("{who}: no suggestion, because what it is granted depends on RBAC that could not be read ({why})."),
        ));
        report.verdict = Verdict::Unreadable;
        report.unreadable = Some(why);
        return SubjectOut {
            report,
            findings,
            grant: None,
        };
    }
    signature.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    signature.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let rules: Vec<&[PolicyRule]> = signature.iter().map(|s| s.2).collect();
    let key: Vec<(Ns, RoleKey)> = signature.into_iter().map(|(ns, k, _)| (ns, k)).collect();
    let evaluated = ctx.evaluate(key, &rules);
    if evaluated.grant.is_empty() {
        if kind == SubjectKind::Group {
            findings.push(Finding::general(
                FindingCode::GroupUnbound,
                Severity::Warning,
                format!("{who}: no ClusterRoleBinding or RoleBinding grants it anything, so it gives nothing beyond what every authenticated user has. Check the name for a typo (group names are case-sensitive), or drop it from the rows."),
            ));
        }
        return SubjectOut {
            report,
            findings,
            grant: Some(Rc::clone(&evaluated.grant)),
        };
    }
    report.verdict = evaluated.verdict;
    report.suggested = evaluated.suggested.clone();
    report.candidates = evaluated.candidates.clone();
    if !mapped {
        // A mapped group's finding is the mapping check's.
        findings.push(verdict_finding(&who, kind, &report));
    }
    SubjectOut {
        report,
        findings,
        grant: Some(Rc::clone(&evaluated.grant)),
    }
}

/// What a subject's bindings give it: each binding as the report lists it, the (scope, role,
/// rules) of the roles that exist, why its grant cannot be relied on (something it depends on
/// is unreadable), and a finding per binding to a role that does not exist.
struct Bound<'r> {
    bindings: Vec<BoundRole>,
    signature: Vec<(Ns, RoleKey, &'r [PolicyRule])>,
    unreadable: Option<String>,
    findings: Vec<Finding>,
}

fn bound<'r>(
    ctx: &Ctx<'r>,
    kind: SubjectKind,
    name: &str,
    who: &str,
    binding_ids: &[usize],
) -> Bound<'r> {
    let mut out = Bound {
        bindings: Vec::new(),
        signature: Vec::new(),
        unreadable: ctx.rbac.unreadable.everything.clone(),
        findings: Vec::new(),
    };
    if let Some(why) = ctx.rbac.unreadable.subjects.get(&crate::rbac::Subject {
        kind,
        name: name.to_owned(),
    }) {
        out.unreadable.get_or_insert_with(|| why.clone());
    }
    let rbac = ctx.rbac;
    for i in binding_ids {
        let b = &rbac.bindings[*i];
        let ns = match b.kind {
            BindingKind::ClusterRoleBinding => Ns::All,
            BindingKind::RoleBinding => Ns::One(b.namespace.clone().unwrap_or_default()),
        };
        out.bindings.push(BoundRole {
            binding: b.display_name(),
            role: b.role_display(),
            namespace: b.namespace.clone(),
        });
        match ctx.role_rules(b) {
            RoleRules::Found(key, rules) => out.signature.push((ns, key, rules)),
            RoleRules::Missing => out.findings.push(Finding::general(
                FindingCode::RbacRoleNotFound,
                Severity::Warning,
                format!("{} binds {who} to {}, which does not exist: Kubernetes ignores the binding, so it grants nothing. Create the role or delete the binding.", b.display_name(), b.role_display()),
            )),
            RoleRules::Unreadable(why) => {
                out.unreadable.get_or_insert(why);
            }
        }
    }
    out
}

fn verdict_finding(who: &str, kind: SubjectKind, report: &SubjectReport) -> Finding {
    let bound: Vec<String> = report
        .bindings
        .iter()
        .map(|b| match &b.namespace {
            Some(ns) => format!("{} in {ns}", b.role),
            None => format!("{} cluster-wide", b.role),
        })
        .collect();
    let bound = bound.join(", ");
    let how = |c: &Candidate| format!("{} ({})", c.policy, c.access_scope);
    let (code, message) = match (report.verdict, report.candidates.first()) {
        (Verdict::Exact, Some(c)) => (
            FindingCode::GroupPolicyExact,
            if kind == SubjectKind::User {
                format!(
                    "{who}: bound to {bound}; {} grants exactly the same permissions. The policy file maps groups, not usernames: to use the policy, give the rows a group mapped to it; until then the bindings stay.",
                    how(c)
                )
            } else {
                format!(
                    "{who}: bound to {bound}; {} grants exactly the same permissions. Suggested: map the group to it in the policy file with keep_group: false (the plan's policy snippet), and the entries carry the policy instead of the group.",
                    how(c)
                )
            },
        ),
        (Verdict::Lossy, Some(c)) => (
            FindingCode::GroupPolicyLossy,
            format!(
                "{who}: bound to {bound}; no access policy grants exactly that. The closest, {}, would lose: {}. Not suggested: keep the group (its RBAC keeps working), or map it and list these in `accept_differences` if losing them is intended.",
                how(c),
                listing(&c.lost)
            ),
        ),
        (Verdict::Broader, Some(c)) => (
            FindingCode::GroupPolicyBroader,
            format!(
                "{who}: bound to {bound}; no access policy grants exactly that. The closest, {}, would add: {}. Not suggested: keep the group, or map it and list these in `accept_differences` if granting them is intended.",
                how(c),
                listing(&c.added)
            ),
        ),
        _ => (
            FindingCode::GroupPolicyNone,
            format!(
                "{who}: bound to {bound}; no access policy grants the same, only less, or only more (cluster-admin aside). Keep the group and its RBAC."
            ),
        ),
    };
    Finding::general(code, Severity::Info, message)
}
