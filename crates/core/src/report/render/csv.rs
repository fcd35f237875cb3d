//! CSV: one row per cluster, or (`--inventory`) one row per principal and cluster. Written with
//! the `csv` crate (RFC 4180 quoting). A cell that a spreadsheet would run as a formula (starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`: these values come
//! from customer data.

use crate::access_entry::AccessPolicy;
use crate::finding::FindingCode;
use crate::report::access::ClusterAccess;
use crate::report::model::{ClusterRbac, ClusterSummary, FleetReport};
use serde::Serialize;

const CLUSTER_HEADERS: [&str; 35] = [
    "account",
    "region",
    "cluster",
    "phase",
    "mode",
    "authentication_mode",
    "kubernetes_version",
    "blocks_api_mode",
    "blockers",
    "blocker_codes",
    "entries_to_create",
    "rows_skipped",
    "rows_blocked",
    "warnings",
    "principals_with_access",
    "cluster_admins",
    "other_account_principals",
    "entries_planned",
    "entries_applied",
    "entries_verified",
    "creator_status",
    "creator_principal",
    "creator_kept",
    "sighting",
    "last_seen_at",
    "updated_at",
    "inventory_at",
    "last_error",
    "tags",
    "reachability",
    "vpc_id",
    "route",
    "rbac",
    "suggestions_exact",
    "suggestions_lossy",
];

const INVENTORY_HEADERS: [&str; 23] = [
    "principal_arn",
    "principal_account",
    "account",
    "region",
    "cluster",
    "via",
    "origin",
    "username",
    "groups",
    "policies",
    "entry_type",
    "cluster_admin",
    "other_account",
    "creator",
    "managed_by_migrator",
    "iam",
    "source",
    "action",
    "target_type",
    "target_username",
    "target_groups",
    "target_policies",
    "codes",
];

/// One row per cluster.
pub(super) fn clusters(report: &FleetReport) -> Result<String, csv::Error> {
    write(&CLUSTER_HEADERS, report.clusters.iter().map(cluster_row))
}

/// One row per principal and cluster, with access or not (`via`), ordered by principal ARN.
pub(super) fn inventory(report: &FleetReport) -> Result<String, csv::Error> {
    let mut lines: Vec<(&str, Option<&str>, &ClusterAccess)> = report
        .access
        .principals
        .iter()
        .chain(&report.access.named_without_access)
        .flat_map(|p| {
            p.clusters
                .iter()
                .map(move |c| (p.principal_arn.as_str(), p.account.as_deref(), c))
        })
        .collect();
    lines.sort_by(|a, b| {
        (a.0, &a.2.account, &a.2.region, &a.2.cluster).cmp(&(
            b.0,
            &b.2.account,
            &b.2.region,
            &b.2.cluster,
        ))
    });
    write(
        &INVENTORY_HEADERS,
        lines
            .into_iter()
            .map(|(arn, account, c)| inventory_row(arn, account, c)),
    )
}

fn write(headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headers)?;
    for row in rows {
        for cell in &row {
            writer.write_field(neutralise(cell).as_bytes())?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every cell is a Rust string: the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A cell a spreadsheet will not evaluate.
fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn cluster_row(c: &ClusterSummary) -> Vec<String> {
    let plan = c.plan.as_ref();
    let reach = c.reachability.as_ref();
    let count = |n: Option<usize>| n.map_or_else(String::new, |n| n.to_string());
    vec![
        c.account.clone(),
        c.region.clone(),
        c.name.clone(),
        c.phase.to_string(),
        c.mode.to_string(),
        c.authentication_mode.map_or("", |m| m.as_str()).to_owned(),
        c.kubernetes_version.clone().unwrap_or_default(),
        c.blocks_api_mode
            .map_or_else(String::new, |b| b.to_string()),
        c.blockers.to_string(),
        codes(&c.blocker_codes),
        count(plan.map(|p| p.create)),
        count(plan.map(|p| p.skip)),
        count(plan.map(|p| p.blocked)),
        count(plan.map(|p| p.warnings)),
        c.principals_with_access.to_string(),
        c.cluster_admins.to_string(),
        c.other_account_principals.to_string(),
        c.counts.entries_planned.to_string(),
        c.counts.entries_applied.to_string(),
        c.counts.entries_verified.to_string(),
        snake(&c.creator.status),
        c.creator.principal.clone().unwrap_or_default(),
        c.creator.kept.to_string(),
        snake(&c.sighting),
        c.last_seen_at.clone().unwrap_or_default(),
        c.updated_at.clone(),
        c.inventory_at.clone().unwrap_or_default(),
        c.last_error.clone().unwrap_or_default(),
        c.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; "),
        reach
            .map(|r| r.class.as_str())
            .unwrap_or_default()
            .to_owned(),
        reach.and_then(|r| r.vpc_id.clone()).unwrap_or_default(),
        reach.and_then(|r| r.route.clone()).unwrap_or_default(),
    ]
    .into_iter()
    .chain(rbac_cells(&c.rbac))
    .collect()
}

/// `rbac`, `suggestions_exact`, `suggestions_lossy`.
fn rbac_cells(rbac: &ClusterRbac) -> [String; 3] {
    match rbac {
        ClusterRbac::NotAnalysed => ["not_analysed".to_owned(), String::new(), String::new()],
        ClusterRbac::Analysed { counts } => [
            "analysed".to_owned(),
            counts.exact.to_string(),
            counts.lossy.to_string(),
        ],
        ClusterRbac::Unreadable { .. } => ["unreadable".to_owned(), String::new(), String::new()],
    }
}

fn inventory_row(arn: &str, account: Option<&str>, c: &ClusterAccess) -> Vec<String> {
    let target = c.target.as_ref();
    vec![
        arn.to_owned(),
        account.unwrap_or_default().to_owned(),
        c.account.clone(),
        c.region.clone(),
        c.cluster.clone(),
        snake(&c.via),
        snake(&c.origin),
        c.username.clone().unwrap_or_default(),
        c.groups.join("; "),
        policies(&c.policies),
        c.entry_type.map_or("", |t| t.as_str()).to_owned(),
        c.cluster_admin.to_string(),
        c.other_account.to_string(),
        c.creator.to_string(),
        c.managed_by_migrator.to_string(),
        snake(&c.iam),
        c.source
            .as_ref()
            .map_or_else(String::new, |s| format!("{}[{}]", s.section, s.index)),
        c.action.map_or("", |a| a.as_str()).to_owned(),
        target.map_or("", |t| t.entry_type.as_str()).to_owned(),
        target.and_then(|t| t.username.clone()).unwrap_or_default(),
        target.map_or_else(String::new, |t| t.groups.join("; ")),
        target.map_or_else(String::new, |t| policies(&t.policies)),
        codes(&c.codes),
    ]
}

/// `arn (cluster); arn (namespace:a,b)`: full policy ARNs with their scopes.
fn policies(policies: &[AccessPolicy]) -> String {
    policies
        .iter()
        .map(|p| format!("{} ({})", p.policy_arn, p.access_scope))
        .collect::<Vec<_>>()
        .join("; ")
}

fn codes(codes: &[FindingCode]) -> String {
    codes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The JSON spelling of a unit enum variant (`access_entry`, `not_seen`).
pub(super) fn snake<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
