//! The fleet scan: every in-scope account × region, through the member role: list and describe
//! clusters, create the records of new ones with their resolved mode, queue one job per cluster
//! that needs work, and mark each account-region as scanned, skipped or failed (with why).
//! Account-regions run `concurrency` at a time, least recently scanned first, and none is started
//! after the deadline, so a scan cut short is continued by the next.

use super::members::MemberAccounts;
use super::queue::JobQueue;
use crate::ids::{AccountId, ClusterName, Region};
use crate::live::sdk_reason;
use crate::store::error::StoreError;
use crate::store::records::ClusterState;
use crate::store::scans::{ScanMark, ScanStatus};
use crate::store::{ClusterKey, StateStore};
use eks_auth_core::config::Config;
use eks_auth_core::events::{Job, JobReason};
use eks_auth_core::state::{Mode, Phase};
use futures::{StreamExt as _, TryStreamExt as _};
use std::collections::{BTreeMap, HashMap};
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

/// The organisation: ACTIVE accounts and the OUs that hold them.
#[derive(Debug, Clone)]
pub struct Organization {
    client: aws_sdk_organizations::Client,
}

impl Organization {
    /// A client from the configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_organizations::Client::new(config),
        }
    }

    /// Every ACTIVE account (all pages).
    ///
    /// # Errors
    ///
    /// The service's reason.
    pub async fn active_accounts(&self) -> Result<Vec<String>, String> {
        let pages: Vec<_> = self
            .client
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_reason(&e))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.accounts())
            .filter(|a| a.state().is_none_or(|s| s.as_str() == "ACTIVE"))
            .filter(|a| a.status().is_none_or(|s| s.as_str() == "ACTIVE"))
            .filter_map(|a| a.id().map(str::to_owned))
            .collect())
    }

    /// The accounts directly in each of `ous` (all pages): account → its OUs.
    ///
    /// # Errors
    ///
    /// The service's reason.
    pub async fn accounts_in(
        &self,
        ous: &[String],
    ) -> Result<HashMap<String, Vec<String>>, String> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for ou in ous {
            let pages: Vec<_> = self
                .client
                .list_accounts_for_parent()
                .parent_id(ou)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|e| format!("{ou}: {}", sdk_reason(&e)))?;
            for a in pages
                .iter()
                .flat_map(|p| p.accounts())
                .filter_map(|a| a.id())
            {
                map.entry(a.to_owned()).or_default().push(ou.clone());
            }
        }
        Ok(map)
    }
}

/// Scans the fleet once.
///
/// # Errors
///
/// [`ScanError`] when the accounts cannot be listed or the state table fails; a single
/// account-region's failure is recorded on its scan mark and in the report instead.
pub async fn scan(
    org: &Organization,
    members: &MemberAccounts,
    store: &StateStore,
    queue: &JobQueue,
    config: &Config,
    settings: &ScanSettings,
) -> Result<ScanReport, ScanError> {
    let accounts = match &config.accounts.include {
        Some(include) => include.clone(),
        None => org.active_accounts().await.map_err(ScanError::Accounts)?,
    };
    let (accounts, skipped): (Vec<String>, Vec<String>) =
        accounts.into_iter().partition(|a| config.in_scope(a));
    for account in &skipped {
        for region in &settings.regions {
            let status = ScanStatus::Skipped("excluded by the configuration document".to_owned());
            store
                .record_scan(account, region, &status, SystemTime::now())
                .await?;
        }
    }
    let ou_ids: Vec<String> = config
        .organizational_units
        .iter()
        .map(|o| o.id.clone())
        .collect();
    let ous = if ou_ids.is_empty() {
        HashMap::new()
    } else {
        org.accounts_in(&ou_ids)
            .await
            .map_err(ScanError::Accounts)?
    };
    // Least recently scanned first; never scanned before all.
    let marks: HashMap<(String, String), SystemTime> = store
        .scan_marks()
        .await?
        .into_iter()
        .map(|m: ScanMark| ((m.account, m.region), m.scanned_at))
        .collect();
    let mut work: Vec<(String, String)> = accounts
        .iter()
        .flat_map(|a| settings.regions.iter().map(move |r| (a.clone(), r.clone())))
        .collect();
    work.sort_by_key(|k| marks.get(k).copied());
    let total = work.len();
    let empty = Vec::new();
    let results: Vec<Option<Result<Found, String>>> = futures::stream::iter(work)
        .map(|(account, region)| {
            let account_ous = ous.get(&account).unwrap_or(&empty);
            async move {
                if Instant::now() >= settings.deadline {
                    return None;
                }
                let outcome =
                    scan_one(members, store, config, &account, &region, account_ous).await;
                let status = match &outcome {
                    Ok((clusters, _)) => ScanStatus::Scanned {
                        clusters: u32::try_from(*clusters).unwrap_or(u32::MAX),
                    },
                    Err(reason) => ScanStatus::Failed(reason.clone()),
                };
                if let Err(e) = store
                    .record_scan(&account, &region, &status, SystemTime::now())
                    .await
                {
                    tracing::error!(%account, %region, error = %e, "cannot record the scan mark");
                }
                Some(outcome.map_err(|reason| format!("{account}/{region}: {reason}")))
            }
        })
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await;
    let mut report = ScanReport {
        accounts: accounts.len(),
        ..ScanReport::default()
    };
    let mut jobs = Vec::new();
    for r in results {
        match r {
            None => report.unfinished += 1,
            Some(Ok((clusters, found))) => {
                report.scanned += 1;
                report.clusters += clusters;
                jobs.extend(found);
            }
            Some(Err(reason)) => report.failed.push(reason),
        }
    }
    // One queue for the whole scan: full batches of 10 across account-regions.
    match queue.send(&jobs, Duration::ZERO).await {
        Ok(sent) => report.queued = sent,
        Err(e) => {
            report.queued = jobs.len() - e.count;
            report.failed.push(e.to_string());
        }
    }
    debug_assert_eq!(
        report.scanned + report.failed.len() + report.unfinished,
        total
    );
    Ok(report)
}

/// What one account-region holds: clusters found, and jobs for those that need work.
type Found = (usize, Vec<Job>);

/// One account-region: what it holds, or why it failed.
async fn scan_one(
    members: &MemberAccounts,
    store: &StateStore,
    config: &Config,
    account: &str,
    region: &str,
    account_ous: &[String],
) -> Result<Found, String> {
    let member = members
        .config(account, region)
        .await
        .map_err(|e| e.to_string())?;
    let eks = crate::live::eks_client(&member);
    let names: Vec<String> = eks
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| format!("ListClusters: {}", sdk_reason(&e)))?;
    let found = names.len();
    let jobs: Vec<Option<Job>> = futures::stream::iter(names)
        .map(|name| {
            let eks = &eks;
            async move {
                let out = eks
                    .describe_cluster()
                    .name(&name)
                    .send()
                    .await
                    .map_err(|e| format!("DescribeCluster {name}: {}", sdk_reason(&e)))?;
                let tags: BTreeMap<String, String> = out
                    .cluster()
                    .and_then(|c| c.tags())
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let resolved = config.mode_for(account, account_ous, &tags, false);
                for warning in &resolved.warnings {
                    tracing::warn!(%account, %region, cluster = %name, %warning, "cluster mode");
                }
                needs_work(store, account, region, &name, resolved.mode).await
            }
        })
        .buffer_unordered(8)
        .try_collect()
        .await?;
    Ok((found, jobs.into_iter().flatten().collect()))
}

/// Creates the record of a cluster seen for the first time; the job when it needs work.
async fn needs_work(
    store: &StateStore,
    account: &str,
    region: &str,
    name: &str,
    mode: Mode,
) -> Result<Option<Job>, String> {
    let key = ClusterKey {
        account: AccountId::parse(account).map_err(|e| e.to_string())?,
        region: Region::parse(region).map_err(|e| e.to_string())?,
        name: ClusterName::parse(name).map_err(|e| e.to_string())?,
    };
    let (record, _created) = store
        .create_or_get_cluster(&key, &ClusterState::discovered(mode), SystemTime::now())
        .await
        .map_err(|e| e.to_string())?;
    let done = record.state.phase == Phase::Complete;
    Ok((mode != Mode::Skip && !done).then(|| Job::new(account, region, name, JobReason::Scan)))
}
