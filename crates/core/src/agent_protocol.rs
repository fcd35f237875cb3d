//! The in-VPC agent's protocol (docs/cluster-agent.md, schema docs/agent-protocol.schema.json):
//! the one request the central worker sends to `functions/cluster-agent` through a synchronous
//! Lambda invocation, and the one response it gets back. Versioned and narrow on purpose: three
//! operations on one cluster's Kubernetes API — read kube-system/aws-auth (with its
//! resourceVersion), write it conditionally on that resourceVersion, list one page of one RBAC
//! kind — and nothing else. Payloads name the cluster (endpoint and CA are public facts of
//! DescribeCluster) and carry aws-auth's data; never a credential or a token: the agent signs
//! its own bearer token with its own role. The agent holds no migration state.
//!
//! Both sides decode with [`decode_request`] / [`decode_response`], which check the version
//! before anything else, so a peer of another version gets a precise error instead of a
//! confusing one, and refuse unknown fields.
//!
//! Every request the worker sends is signed ([`AgentRequest::auth`], the canonical form and its
//! checks in [`crate::agent_auth`]): the agent carries out nothing that the central worker did
//! not sign for that cluster, operation and payload, within a minute, once.

use crate::value_kind::kind_of;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The protocol version this build speaks.
pub const AGENT_PROTOCOL_VERSION: u32 = 1;

/// The largest RBAC page an agent returns (a Lambda response holds at most 6 MB).
pub const MAX_RBAC_PAGE: u32 = 500;

/// The RBAC kinds an agent lists, by their URL resource names.
pub const RBAC_RESOURCES: [&str; 4] = [
    "clusterroles",
    "clusterrolebindings",
    "roles",
    "rolebindings",
];

/// One request to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentRequest {
    /// [`AGENT_PROTOCOL_VERSION`].
    pub version: u32,
    /// The cluster, as DescribeCluster describes it.
    pub cluster: AgentCluster,
    /// What to do.
    pub operation: Operation,
    /// The worker's signature over the request ([`crate::agent_auth`]); an agent refuses a
    /// request without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RequestAuth>,
}

/// The worker's signature of a request ([`AgentRequest::auth`]; the signed form and its checks
/// are in [`crate::agent_auth`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestAuth {
    /// The KMS key that signed (its ARN), named in refusals.
    pub key_id: String,
    /// `ECDSA_SHA_256` ([`crate::agent_auth::SIGNING_ALGORITHM`]).
    pub algorithm: String,
    /// Unique per request: 16 to 64 lower-case letters, digits and dashes.
    pub request_id: String,
    /// Unix seconds after which the request is refused.
    pub expires_at: u64,
    /// The DER-encoded signature, in lower-case hex.
    pub signature: String,
}

/// The cluster a request is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCluster {
    /// Its name (the bearer token is bound to it).
    pub name: String,
    /// Its region.
    pub region: String,
    /// Its Kubernetes API endpoint (`https://…`), from DescribeCluster.
    pub endpoint: String,
    /// `certificateAuthority.data` from DescribeCluster (base64 of PEM).
    pub certificate_authority: String,
    /// Its ARN (`arn:<partition>:eks:<region>:<account>:cluster/<name>`): what a signature binds
    /// the request to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

/// The operations an agent performs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// GET kube-system/aws-auth (a struct variant, so that unknown fields are refused).
    ReadAwsAuth {},
    /// Set aws-auth's `data` to `data`, only if it is still at `resource_version` (a JSON merge
    /// patch with `metadata.resourceVersion` as precondition; keys of `current` that `data`
    /// lacks are removed).
    WriteAwsAuth {
        /// The resourceVersion read (the precondition).
        resource_version: String,
        /// The `data` read at that version.
        current: BTreeMap<String, String>,
        /// The `data` to write.
        data: BTreeMap<String, String>,
    },
    /// One page of one RBAC kind in every namespace.
    ListRbac {
        /// One of [`RBAC_RESOURCES`].
        resource: String,
        /// Items per page, 1 to [`MAX_RBAC_PAGE`].
        limit: u32,
        /// The previous page's continue token.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continue_token: Option<String>,
    },
}

impl Operation {
    /// `read_aws_auth`, `write_aws_auth` or `list_rbac`.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::ReadAwsAuth {} => "read_aws_auth",
            Operation::WriteAwsAuth { .. } => "write_aws_auth",
            Operation::ListRbac { .. } => "list_rbac",
        }
    }
}

/// One response from an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentResponse {
    /// [`AGENT_PROTOCOL_VERSION`].
    pub version: u32,
    /// What happened.
    pub outcome: Outcome,
}

/// What an operation did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// aws-auth as read; `None` when it does not exist.
    AwsAuth {
        /// The ConfigMap.
        config_map: Option<ConfigMapData>,
    },
    /// aws-auth was written; its new resourceVersion.
    Written {
        /// The new resourceVersion.
        resource_version: String,
    },
    /// One page of RBAC objects, each with its `kind` and `apiVersion` set.
    RbacPage {
        /// The objects as the API sent them.
        items: Vec<Value>,
        /// The next page's token; `None` on the last page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continue_token: Option<String>,
    },
    /// The operation failed; nothing was written.
    Failed(Failure),
}

/// aws-auth's data and resourceVersion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigMapData {
    /// `data`, verbatim.
    pub data: BTreeMap<String, String>,
    /// `metadata.resourceVersion`.
    pub resource_version: String,
    /// Its labels, annotations and managedFields, for owner detection (docs/owners.md).
    /// Optional and additive: an agent that predates it sends none, and the plan then says the
    /// owner is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<crate::owner::metadata::ObjectMetadata>,
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// The kind of failure.
    pub reason: FailureReason,
    /// What went wrong, for a person.
    pub message: String,
    /// The Kubernetes API's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// The Kubernetes Status reason (`Forbidden`, `Conflict`, …), when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The IAM principal the agent signs its bearer token as (what to map or grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_principal: Option<String>,
    /// The versions the agent speaks (with [`FailureReason::UnsupportedVersion`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_versions: Vec<u32>,
}

/// The kinds of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// 401/403: the agent's principal may not do this.
    Denied,
    /// 409: aws-auth changed since it was read.
    Conflict,
    /// 404: aws-auth (or the resource) does not exist.
    NotFound,
    /// Another answer of the Kubernetes API.
    ApiError,
    /// The endpoint could not be reached (connection, TLS, timeout).
    Unreachable,
    /// The request is not a valid request of this version.
    InvalidRequest,
    /// The request's version is not one the agent speaks.
    UnsupportedVersion,
    /// The request is not signed by the central worker's key, or its signature is expired,
    /// already used, or does not bind what the request asks (cluster, operation, payload).
    Unauthenticated,
}

impl Failure {
    /// A failure without an API answer.
    pub fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            code: None,
            status_reason: None,
            agent_principal: None,
            supported_versions: Vec::new(),
        }
    }
}

impl AgentResponse {
    /// A response of this version.
    pub fn new(outcome: Outcome) -> Self {
        Self {
            version: AGENT_PROTOCOL_VERSION,
            outcome,
        }
    }
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The message says another version.
    #[error(
        "protocol version {found} is not supported (this side speaks version {AGENT_PROTOCOL_VERSION}): deploy the same release of infra/cluster-agent.yaml and the central stack"
    )]
    UnsupportedVersion {
        /// The version found, or 0 when there is none.
        found: u64,
    },
    /// The message is not a valid message of this version.
    #[error("not a valid protocol-{AGENT_PROTOCOL_VERSION} {what}: {reason}")]
    Invalid {
        /// `request` or `response`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Decodes and validates a request: the version first, then the fields (unknown ones refused),
/// then their values (cluster name and region, an `https` endpoint, a non-empty CA, an RBAC
/// kind of [`RBAC_RESOURCES`] and a page size of 1 to [`MAX_RBAC_PAGE`]).
///
/// # Errors
///
/// [`ProtocolError`].
pub fn decode_request(payload: &Value) -> Result<AgentRequest, ProtocolError> {
    check_version(payload, "request")?;
    let request: AgentRequest =
        serde_json::from_value(payload.clone()).map_err(|e| invalid("request", e.to_string()))?;
    let c = &request.cluster;
    let valid_name = !c.name.is_empty()
        && c.name.len() <= 100
        && c.name.starts_with(|ch: char| ch.is_ascii_alphanumeric())
        && c.name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !valid_name {
        return Err(invalid(
            "request",
            format!("cluster.name `{}` is not an EKS cluster name", c.name),
        ));
    }
    if !crate::config::is_region_name(&c.region) {
        return Err(invalid(
            "request",
            format!("cluster.region `{}` is not a region name", c.region),
        ));
    }
    let host = c.endpoint.strip_prefix("https://").unwrap_or_default();
    if host.is_empty() || host.contains(['@', ' ']) {
        return Err(invalid(
            "request",
            format!(
                "cluster.endpoint `{}` is not an https URL of a host",
                c.endpoint
            ),
        ));
    }
    if c.certificate_authority.trim().is_empty() {
        return Err(invalid(
            "request",
            "cluster.certificate_authority is empty".to_owned(),
        ));
    }
    if let Operation::ListRbac {
        resource, limit, ..
    } = &request.operation
    {
        if !RBAC_RESOURCES.contains(&resource.as_str()) {
            return Err(invalid(
                "request",
                format!(
                    "operation.resource `{resource}` is not one of {}",
                    RBAC_RESOURCES.join(", ")
                ),
            ));
        }
        if !(1..=MAX_RBAC_PAGE).contains(limit) {
            return Err(invalid(
                "request",
                format!("operation.limit {limit} is not between 1 and {MAX_RBAC_PAGE}"),
            ));
        }
    }
    Ok(request)
}

/// Decodes a response: the version first, then the fields (unknown ones refused).
///
/// # Errors
///
/// [`ProtocolError`].
pub fn decode_response(payload: &Value) -> Result<AgentResponse, ProtocolError> {
    check_version(payload, "response")?;
    serde_json::from_value(payload.clone()).map_err(|e| invalid("response", e.to_string()))
}

fn check_version(payload: &Value, what: &'static str) -> Result<(), ProtocolError> {
    let Value::Object(map) = payload else {
        return Err(invalid(
            what,
            format!("expected a JSON object, found {}", kind_of(payload)),
        ));
    };
    match map.get("version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(AGENT_PROTOCOL_VERSION) => Ok(()),
        Some(found) => Err(ProtocolError::UnsupportedVersion { found }),
        None => Err(ProtocolError::UnsupportedVersion { found: 0 }),
    }
}

fn invalid(what: &'static str, reason: String) -> ProtocolError {
    ProtocolError::Invalid { what, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster() -> Value {
        json!({"name": "prod", "region": "eu-west-1", "endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "certificate_authority": "LS0tLS1CRUdJTg=="})
    }

    #[test]
    fn requests_round_trip() {
        for operation in [
            Operation::ReadAwsAuth {},
            Operation::WriteAwsAuth {
                resource_version: "7".to_owned(),
                current: BTreeMap::from([("mapRoles".to_owned(), "- a".to_owned())]),
                data: BTreeMap::new(),
            },
            Operation::ListRbac {
                resource: "roles".to_owned(),
                limit: 250,
                continue_token: Some("c1".to_owned()),
            },
        ] {
            let request = AgentRequest {
                version: AGENT_PROTOCOL_VERSION,
                cluster: serde_json::from_value(cluster()).expect("cluster"),
                operation,
                auth: None,
            };
            let value = serde_json::to_value(&request).expect("json");
            assert_eq!(decode_request(&value), Ok(request));
        }
    }

    #[test]
    fn the_version_is_checked_first() {
        let v2 =
            json!({"version": 2, "cluster": cluster(), "operation": {"kind": "delete_everything"}});
        assert_eq!(
            decode_request(&v2),
            Err(ProtocolError::UnsupportedVersion { found: 2 })
        );
        let none = json!({"cluster": cluster(), "operation": {"kind": "read_aws_auth"}});
        assert_eq!(
            decode_request(&none),
            Err(ProtocolError::UnsupportedVersion { found: 0 })
        );
        let v2 = json!({"version": 2, "outcome": {"kind": "written", "resource_version": "8"}});
        assert!(decode_response(&v2).is_err());
    }

    #[test]
    fn nothing_outside_the_three_operations_or_the_schema_is_accepted() {
        let bad = [
            json!({"version": 1, "cluster": cluster(), "operation": {"kind": "delete_aws_auth"}}),
            json!({"version": 1, "cluster": cluster(), "operation": {"kind": "read_aws_auth"}, "token": "k8s-aws-v1.x"}),
            json!({"version": 1, "cluster": cluster(), "operation": {"kind": "read_aws_auth", "credentials": {}}}),
            json!({"version": 1, "cluster": {"name": "prod", "region": "eu-west-1", "endpoint": "http://x", "certificate_authority": "x"}, "operation": {"kind": "read_aws_auth"}}),
            json!({"version": 1, "cluster": {"name": "-x", "region": "eu-west-1", "endpoint": "https://x", "certificate_authority": "x"}, "operation": {"kind": "read_aws_auth"}}),
            json!({"version": 1, "cluster": cluster(), "operation": {"kind": "list_rbac", "resource": "secrets", "limit": 10}}),
            json!({"version": 1, "cluster": cluster(), "operation": {"kind": "list_rbac", "resource": "roles", "limit": 0}}),
            json!("read aws-auth please"),
        ];
        for payload in bad {
            let err = decode_request(&payload).expect_err("refused");
            assert!(
                matches!(
                    err,
                    ProtocolError::Invalid {
                        what: "request",
                        ..
                    }
                ),
                "{payload}: {err:?}"
            );
        }
    }

    #[test]
    fn responses_round_trip_and_garbage_is_refused() {
        for outcome in [
            Outcome::AwsAuth { config_map: None },
            Outcome::AwsAuth {
                config_map: Some(ConfigMapData {
                    data: BTreeMap::from([("mapUsers".to_owned(), "[]".to_owned())]),
                    resource_version: "3".to_owned(),
                    metadata: None,
                }),
            },
            Outcome::Written {
                resource_version: "9".to_owned(),
            },
            Outcome::RbacPage {
                items: vec![json!({"kind": "Role"})],
                continue_token: None,
            },
            Outcome::Failed(Failure {
                code: Some(403),
                status_reason: Some("Forbidden".to_owned()),
                agent_principal: Some("arn:aws:iam::1:role/a".to_owned()),
                ..Failure::new(FailureReason::Denied, "no")
            }),
        ] {
            let response = AgentResponse::new(outcome);
            let value = serde_json::to_value(&response).expect("json");
            assert_eq!(decode_response(&value), Ok(response));
        }
        assert!(matches!(
            decode_response(&json!({"version": 1, "outcome": {"kind": "written"}})),
            Err(ProtocolError::Invalid { .. })
        ));
        assert!(matches!(
            decode_response(&json!([1, 2])),
            Err(ProtocolError::Invalid { .. })
        ));
    }
}
