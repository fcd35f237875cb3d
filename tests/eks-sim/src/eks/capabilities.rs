//! EKS Capabilities (ACK, Argo CD, kro; since December 2025): Create/Describe/ListCapabilities.
//! Creating one makes EKS create an access entry for its capability role
//! ([`crate::updates::create_feature_entries`]); a CONFIG_MAP cluster refuses capabilities.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, EksError, cluster, cluster_mut, pagination, require_api_mode, validate};
use crate::model::{Capability, ClusterKey, World, epoch_now};

/// Capability types EKS knows.
pub const TYPES: [&str; 3] = ["ACK", "ARGOCD", "KRO"];

fn capability_arn(key: &ClusterKey, name: &str) -> String {
    format!(
        "arn:aws:eks:{}:{}:capability/{}/{name}/sim",
        key.region, key.account, key.name
    )
}

fn capability_json(key: &ClusterKey, c: &Capability) -> Value {
    json!({
        "capabilityName": c.name,
        "arn": capability_arn(key, &c.name),
        "clusterName": key.name,
        "type": c.kind,
        "roleArn": c.role_arn,
        "status": "ACTIVE",
        "version": "1",
        "tags": {},
        "createdAt": c.created_at,
        "modifiedAt": c.created_at,
        "deletePropagationPolicy": "RETAIN",
    })
}

/// ListCapabilities: summaries (no role) of the cluster's capabilities, by name.
pub fn list(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let c = cluster(world, call)?;
    let all: Vec<Value> = c
        .capabilities
        .values()
        .map(|cap| {
            json!({
                "capabilityName": cap.name,
                "arn": capability_arn(&c.key, &cap.name),
                "type": cap.kind,
                "status": "ACTIVE",
                "version": "1",
                "createdAt": cap.created_at,
                "modifiedAt": cap.created_at,
            })
        })
        .collect();
    let (page, next) = pagination::page(&all, call.query)?;
    Ok(json!({ "capabilities": page, "nextToken": next }))
}

/// DescribeCapability: the capability with its role.
pub fn describe(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let c = cluster(world, call)?;
    let name = call.segment(3);
    let cap = c
        .capabilities
        .get(name)
        .ok_or_else(|| EksError::not_found(format!("No capability found for name: {name}.")))?;
    Ok(json!({ "capability": capability_json(&c.key, cap) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    capability_name: String,
    #[serde(rename = "type")]
    kind: String,
    role_arn: String,
}

/// CreateCapability: needs access entries (not CONFIG_MAP), a known type and an existing role of
/// the cluster's account; EKS then creates the capability role's access entry.
pub fn create(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let body: CreateBody = call.body_json()?;
    require_api_mode(cluster(world, call)?)?;
    if !TYPES.contains(&body.kind.as_str()) {
        return Err(EksError::invalid_parameter(format!(
            "The capability type {} is invalid. Valid types are {}.",
            body.kind,
            TYPES.join(", ")
        )));
    }
    let (_, account) = validate::principal(world, &body.role_arn)?;
    let iam = world.iam.clone();
    let c = cluster_mut(world, call)?;
    if account != c.key.account {
        return Err(EksError::invalid_parameter(
            "The capability role must be in the same account as the cluster.",
        ));
    }
    if c.capabilities.contains_key(&body.capability_name) {
        return Err(EksError::in_use(format!(
            "A capability named {} already exists on this cluster.",
            body.capability_name
        )));
    }
    let cap = Capability {
        name: body.capability_name.clone(),
        kind: body.kind,
        role_arn: body.role_arn,
        created_at: epoch_now(),
    };
    let out = json!({ "capability": capability_json(&c.key, &cap) });
    c.capabilities.insert(body.capability_name, cap);
    crate::updates::create_feature_entries(c, &iam);
    Ok(out)
}
