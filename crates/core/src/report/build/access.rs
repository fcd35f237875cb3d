//! The access inventory: the clusters' principals regrouped by principal.

use super::clusters::{is_creator, is_other_account};
use crate::inventory::{AccessPath, IamStatus, PrincipalAccess};
use crate::report::access::{AccessInventory, CallOut, ClusterAccess, PrincipalAccessSummary};
use crate::report::cluster_ref::ClusterRef;
use crate::report::filter::Filter;
use crate::report::input::ClusterView;
use std::collections::BTreeMap;

/// One principal's lines, with and without access.
#[derive(Default)]
struct Lines {
    account: Option<String>,
    reaching: Vec<ClusterAccess>,
    not_reaching: Vec<ClusterAccess>,
}

/// Regroups the principals of `clusters` (already ordered) by ARN.
pub(super) fn inventory(clusters: &[&ClusterView], filter: &Filter) -> AccessInventory {
    let mut by_principal: BTreeMap<&str, Lines> = BTreeMap::new();
    for cluster in clusters {
        let Some(inventory) = &cluster.inventory else {
            continue;
        };
        for principal in &inventory.principals {
            if !filter.keeps_principal(&principal.principal_arn) {
                continue;
            }
            let lines = by_principal.entry(&principal.principal_arn).or_default();
            if lines.account.is_none() {
                lines.account.clone_from(&principal.account);
            }
            let access = line(cluster, principal);
            if access.via == AccessPath::None {
                lines.not_reaching.push(access);
            } else {
                lines.reaching.push(access);
            }
        }
    }
    let mut out = AccessInventory::default();
    for (arn, lines) in by_principal {
        let refs = |keep: fn(&ClusterAccess) -> bool, lines: &[ClusterAccess]| -> Vec<ClusterRef> {
            lines
                .iter()
                .filter(|a| keep(a))
                .map(ClusterAccess::cluster_ref)
                .collect()
        };
        let admin_on = refs(|a| a.cluster_admin, &lines.reaching);
        let other_on = refs(|a| a.other_account, &lines.reaching);
        let mut gone = refs(|a| a.iam == IamStatus::NotFound, &lines.reaching);
        gone.extend(refs(|a| a.iam == IamStatus::NotFound, &lines.not_reaching));
        gone.sort();
        let account = &lines.account;
        push_call_out(&mut out.cluster_admins, arn, account, admin_on);
        push_call_out(&mut out.other_account, arn, account, other_on);
        push_call_out(&mut out.iam_not_found, arn, account, gone);
        if !lines.reaching.is_empty() {
            out.principals
                .push(summary(arn, account.clone(), lines.reaching));
        }
        if !lines.not_reaching.is_empty() {
            out.named_without_access
                .push(summary(arn, lines.account, lines.not_reaching));
        }
    }
    out
}

fn push_call_out(
    list: &mut Vec<CallOut>,
    arn: &str,
    account: &Option<String>,
    clusters: Vec<ClusterRef>,
) {
    if !clusters.is_empty() {
        list.push(CallOut {
            principal_arn: arn.to_owned(),
            account: account.clone(),
            clusters,
        });
    }
}

fn summary(
    arn: &str,
    account: Option<String>,
    clusters: Vec<ClusterAccess>,
) -> PrincipalAccessSummary {
    PrincipalAccessSummary {
        principal_arn: arn.to_owned(),
        account,
        cluster_count: clusters.len(),
        cluster_admin_on: clusters.iter().filter(|a| a.cluster_admin).count(),
        other_account_on: clusters.iter().filter(|a| a.other_account).count(),
        clusters,
    }
}

/// One principal's line for one cluster.
fn line(cluster: &ClusterView, p: &PrincipalAccess) -> ClusterAccess {
    let reaches = p.via != AccessPath::None;
    ClusterAccess {
        account: cluster.account.clone(),
        region: cluster.region.clone(),
        cluster: cluster.name.clone(),
        via: p.via,
        origin: p.origin,
        username: p.username.clone(),
        groups: p.groups.clone(),
        policies: p.policies.clone(),
        entry_type: p.entry_type,
        cluster_admin: reaches && p.cluster_admin,
        other_account: is_other_account(p, &cluster.account),
        creator: is_creator(cluster, &p.principal_arn),
        managed_by_migrator: p.managed_by_migrator,
        iam: p.iam,
        source: p.source.clone(),
        action: p.action,
        target: p.target.clone(),
        codes: p.codes.clone(),
    }
}
