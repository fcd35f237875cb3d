//! `status`: migration state from the DynamoDB table, for the fleet or one cluster — a one-line
//! summary and a table, or JSON (`--format json`).

use crate::args::{StatusFlags, StatusFormat};
use crate::aws_env;
use crate::state_table::open_store;
use anyhow::{Context, Result};
use comfy_table::{ContentArrangement, Table, presets};
use eks_auth_aws::StateStore;
use eks_auth_aws::store::records::ClusterRecord;
use eks_auth_aws::token::rfc3339_seconds;
use eks_auth_core::finding::{Finding, Severity};
use eks_auth_core::owner::ownership::{MetadataSeen, Owners};
use eks_auth_core::reach::{ClusterReach, Route};
use eks_auth_core::state::Phase;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::SystemTime;

/// `status`.
pub fn run(flags: StatusFlags) -> Result<ExitCode> {
    aws_env::runtime()?.block_on(async {
        let config = aws_env::load_checked(None).await?;
        let store = open_store(&config, &flags.state).await?;
        let mut records: Vec<ClusterRecord> = Vec::new();
        for phase in Phase::ALL {
            records.extend(
                store.clusters_in_phase(phase).await.with_context(|| {
                    format!("cannot read the state table {}", flags.state.table)
                })?,
            );
        }
        if let Some(name) = &flags.cluster {
            records.retain(|r| r.key.name.as_ref() == name.as_str());
        }
        records.sort_by(|a, b| a.key.cmp(&b.key));
        let details = match &flags.cluster {
            Some(_) => {
                let mut all = Vec::new();
                for record in &records {
                    all.push(ClusterDetails::read(&store, record).await?);
                }
                all
            }
            None => Vec::new(),
        };
        match flags.format {
            StatusFormat::Json => {
                let clusters: Vec<Value> = records
                    .iter()
                    .map(|r| {
                        let mut v = record_json(r);
                        if let Some(d) = details.iter().find(|d| d.key == r.key.pk()) {
                            v["details"] = d.to_json();
                        }
                        v
                    })
                    .collect();
                let doc = json!({
                    "format_version": 1,
                    "summary": summary_json(&records),
                    "clusters": clusters,
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
            StatusFormat::Table => {
                println!("{}", summary_line(&records));
                if !records.is_empty() {
                    println!("{}", fleet_table(&records));
                }
                for d in &details {
                    d.print();
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// One cluster's principals, audit trail, backup, creator and blockers.
struct ClusterDetails {
    key: String,
    creator: Option<String>,
    blockers: Vec<Finding>,
    inventory_problem: Option<String>,
    entries: Vec<eks_auth_aws::store::entries::EntryRecord>,
    audit: Vec<eks_auth_aws::store::audit_trail::AuditRecord>,
    backup: Option<eks_auth_aws::store::backup::Backup>,
    reach: Option<ClusterReach>,
    owners: Option<Owners>,
}

impl ClusterDetails {
    async fn read(store: &StateStore, record: &ClusterRecord) -> Result<Self> {
        let (blockers, inventory_problem) = match &record.state.inventory {
            Some(reference) => match store.get_inventory(&record.key, reference).await? {
                Ok(inventory) => (
                    inventory
                        .findings
                        .into_iter()
                        .filter(|f| f.severity == Severity::Blocker)
                        .collect(),
                    None,
                ),
                Err(e) => (Vec::new(), Some(e.to_string())),
            },
            None => (Vec::new(), None),
        };
        Ok(Self {
            key: record.key.pk(),
            reach: record.state.reach.clone(),
            owners: record.state.owners.clone(),
            creator: record.state.creator_principal.clone(),
            blockers,
            inventory_problem,
            entries: store.list_entries(&record.key).await?,
            audit: store.list_audit(&record.key).await?,
            backup: store.latest_backup(&record.key).await?,
        })
    }

    fn print(&self) {
        println!("\n{}", self.key);
        println!("Kubernetes API: {}", reach_line(self.reach.as_ref()));
        println!("owners: {}", owners_line(self.owners.as_ref()));
        println!(
            "cluster creator's admin entry: {}",
            self.creator.as_deref().unwrap_or(
                "not known (EKS shows it only once the cluster leaves CONFIG_MAP, after the migrator's switch)"
            )
        );
        if let Some(problem) = &self.inventory_problem {
            println!("latest plan: unreadable ({problem})");
        }
        if self.blockers.is_empty() {
            println!("blockers: none");
        } else {
            println!("blockers ({}):", self.blockers.len());
            for f in &self.blockers {
                println!("  {} {}", f.code, f.message);
            }
        }
        let mut entries = Table::new();
        entries.load_style(presets::UTF8_FULL_CONDENSED);
        entries.set_content_arrangement(ContentArrangement::Dynamic);
        entries.set_header(["principal", "status", "attempts", "last error"]);
        for e in &self.entries {
            entries.add_row([
                e.principal_arn.to_string(),
                e.status.to_string(),
                e.attempts.to_string(),
                e.last_error.clone().unwrap_or_default(),
            ]);
        }
        println!("{entries}");
        let mut audit = Table::new();
        audit.load_style(presets::UTF8_FULL_CONDENSED);
        audit.set_content_arrangement(ContentArrangement::Dynamic);
        audit.set_header(["started", "operation", "target", "status", "error"]);
        for a in self.audit.iter().rev().take(20) {
            audit.add_row([
                rfc3339_seconds(a.started_at),
                a.operation.clone(),
                a.target.clone(),
                a.status.as_str().to_owned(),
                a.error.clone().unwrap_or_default(),
            ]);
        }
        println!("latest audit records (newest first):\n{audit}");
        if let Some(backup) = &self.backup {
            println!(
                "newest aws-auth backup: resourceVersion {} taken {}",
                backup.resource_version,
                rfc3339_seconds(backup.created_at)
            );
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "creator_principal": self.creator,
            "blockers": self.blockers,
            "inventory_problem": self.inventory_problem,
            "entries": self.entries.iter().map(|e| json!({
                "principal_arn": e.principal_arn.to_string(),
                "status": e.status.as_str(),
                "attempts": e.attempts,
                "last_error": e.last_error,
            })).collect::<Vec<_>>(),
            "audit": self.audit.iter().map(|a| json!({
                "started_at": rfc3339_seconds(a.started_at),
                "operation": a.operation,
                "target": a.target,
                "status": a.status.as_str(),
                "error": a.error,
            })).collect::<Vec<_>>(),
            "latest_backup": self.backup.as_ref().map(|b| json!({
                "resource_version": b.resource_version,
                "created_at": rfc3339_seconds(b.created_at),
            })),
        })
    }
}

/// Counts of `records` by a key, in the key's order.
fn tally<'a>(
    records: &'a [ClusterRecord],
    key: impl Fn(&'a ClusterRecord) -> &'a str,
) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for r in records {
        *counts.entry(key(r)).or_insert(0) += 1;
    }
    counts
}

fn auth_mode(r: &ClusterRecord) -> &str {
    r.state
        .authentication_mode
        .map_or("UNKNOWN", |m| m.as_str())
}

fn live_leases(records: &[ClusterRecord]) -> usize {
    let now = SystemTime::now();
    records
        .iter()
        .filter(|r| r.lease.as_ref().is_some_and(|l| l.until > now))
        .count()
}

/// `7 clusters: 2 COMPLETE, 1 BLOCKED, 4 PLANNED; API 2, API_AND_CONFIG_MAP 1, CONFIG_MAP 4; 0 leases held`.
fn summary_line(records: &[ClusterRecord]) -> String {
    let list = |counts: BTreeMap<&str, usize>| {
        counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if records.is_empty() {
        return "0 clusters recorded (run `eks-auth-migrator scan`, or deploy the functions)"
            .to_owned();
    }
    format!(
        "{} cluster(s): {}; authentication modes: {}; {} lease(s) held",
        records.len(),
        list(tally(records, |r| r.state.phase.as_str())),
        list(tally(records, auth_mode)),
        live_leases(records)
    )
}

fn summary_json(records: &[ClusterRecord]) -> Value {
    json!({
        "clusters": records.len(),
        "by_phase": tally(records, |r| r.state.phase.as_str()),
        "by_authentication_mode": tally(records, auth_mode),
        "by_mode": tally(records, |r| r.state.mode.as_str()),
        "leases_held": live_leases(records),
    })
}

fn record_json(r: &ClusterRecord) -> Value {
    let s = &r.state;
    let now = SystemTime::now();
    json!({
        "account": r.key.account.to_string(),
        "region": r.key.region.to_string(),
        "name": r.key.name.to_string(),
        "phase": s.phase.as_str(),
        "mode": s.mode.as_str(),
        "authentication_mode": s.authentication_mode.map(|m| m.as_str()),
        "entries_planned": s.counts.entries_planned,
        "entries_applied": s.counts.entries_applied,
        "entries_verified": s.counts.entries_verified,
        "blockers": s.counts.blockers,
        "lease": r.lease.as_ref().filter(|l| l.until > now).map(|l| json!({
            "owner": l.owner,
            "until": rfc3339_seconds(l.until),
        })),
        "updated_at": rfc3339_seconds(r.updated_at),
        "last_error": s.last_error,
        "what_to_do": s.what_to_do,
        "creator_principal": s.creator_principal,
        "reach": s.reach,
        "owners": s.owners,
    })
}

/// Who owns aws-auth and the cluster, as the latest plan detected them.
fn owners_line(owners: Option<&Owners>) -> String {
    let Some(o) = owners else {
        return "not detected yet (no plan since owner detection)".to_owned();
    };
    let aws_auth = match o.aws_auth.metadata {
        MetadataSeen::NoConfigMap => "no aws-auth".to_owned(),
        MetadataSeen::None => "aws-auth owner unknown (no metadata)".to_owned(),
        _ if o.aws_auth.owners.is_empty() => "aws-auth: no known owner".to_owned(),
        _ => format!("aws-auth: {}", join(&o.aws_auth.owners)),
    };
    let cluster = match o.cluster.as_ref().map(|c| c.owners.as_slice()) {
        None => "cluster: tags not read".to_owned(),
        Some([]) => "cluster: no owner tag".to_owned(),
        Some(owners) => format!("cluster: {}", join(owners)),
    };
    format!("{aws_auth}; {cluster}")
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the cluster's Kubernetes API can be reached from and how the last run reached it.
fn reach_line(reach: Option<&ClusterReach>) -> String {
    let Some(r) = reach else {
        return "not described yet".to_owned();
    };
    let vpc = r
        .reachability
        .vpc_id
        .as_deref()
        .map(|v| format!(" in {v}"))
        .unwrap_or_default();
    match &r.route {
        Route::Unreachable { reason } => format!(
            "{}{vpc}, unreachable: {reason}",
            r.reachability.class.describe()
        ),
        route => format!(
            "{}{vpc}, reached {}",
            r.reachability.class.describe(),
            route.label()
        ),
    }
}

/// The fleet table's cell: the class, then the route.
fn reach_cell(reach: Option<&ClusterReach>) -> String {
    reach.map_or_else(String::new, |r| {
        format!("{}\n{}", r.reachability.class.as_str(), r.route.label())
    })
}

/// The fleet table's last-error cell: the error, and for a `FAILED_TERMINAL` cluster what a
/// person does about it (a new scan or `apply` then retries it).
fn error_cell(last_error: Option<&str>, what_to_do: Option<&str>) -> String {
    match (last_error, what_to_do) {
        (error, Some(todo)) => format!(
            "{}
what to do: {todo}",
            error.unwrap_or_default()
        ),
        (error, None) => error.unwrap_or_default().to_owned(),
    }
}

fn fleet_table(records: &[ClusterRecord]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if let Some((w, _)) = terminal_size::terminal_size() {
        table.set_width(w.0);
    }
    table.set_header([
        "cluster",
        "phase",
        "mode",
        "auth mode",
        "reach",
        "entries (planned/applied/verified)",
        "blockers",
        "lease",
        "last error",
    ]);
    let now = SystemTime::now();
    for r in records {
        let s = &r.state;
        let lease = match &r.lease {
            Some(l) if l.until > now => {
                format!("{} until {}", l.holder(), rfc3339_seconds(l.until))
            }
            _ => String::new(),
        };
        table.add_row([
            format!("{}\n{} {}", r.key.name, r.key.account, r.key.region),
            s.phase.to_string(),
            s.mode.to_string(),
            s.authentication_mode.map_or("", |m| m.as_str()).to_owned(),
            reach_cell(s.reach.as_ref()),
            format!(
                "{}/{}/{}",
                s.counts.entries_planned, s.counts.entries_applied, s.counts.entries_verified
            ),
            s.counts.blockers.to_string(),
            lease,
            error_cell(s.last_error.as_deref(), s.what_to_do.as_deref()),
        ]);
    }
    table
}
