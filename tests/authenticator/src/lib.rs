//! aws-auth as aws-iam-authenticator reads it: an independent reference reader for tests.
//!
//! Written from the authenticator's behaviour (kubernetes-sigs/aws-iam-authenticator: the
//! ConfigMap mapper, its config types and ARN handling, and their tests), not from
//! eks-auth-core's `aws_auth` module, with which it shares no code. The EKS simulator
//! authenticates callers and answers its effective-access oracle with it, and eks-auth-core's
//! property and differential tests judge the product against it.
//!
//! What it models, step by step as the authenticator does:
//! - each `data` key on its own: `mapRoles` and `mapUsers` go YAML → JSON ([`json`], with the
//!   YAML 1.1 scalar rules of Go's yaml.v2, [`resolve`]) → Go `encoding/json` into mapping
//!   structs ([`decode`]: case-insensitive field names, wrongly typed fields left empty,
//!   unknown fields ignored); `mapAccounts` goes straight from YAML into a list of strings;
//!   a key that cannot be read is lost whole, the others still load;
//! - rows validated one at a time ([`mapping`]): a role needs exactly one of `rolearn`/`sso`,
//!   a user needs `userarn`; invalid rows are dropped;
//! - lookups ([`store`]): the caller's canonical ARN ([`arn`]), lower-cased, against roles
//!   (keyed by lower-cased ARN: the last row wins), then users (keyed by the exact ARN, matched
//!   case-insensitively: case variants make the answer depend on Go's map order, reported as
//!   [`store::Lookup::Ambiguous`]), then `mapAccounts` (the canonical ARN, no groups); `sso`
//!   rows never match (the authenticator's SSORoleMatch feature gate is off by default);
//! - templates in usernames and groups ([`template`]).
//!
//! It does not call EC2 (`{{EC2PrivateDNSName}}` renders only with a name the caller
//! supplies) and does not model the authenticator's other backends (CRD, dynamic file).

pub mod arn;
pub mod configmap;
pub mod decode;
pub mod json;
pub mod mapping;
pub mod resolve;
pub mod store;
pub mod template;
pub mod yaml;

pub use store::{AwsAuth, Identity, Lookup, RowRef, Source};
