//! Who owns a cluster's aws-auth and the cluster itself: the GitOps controller, package manager
//! or IaC tool whose next run would undo what the migrator changed behind its back (invariant
//! 8: it never fights the cluster's owners).
//!
//! From the bottom up: [`metadata`] (the object metadata detection reads, in Kubernetes' own
//! JSON shape), [`marker`] (the evidence: which managedFields entry, annotation, label or tag
//! said so), [`kind`] (the owners: [`kind::AwsAuthOwnerKind`], [`kind::ClusterOwnerKind`]),
//! [`ownership`] (what detection found, as facts, plans and records carry it), [`known`] (every
//! marker recognised, each with its source), [`detect`] (metadata and tags → ownership),
//! [`acceptance`] (the owners a platform team has told the migrator it dealt with) and
//! [`findings`] (ownership → the plan's findings, the prune blocker among them).

pub mod acceptance;
pub mod detect;
pub mod findings;
pub mod kind;
pub mod known;
pub mod marker;
pub mod metadata;
pub mod ownership;
