//! eks-sim: an in-memory EKS control plane for tests and demos.
//!
//! It serves the EKS REST API subset eks-auth-migrator uses (restJson1, real paths, status
//! codes, error shapes and messages; access entries together with authentication-mode
//! updates), one Kubernetes API per cluster over HTTPS with its own CA (ConfigMaps with
//! resourceVersion semantics, bearer tokens verified like the authenticator), an
//! effective-access oracle, fault injection and a fleet generator. Each cluster's endpoint
//! access (public, restricted to CIDRs, private) is enforced: a VPC gateway stands for being
//! inside the cluster's VPC ([`network`]), and Lambda's Invoke API hosts in-process functions
//! (the in-VPC agents, [`lambda`]). [`canned`] adds endpoints for the failures nothing else
//! produces (one AWS error for every request, or no answer at all). It does not simulate anything else of EKS (cluster
//! creation, add-ons), nor STS/IAM themselves: IAM principals and credentials come from the
//! [`seed::Seed`]; moto covers the other services.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = eks_sim::Sim::start(eks_sim::seed::Seed::default()).await?;
//! println!("AWS_ENDPOINT_URL_EKS={}", sim.url());
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub mod canned;
pub mod clock;
pub mod eks;
pub mod faults;
pub mod fleet;
pub mod harness;
pub mod kube_api;
pub mod kube_store;
pub mod lambda;
pub mod model;
pub mod network;
pub mod one_line;
pub mod oracle;
pub mod rbac;
pub mod rbac_store;
pub mod request_auth;
pub mod seed;
pub mod server;
pub mod signing_key;
pub mod sigv4;
pub mod sts;
pub mod tls;
pub mod token;
pub mod updates;
pub mod wire;

pub use server::{Sim, SimError};
