//! The read-only live path: everything the planner needs about one cluster, gathered through
//! the EKS API, the cluster's Kubernetes API and IAM; and the one write it makes, aws-auth's.
//!
//! [`gather`] reads DescribeCluster (partition, account, mode, endpoint, CA), every managed node
//! group's and Fargate profile's role, every access entry with its policies (all pages; none in
//! CONFIG_MAP mode), kube-system/aws-auth with its resourceVersion, and resolves every principal
//! aws-auth could still grant to its real IAM ARN (with path) in the principal's own account.
//! It changes nothing. Clients use the shared configuration as given (region, credentials,
//! endpoints) plus adaptive retry and timeouts (`crate::sdk_config`).
//!
//! Layout, bottom up: `error` and `options` (vocabulary), `eks` and `iam` (the services'
//! reads), `target` (a cluster named, described and routed), `kube_ctx` and `kube` (the
//! Kubernetes API by the chosen route), then one module per entry point: `gather`, `write`,
//! `rbac`, `cluster`, `caller`, `sighting`.

mod caller;
mod cluster;
mod eks;
mod error;
mod gather;
mod iam;
mod kube;
mod kube_ctx;
mod options;
mod rbac;
mod sighting;
mod target;
mod write;

pub use caller::caller_principal;
pub use cluster::{access_policy_catalogue, cluster_account, cluster_status, update_in_progress};
pub use eks_auth_kube::AwsAuthConfigMap;
pub use error::{
    AgentFailed, GatherError, KubeDenied, KubeStatus, RbacError, Refused, Unreachable, WriteError,
};
pub use gather::{Gathered, gather};
pub use options::GatherOptions;
pub use rbac::{RbacGathered, gather_rbac, gather_rbac_with};
pub use sighting::{sighting, tags_and_creation};
pub use write::write_aws_auth;
