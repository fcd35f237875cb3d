//! The terminal table: one row per aws-auth row, then every finding, then a verdict. Principals
//! and policies appear in their short forms (account and `role/name`, `ClusterAdmin (cluster)`)
//! and a row that does not fit the width is stacked, never sliced (`super::terminal`); the full
//! values are in the JSON plan.

use super::options::RenderOptions;
use super::terminal::{Grid, short_arn, short_policy, wrap};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use std::fmt::Write;

/// The table's columns; the first three name a stacked row.
const HEADERS: [&str; 8] = [
    "source",
    "action",
    "type",
    "principal",
    "username",
    "groups",
    "policies",
    "findings",
];

/// The plan for a terminal: the rows' table, the findings, the EKS-managed entries, where the
/// API was reached, the counts and the verdict.
pub(super) fn render(plan: &Plan, options: RenderOptions) -> String {
    let mut out = String::new();
    if plan.entries.is_empty() {
        out.push_str("aws-auth has no mapRoles or mapUsers rows.\n");
    } else {
        out.push_str(&rows_table(plan).render(options.width));
    }
    findings(&mut out, plan, options);
    eks_managed(&mut out, plan);
    if let Some(reach) = &plan.reach {
        let r = &reach.reachability;
        let vpc = r
            .vpc_id
            .as_deref()
            .map(|v| format!(" in {v}"))
            .unwrap_or_default();
        let line = format!(
            "Kubernetes API: {}{vpc}; reached {}.",
            r.class.describe(),
            reach.route.label()
        );
        out.push('\n');
        out.push_str(&wrap(&line, options.width, 2));
    }
    verdict(&mut out, plan, options);
    out
}

/// One table row per aws-auth row, in short forms.
fn rows_table(plan: &Plan) -> Grid<'_> {
    let rows = plan
        .entries
        .iter()
        .map(|entry| {
            let source = match entry.source.line {
                Some(line) => format!("{}[{}] L{line}", entry.source.section, entry.source.index),
                None => format!("{}[{}]", entry.source.section, entry.source.index),
            };
            let policies: Vec<String> = entry.access_policies.iter().map(short_policy).collect();
            let codes: Vec<&str> = entry.findings.iter().map(|f| f.code.as_str()).collect();
            vec![
                source,
                entry.action.to_string(),
                entry.entry_type.map_or("-", |t| t.as_str()).to_owned(),
                entry
                    .principal_arn
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), short_arn),
                entry.username.clone().unwrap_or_else(|| "-".to_owned()),
                entry.kubernetes_groups.join("\n"),
                policies.join("\n"),
                codes.join("\n"),
            ]
        })
        .collect();
    Grid {
        headers: &HEADERS,
        key_columns: 3,
        rows,
    }
}

/// Every finding, cluster-level first, its severity label painted when colours are on.
fn findings(out: &mut String, plan: &Plan, options: RenderOptions) {
    let findings: Vec<&Finding> = plan.all_findings().collect();
    if findings.is_empty() {
        return;
    }
    out.push_str("\nFindings:\n");
    for finding in findings {
        let label = format!("{:<7}", finding.severity.as_str());
        let line = format!("  {label} {} {}", finding.code, finding.message);
        // Wrapped plain (a value's control characters escaped), then the label painted.
        let wrapped = wrap(&line, options.width, 10);
        if options.color {
            let painted = paint(&label, severity_color(finding.severity));
            out.push_str(&wrapped.replacen(&label, &painted, 1));
        } else {
            out.push_str(&wrapped);
        }
    }
}

/// The entries EKS manages itself, when there are any.
fn eks_managed(out: &mut String, plan: &Plan) {
    if plan.eks_managed_entries.is_empty() {
        return;
    }
    out.push_str("\nEKS-managed entries (never adopted, changed or deleted by the migrator):\n");
    for e in &plan.eks_managed_entries {
        let _ = writeln!(
            out,
            "  {} {} ({})",
            e.principal_arn, e.entry_type, e.managed_by
        );
    }
}

/// The counts, then whether API mode is safe (red or green when colours are on).
fn verdict(out: &mut String, plan: &Plan, options: RenderOptions) {
    let s = &plan.summary;
    let _ = writeln!(
        out,
        "\n{} to create, {} skipped, {} blocked; {} blocker(s), {} warning(s).",
        s.create, s.skip, s.blocked, s.blockers, s.warnings
    );
    let verdict = if plan.blocks_api_mode {
        "Switching to API mode would remove access: resolve the blockers first (API_AND_CONFIG_MAP is safe)."
    } else {
        "Nothing blocks API mode once these entries exist and are verified."
    };
    if options.color {
        let color = if plan.blocks_api_mode {
            Color::Red
        } else {
            Color::Green
        };
        out.push_str(&paint(wrap(verdict, options.width, 0).trim_end(), color));
        out.push('\n');
    } else {
        out.push_str(&wrap(verdict, options.width, 0));
    }
}

/// ANSI foreground colours used outside the table (the table itself stays plain so its
/// column widths stay right).
#[derive(Clone, Copy)]
enum Color {
    Red = 31,
    Green = 32,
    Yellow = 33,
    Cyan = 36,
}

fn severity_color(severity: Severity) -> Color {
    match severity {
        Severity::Info => Color::Cyan,
        Severity::Warning => Color::Yellow,
        Severity::Blocker => Color::Red,
    }
}

fn paint(text: &str, color: Color) -> String {
    format!("\u{1b}[{}m{text}\u{1b}[0m", color as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_auth::AwsAuth;
    use crate::policy::MigrationPolicy;

    fn plan_of(yaml: &str) -> Plan {
        let auth = AwsAuth::parse_configmap(yaml).expect("configmap");
        crate::plan(&auth, None, &MigrationPolicy::default())
    }

    #[test]
    fn plain_table_lists_rows_findings_and_verdict() {
        let plan = plan_of(
            "kind: ConfigMap\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/admin\n      username: admin\n      groups: [system:masters]\n  mapAccounts: |\n    - '444455556666'\n",
        );
        let out = render(
            &plan,
            RenderOptions {
                color: false,
                width: Some(200),
            },
        );
        assert!(out.contains("mapRoles[0] L1"), "{out}");
        assert!(out.contains("ClusterAdmin (cluster)"), "{out}");
        assert!(out.contains("111122223333 role/admin"), "{out}");
        assert!(
            out.contains("blocker MAP_ACCOUNTS mapAccounts[0] (line 1 of mapAccounts)"),
            "{out}"
        );
        assert!(
            out.contains("1 to create, 0 skipped, 0 blocked; 1 blocker(s)"),
            "{out}"
        );
        assert!(
            out.contains("Switching to API mode would remove access"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "no colour when not asked");
    }

    #[test]
    fn colour_only_when_asked() {
        let plan = plan_of(
            "kind: ConfigMap\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n      username: a\n",
        );
        let out = render(
            &plan,
            RenderOptions {
                color: true,
                width: Some(160),
            },
        );
        assert!(out.contains('\u{1b}'));
        assert!(out.contains("Nothing blocks API mode"));
    }

    /// `plan --example` (the shipped aws-auth and facts) in an ordinary terminal: every line fits
    /// and every principal, username, group, policy and code stays whole on one line.
    #[test]
    fn the_example_reads_well_at_80_100_and_120_columns() {
        let auth = AwsAuth::parse_configmap(include_str!("../../../../examples/aws-auth.yaml"))
            .expect("example");
        let facts: crate::facts::ClusterFacts =
            serde_json::from_str(include_str!("../../../../examples/facts.json")).expect("facts");
        let plan = crate::plan(&auth, Some(&facts), &MigrationPolicy::default());
        for width in [80u16, 100, 120] {
            let out = render(
                &plan,
                RenderOptions {
                    color: false,
                    width: Some(width),
                },
            );
            for line in out.lines() {
                assert!(
                    line.chars().count() <= usize::from(width),
                    "line wider than {width}: {line}\n{out}"
                );
            }
            let lines: Vec<&str> = out.lines().collect();
            let on_a_line = |word: &str| lines.iter().any(|l| l.contains(word));
            for entry in &plan.entries {
                let mut words: Vec<String> = entry
                    .principal_arn
                    .as_deref()
                    .map(super::super::terminal::short_arn)
                    .into_iter()
                    .flat_map(|s| s.split(' ').map(str::to_owned).collect::<Vec<_>>())
                    .collect();
                words.extend(entry.username.clone());
                words.extend(entry.kubernetes_groups.clone());
                words.extend(
                    entry
                        .access_policies
                        .iter()
                        .map(super::super::terminal::short_policy),
                );
                words.extend(entry.findings.iter().map(|f| f.code.as_str().to_owned()));
                for word in words {
                    assert!(
                        on_a_line(&word),
                        "`{word}` is sliced at {width} columns:\n{out}"
                    );
                }
            }
        }
    }
}
