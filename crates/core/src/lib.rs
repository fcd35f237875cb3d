//! eks-auth-core: the pure core of eks-auth-migrator.
//!
//! It reads a cluster's `kube-system/aws-auth` ConfigMap the way EKS's authenticator does,
//! decides how each row becomes an EKS access entry, and renders that plan. It performs no I/O,
//! has no async runtime and no AWS SDK types: adapters gather [`facts::ClusterFacts`] and execute
//! a [`plan::Plan`].

pub mod access_entry;
pub mod access_policies;
pub mod agent_auth;
pub mod agent_pin;
pub mod agent_protocol;
pub mod arn;
pub mod aws_auth;
pub mod call_failure;
/// The Lambda functions' configuration document (docs/configuration.md): validation, account
/// scope and which mode a cluster gets.
pub mod config;
pub mod eks_endpoint;
pub mod eks_managed;
pub mod export;
pub mod facts;
pub mod failure_decision;
pub mod finding;
pub mod inventory;
pub mod jobs;
/// What a cluster's mode tag may do: lower the mode, or raise it only where the configuration
/// allows.
pub mod mode_tag;
pub mod notify;
pub mod observation;
pub mod owner;
pub mod plan;
pub mod planner;
pub mod policy;
/// Finalize-phase prune: removing the aws-auth rows that verified access entries now represent.
pub mod prune;
pub mod rbac;
pub mod reach;
pub mod render;
pub mod report;
pub mod rollback;
/// The account and region scope every path (scan, events, worker) applies.
pub mod scope;
pub mod state;
pub mod suggest;
pub mod template;
mod value_kind;

pub use planner::{plan, plan_with_owners};
