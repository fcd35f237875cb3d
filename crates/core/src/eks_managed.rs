//! Access entries EKS creates and manages itself. The migrator never adopts, changes or
//! deletes them (rollback included), and shows them as EKS-managed.
//!
//! Recognised from the facts (EKS user guide, 2026): managed node groups' roles (`EC2_LINUX` /
//! `EC2_WINDOWS`, made on the switch from CONFIG_MAP), Fargate pod-execution roles
//! (`FARGATE_LINUX`), EKS Capabilities' roles (ACK, Argo CD, kro: "When you create a capability
//! with an IAM role, Amazon EKS automatically creates an access entry for that role"), EKS Auto
//! Mode's node role (type `EC2` with AmazonEKSAutoNodePolicy) and cluster role (the Auto Mode
//! cluster policies), and SageMaker HyperPod (`HYPERPOD_LINUX`, HyperPod's policies). The
//! cluster creator's entry, also made by EKS, is recognised by the engine when it appears on
//! the migrator's own switch (it is not a fact of the cluster).

use crate::access_entry::EntryType;
use crate::access_policies::{
    AUTO_MODE_CLUSTER_POLICIES, AUTO_MODE_NODE_POLICY, HYPERPOD_POLICY_PREFIX,
};
use crate::facts::{ClusterFacts, ExistingEntry, same_role};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which EKS feature made an entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EksManaged {
    /// A managed node group's node role.
    NodeGroup,
    /// A Fargate profile's pod-execution role.
    Fargate,
    /// An EKS Capability's role.
    Capability {
        /// The capability's name.
        name: String,
        /// Its type (`ACK`, `ARGOCD`, `KRO`).
        #[serde(rename = "capability_type")]
        capability_type: String,
    },
    /// EKS Auto Mode's node role (type `EC2`).
    AutoModeNode,
    /// EKS Auto Mode's cluster role.
    AutoModeCluster,
    /// SageMaker HyperPod.
    #[serde(rename = "hyperpod")]
    HyperPod,
}

impl fmt::Display for EksManaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EksManaged::NodeGroup => f.write_str("managed node group"),
            EksManaged::Fargate => f.write_str("Fargate profile"),
            EksManaged::Capability {
                name,
                capability_type,
            } => write!(f, "EKS Capability {name} ({capability_type})"),
            EksManaged::AutoModeNode => f.write_str("EKS Auto Mode nodes"),
            EksManaged::AutoModeCluster => f.write_str("EKS Auto Mode cluster role"),
            EksManaged::HyperPod => f.write_str("SageMaker HyperPod"),
        }
    }
}

/// Which EKS feature manages `entry`, or `None` for an entry someone (or the migrator) made.
pub fn eks_managed(entry: &ExistingEntry, facts: &ClusterFacts) -> Option<EksManaged> {
    let has_policy =
        |test: &dyn Fn(&str) -> bool| entry.access_policies.iter().any(|p| test(p.name()));
    let features = &facts.eks_features;
    if let Some(capability) = features
        .capabilities
        .iter()
        .find(|c| same_role(&c.role_arn, &entry.principal_arn))
    {
        return Some(EksManaged::Capability {
            name: capability.name.clone(),
            capability_type: capability.capability_type.clone(),
        });
    }
    let auto = features.auto_mode.as_ref();
    let auto_role =
        |role: Option<&String>| role.is_some_and(|r| same_role(r, &entry.principal_arn));
    match entry.entry_type {
        EntryType::FargateLinux => Some(EksManaged::Fargate),
        EntryType::HyperpodLinux => Some(EksManaged::HyperPod),
        EntryType::Ec2 => Some(EksManaged::AutoModeNode),
        EntryType::Ec2Linux | EntryType::Ec2Windows
            if ClusterFacts::role_listed(&facts.node_group_roles, &entry.principal_arn) =>
        {
            Some(EksManaged::NodeGroup)
        }
        _ if auto_role(auto.and_then(|a| a.node_role_arn.as_ref()))
            || has_policy(&|name| name == AUTO_MODE_NODE_POLICY) =>
        {
            Some(EksManaged::AutoModeNode)
        }
        _ if auto_role(auto.and_then(|a| a.cluster_role_arn.as_ref()))
            || has_policy(&|name| AUTO_MODE_CLUSTER_POLICIES.contains(&name)) =>
        {
            Some(EksManaged::AutoModeCluster)
        }
        _ if has_policy(&|name| name.starts_with(HYPERPOD_POLICY_PREFIX)) => {
            Some(EksManaged::HyperPod)
        }
        _ => None,
    }
}

/// Every EKS-managed entry of the cluster with the feature that made it, in principal order.
pub fn eks_managed_entries(facts: &ClusterFacts) -> Vec<(&ExistingEntry, EksManaged)> {
    facts
        .existing_entries
        .iter()
        .filter_map(|e| eks_managed(e, facts).map(|kind| (e, kind)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_entry::{AccessPolicy, AccessScope};
    use crate::facts::{AutoModeFact, CapabilityFact, EksFeatures};

    const ACCT: &str = "111122223333";

    fn entry(name: &str, entry_type: EntryType, policies: &[&str]) -> ExistingEntry {
        ExistingEntry {
            principal_arn: format!("arn:aws:iam::{ACCT}:role/{name}"),
            entry_type,
            username: None,
            kubernetes_groups: Vec::new(),
            access_policies: policies
                .iter()
                .map(|p| AccessPolicy {
                    policy_arn: format!("arn:aws:eks::aws:cluster-access-policy/{p}"),
                    access_scope: AccessScope::cluster(),
                })
                .collect(),
            managed_by_migrator: false,
        }
    }

    #[test]
    fn every_kind_is_recognised() {
        let facts = ClusterFacts {
            node_group_roles: vec![format!("arn:aws:iam::{ACCT}:role/ng")],
            eks_features: EksFeatures {
                capabilities: vec![CapabilityFact {
                    name: "argocd".to_owned(),
                    capability_type: "ARGOCD".to_owned(),
                    // Capability roles may have a path; EKS names the role with it.
                    role_arn: format!("arn:aws:iam::{ACCT}:role/caps/argo"),
                }],
                auto_mode: Some(AutoModeFact {
                    cluster_role_arn: Some(format!("arn:aws:iam::{ACCT}:role/auto-cluster")),
                    node_role_arn: Some(format!("arn:aws:iam::{ACCT}:role/auto-node")),
                }),
            },
            ..ClusterFacts::default()
        };
        let cases = [
            (
                entry("ng", EntryType::Ec2Linux, &[]),
                Some(EksManaged::NodeGroup),
            ),
            (entry("karpenter", EntryType::Ec2Linux, &[]), None),
            (
                entry("pods", EntryType::FargateLinux, &[]),
                Some(EksManaged::Fargate),
            ),
            (
                entry(
                    "argo",
                    EntryType::Standard,
                    &["AmazonEKSArgoCDClusterPolicy"],
                ),
                Some(EksManaged::Capability {
                    name: "argocd".to_owned(),
                    capability_type: "ARGOCD".to_owned(),
                }),
            ),
            (
                entry("auto-node", EntryType::Ec2, &["AmazonEKSAutoNodePolicy"]),
                Some(EksManaged::AutoModeNode),
            ),
            (
                entry("auto-cluster", EntryType::Standard, &[]),
                Some(EksManaged::AutoModeCluster),
            ),
            (
                entry(
                    "other",
                    EntryType::Standard,
                    &["AmazonEKSComputeClusterPolicy"],
                ),
                Some(EksManaged::AutoModeCluster),
            ),
            (
                entry("hp", EntryType::HyperpodLinux, &[]),
                Some(EksManaged::HyperPod),
            ),
            (
                entry(
                    "hp-ctl",
                    EntryType::Standard,
                    &["AmazonSagemakerHyperpodControllerPolicy"],
                ),
                Some(EksManaged::HyperPod),
            ),
            (
                entry(
                    "admin",
                    EntryType::Standard,
                    &["AmazonEKSClusterAdminPolicy"],
                ),
                None,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(eks_managed(&e, &facts), want, "{}", e.principal_arn);
        }
    }
}
