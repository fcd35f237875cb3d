//! The terminal report: the headline as sentences, then a table per section fitted to the
//! width (short ARNs and policy names; rows stacked rather than words sliced). Every principal's
//! access per cluster is listed when a principal filter is given; otherwise one line per
//! principal. The full values are in the JSON, CSV and HTML formats.

use super::access_rows;
use super::summary::{self, Arns, Lines};
use crate::render::options::RenderOptions;
use crate::render::terminal::{Grid, wrap};
use crate::report::model::FleetReport;

/// The report for a terminal.
pub(super) fn render(report: &FleetReport, options: RenderOptions) -> String {
    let width = options.width;
    let mut out = String::new();
    let title = |out: &mut String, text: &str| {
        out.push('\n');
        if options.color {
            out.push_str(&format!("\u{1b}[1;36m{text}\u{1b}[0m\n"));
        } else {
            out.push_str(&format!("{text}\n{}\n", "─".repeat(text.chars().count())));
        }
    };
    let grid = |out: &mut String, headers: &[&str], key_columns: usize, rows: Vec<Vec<Lines>>| {
        if rows.is_empty() {
            out.push_str("None.\n");
            return;
        }
        let rows = rows
            .into_iter()
            .map(|r| r.into_iter().map(|l| l.items.join("\n")).collect())
            .collect();
        out.push_str(
            &Grid {
                headers,
                key_columns,
                rows,
            }
            .render(width),
        );
    };
    out.push_str("EKS fleet report: aws-auth and access entries\n");
    out.push_str(&wrap(&summary::subtitle(report), width, 0));
    title(&mut out, "Headline");
    for line in summary::headline(report) {
        out.push_str(&wrap(&format!("• {line}"), width, 2));
    }
    let phases: Vec<String> = summary::phase_rows(report)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|l| l.items.join(" "))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    out.push_str(&wrap(
        &format!("• Phases: {}.", phases.join(", ")),
        width,
        2,
    ));

    title(
        &mut out,
        "Blockers, by the number of clusters they hold back",
    );
    if report.blockers.is_empty() {
        out.push_str("No blocker findings.\n");
    }
    for group in &report.blockers {
        let head = format!(
            "{}: {} cluster(s), {} finding(s). {}",
            group.code, group.clusters, group.findings, group.remedy
        );
        out.push_str(&wrap(&head, width, 2));
        let rows = group
            .affected
            .iter()
            .flat_map(|b| {
                b.findings.iter().map(move |f| {
                    vec![
                        Lines::codes(vec![b.account.clone(), b.region.clone(), b.name.clone()]),
                        Lines::text(&f.message),
                    ]
                })
            })
            .collect();
        grid(&mut out, &["cluster", "finding"], 1, rows);
    }

    title(&mut out, "Clusters");
    grid(
        &mut out,
        &summary::CLUSTER_HEADERS,
        3,
        summary::cluster_rows(report, Arns::Short),
    );
    title(&mut out, "The creator's implicit admin");
    grid(
        &mut out,
        &summary::CREATOR_HEADERS,
        3,
        summary::creator_rows(report, Arns::Short),
    );

    let detailed = report.filter.principal.is_some();
    for (_, name, headers, rows) in access_rows::access_sections(report, Arns::Short) {
        let per_cluster = headers == access_rows::GRANT_HEADERS;
        if per_cluster && !detailed {
            continue;
        }
        title(&mut out, name);
        grid(&mut out, &headers, if per_cluster { 2 } else { 1 }, rows);
    }
    if !detailed {
        let lists = [
            (
                "Principals with access (a principal filter lists its access per cluster)",
                &report.access.principals,
            ),
            ("Named without access", &report.access.named_without_access),
        ];
        for (name, list) in lists {
            title(&mut out, name);
            grid(
                &mut out,
                &["principal", "clusters", "admin on", "other account on"],
                1,
                access_rows::principal_rows(list, Arns::Short),
            );
        }
    }

    if summary::has_suggestions(report) {
        title(&mut out, "RBAC suggestions");
        for note in summary::suggestion_notes(report) {
            out.push_str(&wrap(&format!("• {note}"), width, 2));
        }
        grid(
            &mut out,
            &summary::SUGGESTION_HEADERS,
            1,
            summary::suggestion_rows(report),
        );
    }

    title(&mut out, "Scans, least recently scanned first");
    grid(
        &mut out,
        &summary::SCAN_HEADERS,
        2,
        summary::scan_rows(report),
    );
    for note in summary::scan_notes(report) {
        out.push_str(&wrap(&format!("• {note}"), width, 2));
    }
    if !report.unreadable.is_empty() {
        title(&mut out, "Unreadable items");
        let rows = report
            .unreadable
            .iter()
            .map(|u| vec![Lines::code(&u.item), Lines::text(&u.reason)])
            .collect();
        grid(&mut out, &["item", "reason"], 1, rows);
    }
    out.push_str("\nFull ARNs and policy names: the json, csv and html formats.\n");
    out
}
