//! The headline: totals over the report's clusters, inventory and scans.

use crate::facts::AuthenticationMode;
use crate::reach::ReachClass;
use crate::report::access::AccessInventory;
use crate::report::model::{
    AuthModeCounts, CONFIG_MAP_REFUSED_FEATURES, ClusterSummary, EntryShare, Headline, LockedOut,
    ModeCounts, PhaseCount, PrincipalCounts, ReachCounts, ScanFreshness, ScanStatus, Share,
};
use crate::state::{Mode, Phase};

/// The headline of a report.
pub(super) fn totals(
    clusters: &[ClusterSummary],
    access: &AccessInventory,
    scans: &ScanFreshness,
    unreadable: usize,
) -> Headline {
    let total = clusters.len();
    let mut auth = AuthModeCounts::default();
    let mut modes = ModeCounts::default();
    for c in clusters {
        match c.authentication_mode {
            Some(AuthenticationMode::ConfigMap) => auth.config_map += 1,
            Some(AuthenticationMode::ApiAndConfigMap) => auth.api_and_config_map += 1,
            Some(AuthenticationMode::Api) => auth.api += 1,
            None => auth.unknown += 1,
        }
        match c.mode {
            Mode::Audit => modes.audit += 1,
            Mode::Migrate => modes.migrate += 1,
            Mode::Finalize => modes.finalize += 1,
            Mode::Skip => modes.skip += 1,
        }
    }
    let phases = Phase::ALL
        .iter()
        .map(|&phase| PhaseCount {
            phase,
            clusters: clusters.iter().filter(|c| c.phase == phase).count(),
        })
        .collect();
    Headline {
        clusters: total,
        authentication_modes: auth,
        on_access_entries: EntryShare {
            api: share(auth.api, total),
            api_and_config_map: share(auth.api_and_config_map, total),
        },
        phases,
        modes,
        locked_out: LockedOut {
            clusters: auth.config_map,
            features: CONFIG_MAP_REFUSED_FEATURES.map(str::to_owned).to_vec(),
        },
        reachability: reach_counts(clusters),
        blocked_clusters: clusters.iter().filter(|c| c.blockers > 0).count(),
        without_inventory: clusters.iter().filter(|c| c.plan.is_none()).count(),
        principals: PrincipalCounts {
            with_access: access.principals.len(),
            grants: access.principals.iter().map(|p| p.cluster_count).sum(),
            cluster_admins: access.cluster_admins.len(),
            other_account: access.other_account.len(),
            iam_not_found: access.iam_not_found.len(),
            named_without_access: access.named_without_access.len(),
        },
        not_seen_by_latest_scan: scans.not_seen.len(),
        failed_scans: scans
            .account_regions
            .iter()
            .filter(|s| s.status == ScanStatus::Failed)
            .count(),
        oldest_scan_at: scans.account_regions.first().map(|s| s.scanned_at.clone()),
        unreadable,
    }
}

/// Clusters by reachability class, and those the last run could not reach.
fn reach_counts(clusters: &[ClusterSummary]) -> ReachCounts {
    let mut counts = ReachCounts::default();
    for c in clusters {
        match c.reachability.as_ref().map(|r| r.class) {
            Some(ReachClass::Public) => counts.public += 1,
            Some(ReachClass::PublicRestricted) => counts.public_restricted += 1,
            Some(ReachClass::PrivateOnly) => counts.private_only += 1,
            None => counts.unknown += 1,
        }
        if c.reachability
            .as_ref()
            .is_some_and(|r| r.what_to_deploy.is_some())
        {
            counts.unreachable += 1;
        }
    }
    counts
}

/// `part` of `total` clusters, with its percentage to one decimal.
fn share(part: usize, total: usize) -> Share {
    let percent = if total == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / total as f64).round() / 10.0
    };
    Share {
        clusters: part,
        percent,
    }
}
