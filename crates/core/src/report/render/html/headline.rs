//! The page's headline: a card per number (each with a `data-metric` the browser test reads),
//! the CONFIG_MAP call-out, the headline sentences and the charts.

use super::charts::{self, Bar};
use super::markup::{esc, list, section};
use crate::report::model::{FleetReport, Headline};
use crate::report::render::summary;
use std::fmt::Write;

/// The headline: number cards, the locked-out call-out, the sentences and the charts.
pub(super) fn render(page: &mut String, report: &FleetReport) {
    let h = &report.headline;
    section(page, "headline", "Headline");
    page.push_str(r#"<div class="cards">"#);
    for Card {
        metric,
        n,
        label,
        class,
    } in cards(h)
    {
        let class = if n > 0 { class } else { "" };
        let _ = write!(
            page,
            r#"<div class="card {class}" data-metric="{metric}"><span class="n">{n}</span><span class="l">{}</span></div>"#,
            esc(&label)
        );
    }
    page.push_str("</div>");
    if h.locked_out.clusters > 0 {
        let _ = write!(
            page,
            r#"<p class="callout" data-metric="locked_out">{} cluster(s) still on CONFIG_MAP cannot use {}: these features refuse CONFIG_MAP.</p>"#,
            h.locked_out.clusters,
            esc(&h.locked_out.features.join(", "))
        );
    }
    list(page, "headline", summary::headline(report));
    charts(page, report);
    page.push_str("</section>");
}

/// One number card: the metric the browser test reads, the number, its label and the CSS
/// class it gets when the number is not zero.
struct Card {
    metric: &'static str,
    n: usize,
    label: String,
    class: &'static str,
}

/// The headline's cards, in page order.
fn cards(h: &Headline) -> [Card; 13] {
    let card = |metric, n, label: &str, class| Card {
        metric,
        n,
        label: label.to_owned(),
        class,
    };
    let api = &h.on_access_entries;
    let p = &h.principals;
    [
        card("clusters", h.clusters, "clusters", ""),
        card(
            "api",
            api.api.clusters,
            &format!("in API mode ({}%)", api.api.percent),
            "good",
        ),
        card(
            "api_and_config_map",
            api.api_and_config_map.clusters,
            &format!(
                "in API_AND_CONFIG_MAP ({}%)",
                api.api_and_config_map.percent
            ),
            "",
        ),
        card(
            "config_map",
            h.authentication_modes.config_map,
            "still on CONFIG_MAP",
            "warn",
        ),
        card(
            "blocked_clusters",
            h.blocked_clusters,
            "held back by blockers",
            "bad",
        ),
        card(
            "without_inventory",
            h.without_inventory,
            "not planned yet",
            "",
        ),
        card("with_access", p.with_access, "principals with access", ""),
        card(
            "cluster_admins",
            p.cluster_admins,
            "cluster administrators",
            "",
        ),
        card(
            "other_account",
            p.other_account,
            "principals of other accounts",
            "",
        ),
        card(
            "iam_not_found",
            p.iam_not_found,
            "principals IAM no longer knows",
            "warn",
        ),
        card("failed_scans", h.failed_scans, "failed scans", "bad"),
        card(
            "not_seen_by_latest_scan",
            h.not_seen_by_latest_scan,
            "clusters the latest scan missed",
            "warn",
        ),
        card("unreadable", h.unreadable, "unreadable items", "bad"),
    ]
}

/// The charts: authentication modes, migrator modes, phases and blockers.
fn charts(page: &mut String, report: &FleetReport) {
    let h = &report.headline;
    let a = &h.authentication_modes;
    let m = &h.modes;
    let bar = |label, count, class| Bar {
        label,
        count,
        class,
    };
    let auth = [
        bar("CONFIG_MAP", a.config_map, "c-cm"),
        bar("API_AND_CONFIG_MAP", a.api_and_config_map, "c-mixed"),
        bar("API", a.api, "c-api"),
        bar("not observed", a.unknown, "c-unknown"),
    ];
    let phases: Vec<Bar<'_>> = h
        .phases
        .iter()
        .map(|p| bar(p.phase.as_str(), p.clusters, "c-phase"))
        .collect();
    let modes = [
        bar("audit", m.audit, "c-mode"),
        bar("migrate", m.migrate, "c-mode"),
        bar("finalize", m.finalize, "c-mode"),
        bar("skip", m.skip, "c-mode"),
    ];
    let blockers: Vec<Bar<'_>> = report
        .blockers
        .iter()
        .map(|g| bar(g.code.as_str(), g.clusters, "c-block"))
        .collect();
    page.push_str(r#"<div class="charts">"#);
    page.push_str(&charts::bars(
        "chart-auth",
        "Authentication mode (clusters)",
        &auth,
    ));
    page.push_str(&charts::bars(
        "chart-modes",
        "Migrator mode (clusters)",
        &modes,
    ));
    page.push_str(&charts::bars("chart-phases", "Phase (clusters)", &phases));
    page.push_str(&charts::bars(
        "chart-blockers",
        "Blockers (clusters held back)",
        &blockers,
    ));
    page.push_str("</div>");
}
