//! The fleet scan: every in-scope account × region, through the member role: list and describe
//! clusters, queue one job per cluster that needs work, mark each account-region as scanned,
//! skipped or failed (with why), and create the records of new clusters with their resolved mode.
//! Account-regions run `concurrency` at a time, least recently scanned first, and none is started
//! after the deadline, so a scan cut short is continued by the next.

use super::members::MemberAccounts;
use super::organization::Organization;
use super::queue::JobSink;
use crate::live;
use crate::sdk_config::eks_client;
use crate::sdk_error::failure;
use crate::sdk_error::log::HasCallFailure;
use crate::store::ClusterKey;
use crate::store::error::StoreError;
use crate::store::records::{ClusterReads, ClusterRecord, ClusterState};
use crate::store::scans::{ScanMark, ScanStatus};
use crate::store::sightings::Sighting;
use crate::store::table::StateStore;
use eks_auth_core::call_failure::CallFailure;
use eks_auth_core::config::{Config, is_new_cluster};
use eks_auth_core::jobs::{Job, JobReason};
use eks_auth_core::notify::posture::PostureInput;
use eks_auth_core::scope;
use eks_auth_core::state::{Mode, Phase};
use eks_auth_kube::ids::{AccountId, ClusterName, Region};
use futures::{StreamExt as _, TryStreamExt as _};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

/// What a scan covers and how hard it pushes.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Regions to scan (the configuration's, else the function's `REGIONS`).
    pub regions: Vec<String>,
    /// Account-regions scanned at once.
    pub concurrency: usize,
    /// Do not start an account-region after this.
    pub deadline: Instant,
}

/// What a scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Accounts in scope.
    pub accounts: usize,
    /// Account-regions scanned.
    pub scanned: usize,
    /// Clusters found.
    pub clusters: usize,
    /// Jobs queued.
    pub queued: usize,
    /// Account-regions that failed, with why.
    pub failed: Vec<String>,
    /// Account-regions not started before the deadline (the next scan starts with them).
    pub unfinished: usize,
    /// Records created for clusters seen for the first time (the rest of those are created by
    /// the workers that take their jobs).
    pub recorded: usize,
    /// Where the time went.
    pub timings: ScanTimings,
    /// Every cluster found, with what its record says (metrics, Security Hub findings).
    pub seen: Vec<PostureInput>,
}

/// How long each phase of a scan took (logged by the function; figures in docs/benchmarks.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanTimings {
    /// Accounts, member roles, ListClusters and DescribeCluster of every account-region.
    pub discover: Duration,
    /// Reading the records of the clusters found.
    pub read_state: Duration,
    /// Queuing the jobs.
    pub enqueue: Duration,
    /// Writing the scan marks and what the scan saw of each cluster.
    pub mark: Duration,
    /// Creating the records of clusters seen for the first time.
    pub record: Duration,
}

/// Why a scan could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The organisation's accounts could not be listed.
    #[error(
        "cannot list the organisation's accounts: {0}. The fleet-scan role needs organizations:ListAccounts (run it in the management or a delegated administrator account), or list the accounts in the configuration's accounts.include"
    )]
    Accounts(String),
    /// The state table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HasCallFailure for ScanError {
    fn call_failure(&self) -> Option<&CallFailure> {
        match self {
            ScanError::Accounts(_) => None,
            ScanError::Store(e) => e.call_failure(),
        }
    }
}

/// Scans the fleet once.
///
/// Five phases, timed in [`ScanTimings`], so that calls to the state table and the queue are
/// batched: discover the account-regions (member role, ListClusters, DescribeCluster, each
/// cluster's mode), read the records of every cluster found (BatchGetItem), queue the jobs
/// (SendMessageBatch), mark the account-regions and what was seen of each cluster
/// (BatchWriteItem), and last, until the deadline, record the clusters seen for the first time
/// (each a conditional create: a record a worker created meanwhile is left as it is; a record not
/// created here is created by the worker that takes the cluster's job).
///
/// # Errors
///
/// [`ScanError`] when the accounts cannot be listed or the state table fails; a single
/// account-region's failure is recorded on its scan mark and in the report instead.
pub async fn scan(
    org: &Organization,
    members: &MemberAccounts,
    store: &StateStore,
    queue: &impl JobSink,
    config: &Config,
    settings: &ScanSettings,
) -> Result<ScanReport, ScanError> {
    let mut stopwatch = Stopwatch::start();
    let mut report = ScanReport::default();
    let found = discover(org, members, store, config, settings, &mut report).await?;
    report.timings.discover = stopwatch.lap();
    let keys: Vec<ClusterKey> = found.clusters.iter().map(|d| d.key.clone()).collect();
    let reads = store.get_clusters(&keys).await?;
    let jobs = jobs_and_posture(&found.clusters, &reads, &mut report);
    report.timings.read_state = stopwatch.lap();
    enqueue(queue, &jobs, &mut report).await;
    report.timings.enqueue = stopwatch.lap();
    mark(store, &found, &mut report).await;
    report.timings.mark = stopwatch.lap();
    report.recorded = record_first_seen(store, &found.clusters, &reads, settings.deadline).await;
    report.timings.record = stopwatch.lap();
    Ok(report)
}

/// The time since the last lap.
struct Stopwatch(Instant);

impl Stopwatch {
    fn start() -> Self {
        Self(Instant::now())
    }

    /// The time since the start or the last lap, starting the next.
    fn lap(&mut self) -> Duration {
        std::mem::replace(&mut self.0, Instant::now()).elapsed()
    }
}

/// What the discovery found: every account-region's mark and every cluster.
struct Found {
    marks: Vec<ScanMark>,
    clusters: Vec<Discovered>,
}

/// The first phase: the accounts in scope (the others marked skipped), their OUs, then every
/// account-region, least recently scanned first, `concurrency` at a time, none started after
/// the deadline. Counts accounts, account-regions and clusters in `report`.
async fn discover(
    org: &Organization,
    members: &MemberAccounts,
    store: &StateStore,
    config: &Config,
    settings: &ScanSettings,
    report: &mut ScanReport,
) -> Result<Found, ScanError> {
    let started_at = SystemTime::now();
    let accounts = match &config.accounts.include {
        Some(include) => include.clone(),
        None => org.active_accounts().await.map_err(ScanError::Accounts)?,
    };
    let (accounts, skipped): (Vec<String>, Vec<String>) = accounts
        .into_iter()
        .partition(|a| scope::account(config, a).is_ok());
    let mut marks = skipped_marks(&skipped, &settings.regions, started_at);
    let ous = ous_of(org, config).await?;
    let since = store.watching_since(SystemTime::now()).await?;
    let work = work_order(store, &accounts, &settings.regions).await?;
    let total = work.len();
    let empty = Vec::new();
    let results: Vec<RegionScan> = futures::stream::iter(work)
        .map(|(account, region)| {
            let account_ous = ous.get(&account).unwrap_or(&empty);
            async move {
                if Instant::now() >= settings.deadline {
                    return (account, region, None);
                }
                let found = scan_one(members, config, &account, &region, account_ous, since).await;
                (account, region, Some(found))
            }
        })
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await;
    report.accounts = accounts.len();
    let clusters = tally(results, started_at, &mut marks, report);
    debug_assert_eq!(
        report.scanned + report.failed.len() + report.unfinished,
        total
    );
    Ok(Found { marks, clusters })
}

/// The marks of accounts the configuration excludes, in every region.
fn skipped_marks(skipped: &[String], regions: &[String], started_at: SystemTime) -> Vec<ScanMark> {
    skipped
        .iter()
        .flat_map(|account| {
            regions.iter().map(move |region| ScanMark {
                account: account.clone(),
                region: region.clone(),
                status: ScanStatus::Skipped("excluded by the configuration document".to_owned()),
                scanned_at: SystemTime::now(),
                started_at: Some(started_at),
            })
        })
        .collect()
}

/// The configuration's OUs that hold each account (nearest first); none without OU rules.
async fn ous_of(
    org: &Organization,
    config: &Config,
) -> Result<HashMap<String, Vec<String>>, ScanError> {
    // The OUs of the mode rules and of tags_may_raise: both decide a cluster's mode.
    let ou_ids = config.listed_ou_ids();
    if ou_ids.is_empty() {
        return Ok(HashMap::new());
    }
    org.accounts_in(&ou_ids).await.map_err(ScanError::Accounts)
}

/// Every account-region, least recently scanned first (never scanned before all).
async fn work_order(
    store: &StateStore,
    accounts: &[String],
    regions: &[String],
) -> Result<Vec<(String, String)>, ScanError> {
    let last_scanned: HashMap<(String, String), SystemTime> = store
        .scan_marks()
        .await?
        .into_iter()
        .map(|m: ScanMark| ((m.account, m.region), m.scanned_at))
        .collect();
    let mut work: Vec<(String, String)> = accounts
        .iter()
        .flat_map(|a| regions.iter().map(move |r| (a.clone(), r.clone())))
        .collect();
    work.sort_by_key(|k| last_scanned.get(k).copied());
    Ok(work)
}

/// Counts each account-region's result in `report` and marks it; the clusters found.
fn tally(
    results: Vec<RegionScan>,
    started_at: SystemTime,
    marks: &mut Vec<ScanMark>,
    report: &mut ScanReport,
) -> Vec<Discovered> {
    let mut discovered = Vec::new();
    for (account, region, result) in results {
        let status = match result {
            None => {
                report.unfinished += 1;
                continue;
            }
            Some(Ok(found)) => {
                report.scanned += 1;
                report.clusters += found.len();
                let clusters = u32::try_from(found.len()).unwrap_or(u32::MAX);
                discovered.extend(found);
                ScanStatus::Scanned { clusters }
            }
            Some(Err(reason)) => {
                report.failed.push(format!("{account}/{region}: {reason}"));
                ScanStatus::Failed(reason)
            }
        };
        marks.push(ScanMark {
            account,
            region,
            status,
            scanned_at: SystemTime::now(),
            started_at: Some(started_at),
        });
    }
    discovered
}

/// The second phase, from the records read: a job for each cluster that needs work (or has
/// undelivered phase-change events), and what the scan knows of every cluster (`report.seen`).
fn jobs_and_posture(
    discovered: &[Discovered],
    reads: &ClusterReads,
    report: &mut ScanReport,
) -> Vec<Job> {
    for (key, reason) in &reads.unread {
        tracing::warn!(cluster = %key, %reason, "cluster record unreadable; queued unless skip, not created");
    }
    let jobs = discovered
        .iter()
        .filter(|d| {
            let record = reads.found.get(&d.key);
            // Undelivered phase-change events are sent by the cluster's next run, even when its
            // migration is over.
            needs_work(d.mode, record.map(|r| r.state.phase))
                || record.is_some_and(|r| !r.outbox.is_empty())
        })
        .map(|d| {
            Job::new(
                d.key.account.as_ref(),
                d.key.region.as_ref(),
                d.key.name.as_ref(),
                JobReason::Scan,
            )
        })
        .collect();
    report.seen = discovered
        .iter()
        .map(|d| posture_input(d, reads.found.get(&d.key)))
        .collect();
    jobs
}

/// The third phase: queues the jobs; those not queued are counted as a failure.
async fn enqueue(queue: &impl JobSink, jobs: &[Job], report: &mut ScanReport) {
    match queue.send(jobs, Duration::ZERO).await {
        Ok(sent) => report.queued = sent,
        Err(e) => {
            report.queued = jobs.len() - e.count;
            report.failed.push(e.to_string());
        }
    }
}

/// The fourth phase: the scan marks and what the scan saw of each cluster; a failure is
/// reported, and the next scan writes them again.
async fn mark(store: &StateStore, found: &Found, report: &mut ScanReport) {
    if let Err(e) = store.record_scans(&found.marks).await {
        tracing::error!(error = %e, "cannot record the scan marks");
        report.failed.push(format!(
            "scan marks not recorded (the next scan repeats them): {e}"
        ));
    }
    let sightings: Vec<(ClusterKey, Sighting)> = found
        .clusters
        .iter()
        .map(|d| (d.key.clone(), d.sighting.clone()))
        .collect();
    if let Err(e) = store.record_sightings(&sightings, SystemTime::now()).await {
        tracing::error!(error = %e, "cannot record what the scan saw of each cluster");
        report.failed.push(format!(
            "cluster sightings not recorded (the next scan repeats them): {e}"
        ));
    }
}

/// The last phase: creates the records of clusters seen for the first time (not found and
/// not unreadable), until `deadline`; how many were created here.
async fn record_first_seen(
    store: &StateStore,
    discovered: &[Discovered],
    reads: &ClusterReads,
    deadline: Instant,
) -> usize {
    let unread: HashSet<&ClusterKey> = reads.unread.iter().map(|(k, _)| k).collect();
    let first_seen: Vec<&Discovered> = discovered
        .iter()
        .filter(|d| !reads.found.contains_key(&d.key) && !unread.contains(&d.key))
        .collect();
    futures::stream::iter(first_seen)
        .map(|d| async move {
            if Instant::now() >= deadline {
                return false;
            }
            let state = ClusterState::discovered(d.mode);
            match store
                .create_or_get_cluster(&d.key, &state, SystemTime::now())
                .await
            {
                Ok((_, created)) => created,
                Err(e) => {
                    tracing::warn!(cluster = %d.key, error = %e, "cluster record not created; its worker creates it");
                    false
                }
            }
        })
        .buffer_unordered(RECORD_CONCURRENCY)
        .filter(|created| std::future::ready(*created))
        .count()
        .await
}

/// An account, a region, and what scanning it gave: `None` when it was not started before the
/// deadline, else its clusters or why it failed.
type RegionScan = (String, String, Option<Result<Vec<Discovered>, String>>);

/// Records of first-seen clusters created at once.
const RECORD_CONCURRENCY: usize = 16;

/// A cluster an account-region holds, with the mode the configuration gives it.
#[derive(Debug, Clone)]
struct Discovered {
    key: ClusterKey,
    mode: Mode,
    sighting: Sighting,
}

/// What the scan knows of `d`: DescribeCluster's authentication mode and its record's counts.
fn posture_input(d: &Discovered, record: Option<&ClusterRecord>) -> PostureInput {
    PostureInput {
        account: d.key.account.to_string(),
        region: d.key.region.to_string(),
        name: d.key.name.to_string(),
        authentication_mode: d.sighting.authentication_mode,
        aws_auth_rows: record.and_then(|r| r.state.counts.aws_auth_rows),
        blocker_codes: record
            .map(|r| r.state.blocker_codes.clone())
            .unwrap_or_default(),
        phase: record.map(|r| r.state.phase),
        mode: d.mode,
    }
}

/// Whether a cluster in `mode`, whose record is in `phase` (none: no record yet), needs a job.
fn needs_work(mode: Mode, phase: Option<Phase>) -> bool {
    mode != Mode::Skip && phase != Some(Phase::Complete)
}

/// One account-region: the clusters it holds with their modes, or why it failed.
async fn scan_one(
    members: &MemberAccounts,
    config: &Config,
    account: &str,
    region: &str,
    account_ous: &[String],
    since: SystemTime,
) -> Result<Vec<Discovered>, String> {
    let account_id = AccountId::parse(account).map_err(|e| e.to_string())?;
    let region_id = Region::parse(region).map_err(|e| e.to_string())?;
    let member = members
        .config(account, region)
        .await
        .map_err(|e| e.to_string())?;
    let eks = eks_client(&member);
    let names: Vec<String> = eks
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| failure(&eks, "ListClusters", &e).to_string())?;
    futures::stream::iter(names)
        .map(|name| {
            let (eks, account_id, region_id) = (&eks, &account_id, &region_id);
            async move {
                let out = eks
                    .describe_cluster()
                    .name(&name)
                    .send()
                    .await
                    .map_err(|e| format!("{name}: {}", failure(eks, "DescribeCluster", &e)))?;
                let sighting = live::sighting(out.cluster(), &config.network.egress_cidrs);
                let new = is_new_cluster(sighting.created_at, since);
                let tags = &sighting.tags;
                let resolved = config.mode_for(account, account_ous, tags, new);
                for warning in &resolved.warnings {
                    tracing::warn!(%account, %region, cluster = %name, %warning, "cluster mode");
                }
                let key = ClusterKey {
                    account: account_id.clone(),
                    region: region_id.clone(),
                    name: ClusterName::parse(&name).map_err(|e| e.to_string())?,
                };
                Ok(Discovered {
                    key,
                    mode: resolved.mode,
                    sighting,
                })
            }
        })
        .buffer_unordered(8)
        .try_collect()
        .await
}
