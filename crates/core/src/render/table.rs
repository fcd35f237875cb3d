//! The terminal table: one row per aws-auth row, then every finding, then a verdict.

use super::RenderOptions;
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use comfy_table::{Cell, ContentArrangement, Table, presets};
use std::fmt::Write;

pub(super) fn render(plan: &Plan, options: RenderOptions) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "source",
            "principal",
            "action",
            "type",
            "username",
            "groups",
            "policies",
            "findings",
        ]);
    if let Some(width) = options.width {
        table.set_width(width);
    }
    for entry in &plan.entries {
        let source = match entry.source.line {
            Some(line) => format!("{}[{}] L{line}", entry.source.section, entry.source.index),
            None => format!("{}[{}]", entry.source.section, entry.source.index),
        };
        let policies: Vec<String> = entry
            .access_policies
            .iter()
            .map(|p| format!("{} ({})", p.name(), p.access_scope))
            .collect();
        let codes: Vec<&str> = entry.findings.iter().map(|f| f.code.as_str()).collect();
        table.add_row(vec![
            Cell::new(source),
            Cell::new(entry.principal_arn.as_deref().unwrap_or("-")),
            Cell::new(entry.action),
            Cell::new(entry.entry_type.map_or("-", |t| t.as_str())),
            Cell::new(entry.username.as_deref().unwrap_or("-")),
            Cell::new(entry.kubernetes_groups.join("\n")),
            Cell::new(policies.join("\n")),
            Cell::new(codes.join("\n")),
        ]);
    }
    let mut out = String::new();
    if plan.entries.is_empty() {
        out.push_str("aws-auth has no mapRoles or mapUsers rows.\n");
    } else {
        let _ = writeln!(out, "{table}");
    }
    let findings: Vec<&Finding> = plan.all_findings().collect();
    if !findings.is_empty() {
        out.push_str("\nFindings:\n");
        for finding in findings {
            let label = format!("{:<7}", finding.severity.as_str());
            let label = if options.color {
                paint(&label, severity_color(finding.severity))
            } else {
                label
            };
            let _ = writeln!(out, "  {label} {} {}", finding.code, finding.message);
        }
    }
    if !plan.eks_managed_entries.is_empty() {
        out.push_str(
            "\nEKS-managed entries (never adopted, changed or deleted by the migrator):\n",
        );
        for e in &plan.eks_managed_entries {
            let _ = writeln!(
                out,
                "  {} {} ({})",
                e.principal_arn, e.entry_type, e.managed_by
            );
        }
    }
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
        out.push_str(&paint(verdict, color));
        out.push('\n');
    } else {
        let _ = writeln!(out, "{verdict}");
    }
    out
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
        assert!(
            out.contains("AmazonEKSClusterAdminPolicy (cluster)"),
            "{out}"
        );
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
}
