//! eks-auth-kube: what eks-auth-migrator does on a cluster's Kubernetes API, shared by the
//! central worker (crates/aws, the direct route) and the in-VPC agent (functions/cluster-agent).
//!
//! - [`token`]: the EKS bearer token (SigV4-presigned STS `GetCallerIdentity`), a pure function
//!   of credentials, region, cluster and time, identical to `aws eks get-token`;
//! - [`ids`]: validated region, cluster name and account ID;
//! - [`client`]: a Kubernetes client for one cluster from its endpoint and CA (DescribeCluster's)
//!   and a bearer token, optionally through an HTTP CONNECT proxy; the errors of a call;
//! - [`aws_auth`]: read kube-system/aws-auth with its resourceVersion, write it conditionally
//!   on that resourceVersion;
//! - [`rbac`]: one page of one RBAC kind, every namespace.
//!
//! No AWS service client is linked here (the agent's binary stays small): the caller brings the
//! credentials and DescribeCluster's facts.

pub mod aws_auth;
pub mod client;
pub mod ids;
pub mod rbac;
pub mod token;

pub use aws_auth::AwsAuthConfigMap;
pub use client::{ClusterEndpoint, KubeCallError, connect, error_chain};
pub use ids::{AccountId, ClusterName, IdError, Region};
pub use token::{Token, TokenError, token};
