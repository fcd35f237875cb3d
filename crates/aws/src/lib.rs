//! eks-auth-aws: the AWS side of eks-auth-migrator.
//!
//! - [`token`]: the EKS bearer token (SigV4-presigned STS `GetCallerIdentity`), a pure function
//!   of credentials, region, cluster and time, identical to `aws eks get-token`;
//! - [`exec_credential`]: the `ExecCredential` JSON a kubectl exec plugin prints;
//! - [`store`]: the DynamoDB state store (cluster records with optimistic concurrency, the
//!   per-cluster lease, per-principal records, audit records, aws-auth backups).
//!
//! Decisions live in `eks-auth-core` (see `eks_auth_core::state`); this crate moves data. It does
//! not yet talk to EKS, IAM, STS, Organizations, SQS or Kubernetes.

pub mod exec_credential;
pub mod ids;
pub mod store;
pub mod token;

pub use exec_credential::{ApiVersion, ExecCredential};
pub use ids::{AccountId, ClusterName, IdError, Region};
pub use store::error::StoreError;
pub use store::{ClusterKey, StateStore};
pub use token::{Token, TokenError, token};
