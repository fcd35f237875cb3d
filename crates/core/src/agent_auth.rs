//! Signed agent requests (docs/cluster-agent.md, "Signed requests"): the canonical bytes the
//! central worker signs with its KMS key and the in-VPC agent verifies with the public key its
//! stack was given, and the checks a request passes before the agent does anything — its
//! expiry, what its signature binds it to, that this agent has not seen it before.
//!
//! The signature covers the protocol version, the cluster's ARN, the operation's kind, the
//! SHA-256 of the canonical JSON of the whole payload (the cluster's name, region, endpoint,
//! CA and ARN, and the operation with every parameter: a write's data included), the expiry
//! and the request id. Changing anything of a signed request — another endpoint, another
//! cluster, another operation, other data — makes its signature fail.
//!
//! Pure: KMS signs (crates/aws), the agent verifies (functions/cluster-agent); time comes in as
//! Unix seconds.

use crate::agent_protocol::{
    AGENT_PROTOCOL_VERSION, AgentCluster, AgentRequest, FailureReason, Operation, RequestAuth,
};
use crate::arn::partition_of;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;

/// The KMS signing algorithm of the worker's key (key spec `ECC_NIST_P256`): ECDSA over P-256
/// with SHA-256, the signature DER-encoded.
pub const SIGNING_ALGORITHM: &str = "ECDSA_SHA_256";

/// How long after signing a request the worker lets it be carried out.
pub const REQUEST_LIFETIME_SECONDS: u64 = 60;

/// The furthest ahead an agent accepts an expiry: a request signed to live longer is refused,
/// so that what the agent must remember to refuse a replay stays bounded.
pub const MAX_LIFETIME_SECONDS: u64 = 300;

/// How many unexpired request ids an agent's execution environment remembers; past that it
/// refuses new requests until some expire (never forgets an unexpired one).
pub const RECENT_REQUESTS_LIMIT: usize = 10_000;

/// The first line of the bytes signed: they are never mistaken for anything else the key signs.
const DOMAIN: &str = "eks-auth-migrator agent request";

/// Why a request is not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The request carries no signature.
    #[error(
        "the request is not signed: an agent carries out only requests the central cluster-worker signed with its key (deploy cluster-worker and infra/cluster-agent.yaml from releases that sign)"
    )]
    Unsigned,
    /// The agent was given no public key to verify with.
    #[error(
        "this agent has no signing public key (AGENT_SIGNING_PUBLIC_KEY), so it carries out nothing: set the agent stack's SigningPublicKey to the public key of the central stack's AgentSigningKeyArn (aws kms get-public-key --query PublicKey --output text)"
    )]
    NoPublicKey,
    /// The request's cluster has no ARN, which a signature binds.
    #[error("the request names no cluster.arn, which its signature binds")]
    NoClusterArn,
    /// The signature is not one of the worker's key over this request.
    #[error(
        "the signature does not verify with this agent's signing public key: the request was not signed by the central worker's key, or something in it changed after signing. If cluster-worker sent it, set the agent stack's SigningPublicKey to the public key of the central stack's AgentSigningKeyArn (aws kms get-public-key)"
    )]
    BadSignature,
    /// The request expired.
    #[error(
        "the request expired at {expires_at} (Unix seconds; it is now {now}): a signed request is carried out within {REQUEST_LIFETIME_SECONDS} s of signing, once"
    )]
    Expired {
        /// Its expiry.
        expires_at: u64,
        /// The agent's time.
        now: u64,
    },
    /// The request was signed to live longer than an agent accepts.
    #[error(
        "the request expires at {expires_at}, more than {MAX_LIFETIME_SECONDS} s after now ({now}): check the worker's and the agent's clocks"
    )]
    TooLong {
        /// Its expiry.
        expires_at: u64,
        /// The agent's time.
        now: u64,
    },
    /// The request was carried out before.
    #[error(
        "request {request_id} was already received by this agent: a signed request is carried out once"
    )]
    Replayed {
        /// Its id.
        request_id: String,
    },
    /// The agent remembers as many unexpired requests as it may.
    #[error(
        "this agent already holds {RECENT_REQUESTS_LIMIT} unexpired request ids and refuses new ones until they expire (within {MAX_LIFETIME_SECONDS} s): retry later"
    )]
    Busy,
    /// The signed cluster ARN is not the request's cluster, or not this agent's.
    #[error("the signed cluster ARN `{arn}` {why}")]
    Mismatch {
        /// The ARN.
        arn: String,
        /// What does not match.
        why: String,
    },
    /// A field of the signature is not of its form.
    #[error("auth.{field} {why}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
}

impl AuthError {
    /// How the agent reports it: [`FailureReason::InvalidRequest`] for a field not of its form,
    /// [`FailureReason::Unauthenticated`] for everything else.
    pub fn reason(&self) -> FailureReason {
        match self {
            AuthError::Malformed { .. } => FailureReason::InvalidRequest,
            _ => FailureReason::Unauthenticated,
        }
    }
}

/// What the agent knows of itself when it checks what a request is bound to.
#[derive(Debug, Clone, Copy)]
pub struct AgentSelf<'a> {
    /// The one region it serves.
    pub region: &'a str,
    /// Its account, when known (from its role's ARN).
    pub account: Option<&'a str>,
}

/// SHA-256, lower-case hex, of the canonical JSON ([`canonical_json`]) of
/// `{"cluster": …, "operation": …}`: the whole payload of a request.
pub fn payload_digest(cluster: &AgentCluster, operation: &Operation) -> String {
    let payload = serde_json::json!({ "cluster": cluster, "operation": operation });
    hex(&Sha256::digest(canonical_json(&payload).as_bytes()))
}

/// JSON with every object's keys in byte order, no whitespace, strings escaped as serde_json
/// escapes them (`"`, `\`, and control characters; nothing else).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap_or_default()),
    }
}

/// The bytes the worker signs for `request`, to be carried out as request `request_id` until
/// `expires_at`: one `name:value` line each for the protocol version, the cluster's ARN, the
/// operation, the payload digest, the expiry and the request id, after a domain line.
///
/// # Errors
///
/// [`AuthError::NoClusterArn`], or [`AuthError::Malformed`] for a request id not of its form.
pub fn signing_bytes(
    request: &AgentRequest,
    request_id: &str,
    expires_at: u64,
) -> Result<Vec<u8>, AuthError> {
    let arn = request
        .cluster
        .arn
        .as_deref()
        .ok_or(AuthError::NoClusterArn)?;
    check_request_id(request_id)?;
    if arn.contains(['\n', '\r']) {
        return Err(mismatch(arn, "is not an ARN"));
    }
    Ok(format!(
        "{DOMAIN}\nversion:{AGENT_PROTOCOL_VERSION}\ncluster-arn:{arn}\noperation:{}\npayload-sha256:{}\nexpires-at:{expires_at}\nrequest-id:{request_id}\n",
        request.operation.name(),
        payload_digest(&request.cluster, &request.operation),
    )
    .into_bytes())
}

/// The signature a received request carries and the bytes it must verify over.
///
/// # Errors
///
/// [`AuthError::Unsigned`], and what [`signing_bytes`] refuses, or [`AuthError::Malformed`]
/// for another algorithm or a signature that is not hex.
pub fn signed_bytes(request: &AgentRequest) -> Result<(Vec<u8>, Vec<u8>), AuthError> {
    let auth = request.auth.as_ref().ok_or(AuthError::Unsigned)?;
    if auth.algorithm != SIGNING_ALGORITHM {
        return Err(AuthError::Malformed {
            field: "algorithm",
            why: format!("is `{}`, not {SIGNING_ALGORITHM}", auth.algorithm),
        });
    }
    let signature = unhex(&auth.signature).ok_or_else(|| AuthError::Malformed {
        field: "signature",
        why: "is not hex".to_owned(),
    })?;
    Ok((
        signing_bytes(request, &auth.request_id, auth.expires_at)?,
        signature,
    ))
}

/// Whether a verified request is still to be carried out at `now`: not expired, and not signed
/// to live longer than [`MAX_LIFETIME_SECONDS`].
///
/// # Errors
///
/// [`AuthError::Expired`] or [`AuthError::TooLong`].
pub fn check_expiry(auth: &RequestAuth, now: u64) -> Result<(), AuthError> {
    let expires_at = auth.expires_at;
    if now > expires_at {
        return Err(AuthError::Expired { expires_at, now });
    }
    if expires_at - now > MAX_LIFETIME_SECONDS {
        return Err(AuthError::TooLong { expires_at, now });
    }
    Ok(())
}

/// Whether the signed cluster ARN is the request's cluster (its name and region), in the
/// partition of its region, and this agent's (its region and, when known, its account).
///
/// # Errors
///
/// [`AuthError::NoClusterArn`] or [`AuthError::Mismatch`] saying what differs.
pub fn check_binding(request: &AgentRequest, agent: AgentSelf<'_>) -> Result<(), AuthError> {
    let arn = request
        .cluster
        .arn
        .as_deref()
        .ok_or(AuthError::NoClusterArn)?;
    let Some((partition, region, account, name)) = parse_cluster_arn(arn) else {
        return Err(mismatch(
            arn,
            "is not an EKS cluster ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>)",
        ));
    };
    let cluster = &request.cluster;
    if name != cluster.name {
        return Err(mismatch(
            arn,
            &format!("names cluster `{name}`, not `{}`", cluster.name),
        ));
    }
    if region != cluster.region {
        return Err(mismatch(
            arn,
            &format!("is in region {region}, not {}", cluster.region),
        ));
    }
    if region != agent.region {
        return Err(mismatch(
            arn,
            &format!(
                "is in region {region}; this agent serves {}: invoke the agent of the cluster's region",
                agent.region
            ),
        ));
    }
    if partition != partition_of(region) {
        return Err(mismatch(
            arn,
            &format!("names partition {partition}, not {}", partition_of(region)),
        ));
    }
    if let Some(own) = agent.account
        && own != account
    {
        return Err(mismatch(
            arn,
            &format!("is in account {account}; this agent is in account {own}"),
        ));
    }
    Ok(())
}

/// `(partition, region, account, name)` of `arn:<partition>:eks:<region>:<account>:cluster/<name>`.
fn parse_cluster_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "eks", region, account, resource]
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let name = resource.strip_prefix("cluster/")?;
            (!name.is_empty() && !name.contains('/'))
                .then_some((*partition, *region, *account, name))
        }
        _ => None,
    }
}

fn mismatch(arn: &str, why: &str) -> AuthError {
    AuthError::Mismatch {
        arn: arn.to_owned(),
        why: why.to_owned(),
    }
}

fn check_request_id(id: &str) -> Result<(), AuthError> {
    let ok = (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AuthError::Malformed {
            field: "request_id",
            why: "is not 16 to 64 lower-case letters, digits and dashes".to_owned(),
        })
    }
}

/// The request ids one agent execution environment has carried out, each until its expiry.
///
/// # Guarantees
///
/// Within one execution environment, a request id is admitted once: it is remembered until it
/// expires (at most [`MAX_LIFETIME_SECONDS`] ahead, [`check_expiry`]), after which the expiry
/// check refuses it instead. At most [`RECENT_REQUESTS_LIMIT`] unexpired ids are held; beyond
/// that new requests are refused ([`AuthError::Busy`]), never admitted by forgetting one. It
/// does not span execution environments: another concurrent environment of the same function,
/// or a fresh one after this one is recycled, has its own (see docs/cluster-agent.md).
#[derive(Debug, Clone, Default)]
pub struct RecentRequests {
    expiry_by_id: HashMap<String, u64>,
}

impl RecentRequests {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Admits request `request_id`, which expires at `expires_at`, at `now`; forgets the ids
    /// expired by then when it is full.
    ///
    /// # Errors
    ///
    /// [`AuthError::Replayed`] for an id already admitted and unexpired; [`AuthError::Busy`]
    /// when [`RECENT_REQUESTS_LIMIT`] unexpired ids are held.
    pub fn admit(&mut self, request_id: &str, expires_at: u64, now: u64) -> Result<(), AuthError> {
        if self
            .expiry_by_id
            .get(request_id)
            .is_some_and(|&until| until >= now)
        {
            return Err(AuthError::Replayed {
                request_id: request_id.to_owned(),
            });
        }
        if self.expiry_by_id.len() >= RECENT_REQUESTS_LIMIT {
            self.expiry_by_id.retain(|_, until| *until >= now);
        }
        if self.expiry_by_id.len() >= RECENT_REQUESTS_LIMIT {
            return Err(AuthError::Busy);
        }
        self.expiry_by_id.insert(request_id.to_owned(), expires_at);
        Ok(())
    }

    /// How many ids are held.
    pub fn len(&self) -> usize {
        self.expiry_by_id.len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.expiry_by_id.is_empty()
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lower- or upper-case hex; `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests;
