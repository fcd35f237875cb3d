//! The EKS REST API (restJson1, 2017-11-01), operation by operation.
//!
//! [`operation`] names the operation a request path addresses (used by fault injection and
//! statistics); [`dispatch`] runs it against the [`World`].

pub mod access_entries;
pub mod capabilities;
pub mod clusters;
pub mod errors;
pub mod pagination;
pub mod policies;
pub mod tags;
pub mod validate;

use std::collections::BTreeMap;

use hyper::Method;

use crate::model::{AuthMode, Cluster, ClusterKey, World};
pub use errors::EksError;

/// One EKS call, already authenticated to an account and region.
#[derive(Debug)]
pub struct Call<'a> {
    /// Caller's account (from the access key).
    pub account: &'a str,
    /// Region (from the SigV4 credential scope).
    pub region: &'a str,
    /// Decoded path segments.
    pub segments: &'a [String],
    /// Query parameters (first value per key).
    pub query: &'a BTreeMap<String, String>,
    /// Query parameters in order, repeated keys kept.
    pub query_pairs: &'a [(String, String)],
    /// Request body.
    pub body: &'a [u8],
}

impl Call<'_> {
    /// The key of the cluster named by the second path segment.
    pub fn cluster_key(&self) -> ClusterKey {
        ClusterKey {
            account: self.account.to_owned(),
            region: self.region.to_owned(),
            name: self.segments.get(1).cloned().unwrap_or_default(),
        }
    }

    /// Path segment `i`.
    pub fn segment(&self, i: usize) -> &str {
        self.segments.get(i).map(String::as_str).unwrap_or_default()
    }

    /// Parses the JSON body into `T` (an empty body reads as `{}`).
    pub fn body_json<T: serde::de::DeserializeOwned>(&self) -> Result<T, EksError> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            self.body
        };
        serde_json::from_slice(body)
            .map_err(|e| EksError::invalid_parameter(format!("Invalid request body: {e}")))
    }
}

/// The operation a request addresses, or `None` when no EKS operation has this path.
pub fn operation(method: &Method, segments: &[String]) -> Option<&'static str> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = method.as_str();
    Some(match (m, s.as_slice()) {
        ("GET", ["clusters"]) => "ListClusters",
        ("GET", ["clusters", _]) => "DescribeCluster",
        ("POST", ["clusters", _, "update-config"]) => "UpdateClusterConfig",
        ("GET", ["clusters", _, "updates"]) => "ListUpdates",
        ("GET", ["clusters", _, "updates", _]) => "DescribeUpdate",
        ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups",
        ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup",
        ("GET", ["clusters", _, "fargate-profiles"]) => "ListFargateProfiles",
        ("GET", ["clusters", _, "fargate-profiles", _]) => "DescribeFargateProfile",
        ("POST", ["clusters", _, "access-entries"]) => "CreateAccessEntry",
        ("GET", ["clusters", _, "access-entries"]) => "ListAccessEntries",
        ("GET", ["clusters", _, "access-entries", _]) => "DescribeAccessEntry",
        ("POST", ["clusters", _, "access-entries", _]) => "UpdateAccessEntry",
        ("DELETE", ["clusters", _, "access-entries", _]) => "DeleteAccessEntry",
        ("POST", ["clusters", _, "access-entries", _, "access-policies"]) => {
            "AssociateAccessPolicy"
        }
        ("GET", ["clusters", _, "access-entries", _, "access-policies"]) => {
            "ListAssociatedAccessPolicies"
        }
        ("DELETE", ["clusters", _, "access-entries", _, "access-policies", _]) => {
            "DisassociateAccessPolicy"
        }
        ("GET", ["access-policies"]) => "ListAccessPolicies",
        ("POST", ["clusters", _, "capabilities"]) => "CreateCapability",
        ("GET", ["clusters", _, "capabilities"]) => "ListCapabilities",
        ("GET", ["clusters", _, "capabilities", _]) => "DescribeCapability",
        ("POST", ["tags", _]) => "TagResource",
        ("DELETE", ["tags", _]) => "UntagResource",
        ("GET", ["tags", _]) => "ListTagsForResource",
        _ => return None,
    })
}

/// True for operations that change state (counted separately in statistics).
pub fn is_mutating(operation: &str) -> bool {
    !(operation.starts_with("List") || operation.starts_with("Describe"))
}

/// Runs `operation` for `call`.
///
/// # Errors
///
/// The EKS error the real service would return for this call.
pub fn dispatch(
    world: &mut World,
    operation: &str,
    call: &Call<'_>,
) -> Result<serde_json::Value, EksError> {
    world.settle(std::time::Instant::now());
    match operation {
        "ListClusters" => clusters::list(world, call),
        "DescribeCluster" => clusters::describe(world, call),
        "UpdateClusterConfig" => clusters::update_config(world, call),
        "ListUpdates" => clusters::list_updates(world, call),
        "DescribeUpdate" => clusters::describe_update(world, call),
        "ListNodegroups" => clusters::list_nodegroups(world, call),
        "DescribeNodegroup" => clusters::describe_nodegroup(world, call),
        "ListFargateProfiles" => clusters::list_fargate_profiles(world, call),
        "DescribeFargateProfile" => clusters::describe_fargate_profile(world, call),
        "CreateAccessEntry" => access_entries::create(world, call),
        "ListAccessEntries" => access_entries::list(world, call),
        "DescribeAccessEntry" => access_entries::describe(world, call),
        "UpdateAccessEntry" => access_entries::update(world, call),
        "DeleteAccessEntry" => access_entries::delete(world, call),
        "AssociateAccessPolicy" => policies::associate(world, call),
        "ListAssociatedAccessPolicies" => policies::list_associated(world, call),
        "DisassociateAccessPolicy" => policies::disassociate(world, call),
        "ListAccessPolicies" => policies::list_policies(call),
        "CreateCapability" => capabilities::create(world, call),
        "ListCapabilities" => capabilities::list(world, call),
        "DescribeCapability" => capabilities::describe(world, call),
        "TagResource" => tags::tag(world, call),
        "UntagResource" => tags::untag(world, call),
        "ListTagsForResource" => tags::list(world, call),
        _ => Err(EksError::unknown_operation()),
    }
}

/// The cluster a call addresses.
///
/// # Errors
///
/// `ResourceNotFoundException` when it does not exist in the caller's account and region.
pub fn cluster<'w>(world: &'w World, call: &Call<'_>) -> Result<&'w Cluster, EksError> {
    let key = call.cluster_key();
    world
        .clusters
        .get(&key)
        .ok_or_else(|| EksError::no_cluster(&key.name))
}

/// The cluster a call addresses, mutably.
///
/// # Errors
///
/// `ResourceNotFoundException` when it does not exist in the caller's account and region.
pub fn cluster_mut<'w>(world: &'w mut World, call: &Call<'_>) -> Result<&'w mut Cluster, EksError> {
    let key = call.cluster_key();
    world
        .clusters
        .get_mut(&key)
        .ok_or_else(|| EksError::no_cluster(&key.name))
}

/// Refuses access-entry operations on a CONFIG_MAP cluster, with the real message.
///
/// # Errors
///
/// `InvalidRequestException` when the cluster is in CONFIG_MAP mode.
pub fn require_api_mode(cluster: &Cluster) -> Result<(), EksError> {
    if cluster.mode == AuthMode::ConfigMap {
        return Err(EksError::invalid_request(
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        ));
    }
    Ok(())
}
