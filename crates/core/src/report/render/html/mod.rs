//! One self-contained HTML page: no network, no external script, font or image. Inline CSS and
//! a small inline script (sorting and filtering); charts are inline SVG. A Content-Security-
//! Policy forbids every fetch, so even a value that escaped its escaping could load nothing.
//! Every value is HTML-escaped (`markup::esc`).

mod charts;
mod headline;
mod markup;

use super::access_rows;
use super::csv::snake;
use super::owner_rows;
use super::summary::{self, Arns, Lines};
use crate::report::model::FleetReport;
use markup::{esc, list, section, table};
use std::fmt::Write;

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// The report as one HTML page.
pub(super) fn render(report: &FleetReport) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let _ = write!(
        page,
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>EKS fleet report, {generated}</title><style>{CSS}</style></head><body>
<header class="top"><h1>EKS fleet report: aws-auth and access entries</h1><p>{subtitle}</p></header>
<nav class="toc"><a href="#headline">Headline</a><a href="#blockers">Blockers</a><a href="#owners">Owners</a><a href="#clusters">Clusters</a><a href="#creator">Creator's admin</a><a href="#access">Access</a>{rbac_link}<a href="#scans">Scans</a></nav>
<main>"##,
        generated = esc(&report.generated_at),
        subtitle = esc(&summary::subtitle(report)),
        rbac_link = if summary::has_suggestions(report) {
            r##"<a href="#suggestions">RBAC suggestions</a>"##
        } else {
            ""
        },
    );
    headline::render(&mut page, report);
    blockers(&mut page, report);
    if !report.failed_terminal.is_empty() {
        section(&mut page, "failed-terminal", summary::TERMINAL_TITLE);
        table(
            &mut page,
            "t-failed-terminal",
            &summary::TERMINAL_HEADERS,
            summary::terminal_rows(report),
        );
        page.push_str("</section>");
    }
    owners(&mut page, report);
    section(&mut page, "clusters", "Clusters");
    table(
        &mut page,
        "t-clusters",
        &summary::CLUSTER_HEADERS,
        summary::cluster_rows(report, Arns::Full),
    );
    page.push_str("</section>");
    section(&mut page, "creator", "The creator's implicit admin");
    table(
        &mut page,
        "t-creator",
        &summary::CREATOR_HEADERS,
        summary::creator_rows(report, Arns::Full),
    );
    page.push_str("</section>");
    section(&mut page, "access", "Access");
    for (id, title, headers, rows) in access_rows::access_sections(report, Arns::Full) {
        let _ = write!(page, "<h3>{}</h3>", esc(title));
        table(&mut page, id, &headers, rows);
    }
    page.push_str("</section>");
    if summary::has_suggestions(report) {
        section(&mut page, "suggestions", "RBAC suggestions");
        list(&mut page, "notes", summary::suggestion_notes(report));
        table(
            &mut page,
            "t-suggestions",
            &summary::SUGGESTION_HEADERS,
            summary::suggestion_rows(report),
        );
        page.push_str("</section>");
    }
    section(&mut page, "scans", "Scans, least recently scanned first");
    table(
        &mut page,
        "t-scans",
        &summary::SCAN_HEADERS,
        summary::scan_rows(report),
    );
    list(&mut page, "notes", summary::scan_notes(report));
    page.push_str("</section>");
    if !report.unreadable.is_empty() {
        section(&mut page, "unreadable", "Unreadable items");
        table(
            &mut page,
            "t-unreadable",
            &summary::UNREADABLE_HEADERS,
            summary::unreadable_rows(report),
        );
        page.push_str("</section>");
    }
    let _ = writeln!(
        page,
        "</main><footer>eks-auth-migrator fleet report, format v{}. Click a column to sort; type in a filter box to keep matching rows.</footer><script>{SCRIPT}</script></body></html>",
        report.format_version
    );
    page
}

fn blockers(page: &mut String, report: &FleetReport) {
    section(
        page,
        "blockers",
        "Blockers, by the number of clusters they hold back",
    );
    if report.blockers.is_empty() {
        page.push_str("<p>No blocker findings.</p>");
    }
    for group in &report.blockers {
        let code = group.code.as_str();
        let _ = write!(
            page,
            r#"<h3 class="blocker" data-code="{code}" data-clusters="{}" data-findings="{}"><code>{code}</code>: {} cluster(s), {} finding(s)</h3><p>{}</p>"#,
            group.clusters,
            group.findings,
            group.clusters,
            group.findings,
            esc(&group.remedy)
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
        let id = format!("t-blocker-{}", code.to_ascii_lowercase());
        table(
            page,
            &id,
            &["cluster", "finding (where, what, why, what to do)"],
            rows,
        );
    }
    page.push_str("</section>");
}

fn owners(page: &mut String, report: &FleetReport) {
    section(page, "owners", owner_rows::TITLE);
    if report.owners.is_empty() {
        let _ = write!(page, "<p>{}</p>", esc(owner_rows::EMPTY));
    }
    for group in &report.owners {
        let _ = write!(
            page,
            r#"<h3 class="owner" data-owner="{}" data-blocked="{}">{}</h3><p>{}</p>"#,
            esc(&group.owner),
            group.blocked,
            esc(&owner_rows::heading(group)),
            esc(&group.what_to_change)
        );
        let id = format!("t-owner-{}-{}", snake(&group.part), esc(&group.owner));
        table(page, &id, &owner_rows::HEADERS, owner_rows::rows(group));
    }
    page.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(
            esc(r#"<img src=x onerror="a('b')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }
}
