//! The policy-file snippet: the exact suggestions as `group_policies` entries, ready to review
//! and merge, and the closest non-exact candidates commented out with the differences a reviewer
//! would have to accept.

use super::report::{Candidate, SubjectReport, Verdict};
use crate::access_entry::ScopeType;
use crate::policy::MigrationPolicy;
use crate::rbac::SubjectKind;
use std::fmt::Write as _;

/// How many differences a commented-out candidate lists.
const LISTED: usize = 25;

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
}

fn entry(out: &mut String, prefix: &str, group: &str, c: &Candidate, note: &str) {
    let scope = match c.access_scope.scope_type {
        ScopeType::Cluster => "{type: cluster}".to_owned(),
        ScopeType::Namespace => format!(
            "{{type: namespace, namespaces: [{}]}}",
            c.access_scope
                .namespaces
                .iter()
                .map(|n| quoted(n))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let _ = writeln!(out, "{prefix}- group: {}", quoted(group));
    let _ = writeln!(out, "{prefix}  policy: {}", c.policy);
    let _ = writeln!(out, "{prefix}  access_scope: {scope}");
    let _ = writeln!(out, "{prefix}  keep_group: false   # {note}");
    let differences: Vec<&str> = c
        .lost
        .iter()
        .chain(&c.added)
        .map(|d| d.text.as_str())
        .collect();
    if !differences.is_empty() {
        let _ = writeln!(out, "{prefix}  accept_differences:");
        for d in differences.iter().take(LISTED) {
            let _ = writeln!(out, "{prefix}    - {}", quoted(d));
        }
        if differences.len() > LISTED {
            let _ = writeln!(
                out,
                "{prefix}    # … and {} more: the plan's JSON lists them all (rbac.subjects[].candidates)",
                differences.len() - LISTED
            );
        }
    }
}

/// Renders the snippet for `subjects`, leaving out groups the policy file maps already.
pub(super) fn render(subjects: &[SubjectReport], policy: &MigrationPolicy) -> String {
    let groups = subjects
        .iter()
        .filter(|s| s.kind == SubjectKind::Group && policy.mapping_for(&s.name).is_none());
    let mut active = String::new();
    let mut commented = String::new();
    for s in groups {
        match (s.verdict, &s.suggested, s.candidates.first()) {
            (Verdict::Exact, Some(c), _) => entry(
                &mut active,
                "  ",
                &s.name,
                c,
                "exact: the policy grants what the group's RBAC grants",
            ),
            (Verdict::Lossy | Verdict::Broader, _, Some(c)) => entry(
                &mut commented,
                "  # ",
                &s.name,
                c,
                if s.verdict == Verdict::Lossy {
                    "lossy: the permissions below would be lost"
                } else {
                    "broader: the permissions below would be added"
                },
            ),
            _ => {}
        }
    }
    let mut out = String::from(
        "# Policy-file snippet from `eks-auth-migrator plan --suggest` (docs/policy-file.md).\n# Review it, then merge it into your policy file. Only exact matches are active; the closest\n# non-exact candidates are commented out with the differences you would accept.\n",
    );
    if active.is_empty() {
        out.push_str("group_policies: []   # no exact match; entries below are only for review\n");
    } else {
        out.push_str("group_policies:\n");
        out.push_str(&active);
    }
    out.push_str(&commented);
    out
}
