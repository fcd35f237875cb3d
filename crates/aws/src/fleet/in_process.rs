//! The organisation's audit from an operator's machine (`eks-auth-migrator scan`): the fleet
//! scan the `fleet-scan` function runs, then the `cluster-worker` function's run of every
//! cluster it found, in `audit` mode whatever the configuration says — the same code, in one
//! process, with bounded concurrency. Nothing in any cluster is changed; the state table gets
//! the records, sightings and inventories a report reads.

use super::members::MemberAccounts;
use super::organization::Organization;
use super::queue::CollectedJobs;
use super::scan::{ScanError, ScanReport, ScanSettings, scan};
use super::worker::{Disposition, Worker};
use crate::engine::Outcome;
use crate::store::lease::HeldLeases;
use crate::store::table::StateStore;
use eks_auth_core::config::Config;
use eks_auth_core::jobs::Job;
use eks_auth_core::state::{Mode, Phase};
use futures::StreamExt as _;
use std::time::{Duration, Instant, SystemTime};

/// How the audit runs.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// The scan's settings (regions, account-regions at once, deadline).
    pub scan: ScanSettings,
    /// Clusters audited at once.
    pub concurrency: usize,
    /// This process as a lease owner.
    pub worker_id: String,
}

/// How one cluster's audit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAudit {
    /// The cluster's job (account, region, name).
    pub job: Job,
    /// What happened.
    pub result: AuditResult,
}

/// The result of one cluster's audit run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditResult {
    /// Planned and recorded.
    Audited {
        /// The phase recorded.
        phase: Phase,
    },
    /// Not audited now (the cluster is not ACTIVE, or another worker holds it), with why.
    Later(String),
    /// The run failed (recorded on the cluster as its last error), with why.
    Failed(String),
    /// The cluster no longer exists.
    Gone(String),
}

/// What the whole audit did.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// The scan.
    pub scan: ScanReport,
    /// Every cluster's audit, in the scan's order.
    pub clusters: Vec<ClusterAudit>,
}

/// Scans the fleet, then audits every cluster that needs work, calling `progress` after each
/// cluster with the number done and the total.
///
/// # Errors
///
/// [`ScanError`] when the accounts cannot be listed or the state table fails.
pub async fn audit_fleet(
    org: &Organization,
    members: &MemberAccounts,
    store: &StateStore,
    config: &Config,
    settings: &AuditSettings,
    progress: &(dyn Fn(usize, usize, &ClusterAudit) + Sync),
) -> Result<AuditReport, ScanError> {
    let jobs = CollectedJobs::default();
    let scan_report = scan(org, members, store, &jobs, config, &settings.scan).await?;
    let jobs = jobs.take();
    let total = jobs.len();
    let watching_since = store.watching_since(SystemTime::now()).await?;
    let worker = Worker {
        members,
        store,
        config,
        regions: settings.scan.regions.clone(),
        org: None,
        worker_id: settings.worker_id.clone(),
        update_poll: Duration::from_secs(30),
        watching_since,
        force_mode: Some(Mode::Audit),
        held_leases: HeldLeases::default(),
        publisher: None,
        // An operator's audit reads private clusters only through its own route.
        agent_signer: None,
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let clusters = futures::stream::iter(jobs)
        .map(|job| {
            let (worker, done) = (&worker, &done);
            async move {
                // An audit run plans and records; it needs minutes only for a huge aws-auth.
                let deadline = Instant::now() + Duration::from_secs(15 * 60);
                let result = result_of(worker.work(&job, deadline).await);
                let audit = ClusterAudit { job, result };
                let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                progress(n, total, &audit);
                audit
            }
        })
        .buffered(settings.concurrency.max(1))
        .collect()
        .await;
    Ok(AuditReport {
        scan: scan_report,
        clusters,
    })
}

fn result_of(disposition: Disposition) -> AuditResult {
    match disposition {
        Disposition::Finished { phase, outcome, .. } => match outcome {
            Outcome::Failed(reason) | Outcome::FailedTerminal { reason, .. } => {
                AuditResult::Failed(reason)
            }
            _ => AuditResult::Audited { phase },
        },
        Disposition::Requeue { reason, .. } => AuditResult::Later(reason),
        Disposition::Retry(reason) => AuditResult::Failed(reason),
        Disposition::Drop(reason) => AuditResult::Gone(reason),
        Disposition::OutOfScope(reason) => AuditResult::Failed(reason),
    }
}
