//! The terminal report: the headline as sentences, then a table per section fitted to the
//! width (short ARNs and policy names; rows stacked rather than words sliced). Every principal's
//! access per cluster is listed when a principal filter is given; otherwise one line per
//! principal. The full values are in the JSON, CSV and HTML formats.

use super::access_rows;
use super::owner_rows;
use super::summary::{self, Arns, Lines};
use crate::render::options::RenderOptions;
use crate::render::terminal::{Grid, wrap};
use crate::report::model::FleetReport;

/// The report for a terminal: the headline, then each section in turn.
pub(super) fn render(report: &FleetReport, options: RenderOptions) -> String {
    let mut page = Page {
        out: String::new(),
        options,
    };
    page.out
        .push_str("EKS fleet report: aws-auth and access entries\n");
    page.wrapped(&summary::subtitle(report), 0);
    headline(&mut page, report);
    blockers(&mut page, report);
    failed_terminal(&mut page, report);
    owners(&mut page, report);
    clusters(&mut page, report);
    access(&mut page, report);
    suggestions(&mut page, report);
    scans(&mut page, report);
    unreadable(&mut page, report);
    page.out
        .push_str("\nFull ARNs and policy names: the json, csv and html formats.\n");
    page.out
}

/// The text being written and how: section titles, bullets and tables fitted to the width.
struct Page {
    out: String,
    options: RenderOptions,
}

impl Page {
    /// A section's title, underlined (or coloured).
    fn title(&mut self, text: &str) {
        self.out.push('\n');
        if self.options.color {
            self.out.push_str(&format!("\u{1b}[1;36m{text}\u{1b}[0m\n"));
        } else {
            self.out
                .push_str(&format!("{text}\n{}\n", "─".repeat(text.chars().count())));
        }
    }

    /// `text` wrapped to the width, continuation lines indented by `indent`.
    fn wrapped(&mut self, text: &str, indent: usize) {
        self.out.push_str(&wrap(text, self.options.width, indent));
    }

    /// A bulleted sentence.
    fn bullet(&mut self, text: &str) {
        self.wrapped(&format!("• {text}"), 2);
    }

    /// A table (`None.` without rows); the first `key_columns` columns are never wrapped.
    fn grid(&mut self, headers: &[&str], key_columns: usize, rows: Vec<Vec<Lines>>) {
        if rows.is_empty() {
            self.out.push_str("None.\n");
            return;
        }
        let rows = rows
            .into_iter()
            .map(|r| r.into_iter().map(|l| l.items.join("\n")).collect())
            .collect();
        self.out.push_str(
            &Grid {
                headers,
                key_columns,
                rows,
            }
            .render(self.options.width),
        );
    }
}

fn headline(page: &mut Page, report: &FleetReport) {
    page.title("Headline");
    for line in summary::headline(report) {
        page.bullet(&line);
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
    page.bullet(&format!("Phases: {}.", phases.join(", ")));
}

fn blockers(page: &mut Page, report: &FleetReport) {
    page.title("Blockers, by the number of clusters they hold back");
    if report.blockers.is_empty() {
        page.out.push_str("No blocker findings.\n");
    }
    for group in &report.blockers {
        let head = format!(
            "{}: {} cluster(s), {} finding(s). {}",
            group.code, group.clusters, group.findings, group.remedy
        );
        page.wrapped(&head, 2);
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
        page.grid(&["cluster", "finding"], 1, rows);
    }
}

fn failed_terminal(page: &mut Page, report: &FleetReport) {
    if report.failed_terminal.is_empty() {
        return;
    }
    page.title(summary::TERMINAL_TITLE);
    page.grid(
        &summary::TERMINAL_HEADERS,
        1,
        summary::terminal_rows(report),
    );
}

fn owners(page: &mut Page, report: &FleetReport) {
    page.title(owner_rows::TITLE);
    if report.owners.is_empty() {
        page.out.push_str(owner_rows::EMPTY);
        page.out.push('\n');
    }
    for group in &report.owners {
        page.wrapped(
            &format!("{}. {}", owner_rows::heading(group), group.what_to_change),
            2,
        );
        page.grid(&owner_rows::HEADERS, 1, owner_rows::rows(group));
    }
}

fn clusters(page: &mut Page, report: &FleetReport) {
    page.title("Clusters");
    page.grid(
        &summary::CLUSTER_HEADERS,
        3,
        summary::cluster_rows(report, Arns::Short),
    );
    page.title("The creator's implicit admin");
    page.grid(
        &summary::CREATOR_HEADERS,
        3,
        summary::creator_rows(report, Arns::Short),
    );
}

/// Who has access where: per cluster when a principal filter is given, else one line per
/// principal.
fn access(page: &mut Page, report: &FleetReport) {
    let detailed = report.filter.principal.is_some();
    for (_, name, headers, rows) in access_rows::access_sections(report, Arns::Short) {
        let per_cluster = headers == access_rows::GRANT_HEADERS;
        if per_cluster && !detailed {
            continue;
        }
        page.title(name);
        page.grid(&headers, if per_cluster { 2 } else { 1 }, rows);
    }
    if detailed {
        return;
    }
    let lists = [
        (
            "Principals with access (a principal filter lists its access per cluster)",
            &report.access.principals,
        ),
        ("Named without access", &report.access.named_without_access),
    ];
    for (name, list) in lists {
        page.title(name);
        page.grid(
            &["principal", "clusters", "admin on", "other account on"],
            1,
            access_rows::principal_rows(list, Arns::Short),
        );
    }
}

fn suggestions(page: &mut Page, report: &FleetReport) {
    if !summary::has_suggestions(report) {
        return;
    }
    page.title("RBAC suggestions");
    for note in summary::suggestion_notes(report) {
        page.bullet(&note);
    }
    page.grid(
        &summary::SUGGESTION_HEADERS,
        1,
        summary::suggestion_rows(report),
    );
}

fn scans(page: &mut Page, report: &FleetReport) {
    page.title("Scans, least recently scanned first");
    page.grid(&summary::SCAN_HEADERS, 2, summary::scan_rows(report));
    for note in summary::scan_notes(report) {
        page.bullet(&note);
    }
}

fn unreadable(page: &mut Page, report: &FleetReport) {
    if report.unreadable.is_empty() {
        return;
    }
    page.title("Unreadable items");
    page.grid(
        &summary::UNREADABLE_HEADERS,
        1,
        summary::unreadable_rows(report),
    );
}
