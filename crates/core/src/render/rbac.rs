//! The RBAC section of the terminal output (`plan --suggest`): one block per aws-auth group or
//! username, then the policy-file snippet.

use crate::suggest::{Candidate, RbacReport, SubjectReport, Verdict};
use std::fmt::Write;

/// How many differences a subject's block lists before "and N more".
const LISTED: usize = 8;

fn candidate_line(out: &mut String, label: &str, c: &Candidate) {
    let _ = writeln!(out, "    {label}: {} ({})", c.policy, c.access_scope);
    for (what, diffs) in [("loses", &c.lost), ("adds", &c.added)] {
        if diffs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "      {what} {}:", diffs.len());
        for d in diffs.iter().take(LISTED) {
            let _ = writeln!(out, "        {}", d.text);
        }
        if diffs.len() > LISTED {
            let _ = writeln!(
                out,
                "        … and {} more (--format json lists all)",
                diffs.len() - LISTED
            );
        }
    }
}

fn subject(out: &mut String, s: &SubjectReport) {
    let kind = match s.kind {
        crate::rbac::SubjectKind::User => "user",
        _ => "group",
    };
    let _ = writeln!(
        out,
        "  {kind} {} [{}] ({})",
        s.name,
        s.verdict.as_str(),
        s.rows.join(", ")
    );
    if s.bindings.is_empty() {
        out.push_str("    bound to nothing\n");
    }
    for b in &s.bindings {
        let place = b
            .namespace
            .as_deref()
            .map_or("cluster-wide".to_owned(), |ns| format!("in {ns}"));
        let _ = writeln!(out, "    {} {place} ({})", b.role, b.binding);
    }
    match (s.verdict, &s.suggested) {
        (Verdict::Exact, Some(c)) => candidate_line(out, "suggested, exact", c),
        (Verdict::Unreadable, _) => {
            let _ = writeln!(
                out,
                "    no suggestion: {}",
                s.unreadable.as_deref().unwrap_or("RBAC could not be read")
            );
        }
        _ => {
            for c in &s.candidates {
                let label = match c.fit {
                    crate::suggest::Fit::Narrower => "closest, lossy",
                    _ => "closest, broader",
                };
                candidate_line(out, label, c);
            }
        }
    }
    if let Some(m) = &s.mapping {
        let state = if m.unaccepted.is_empty() {
            "accepted"
        } else {
            "BLOCKED: differences not accepted"
        };
        candidate_line(out, &format!("policy file maps it, {state}"), &m.candidate);
    }
}

/// Renders the RBAC section.
pub(super) fn render(report: &RbacReport) -> String {
    let c = &report.counts;
    let mut out = format!(
        "\nRBAC: {} groups, {} users — {} exact, {} lossy, {} broader, {} none, {} unbound, {} unreadable (access-policy rules: EKS user guide as of {}).\n",
        c.groups,
        c.users,
        c.exact,
        c.lossy,
        c.broader,
        c.none,
        c.unbound,
        c.unreadable,
        report.sources.access_policies_as_of
    );
    for s in &report.subjects {
        subject(&mut out, s);
    }
    out.push_str("\nPolicy-file snippet (nothing is applied until your policy file says so):\n");
    out.push_str(&report.policy_snippet);
    out
}
