//! eks-auth-aws: the AWS side of eks-auth-migrator.
//!
//! - [`token`] (from eks-auth-kube, shared with the in-VPC agent): the EKS bearer token
//!   (SigV4-presigned STS `GetCallerIdentity`), a pure function of credentials, region, cluster
//!   and time, identical to `aws eks get-token`;
//! - [`exec_credential`]: the `ExecCredential` JSON a kubectl exec plugin prints;
//! - [`live`]: the read-only live path: cluster facts, existing access entries, aws-auth and IAM
//!   resolutions of one cluster, for the planner; the aws-auth write;
//! - [`route`]: how the Kubernetes API is reached — directly, or through the in-VPC agent
//!   (docs/networking.md);
//! - [`engine`]: the migration engine: one cluster through the state machine, every write
//!   audited, under the cluster's lease; rollback;
//! - [`fleet`]: for the Lambda functions: member-account credentials, the job queue, the fleet
//!   scan, the per-job worker, the configuration document;
//! - [`notify`]: EMF metric lines, phase-change events on the central bus, Security Hub
//!   findings, and the SDK call counters behind the throttle and retry metrics;
//! - [`failpoint`]: crash points for tests, compiled out of release builds;
//! - [`store`]: the DynamoDB state store (cluster records with optimistic concurrency, the
//!   per-cluster lease and the process holding it, per-principal records, the audit trail,
//!   aws-auth backups);
//! - `sdk_config`: how every SDK client is configured (retry, timeouts, call counters);
//! - [`sdk_error`]: the one place an SDK error becomes a classified, one-line
//!   [`eks_auth_core::call_failure::CallFailure`] (and how the functions log it).
//!
//! Decisions live in `eks-auth-core` (see `eks_auth_core::state`); this crate moves data. The
//! items re-exported here are for other crates; inside this one, items are imported from the
//! module that defines them.

pub mod engine;
pub mod exec_credential;
pub mod failpoint;
pub mod fleet;
pub mod live;
pub mod notify;
pub mod route;
mod sdk_config;
pub mod sdk_error;
pub mod store;

pub use eks_auth_kube::{ids, token};

pub use exec_credential::{ApiVersion, ExecCredential};
pub use ids::{AccountId, ClusterName, IdError, Region};
pub use store::error::StoreError;
pub use store::{ClusterKey, StateStore};
pub use token::{Token, TokenError};
