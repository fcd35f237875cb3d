//! What the human formats (table, Markdown, HTML) say, as plain text: sentences and table rows.
//! Each renderer lays them out and escapes them for its medium.

use super::csv::snake;
use crate::render::terminal::short_arn;
use crate::report::filter::Filter;
use crate::report::model::{ClusterSummary, CreatorStatus, FleetReport, ScanStatus, Sighting};
use crate::report::time::human_age;

/// A cell: one or more items, shown one per line (or joined), code-styled or prose.
#[derive(Debug, Clone)]
pub(super) struct Lines {
    /// The items.
    pub(super) items: Vec<String>,
    /// Identifiers (ARNs, codes, keys) rather than prose.
    pub(super) code: bool,
}

impl Lines {
    /// Prose.
    pub(super) fn text(s: &str) -> Self {
        Lines {
            items: vec![s.to_owned()],
            code: false,
        }
    }
    /// An identifier.
    pub(super) fn code(s: &str) -> Self {
        Lines {
            items: vec![s.to_owned()],
            code: true,
        }
    }
    /// Several identifiers.
    pub(super) fn codes(items: Vec<String>) -> Self {
        Lines { items, code: true }
    }
    /// Several prose items.
    pub(super) fn texts(items: Vec<String>) -> Self {
        Lines { items, code: false }
    }
    /// A number.
    pub(super) fn number(n: usize) -> Self {
        Lines::text(&n.to_string())
    }
}

/// How principals are written: whole ARNs (Markdown, HTML) or short forms (terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arns {
    /// The full ARN.
    Full,
    /// Account and `role/name`.
    Short,
}

impl Arns {
    /// `arn` as this style writes it.
    pub(super) fn show(self, arn: &str) -> String {
        match self {
            Arns::Full => arn.to_owned(),
            Arns::Short => short_arn(arn),
        }
    }
}

/// `Generated … (report format v1). Whole fleet.` or the filter.
pub(super) fn subtitle(report: &FleetReport) -> String {
    format!(
        "Generated {} (report format v{}). {}",
        report.generated_at,
        report.format_version,
        describe_filter(&report.filter)
    )
}

fn describe_filter(f: &Filter) -> String {
    if f.is_empty() {
        return "Whole fleet.".to_owned();
    }
    let mut parts = Vec::new();
    let mut list = |name: &str, values: Vec<String>| {
        if !values.is_empty() {
            parts.push(format!("{name} {}", values.join(", ")));
        }
    };
    list("accounts", f.accounts.clone());
    list("regions", f.regions.clone());
    list("phases", f.phases.iter().map(ToString::to_string).collect());
    list("modes", f.modes.iter().map(ToString::to_string).collect());
    list(
        "authentication modes",
        f.authentication_modes
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect(),
    );
    list(
        "codes",
        f.codes.iter().map(|c| c.as_str().to_owned()).collect(),
    );
    list(
        "owners",
        f.owners.iter().map(|o| o.name().to_owned()).collect(),
    );
    if let Some(p) = &f.principal {
        parts.push(format!("principal {p}"));
    }
    format!("Filter: {}.", parts.join("; "))
}

/// The headline as sentences.
pub(super) fn headline(report: &FleetReport) -> Vec<String> {
    let h = &report.headline;
    let a = &h.authentication_modes;
    let share = &h.on_access_entries;
    let p = &h.principals;
    let m = &h.modes;
    let mut lines = vec![
        format!(
            "{} clusters: {} CONFIG_MAP, {} API_AND_CONFIG_MAP, {} API, {} not observed yet.",
            h.clusters, a.config_map, a.api_and_config_map, a.api, a.unknown
        ),
        format!(
            "On access entries: {} in API mode ({}%); {} more in API_AND_CONFIG_MAP ({}%), where aws-auth still works too.",
            share.api.clusters,
            share.api.percent,
            share.api_and_config_map.clusters,
            share.api_and_config_map.percent
        ),
        format!(
            "Locked out: {} cluster(s) still on CONFIG_MAP cannot use {}, which refuse CONFIG_MAP.",
            h.locked_out.clusters,
            h.locked_out.features.join(", ")
        ),
        format!(
            "Modes: audit {}, migrate {}, finalize {}, skip {}.",
            m.audit, m.migrate, m.finalize, m.skip
        ),
        format!(
            "Reachability of the Kubernetes APIs: {} public, {} public restricted to CIDRs, {} private only, {} not described yet; {} unreachable until an in-VPC agent or a hub VPC route is deployed.",
            h.reachability.public,
            h.reachability.public_restricted,
            h.reachability.private_only,
            h.reachability.unknown,
            h.reachability.unreachable
        ),
        format!(
            "Blockers: {} cluster(s) held back by blocker findings; {} cluster(s) not planned yet.",
            h.blocked_clusters, h.without_inventory
        ),
        format!(
            "Access: {} principal(s) have access ({} principal-cluster pairs); {} are cluster administrators; {} reach clusters of another account; IAM no longer knows {}; {} are named without access.",
            p.with_access,
            p.grants,
            p.cluster_admins,
            p.other_account,
            p.iam_not_found,
            p.named_without_access
        ),
        format!(
            "Scans: oldest {}; {} failed; {} cluster(s) not seen by their latest scan (possibly deleted).",
            h.oldest_scan_at.as_deref().unwrap_or("none recorded"),
            h.failed_scans,
            h.not_seen_by_latest_scan
        ),
    ];
    if h.unreadable > 0 {
        lines.push(format!(
            "Unreadable: {} table item(s), listed at the end.",
            h.unreadable
        ));
    }
    lines
}

/// Clusters per phase, phases with clusters only.
pub(super) fn phase_rows(report: &FleetReport) -> Vec<Vec<Lines>> {
    report
        .headline
        .phases
        .iter()
        .filter(|p| p.clusters > 0)
        .map(|p| vec![Lines::code(p.phase.as_str()), Lines::number(p.clusters)])
        .collect()
}

/// The clusters table's columns; the first three name a row.
pub(super) const CLUSTER_HEADERS: [&str; 11] = [
    "account",
    "region",
    "cluster",
    "phase",
    "mode",
    "auth mode",
    "reach",
    "blockers",
    "access",
    "creator",
    "scan",
];

/// One row per cluster.
pub(super) fn cluster_rows(report: &FleetReport, arns: Arns) -> Vec<Vec<Lines>> {
    report
        .clusters
        .iter()
        .map(|c| cluster_row(c, arns))
        .collect()
}

fn cluster_row(c: &ClusterSummary, arns: Arns) -> Vec<Lines> {
    let mut blockers = vec![c.blockers.to_string()];
    blockers.extend(c.blocker_codes.iter().map(|code| code.as_str().to_owned()));
    let access = if c.plan.is_some() {
        vec![
            format!("{} principals", c.principals_with_access),
            format!("{} admins", c.cluster_admins),
            format!("{} other account", c.other_account_principals),
        ]
    } else {
        vec!["not planned yet".to_owned()]
    };
    let scan = match c.sighting {
        Sighting::Seen => "seen".to_owned(),
        Sighting::NotSeen => "not seen: possibly deleted".to_owned(),
        Sighting::Unknown => "unknown".to_owned(),
    };
    vec![
        Lines::code(&c.account),
        Lines::code(&c.region),
        Lines::code(&c.name),
        Lines::code(c.phase.as_str()),
        Lines::text(c.mode.as_str()),
        Lines::code(c.authentication_mode.map_or("unknown", |m| m.as_str())),
        Lines::texts(reach_short(c)),
        Lines::codes(blockers),
        Lines::texts(access),
        Lines::texts(creator_short(c, arns)),
        Lines::text(&scan),
    ]
}

/// The reachability cell: the class, then the route the last run took.
fn reach_short(c: &ClusterSummary) -> Vec<String> {
    let Some(r) = &c.reachability else {
        return vec!["unknown".to_owned()];
    };
    let mut cell = vec![r.class.describe().to_owned()];
    cell.extend(r.route.clone());
    cell
}

fn creator_short(c: &ClusterSummary, arns: Arns) -> Vec<String> {
    let kept = if c.creator.kept { "kept" } else { "not kept" };
    match c.creator.status {
        CreatorStatus::Visible => vec![
            arns.show(c.creator.principal.as_deref().unwrap_or_default()),
            kept.to_owned(),
        ],
        CreatorStatus::NotVisibleInConfigMap => {
            vec!["implicit (CONFIG_MAP)".to_owned(), kept.to_owned()]
        }
        CreatorStatus::NotRecorded => vec!["not recorded".to_owned()],
        CreatorStatus::Unknown => vec!["unknown".to_owned()],
    }
}

/// The creator table's columns.
pub(super) const CREATOR_HEADERS: [&str; 6] = [
    "account",
    "region",
    "cluster",
    "creator",
    "kept",
    "what it means",
];

/// One row per cluster: the creator's implicit admin.
pub(super) fn creator_rows(report: &FleetReport, arns: Arns) -> Vec<Vec<Lines>> {
    report
        .clusters
        .iter()
        .map(|c| {
            let who = match &c.creator.principal {
                Some(p) => Lines::code(&arns.show(p)),
                None => Lines::text(&snake(&c.creator.status).replace('_', " ")),
            };
            vec![
                Lines::code(&c.account),
                Lines::code(&c.region),
                Lines::code(&c.name),
                who,
                Lines::text(if c.creator.kept { "yes" } else { "no" }),
                Lines::text(&c.creator.note),
            ]
        })
        .collect()
}

/// The scans table's columns.
pub(super) const SCAN_HEADERS: [&str; 6] = [
    "account",
    "region",
    "status",
    "scanned at",
    "age",
    "clusters / reason",
];

/// One row per account-region, least recently scanned first.
pub(super) fn scan_rows(report: &FleetReport) -> Vec<Vec<Lines>> {
    report
        .scans
        .account_regions
        .iter()
        .map(|s| {
            let detail = match (s.status, s.clusters_found, &s.reason) {
                (ScanStatus::Scanned, Some(n), _) => format!("{n} cluster(s)"),
                (_, _, Some(reason)) => reason.clone(),
                _ => String::new(),
            };
            vec![
                Lines::code(&s.account),
                Lines::code(&s.region),
                Lines::text(&snake(&s.status)),
                Lines::code(&s.scanned_at),
                Lines::text(&human_age(s.age_seconds)),
                Lines::text(&detail),
            ]
        })
        .collect()
}

/// Sentences under the scans table: account-regions never scanned, clusters not seen.
pub(super) fn scan_notes(report: &FleetReport) -> Vec<String> {
    let s = &report.scans;
    let mut notes = Vec::new();
    if !s.never_scanned.is_empty() {
        let list: Vec<String> = s
            .never_scanned
            .iter()
            .map(|a| format!("{}/{}", a.account, a.region))
            .collect();
        notes.push(format!(
            "Never scanned (records, no scan mark): {}.",
            list.join(", ")
        ));
    }
    if !s.not_seen.is_empty() {
        let list: Vec<String> = s.not_seen.iter().map(ToString::to_string).collect();
        notes.push(format!(
            "Not seen by their account-region's latest scan (possibly deleted): {}.",
            list.join(", ")
        ));
    }
    notes
}

/// Whether any cluster of the report had its RBAC read (or tried).
pub(super) fn has_suggestions(report: &FleetReport) -> bool {
    let s = &report.suggestions;
    s.clusters_analysed > 0 || !s.unreadable.is_empty()
}

/// The suggestions section's sentences.
pub(super) fn suggestion_notes(report: &FleetReport) -> Vec<String> {
    let s = &report.suggestions;
    let t = &s.totals;
    let mut notes = vec![format!(
        "RBAC analysed on {} cluster(s): {} subject(s) with an access policy granting exactly what they get, {} lossy, {} broader, {} with no close policy, {} bound to nothing, {} unreadable. Nothing is applied unless the policy file maps a group (docs/rbac-suggestions.md).",
        s.clusters_analysed, t.exact, t.lossy, t.broader, t.none, t.unbound, t.unreadable
    )];
    if !s.unreadable.is_empty() {
        notes.push(format!(
            "RBAC could not be read on {} cluster(s), so nothing is suggested there: {}",
            s.unreadable.len(),
            s.unreadable
                .iter()
                .map(|u| format!("{}: {}", u.cluster, u.reason))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    notes
}

/// The suggestions table's columns.
pub(super) const SUGGESTION_HEADERS: [&str; 5] = [
    "subject",
    "clusters",
    "exact",
    "other verdicts",
    "exact policy (scope): clusters",
];

/// One row per subject.
pub(super) fn suggestion_rows(report: &FleetReport) -> Vec<Vec<Lines>> {
    report
        .suggestions
        .subjects
        .iter()
        .map(|s| {
            let others: Vec<String> = [
                ("lossy", s.lossy),
                ("broader", s.broader),
                ("none", s.none),
                ("unbound", s.unbound),
                ("unreadable", s.unreadable),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{what} {n}"))
            .collect();
            let policies: Vec<String> = s
                .exact_policies
                .iter()
                .map(|p| format!("{} ({}): {}", p.policy, p.access_scope, p.clusters.len()))
                .collect();
            vec![
                Lines::code(&format!("{} {}", s.kind.as_str(), s.name)),
                Lines::number(s.clusters),
                Lines::number(s.exact),
                Lines::texts(others),
                Lines::codes(policies),
            ]
        })
        .collect()
}

/// The terminal failures' table columns.
pub(super) const TERMINAL_HEADERS: [&str; 3] =
    ["cluster", "why no retry can heal it", "what to do"];

/// The title of the terminal failures' section (shown only when there are some).
pub(super) const TERMINAL_TITLE: &str =
    "Failed terminally: a person must act, then a new scan or `apply` retries";

/// One row per `FAILED_TERMINAL` cluster.
pub(super) fn terminal_rows(report: &FleetReport) -> Vec<Vec<Lines>> {
    report
        .failed_terminal
        .iter()
        .map(|t| {
            vec![
                Lines::code(&format!("{}/{}/{}", t.account, t.region, t.name)),
                Lines::text(&t.reason),
                Lines::text(&t.what_to_do),
            ]
        })
        .collect()
}

/// The unreadable items' table columns.
pub(super) const UNREADABLE_HEADERS: [&str; 2] = ["item", "reason"];

/// One row per item that could not be read.
pub(super) fn unreadable_rows(report: &FleetReport) -> Vec<Vec<Lines>> {
    report
        .unreadable
        .iter()
        .map(|u| vec![Lines::code(&u.item), Lines::text(&u.reason)])
        .collect()
}
