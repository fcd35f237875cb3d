//! Clusters whose Kubernetes API is private (docs/networking.md), end to end: the engine
//! through the real SDK against the EKS simulator and moto, the in-VPC agent
//! (functions/cluster-agent) hosted behind the simulator's Lambda Invoke API with its own role's
//! credentials (a moto STS session) and the VPC's gateway as its only way in. The clusters'
//! RBAC is exactly infra/kubernetes/migrator-rbac.yaml, so whatever the agent needs beyond it
//! fails here.
//!
//! Proven: a private cluster finalizes through the agent with every principal's access
//! unchanged (oracle) and every agent write audited with its route; the worker itself cannot
//! reach it (the simulator refuses connections from outside the VPC); a private cluster
//! without an agent is BLOCKED with what to deploy, and goes on once one is deployed; an agent
//! that answers late (after its write landed), answers garbage, another protocol version or
//! crashes is a retryable failure with a clear error and never a partial or repeated write.

mod attacks;
#[path = "../common/mod.rs"]
mod common;
mod listener;
mod migration;
mod world;
