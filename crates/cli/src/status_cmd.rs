//! `status`: migration state from the DynamoDB table, for the fleet or one cluster.

use crate::apply_cmd::open_store;
use crate::args::StatusFlags;
use crate::aws_env;
use anyhow::{Context, Result};
use comfy_table::{Table, presets};
use eks_auth_aws::store::records::ClusterRecord;
use eks_auth_aws::token::rfc3339_seconds;
use eks_auth_core::state::Phase;
use std::process::ExitCode;
use std::time::SystemTime;

/// `status`.
pub fn run(flags: StatusFlags) -> Result<ExitCode> {
    aws_env::runtime()?.block_on(async {
        let config = aws_env::load(None).await;
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
        println!("{}", fleet_table(&records));
        if flags.cluster.is_some() {
            for record in &records {
                println!("\n{}", record.key);
                let mut entries = Table::new();
                entries.load_style(presets::UTF8_FULL_CONDENSED);
                entries.set_header(["principal", "status", "attempts", "last error"]);
                for e in store.list_entries(&record.key).await? {
                    entries.add_row([
                        e.principal_arn.to_string(),
                        e.status.to_string(),
                        e.attempts.to_string(),
                        e.last_error.unwrap_or_default(),
                    ]);
                }
                println!("{entries}");
                let mut audit = Table::new();
                audit.load_style(presets::UTF8_FULL_CONDENSED);
                audit.set_header(["started", "operation", "target", "status", "error"]);
                let records = store.list_audit(&record.key).await?;
                for a in records.iter().rev().take(20) {
                    audit.add_row([
                        rfc3339_seconds(a.started_at),
                        a.operation.clone(),
                        a.target.clone(),
                        a.status.as_str().to_owned(),
                        a.error.clone().unwrap_or_default(),
                    ]);
                }
                println!("latest audit records (newest first):\n{audit}");
                if let Some(backup) = store.latest_backup(&record.key).await? {
                    println!(
                        "newest aws-auth backup: resourceVersion {} taken {}",
                        backup.resource_version,
                        rfc3339_seconds(backup.created_at)
                    );
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn fleet_table(records: &[ClusterRecord]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "account",
        "region",
        "cluster",
        "phase",
        "mode",
        "auth mode",
        "planned",
        "applied",
        "verified",
        "blockers",
        "lease",
        "updated",
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
            r.key.account.to_string(),
            r.key.region.to_string(),
            r.key.name.to_string(),
            s.phase.to_string(),
            s.mode.to_string(),
            s.authentication_mode.map_or("", |m| m.as_str()).to_owned(),
            s.counts.entries_planned.to_string(),
            s.counts.entries_applied.to_string(),
            s.counts.entries_verified.to_string(),
            s.counts.blockers.to_string(),
            lease,
            rfc3339_seconds(r.updated_at),
            s.last_error.clone().unwrap_or_default(),
        ]);
    }
    table
}
