//! Blocker findings grouped by code, the code holding back the most clusters first.

use crate::finding::{FindingCode, Severity};
use crate::report::filter::Filter;
use crate::report::input::ClusterView;
use crate::report::model::{BlockedCluster, BlockerFinding, BlockerGroup};
use crate::report::remedy::remedy;
use std::collections::BTreeMap;

/// Groups the blocker findings of `clusters` (already ordered) by code.
pub(super) fn group(clusters: &[&ClusterView], filter: &Filter) -> Vec<BlockerGroup> {
    let mut by_code: BTreeMap<FindingCode, Vec<BlockedCluster>> = BTreeMap::new();
    for cluster in clusters {
        let Some(inventory) = &cluster.inventory else {
            continue;
        };
        for finding in &inventory.findings {
            if finding.severity != Severity::Blocker || !filter.keeps_code(finding.code) {
                continue;
            }
            let affected = by_code.entry(finding.code).or_default();
            let same_cluster = affected.last().is_some_and(|b| {
                b.account == cluster.account && b.region == cluster.region && b.name == cluster.name
            });
            if !same_cluster {
                affected.push(BlockedCluster {
                    account: cluster.account.clone(),
                    region: cluster.region.clone(),
                    name: cluster.name.clone(),
                    findings: Vec::new(),
                });
            }
            if let Some(last) = affected.last_mut() {
                last.findings.push(BlockerFinding {
                    location: finding.location.clone(),
                    message: finding.message.clone(),
                });
            }
        }
    }
    let mut groups: Vec<BlockerGroup> = by_code
        .into_iter()
        .map(|(code, affected)| BlockerGroup {
            code,
            remedy: remedy(code).to_owned(),
            clusters: affected.len(),
            findings: affected.iter().map(|b| b.findings.len()).sum(),
            affected,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.clusters
            .cmp(&a.clusters)
            .then(b.findings.cmp(&a.findings))
            .then(a.code.cmp(&b.code))
    });
    groups
}
