//! What a fleet scan keeps of a described cluster for the fleet report: its authentication mode,
//! Kubernetes version, status, tags, creation time and the reachability of its Kubernetes API.

use super::eks::endpoint_access;
use crate::store::sightings::Sighting;
use aws_sdk_eks::types::Cluster;
use eks_auth_core::facts::AuthenticationMode;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// A described cluster's tags and creation time (`None` when EKS gave none).
pub fn tags_and_creation(
    cluster: Option<&Cluster>,
) -> (BTreeMap<String, String>, Option<SystemTime>) {
    let tags = cluster
        .and_then(|c| c.tags())
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let created_at = cluster
        .and_then(|c| c.created_at())
        .and_then(|t| SystemTime::try_from(*t).ok());
    (tags, created_at)
}

/// What DescribeCluster says about a cluster that the fleet report shows: authentication mode,
/// Kubernetes version, status, tags, creation time and the reachability of its Kubernetes API
/// (classified with the migrator's configured egress blocks `egress_cidrs`).
pub fn sighting(cluster: Option<&Cluster>, egress_cidrs: &[String]) -> Sighting {
    let (tags, created_at) = tags_and_creation(cluster);
    let authentication_mode = cluster
        .and_then(|c| c.access_config())
        .and_then(|a| a.authentication_mode())
        .and_then(|m| match m.as_str() {
            "CONFIG_MAP" => Some(AuthenticationMode::ConfigMap),
            "API_AND_CONFIG_MAP" => Some(AuthenticationMode::ApiAndConfigMap),
            "API" => Some(AuthenticationMode::Api),
            _ => None,
        });
    Sighting {
        authentication_mode,
        kubernetes_version: cluster.and_then(|c| c.version()).map(str::to_owned),
        status: cluster
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_owned()),
        tags,
        created_at,
        reachability: cluster
            .map(|c| eks_auth_core::reach::classify(&endpoint_access(c), egress_cidrs)),
    }
}
