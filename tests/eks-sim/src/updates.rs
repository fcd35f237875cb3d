//! Asynchronous cluster updates coming due, and what EKS does when a cluster leaves
//! CONFIG_MAP: the access entries it creates for node groups, Fargate profiles and the creator.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::model::{
    AccessEntry, AccessScope, AssociatedPolicy, AuthMode, Cluster, IamPrincipal, UpdateStatus,
    World, epoch_now,
};

impl World {
    /// Finishes updates whose time has come, applying their effects (none while
    /// `settings.hold_updates`).
    pub fn settle(&mut self, now: Instant) {
        if self.settings.hold_updates {
            return;
        }
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

/// An access policy association EKS makes itself.
fn associated(name: &str, scope: AccessScope, now: f64) -> (String, AssociatedPolicy) {
    let policy_arn = crate::eks::policies::policy_arn(name);
    (
        policy_arn.clone(),
        AssociatedPolicy {
            policy_arn,
            scope,
            associated_at: now,
            modified_at: now,
        },
    )
}

fn cluster_scope() -> AccessScope {
    AccessScope {
        kind: "cluster".to_owned(),
        namespaces: Vec::new(),
    }
}

/// One entry EKS creates for a feature of its own (unless the principal has one already).
struct FeatureEntry {
    principal: String,
    kind: &'static str,
    username: String,
    policies: Vec<(&'static str, AccessScope)>,
}

/// The entries EKS creates for the features it manages itself, as the EKS user guide describes
/// them: EKS Auto Mode (the node role's `EC2` entry with AmazonEKSAutoNodePolicy; the cluster
/// role's entry with the Auto Mode cluster policies), EKS Capabilities (the capability role's
/// entry with the capability's policies: kro AmazonEKSKROPolicy, ACK AmazonEKSACKPolicy, Argo
/// CD AmazonEKSArgoCDClusterPolicy plus AmazonEKSArgoCDPolicy in namespace `argocd`; username
/// `…:assumed-role/ROLE/<TYPE>`) and SageMaker HyperPod (`HYPERPOD_LINUX`).
pub fn create_feature_entries(cluster: &mut Cluster, iam: &BTreeMap<String, IamPrincipal>) {
    let now = epoch_now();
    let mut wanted: Vec<FeatureEntry> = Vec::new();
    if let Some(auto) = &cluster.auto_mode {
        wanted.push(FeatureEntry {
            principal: auto.node_role_arn.clone(),
            kind: "EC2",
            username: "system:node:{{EC2PrivateDNSName}}".to_owned(),
            policies: vec![("AmazonEKSAutoNodePolicy", cluster_scope())],
        });
        wanted.push(FeatureEntry {
            principal: cluster.role_arn.clone(),
            kind: "STANDARD",
            username: crate::oracle::default_username(&cluster.role_arn),
            policies: [
                "AmazonEKSBlockStorageClusterPolicy",
                "AmazonEKSComputeClusterPolicy",
                "AmazonEKSLoadBalancingClusterPolicy",
                "AmazonEKSNetworkingClusterPolicy",
            ]
            .into_iter()
            .map(|p| (p, cluster_scope()))
            .collect(),
        });
    }
    for capability in cluster.capabilities.values() {
        let policies = match capability.kind.as_str() {
            "ACK" => vec![("AmazonEKSACKPolicy", cluster_scope())],
            "KRO" => vec![("AmazonEKSKROPolicy", cluster_scope())],
            _ => vec![
                ("AmazonEKSArgoCDClusterPolicy", cluster_scope()),
                (
                    "AmazonEKSArgoCDPolicy",
                    AccessScope {
                        kind: "namespace".to_owned(),
                        namespaces: vec!["argocd".to_owned()],
                    },
                ),
            ],
        };
        let session = crate::oracle::default_username(&capability.role_arn)
            .replace("{{SessionName}}", &capability.kind);
        wanted.push(FeatureEntry {
            principal: capability.role_arn.clone(),
            kind: "STANDARD",
            username: session,
            policies,
        });
    }
    for role in &cluster.hyperpod_roles {
        wanted.push(FeatureEntry {
            principal: role.clone(),
            kind: "HYPERPOD_LINUX",
            username: "system:node:{{EC2PrivateDNSName}}".to_owned(),
            policies: Vec::new(),
        });
    }
    for w in wanted {
        let arn = iam
            .get(&w.principal.to_lowercase())
            .map(|p| p.arn.clone())
            .unwrap_or(w.principal);
        if cluster.entries.contains_key(&arn) {
            continue;
        }
        let entry_arn = crate::eks::access_entries::entry_arn(&cluster.key, &arn);
        cluster.entries.insert(
            arn.clone(),
            AccessEntry {
                principal_arn: arn,
                kind: w.kind.to_owned(),
                username: w.username,
                groups: Vec::new(),
                policies: w
                    .policies
                    .into_iter()
                    .map(|(name, scope)| associated(name, scope, now))
                    .collect(),
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
