//! Markdown (GitHub-flavoured) for a wiki page or a pull request. Customer values are escaped:
//! prose with backslashes before every character Markdown or HTML would act on, table cells
//! also with `\|`, ARNs in code spans fenced longer than any backtick run they contain.

use super::access_rows;
use super::owner_rows;
use super::summary::{self, Arns, Lines};
use crate::report::model::FleetReport;
use std::fmt::Write;

/// The report as Markdown.
pub(super) fn render(report: &FleetReport) -> String {
    let mut out = String::from("# EKS fleet report: aws-auth and access entries\n\n");
    let _ = writeln!(out, "{}\n", text(&summary::subtitle(report)));
    out.push_str("## Headline\n\n");
    for line in summary::headline(report) {
        let _ = writeln!(out, "- {}", text(&line));
    }
    out.push('\n');
    table(
        &mut out,
        &["phase", "clusters"],
        summary::phase_rows(report),
    );
    blockers(&mut out, report);
    if !report.failed_terminal.is_empty() {
        let _ = writeln!(out, "## {}\n", text(summary::TERMINAL_TITLE));
        table(
            &mut out,
            &summary::TERMINAL_HEADERS,
            summary::terminal_rows(report),
        );
    }
    owners(&mut out, report);
    out.push_str("## Clusters\n\n");
    table(
        &mut out,
        &summary::CLUSTER_HEADERS,
        summary::cluster_rows(report, Arns::Full),
    );
    out.push_str("## The creator's implicit admin\n\n");
    table(
        &mut out,
        &summary::CREATOR_HEADERS,
        summary::creator_rows(report, Arns::Full),
    );
    access(&mut out, report);
    if summary::has_suggestions(report) {
        out.push_str("## RBAC suggestions\n\n");
        for line in summary::suggestion_notes(report) {
            let _ = writeln!(out, "- {}", text(&line));
        }
        out.push('\n');
        table(
            &mut out,
            &summary::SUGGESTION_HEADERS,
            summary::suggestion_rows(report),
        );
    }
    out.push_str("## Scans\n\n");
    table(&mut out, &summary::SCAN_HEADERS, summary::scan_rows(report));
    for line in summary::scan_notes(report) {
        let _ = writeln!(out, "- {}", text(&line));
    }
    if !report.unreadable.is_empty() {
        out.push_str("\n## Unreadable items\n\n");
        table(
            &mut out,
            &summary::UNREADABLE_HEADERS,
            summary::unreadable_rows(report),
        );
    }
    out
}

fn blockers(out: &mut String, report: &FleetReport) {
    out.push_str("## Blockers\n\n");
    if report.blockers.is_empty() {
        out.push_str("No blocker findings.\n\n");
    }
    for group in &report.blockers {
        let _ = writeln!(
            out,
            "### `{}`: {} cluster(s), {} finding(s)\n\n{}\n",
            group.code,
            group.clusters,
            group.findings,
            text(&group.remedy)
        );
        let rows = group
            .affected
            .iter()
            .flat_map(|b| {
                b.findings.iter().map(move |f| {
                    vec![
                        Lines::code(&format!("{}/{}/{}", b.account, b.region, b.name)),
                        Lines::text(&f.message),
                    ]
                })
            })
            .collect();
        table(
            out,
            &["cluster", "finding (where, what, why, what to do)"],
            rows,
        );
    }
}

fn owners(out: &mut String, report: &FleetReport) {
    let _ = writeln!(out, "## {}\n", owner_rows::TITLE);
    if report.owners.is_empty() {
        let _ = writeln!(out, "{}\n", owner_rows::EMPTY);
    }
    for group in &report.owners {
        let _ = writeln!(
            out,
            "### {}\n\n{}\n",
            text(&owner_rows::heading(group)),
            text(&group.what_to_change)
        );
        table(out, &owner_rows::HEADERS, owner_rows::rows(group));
    }
}

fn access(out: &mut String, report: &FleetReport) {
    out.push_str("## Access\n\n");
    for (_, title, headers, rows) in access_rows::access_sections(report, Arns::Full) {
        let _ = writeln!(out, "### {title}\n");
        if rows.is_empty() {
            out.push_str("None.\n\n");
        } else {
            table(out, &headers, rows);
        }
    }
}

fn table(out: &mut String, headers: &[&str], rows: Vec<Vec<Lines>>) {
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(headers.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(cell).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// A table cell: items joined by `<br>`, each escaped for a GFM table.
fn cell(lines: &Lines) -> String {
    let items: Vec<String> = lines
        .items
        .iter()
        .map(|item| {
            if lines.code {
                code_cell(item)
            } else {
                text(item)
            }
        })
        .collect();
    items.join("<br>")
}

/// Prose: every character Markdown or inline HTML acts on is backslash-escaped; line breaks
/// become spaces.
pub(super) fn text(value: &str) -> String {
    const SPECIAL: &[char] = &[
        '\\', '`', '*', '_', '[', ']', '<', '>', '&', '~', '#', '!', '|', '\n', '\r',
    ];
    if !value.contains(SPECIAL) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '#' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span for a table cell: fenced with more backticks than the value's longest run, `|`
/// escaped (GFM splits cells before it reads code spans).
fn code_cell(value: &str) -> String {
    if !value.is_empty() && !value.contains(['`', '|', '\n', '\r']) {
        return format!("`{value}`");
    }
    let value = value.replace(['\n', '\r'], " ").replace('|', "\\|");
    if value.is_empty() {
        return String::new();
    }
    let longest_run = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if value.starts_with('`') || value.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{value}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_text() {
        assert_eq!(text("a|b<script>*x*"), "a\\|b\\<script\\>\\*x\\*");
        assert_eq!(text("line\nbreak"), "line break");
        assert_eq!(code_cell("arn:x|y"), "`arn:x\\|y`");
        assert_eq!(code_cell("a``b"), "```a``b```");
        assert_eq!(code_cell("`x"), "`` `x ``");
    }
}
