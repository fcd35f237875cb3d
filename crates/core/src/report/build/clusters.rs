//! One cluster's line: its counts, its creator's admin and whether the latest scan saw it.

use super::scans::{Latest, sighting};
use crate::facts::{AuthenticationMode, same_role};
use crate::finding::{FindingCode, Severity};
use crate::inventory::{AccessPath, ClusterInventory, Origin, PrincipalAccess};
use crate::policy::CreatorEntry;
use crate::reach::Route;
use crate::report::input::ClusterView;
use crate::report::model::{ClusterReachability, ClusterSummary, CreatorAdmin, CreatorStatus};
use crate::report::time::rfc3339;
use crate::state::Mode;

/// The cluster's line in the report.
pub(super) fn summarize(
    cluster: &ClusterView,
    latest: &Latest<'_>,
    policy: CreatorEntry,
) -> ClusterSummary {
    let inventory = cluster.inventory.as_ref();
    let reaching: Vec<&PrincipalAccess> = inventory
        .iter()
        .flat_map(|i| i.principals.iter())
        .filter(|p| p.via != AccessPath::None)
        .collect();
    let mut blocker_codes: Vec<FindingCode> = inventory
        .iter()
        .flat_map(|i| i.findings.iter())
        .filter(|f| f.severity == Severity::Blocker)
        .map(|f| f.code)
        .collect();
    blocker_codes.sort_unstable();
    blocker_codes.dedup();
    ClusterSummary {
        account: cluster.account.clone(),
        region: cluster.region.clone(),
        name: cluster.name.clone(),
        phase: cluster.phase,
        mode: cluster.mode,
        authentication_mode: cluster.authentication_mode,
        kubernetes_version: cluster.kubernetes_version.clone(),
        tags: cluster.tags.clone(),
        plan: inventory.map(|i| i.summary.clone()),
        blocks_api_mode: inventory.map(|i| i.blocks_api_mode),
        blockers: inventory.map_or(cluster.counts.blockers as usize, |i| i.summary.blockers),
        blocker_codes,
        principals_with_access: reaching.len(),
        cluster_admins: reaching.iter().filter(|p| p.cluster_admin).count(),
        other_account_principals: reaching
            .iter()
            .filter(|p| is_other_account(p, &cluster.account))
            .count(),
        counts: cluster.counts,
        creator: creator(cluster, policy),
        last_error: cluster.last_error.clone(),
        updated_at: rfc3339(cluster.updated_at_ms),
        last_seen_at: cluster.last_seen_ms.map(rfc3339),
        inventory_at: cluster.inventory_at_ms.map(rfc3339),
        sighting: sighting(cluster, latest),
        reachability: reachability(cluster),
        rbac: super::suggestions::cluster_rbac(cluster),
    }
}

/// The cluster's reachability as the report shows it.
fn reachability(cluster: &ClusterView) -> Option<ClusterReachability> {
    let r = cluster.reachability.as_ref()?;
    Some(ClusterReachability {
        class: r.class,
        vpc_id: r.vpc_id.clone(),
        private_access: r.private_access,
        public_access_cidrs: r.public_access_cidrs.clone(),
        egress: r.egress,
        route: cluster.route.as_ref().map(Route::label),
        what_to_deploy: match &cluster.route {
            Some(Route::Unreachable { reason }) => Some(reason.clone()),
            _ => None,
        },
    })
}

/// Whether a principal belongs to another account than the cluster's.
pub(super) fn is_other_account(principal: &PrincipalAccess, cluster_account: &str) -> bool {
    principal
        .account
        .as_deref()
        .is_some_and(|a| a != cluster_account)
}

/// Whether `arn` is the cluster's recorded creator.
pub(super) fn is_creator(cluster: &ClusterView, arn: &str) -> bool {
    cluster
        .creator_principal
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case(arn) || same_role(c, arn))
}

/// What is known of the creator's implicit admin, and whether the policy keeps it.
fn creator(cluster: &ClusterView, policy: CreatorEntry) -> CreatorAdmin {
    let inventory = cluster.inventory.as_ref();
    let status = match (&cluster.creator_principal, cluster.authentication_mode) {
        (Some(_), _) => CreatorStatus::Visible,
        (None, Some(AuthenticationMode::ConfigMap)) => CreatorStatus::NotVisibleInConfigMap,
        (None, Some(_)) => CreatorStatus::NotRecorded,
        (None, None) => CreatorStatus::Unknown,
    };
    let entry_present = cluster.creator_principal.as_ref().and_then(|_| {
        inventory.map(|i| {
            i.principals
                .iter()
                .any(|p| p.via == AccessPath::AccessEntry && is_creator(cluster, &p.principal_arn))
        })
    });
    let policy_keeps = policy == CreatorEntry::Keep || cluster.mode != Mode::Finalize;
    let kept = policy_keeps && entry_present != Some(false);
    let note = creator_note(cluster, status, entry_present, policy, inventory);
    CreatorAdmin {
        status,
        principal: cluster.creator_principal.clone(),
        entry_present,
        policy,
        kept,
        note,
    }
}

fn creator_note(
    cluster: &ClusterView,
    status: CreatorStatus,
    entry_present: Option<bool>,
    policy: CreatorEntry,
    inventory: Option<&ClusterInventory>,
) -> String {
    let policy_says = match (policy, cluster.mode) {
        (CreatorEntry::Keep, _) => "the policy keeps it".to_owned(),
        (CreatorEntry::Remove, Mode::Finalize) => {
            "the policy removes it in finalize, once the cluster is in API mode and a break-glass entry exists".to_owned()
        }
        (CreatorEntry::Remove, mode) => format!(
            "the policy says remove, which only finalize does (this cluster is in {mode} mode), so it stays"
        ),
    };
    let principal = cluster.creator_principal.as_deref().unwrap_or_default();
    match status {
        CreatorStatus::Visible if entry_present == Some(false) => {
            format!("{principal} created the cluster; its admin entry no longer exists.")
        }
        CreatorStatus::Visible => format!(
            "{principal} has cluster-admin through the entry EKS made for the cluster's creator; {policy_says}."
        ),
        CreatorStatus::NotVisibleInConfigMap => format!(
            "Not visible while the cluster is in CONFIG_MAP: the creator's cluster-admin is implicit and shows nowhere; EKS makes it an access entry on the switch to API_AND_CONFIG_MAP, and {policy_says}."
        ),
        CreatorStatus::NotRecorded => {
            let candidates: Vec<&str> = inventory
                .iter()
                .flat_map(|i| i.principals.iter())
                .filter(|p| {
                    p.origin == Origin::OtherEntry
                        && p.cluster_admin
                        && p.via == AccessPath::AccessEntry
                })
                .map(|p| p.principal_arn.as_str())
                .collect();
            let candidates = if candidates.is_empty() {
                "none".to_owned()
            } else {
                candidates.join(", ")
            };
            format!(
                "The cluster left CONFIG_MAP before the migrator recorded the creator's entry; cluster-admin entries nobody configured: {candidates}."
            )
        }
        CreatorStatus::Unknown => {
            "Unknown: the cluster's authentication mode was not observed yet.".to_owned()
        }
    }
}
