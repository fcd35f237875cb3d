//! `fleet-scan`: the scheduled scan of every in-scope account × region (see
//! `eks_auth_aws::fleet::scan`), with the configuration document read on each invocation so a
//! changed document applies without a redeploy.

use eks_auth_aws::fleet::environment::FunctionEnv;
use eks_auth_aws::fleet::scan::{ScanSettings, scan};
use eks_auth_aws::fleet::{Clients, load_config};
use eks_auth_aws::notify::security_hub::{FindingsReport, sync_findings};
use eks_auth_core::jobs::ScheduleInput;
use eks_auth_core::notify::metrics::{ClusterTally, ScanFigures, scan_metrics};
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime};

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
            clients: Clients::new(&config, &env),
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
    .await?;
    let settings = ScanSettings {
        regions: config.regions_or(&deps.env.regions),
        concurrency: CONCURRENCY,
        // Leave time to read the records, queue the jobs and write the marks.
        deadline: deadline
            .checked_sub(Duration::from_secs(10))
            .unwrap_or(deadline),
    };
    let c = &deps.clients;
    let report = scan(&c.org, &c.members, &c.store, &c.queue, &config, &settings).await?;
    for failure in &report.failed {
        tracing::warn!(%failure, "account-region not scanned");
    }
    let started = Instant::now();
    let findings = if deps.env.security_hub_findings {
        sync_findings(&c.members, &c.store, &report.seen, SystemTime::now()).await
    } else {
        FindingsReport::default()
    };
    let findings_time = started.elapsed();
    let t = report.timings;
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    c.metrics.emit(&scan_metrics(&ScanFigures {
        scanned: report.scanned,
        failed: report.failed.len(),
        unfinished: report.unfinished,
        queued: report.queued,
        recorded: report.recorded,
        clusters: report
            .seen
            .iter()
            .map(|s| ClusterTally {
                authentication_mode: s.authentication_mode,
                phase: s.phase,
                mode: s.mode,
            })
            .collect(),
        findings_imported: findings.imported,
        findings_resolved: findings.resolved,
        findings_not_delivered: findings.not_delivered + findings.workflow_not_updated,
        durations_ms: [
            ms(t.discover),
            ms(t.read_state),
            ms(t.enqueue),
            ms(t.mark),
            ms(t.record),
            ms(findings_time),
        ],
    }));
    let timings = json!({
        "discover": ms(t.discover),
        "read_state": ms(t.read_state),
        "enqueue": ms(t.enqueue),
        "mark": ms(t.mark),
        "record": ms(t.record),
        "findings": ms(findings_time),
    });
    let findings = json!({
        "imported": findings.imported,
        "resolved": findings.resolved,
        "not_delivered": findings.not_delivered,
        "workflow_not_updated": findings.workflow_not_updated,
    });
    tracing::info!(
        accounts = report.accounts,
        scanned = report.scanned,
        clusters = report.clusters,
        queued = report.queued,
        failed = report.failed.len(),
        unfinished = report.unfinished,
        recorded = report.recorded,
        timings_ms = %timings,
        findings = %findings,
        "fleet scan"
    );
    Ok(json!({
        "accounts": report.accounts,
        "scanned": report.scanned,
        "clusters": report.clusters,
        "queued": report.queued,
        "failed": report.failed,
        "unfinished": report.unfinished,
        "recorded": report.recorded,
        "timings_ms": timings,
        "findings": findings,
    }))
}
