//! `scan`: the organisation's audit from an operator's machine, before anything is deployed —
//! the fleet scan and an audit-mode run of every cluster (the functions' own code, in-process),
//! recorded in the state table for `report`. Read-only towards every cluster.

use crate::args::ScanFlags;
use crate::aws_env;
use crate::state_table::open_store;
use anyhow::{Context, Result, bail};
use eks_auth_aws::fleet::in_process::{AuditResult, AuditSettings, ClusterAudit, audit_fleet};
use eks_auth_aws::fleet::members::MemberAccounts;
use eks_auth_aws::fleet::organization::Organization;
use eks_auth_aws::fleet::scan::ScanSettings;
use eks_auth_core::config::{AccountScope, Config};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `scan`.
pub fn run(flags: ScanFlags) -> Result<ExitCode> {
    let config = scan_config(&flags)?;
    let regions = config.regions.clone().unwrap_or_default();
    if regions.is_empty() {
        bail!(
            "no regions to scan: pass --regions (e.g. --regions eu-west-1,us-east-1) or list them in the configuration document's `regions`"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(flags.timeout_minutes.saturating_mul(60));
    aws_env::runtime()?.block_on(async {
        let base = aws_env::with_call_timeout(
            &eks_auth_aws::fleet::config_with_retries(regions.first().map(String::as_str)).await,
        );
        aws_env::preflight(&base).await?;
        let store = open_store(&base, &flags.state).await?;
        let org = Organization::new(&base);
        let members = MemberAccounts::new(base.clone(), flags.member_role_name.clone());
        let settings = AuditSettings {
            scan: ScanSettings {
                regions,
                concurrency: flags.concurrency.max(1),
                deadline,
            },
            concurrency: flags.concurrency.max(1),
            worker_id: format!("cli-scan-{}", std::process::id()),
        };
        let display = Display::new();
        let report = audit_fleet(&org, &members, &store, &config, &settings, &|done, total, audit| {
            display.cluster(done, total, audit);
        })
        .await
        .context("the fleet scan could not run")?;
        display.finish();
        let scan = &report.scan;
        println!(
            "scanned {} account(s): {} account-region(s), {} cluster(s); {} account-region(s) failed, {} not reached before the time limit",
            scan.accounts,
            scan.scanned,
            scan.clusters,
            scan.failed.len(),
            scan.unfinished
        );
        for failure in &scan.failed {
            println!("  not scanned: {failure}");
        }
        let count = |f: fn(&AuditResult) -> bool| report.clusters.iter().filter(|c| f(&c.result)).count();
        println!(
            "audited {} cluster(s): {} planned, {} failed, {} to look at again later, {} gone",
            report.clusters.len(),
            count(|r| matches!(r, AuditResult::Audited { .. })),
            count(|r| matches!(r, AuditResult::Failed(_))),
            count(|r| matches!(r, AuditResult::Later(_))),
            count(|r| matches!(r, AuditResult::Gone(_))),
        );
        for audit in &report.clusters {
            if let AuditResult::Failed(reason) | AuditResult::Later(reason) = &audit.result {
                println!("  {}: {reason}", cluster_name(audit));
            }
        }
        println!(
            "recorded in the state table {}; `eks-auth-migrator report --table {}` shows the estate",
            flags.state.table, flags.state.table
        );
        let complete = scan.failed.is_empty()
            && scan.unfinished == 0
            && report
                .clusters
                .iter()
                .all(|c| matches!(c.result, AuditResult::Audited { .. } | AuditResult::Gone(_)));
        Ok(if complete {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// The configuration document the scan follows for scope (accounts, exclusions, regions);
/// its modes are ignored: `scan` only audits.
fn scan_config(flags: &ScanFlags) -> Result<Config> {
    let mut config = match &flags.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the configuration document {}", path.display())
            })?;
            Config::parse(&text).with_context(|| {
                format!("{} is not a valid configuration document", path.display())
            })?
        }
        None => Config::default(),
    };
    if !flags.regions.is_empty() {
        config.regions = Some(flags.regions.clone());
    }
    if !flags.accounts.is_empty() {
        config.accounts = AccountScope {
            include: Some(flags.accounts.clone()),
            ..config.accounts
        };
    }
    Ok(config)
}

fn cluster_name(audit: &ClusterAudit) -> String {
    format!(
        "{}/{}/{}",
        audit.job.account, audit.job.region, audit.job.cluster
    )
}

/// Progress on standard error: a bar on a terminal, a line per cluster otherwise.
struct Display {
    bar: Option<ProgressBar>,
}

impl Display {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} auditing clusters {pos}/{len} [{bar:30}] {elapsed} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    fn cluster(&self, done: usize, total: usize, audit: &ClusterAudit) {
        let outcome = match &audit.result {
            AuditResult::Audited { phase } => format!("audited ({phase})"),
            AuditResult::Later(reason) => format!("later: {reason}"),
            AuditResult::Failed(reason) => format!("failed: {reason}"),
            AuditResult::Gone(reason) => format!("gone: {reason}"),
        };
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(cluster_name(audit));
                if !matches!(audit.result, AuditResult::Audited { .. }) {
                    bar.println(format!("{}: {outcome}", cluster_name(audit)));
                }
            }
            None => eprintln!("[{done}/{total}] {}: {outcome}", cluster_name(audit)),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
