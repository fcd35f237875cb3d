//! Asynchronous cluster updates coming due, and what EKS does when a cluster leaves
//! CONFIG_MAP: the access entries it creates for node groups, Fargate profiles and the creator.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::model::{
    AccessEntry, AccessScope, AssociatedPolicy, AuthMode, Cluster, IamPrincipal, UpdateStatus,
    World, epoch_now,
};

impl World {
    /// Finishes updates whose time has come, applying their effects.
    pub fn settle(&mut self, now: Instant) {
        let iam = &self.iam;
        let mut ids = Vec::new();
        for cluster in self.clusters.values_mut() {
            let due: Vec<AuthMode> = cluster
                .updates
                .iter_mut()
                .filter(|u| u.status == UpdateStatus::InProgress && u.completes_at <= now)
                .map(|u| {
                    u.status = UpdateStatus::Successful;
                    u.target
                })
                .collect();
            for target in due {
                let from = cluster.mode;
                cluster.mode = target;
                cluster.status = "ACTIVE".to_owned();
                if from == AuthMode::ConfigMap {
                    ids.push(cluster.key.clone());
                }
            }
        }
        for key in ids {
            if let Some(cluster) = self.clusters.get_mut(&key) {
                create_service_entries(cluster, iam);
            }
        }
    }
}

/// The entries EKS creates itself when a cluster leaves CONFIG_MAP (also applied to clusters
/// seeded in an API mode): node-group roles
/// (EC2_LINUX), Fargate pod-execution roles (FARGATE_LINUX) and the creator (ClusterAdmin).
pub fn create_service_entries(cluster: &mut Cluster, iam: &BTreeMap<String, IamPrincipal>) {
    let now = epoch_now();
    let mut wanted: Vec<(String, &str, String, Vec<String>)> = Vec::new();
    for ng in cluster.nodegroups.values() {
        wanted.push((
            ng.node_role.clone(),
            "EC2_LINUX",
            "system:node:{{EC2PrivateDNSName}}".to_owned(),
            vec!["system:nodes".to_owned()],
        ));
    }
    for fp in cluster.fargate_profiles.values() {
        wanted.push((
            fp.pod_execution_role_arn.clone(),
            "FARGATE_LINUX",
            "system:node:{{SessionName}}".to_owned(),
            vec!["system:node-proxier".to_owned(), "system:nodes".to_owned()],
        ));
    }
    let creator = cluster.creator.clone();
    if let Some(creator) = &creator {
        let username = crate::oracle::default_username(creator);
        wanted.push((creator.clone(), "STANDARD", username, Vec::new()));
    }
    for (arn, kind, username, groups) in wanted {
        let arn = iam
            .get(&arn.to_lowercase())
            .map(|p| p.arn.clone())
            .unwrap_or(arn);
        if cluster.entries.contains_key(&arn) {
            continue;
        }
        let mut policies = BTreeMap::new();
        if creator.as_deref() == Some(arn.as_str()) {
            let policy_arn = crate::eks::policies::policy_arn("AmazonEKSClusterAdminPolicy");
            policies.insert(
                policy_arn.clone(),
                AssociatedPolicy {
                    policy_arn,
                    scope: AccessScope {
                        kind: "cluster".to_owned(),
                        namespaces: Vec::new(),
                    },
                    associated_at: now,
                    modified_at: now,
                },
            );
        }
        let entry_arn = crate::eks::access_entries::entry_arn(&cluster.key, &arn);
        cluster.entries.insert(
            arn.clone(),
            AccessEntry {
                principal_arn: arn,
                kind: kind.to_owned(),
                username,
                groups,
                policies,
                tags: BTreeMap::new(),
                arn: entry_arn,
                created_at: now,
                modified_at: now,
                consistent_after: None,
                inconsistent_calls: 0,
            },
        );
    }
}
