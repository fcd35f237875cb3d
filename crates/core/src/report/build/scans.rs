//! Scan freshness: the latest scan of each account-region, and whether it saw each cluster.

use crate::report::cluster_ref::ClusterRef;
use crate::report::filter::Filter;
use crate::report::input::{ClusterView, ScanOutcome, ScanView};
use crate::report::model::{
    AccountRegion, AccountRegionScan, ClusterSummary, ScanFreshness, ScanStatus, Sighting,
};
use crate::report::time::{age_seconds, rfc3339};
use std::collections::{BTreeMap, BTreeSet};

/// The latest scan mark of each account-region the filter keeps.
pub(super) type Latest<'a> = BTreeMap<(&'a str, &'a str), &'a ScanView>;

/// The latest mark per account-region (the table keeps one; a later one wins if there are more).
pub(super) fn latest<'a>(scans: &'a [ScanView], filter: &Filter) -> Latest<'a> {
    let mut latest: Latest<'a> = BTreeMap::new();
    for scan in scans {
        if !filter.keeps_account_region(&scan.account, &scan.region) {
            continue;
        }
        let key = (scan.account.as_str(), scan.region.as_str());
        let newer = latest
            .get(&key)
            .is_none_or(|seen| scan.scanned_at_ms >= seen.scanned_at_ms);
        if newer {
            latest.insert(key, scan);
        }
    }
    latest
}

/// Whether the account-region's latest scan saw the cluster: a successful scan that started
/// after the cluster's last sighting did not list it.
pub(super) fn sighting(cluster: &ClusterView, latest: &Latest<'_>) -> Sighting {
    let Some(scan) = latest.get(&(cluster.account.as_str(), cluster.region.as_str())) else {
        return Sighting::Unknown;
    };
    match (&scan.outcome, cluster.last_seen_ms) {
        (ScanOutcome::Scanned { .. }, Some(seen)) => {
            if seen >= scan.started_at_ms.unwrap_or(scan.scanned_at_ms) {
                Sighting::Seen
            } else {
                Sighting::NotSeen
            }
        }
        _ => Sighting::Unknown,
    }
}

/// The freshness section.
pub(super) fn freshness(
    latest: &Latest<'_>,
    clusters: &[ClusterSummary],
    now_ms: u64,
) -> ScanFreshness {
    let mut account_regions: Vec<AccountRegionScan> = latest
        .values()
        .map(|scan| {
            let (status, clusters_found, reason) = match &scan.outcome {
                ScanOutcome::Scanned { clusters } => (ScanStatus::Scanned, Some(*clusters), None),
                ScanOutcome::Skipped { reason } => {
                    (ScanStatus::Skipped, None, Some(reason.clone()))
                }
                ScanOutcome::Failed { reason } => (ScanStatus::Failed, None, Some(reason.clone())),
            };
            AccountRegionScan {
                account: scan.account.clone(),
                region: scan.region.clone(),
                scanned_at: rfc3339(scan.scanned_at_ms),
                age_seconds: age_seconds(now_ms, scan.scanned_at_ms),
                status,
                clusters_found,
                reason,
            }
        })
        .collect();
    // Least recently scanned first (RFC 3339 UTC strings sort in time order).
    account_regions.sort_by(|a, b| {
        (&a.scanned_at, &a.account, &a.region).cmp(&(&b.scanned_at, &b.account, &b.region))
    });
    let never_scanned: BTreeSet<AccountRegion> = clusters
        .iter()
        .filter(|c| !latest.contains_key(&(c.account.as_str(), c.region.as_str())))
        .map(|c| AccountRegion {
            account: c.account.clone(),
            region: c.region.clone(),
        })
        .collect();
    let not_seen = clusters
        .iter()
        .filter(|c| c.sighting == Sighting::NotSeen)
        .map(|c| ClusterRef {
            account: c.account.clone(),
            region: c.region.clone(),
            name: c.name.clone(),
        })
        .collect();
    ScanFreshness {
        account_regions,
        never_scanned: never_scanned.into_iter().collect(),
        not_seen,
    }
}
