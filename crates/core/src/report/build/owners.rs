//! Clusters grouped by owner: one group per owner kind of aws-auth and of the cluster, plus
//! `unknown` and `none`, each cluster with how the owner stands with finalize (the latest plan's
//! finding for that owner). The group blocking the most clusters comes first.

use crate::finding::{Finding, FindingCode, Severity};
use crate::owner::ownership::ClusterOwner;
use crate::report::input::ClusterView;
use crate::report::owner_model::{OwnedCluster, OwnedPart, OwnerGroup, OwnerStatus};
use crate::report::owner_selector::OwnerSelector;
use crate::report::remedy::remedy;
use std::collections::BTreeMap;

/// A group's identity: what it owns and the owner's stable name.
type GroupKey = (OwnedPart, &'static str);

/// Groups `clusters` (already ordered) by owner.
pub(super) fn group(clusters: &[&ClusterView]) -> Vec<OwnerGroup> {
    let mut groups: BTreeMap<GroupKey, OwnerGroup> = BTreeMap::new();
    for cluster in clusters {
        for (key, label, what, member) in memberships(cluster) {
            let group = groups.entry(key).or_insert_with(|| OwnerGroup {
                part: key.0,
                owner: key.1.to_owned(),
                label: label.to_owned(),
                what_to_change: what,
                blocked: 0,
                clusters: Vec::new(),
            });
            group.blocked += usize::from(member.status == OwnerStatus::Blocked);
            group.clusters.push(member);
        }
    }
    let mut groups: Vec<OwnerGroup> = groups.into_values().collect();
    groups.sort_by(|a, b| {
        b.blocked
            .cmp(&a.blocked)
            .then(b.clusters.len().cmp(&a.clusters.len()))
            .then((a.part, &a.owner).cmp(&(b.part, &b.owner)))
    });
    groups
}

/// A group a cluster belongs to, its label, what to change, and the cluster's line in it.
type Membership = (GroupKey, &'static str, String, OwnedCluster);

/// Every group `cluster` belongs to: one per owner recorded, else `unknown` or `none`.
fn memberships(cluster: &ClusterView) -> Vec<Membership> {
    let owners = cluster.owners.as_ref();
    let line = |owner: Option<String>, status| OwnedCluster {
        account: cluster.account.clone(),
        region: cluster.region.clone(),
        name: cluster.name.clone(),
        owner,
        status,
    };
    let mut out = Vec::new();
    if let Some(owners) = owners {
        let aws_auth = &owners.aws_auth.owners;
        let severities_aws_auth = severities(cluster, FindingCode::AwsAuthOwner, aws_auth.len());
        for (owner, severity) in aws_auth.iter().zip(severities_aws_auth) {
            let kind = owner.kind;
            let status = status(severity, kind.undoes_prune());
            let what = if kind.undoes_prune() {
                accept_after(kind.what_to_change())
            } else {
                sentence(kind.what_to_change())
            };
            let key = (OwnedPart::AwsAuth, kind.as_str());
            out.push((
                key,
                kind.human(),
                what,
                line(Some(owner.to_string()), status),
            ));
        }
        let cluster_owners: &[ClusterOwner] = owners.cluster.as_ref().map_or(&[], |c| &c.owners);
        let severities_cluster =
            severities(cluster, FindingCode::ClusterOwner, cluster_owners.len());
        for (owner, severity) in cluster_owners.iter().zip(severities_cluster) {
            let kind = owner.kind;
            let status = status(severity, true);
            let key = (OwnedPart::Cluster, kind.as_str());
            let what = accept_after(kind.what_to_change());
            out.push((
                key,
                kind.human(),
                what,
                line(Some(owner.to_string()), status),
            ));
        }
    }
    if out.is_empty() {
        let (selector, label, what) = if OwnerSelector::None.matches(owners) {
            (
                OwnerSelector::None,
                "No owner",
                "Nothing: no tool is known to write aws-auth or to own the cluster.".to_owned(),
            )
        } else {
            (
                OwnerSelector::Unknown,
                "Owner unknown",
                remedy(FindingCode::OwnerUnknown).to_owned(),
            )
        };
        let key = (OwnedPart::Nothing, selector.name());
        // Nobody known to own anything blocks finalize (unknown owners get a note); a cluster
        // never planned has no finding at all.
        let status = if cluster.inventory.is_some() {
            OwnerStatus::NotBlocking
        } else {
            OwnerStatus::NotPlanned
        };
        out.push((key, label, what, line(None, status)));
    }
    out
}

/// The severity of each owner's finding in the latest plan, in the order the owners are
/// recorded (the planner writes one finding per owner, in that order); `None` for every owner
/// when the findings do not line up with the recorded owners (no plan stored, or an older one).
fn severities(cluster: &ClusterView, code: FindingCode, count: usize) -> Vec<Option<Severity>> {
    let findings: &[Finding] = cluster.inventory.as_ref().map_or(&[], |i| &i.findings);
    let found: Vec<Severity> = findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| f.severity)
        .collect();
    if found.len() == count {
        found.into_iter().map(Some).collect()
    } else {
        vec![None; count]
    }
}

/// An owner's status from its finding's severity: a blocker blocks; a note on an owner that
/// would block says the configuration accepts it; anything else does not block.
fn status(severity: Option<Severity>, would_block: bool) -> OwnerStatus {
    match severity {
        None => OwnerStatus::NotPlanned,
        Some(Severity::Blocker) => OwnerStatus::Blocked,
        Some(Severity::Info) if would_block => OwnerStatus::Accepted,
        Some(_) => OwnerStatus::NotBlocking,
    }
}

/// What to change, then the acceptance that lets finalize proceed.
fn accept_after(what: &str) -> String {
    format!(
        "{}; then accept the owner for the cluster in the configuration's `owners.accept`.",
        capitalised(what)
    )
}

/// `what` as a sentence.
fn sentence(what: &str) -> String {
    format!("{}.", capitalised(what))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
