//! The RBAC suggestions summed across clusters: per aws-auth group (or username with User
//! bindings), on how many clusters each verdict holds and which access policy replaces it
//! exactly where.

use crate::inventory::{RbacDigest, SubjectVerdict};
use crate::report::cluster_ref::ClusterRef;
use crate::report::input::ClusterView;
use crate::report::model::{
    ClusterRbac, PolicySuggestion, SubjectSuggestions, Suggestions, UnreadableRbac,
};
use crate::suggest::Verdict;
use std::collections::BTreeMap;

/// A cluster's RBAC status for its line in the report.
pub(super) fn cluster_rbac(cluster: &ClusterView) -> ClusterRbac {
    match cluster.inventory.as_ref().and_then(|i| i.rbac.as_ref()) {
        None => ClusterRbac::NotAnalysed,
        Some(RbacDigest::Analysed { counts, .. }) => ClusterRbac::Analysed { counts: *counts },
        Some(RbacDigest::Unreadable { reason }) => ClusterRbac::Unreadable {
            reason: reason.clone(),
        },
    }
}

/// The suggestions of `clusters` (already filtered and ordered).
pub(super) fn sum(clusters: &[&ClusterView]) -> Suggestions {
    let mut out = Suggestions::default();
    let mut subjects: BTreeMap<(crate::rbac::SubjectKind, String), SubjectSuggestions> =
        BTreeMap::new();
    for cluster in clusters {
        let at = ClusterRef {
            account: cluster.account.clone(),
            region: cluster.region.clone(),
            name: cluster.name.clone(),
        };
        match cluster.inventory.as_ref().and_then(|i| i.rbac.as_ref()) {
            None => {}
            Some(RbacDigest::Unreadable { reason }) => out.unreadable.push(UnreadableRbac {
                cluster: at,
                reason: reason.clone(),
            }),
            Some(RbacDigest::Analysed {
                counts,
                subjects: verdicts,
            }) => {
                out.clusters_analysed += 1;
                out.totals += *counts;
                for v in verdicts {
                    let entry = subjects.entry((v.kind, v.name.clone())).or_insert_with(|| {
                        SubjectSuggestions {
                            kind: v.kind,
                            name: v.name.clone(),
                            clusters: 0,
                            exact: 0,
                            lossy: 0,
                            broader: 0,
                            none: 0,
                            unbound: 0,
                            unreadable: 0,
                            exact_policies: Vec::new(),
                        }
                    });
                    add_verdict(entry, v, &at);
                }
            }
        }
    }
    out.subjects = subjects.into_values().collect();
    for s in &mut out.subjects {
        s.exact_policies.sort_by(|a, b| {
            b.clusters
                .len()
                .cmp(&a.clusters.len())
                .then(a.policy.cmp(&b.policy))
        });
    }
    out.subjects.sort_by(|a, b| {
        b.exact
            .cmp(&a.exact)
            .then(b.clusters.cmp(&a.clusters))
            .then((a.kind, &a.name).cmp(&(b.kind, &b.name)))
    });
    out
}

/// Counts one cluster's verdict for a subject, and where an exact suggestion holds.
fn add_verdict(entry: &mut SubjectSuggestions, v: &SubjectVerdict, at: &ClusterRef) {
    entry.clusters += 1;
    match v.verdict {
        Verdict::Exact => entry.exact += 1,
        Verdict::Lossy => entry.lossy += 1,
        Verdict::Broader => entry.broader += 1,
        Verdict::None => entry.none += 1,
        Verdict::Unbound => entry.unbound += 1,
        Verdict::Unreadable => entry.unreadable += 1,
    }
    if let (Verdict::Exact, Some(policy), Some(scope)) = (v.verdict, &v.policy, &v.access_scope) {
        match entry
            .exact_policies
            .iter_mut()
            .find(|p| &p.policy == policy && &p.access_scope == scope)
        {
            Some(p) => p.clusters.push(at.clone()),
            None => entry.exact_policies.push(PolicySuggestion {
                policy: policy.clone(),
                access_scope: scope.clone(),
                clusters: vec![at.clone()],
            }),
        }
    }
}
