//! `fleet-scan`: the scheduled scan of every in-scope account × region (see
//! `eks_auth_aws::fleet::scan`), with the configuration document read on each invocation so a
//! changed document applies without a redeploy.

mod summary;

use eks_auth_aws::fleet::environment::{Function, FunctionEnv};
use eks_auth_aws::fleet::scan::{ScanReport, ScanSettings, scan};
use eks_auth_aws::fleet::{Clients, load_config};
use eks_auth_aws::notify::security_hub::{FindingsReport, sync_findings};
use eks_auth_aws::sdk_error::log;
use eks_auth_core::config::Config;
use eks_auth_core::jobs::ScheduleInput;
use eks_auth_core::notify::metrics::scan_metrics;
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime};
use summary::Summary;

/// Account-regions scanned at once: enough to hide the per-call latency of the dependent
/// AssumeRole → ListClusters → DescribeCluster chain without a throttling storm.
pub const CONCURRENCY: usize = 64;

/// What the handler needs.
pub struct Deps {
    /// The function's environment.
    pub env: FunctionEnv,
    /// The function's own configuration (central account).
    pub config: aws_config::SdkConfig,
    /// Table, queue, member roles, organisation.
    pub clients: Clients,
}

impl Deps {
    /// Everything from one configuration and the environment.
    pub fn new(config: aws_config::SdkConfig, env: FunctionEnv) -> Self {
        Self {
            clients: Clients::new(&config, &env, Function::FleetScan),
            config,
            env,
        }
    }
}

/// Scans until `deadline`; the report as JSON. Anything but the documented schedule input is
/// logged and dropped.
///
/// # Errors
///
/// When the configuration cannot be read, the accounts cannot be listed or the table fails.
pub async fn handle(
    deps: &Deps,
    input: &Value,
    deadline: Instant,
) -> Result<Value, lambda_runtime::Error> {
    if let Err(e) = ScheduleInput::parse(input) {
        tracing::warn!(error = %e, "not a fleet-scan schedule input; dropped");
        return Ok(json!({ "dropped": e.to_string() }));
    }
    let config = load_config(
        &deps.config,
        &deps.env.config_parameter,
        deps.env.default_mode,
    )
    .await
    .inspect_err(|e| log::error(e, "cannot read the configuration document"))?;
    let settings = scan_settings(&config, &deps.env, deadline);
    let c = &deps.clients;
    let report = scan(&c.org, &c.members, &c.store, &c.queue, &config, &settings)
        .await
        .inspect_err(|e| log::error(e, "the fleet scan could not run"))?;
    for failure in &report.failed {
        tracing::warn!(%failure, "account-region not scanned");
    }
    let (findings, findings_time) = sync_security_hub(deps, &report).await;
    let summary = Summary {
        report: &report,
        findings: &findings,
        findings_time,
    };
    c.metrics.emit(&scan_metrics(&summary.figures()));
    Ok(summary.log_and_answer())
}

/// The regions of the document (or the environment's), [`CONCURRENCY`], and the function's
/// deadline less the time the scan's last phases need.
fn scan_settings(config: &Config, env: &FunctionEnv, deadline: Instant) -> ScanSettings {
    ScanSettings {
        regions: eks_auth_core::scope::regions(config, &env.regions),
        concurrency: CONCURRENCY,
        // Leave time to read the records, queue the jobs and write the marks.
        deadline: deadline
            .checked_sub(Duration::from_secs(10))
            .unwrap_or(deadline),
    }
}

/// The Security Hub findings of the clusters seen, when the environment turns them on, and how
/// long that took.
async fn sync_security_hub(deps: &Deps, report: &ScanReport) -> (FindingsReport, Duration) {
    let started = Instant::now();
    let c = &deps.clients;
    let findings = if deps.env.security_hub_findings {
        sync_findings(&c.members, &c.store, &report.seen, SystemTime::now()).await
    } else {
        FindingsReport::default()
    };
    (findings, started.elapsed())
}
