//! The page's headline: a card per number (each with a `data-metric` the browser test reads),
//! the CONFIG_MAP call-out, the headline sentences and the charts.

use super::charts::{self, Bar};
use super::markup::{esc, list, section};
use crate::report::model::FleetReport;
use crate::report::render::summary;
use std::fmt::Write;

/// The headline: number cards, the locked-out call-out, the sentences and the charts.
pub(super) fn render(page: &mut String, report: &FleetReport) {
    let h = &report.headline;
    section(page, "headline", "Headline");
    let api = &h.on_access_entries;
    let cards: [(&str, usize, String, &str); 13] = [
        ("clusters", h.clusters, "clusters".into(), ""),
        (
            "api",
            api.api.clusters,
            format!("in API mode ({}%)", api.api.percent),
            "good",
        ),
        (
            "api_and_config_map",
            api.api_and_config_map.clusters,
            format!(
                "in API_AND_CONFIG_MAP ({}%)",
                api.api_and_config_map.percent
            ),
            "",
        ),
        (
            "config_map",
            h.authentication_modes.config_map,
            "still on CONFIG_MAP".into(),
            "warn",
        ),
        (
            "blocked_clusters",
            h.blocked_clusters,
            "held back by blockers".into(),
            "bad",
        ),
        (
            "without_inventory",
            h.without_inventory,
            "not planned yet".into(),
            "",
        ),
        (
            "with_access",
            h.principals.with_access,
            "principals with access".into(),
            "",
        ),
        (
            "cluster_admins",
            h.principals.cluster_admins,
            "cluster administrators".into(),
            "",
        ),
        (
            "other_account",
            h.principals.other_account,
            "principals of other accounts".into(),
            "",
        ),
        (
            "iam_not_found",
            h.principals.iam_not_found,
            "principals IAM no longer knows".into(),
            "warn",
        ),
        ("failed_scans", h.failed_scans, "failed scans".into(), "bad"),
        (
            "not_seen_by_latest_scan",
            h.not_seen_by_latest_scan,
            "clusters the latest scan missed".into(),
            "warn",
        ),
        ("unreadable", h.unreadable, "unreadable items".into(), "bad"),
    ];
    page.push_str(r#"<div class="cards">"#);
    for (metric, n, label, class) in cards {
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

fn charts(page: &mut String, report: &FleetReport) {
    let h = &report.headline;
    let a = &h.authentication_modes;
    let m = &h.modes;
    let auth = [
        Bar {
            label: "CONFIG_MAP",
            count: a.config_map,
            class: "c-cm",
        },
        Bar {
            label: "API_AND_CONFIG_MAP",
            count: a.api_and_config_map,
            class: "c-mixed",
        },
        Bar {
            label: "API",
            count: a.api,
            class: "c-api",
        },
        Bar {
            label: "not observed",
            count: a.unknown,
            class: "c-unknown",
        },
    ];
    let phases: Vec<Bar<'_>> = h
        .phases
        .iter()
        .map(|p| Bar {
            label: p.phase.as_str(),
            count: p.clusters,
            class: "c-phase",
        })
        .collect();
    let modes = [
        Bar {
            label: "audit",
            count: m.audit,
            class: "c-mode",
        },
        Bar {
            label: "migrate",
            count: m.migrate,
            class: "c-mode",
        },
        Bar {
            label: "finalize",
            count: m.finalize,
            class: "c-mode",
        },
        Bar {
            label: "skip",
            count: m.skip,
            class: "c-mode",
        },
    ];
    let blockers: Vec<Bar<'_>> = report
        .blockers
        .iter()
        .map(|g| Bar {
            label: g.code.as_str(),
            count: g.clusters,
            class: "c-block",
        })
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
