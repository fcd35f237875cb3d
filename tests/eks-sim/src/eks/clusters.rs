//! Clusters, updates, node groups and Fargate profiles.

use std::time::Instant;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, EksError, cluster, cluster_mut, pagination};
use crate::model::{AuthMode, Cluster, ClusterUpdate, UpdateStatus, World, epoch_now};

/// ListClusters: names in the caller's account and region.
pub fn list(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let names: Vec<String> = world
        .clusters
        .keys()
        .filter(|k| k.account == call.account && k.region == call.region)
        .map(|k| k.name.clone())
        .collect();
    let (page, next) = pagination::page(&names, call.query)?;
    Ok(json!({ "clusters": page, "nextToken": next }))
}

/// The `cluster` structure of DescribeCluster.
pub fn cluster_json(c: &Cluster) -> Value {
    let (endpoint, ca) = match &c.kube {
        Some(k) => (
            Value::from(k.url.clone()),
            base64::engine::general_purpose::STANDARD.encode(k.ca_pem.as_bytes()),
        ),
        None => (Value::Null, String::new()),
    };
    let compute = c.auto_mode.as_ref().map_or(Value::Null, |a| {
        json!({
            "enabled": true,
            "nodePools": ["general-purpose", "system"],
            "nodeRoleArn": a.node_role_arn,
        })
    });
    json!({
        "computeConfig": compute,
        "name": c.key.name,
        "arn": c.key.arn(),
        "createdAt": c.created_at,
        "version": c.version,
        "endpoint": endpoint,
        "roleArn": c.role_arn,
        "status": c.status,
        "platformVersion": c.platform_version,
        "certificateAuthority": { "data": ca },
        "tags": c.tags,
        "accessConfig": {
            "bootstrapClusterCreatorAdminPermissions": c.creator.is_some(),
            "authenticationMode": c.mode.as_str(),
        },
        "resourcesVpcConfig": {
            "subnetIds": c.network.subnet_ids,
            "securityGroupIds": c.network.security_group_ids,
            "clusterSecurityGroupId": c.network.cluster_security_group_id,
            "vpcId": c.network.vpc_id,
            "endpointPublicAccess": c.network.public_access,
            "endpointPrivateAccess": c.network.private_access,
            "publicAccessCidrs": c.network.public_access_cidrs,
        },
    })
}

/// DescribeCluster.
pub fn describe(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    Ok(json!({ "cluster": cluster_json(cluster(world, call)?) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateConfigBody {
    access_config: Option<AccessConfigBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessConfigBody {
    authentication_mode: Option<String>,
}

fn update_json(u: &ClusterUpdate) -> Value {
    json!({
        "id": u.id,
        "status": match u.status {
            UpdateStatus::InProgress => "InProgress",
            UpdateStatus::Successful => "Successful",
        },
        "type": "AccessConfigUpdate",
        "params": [{ "type": "AuthenticationMode", "value": u.target.as_str() }],
        "createdAt": u.created_at,
        "errors": [],
    })
}

/// UpdateClusterConfig with `accessConfig.authenticationMode` (the only update simulated).
///
/// Rules: the cluster must be ACTIVE with no update running (else `ResourceInUseException`);
/// modes only move CONFIG_MAP → API_AND_CONFIG_MAP → API, one step at a time, and a no-op
/// update is refused (`InvalidParameterException: Unsupported authentication mode update from
/// X to Y`).
pub fn update_config(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let body: UpdateConfigBody = call.body_json()?;
    let duration = crate::model::update_duration(&world.settings);
    let id = world.next_uuid();
    let c = cluster_mut(world, call)?;
    let Some(target) = body.access_config.and_then(|a| a.authentication_mode) else {
        return Err(EksError::invalid_parameter(
            "The simulator only supports accessConfig.authenticationMode updates.",
        ));
    };
    if c.update_in_progress().is_some() || c.status != "ACTIVE" {
        return Err(EksError::in_use(format!(
            "Cluster {} has an update in progress, and another update cannot be started until it completes.",
            c.key.name
        )));
    }
    let Some(to) = AuthMode::parse(&target) else {
        return Err(EksError::invalid_parameter(format!(
            "Invalid authentication mode: {target}"
        )));
    };
    let from = c.mode;
    let allowed = matches!(
        (from, to),
        (AuthMode::ConfigMap, AuthMode::ApiAndConfigMap)
            | (AuthMode::ApiAndConfigMap, AuthMode::Api)
    );
    if !allowed {
        return Err(EksError::invalid_parameter(format!(
            "Unsupported authentication mode update from {} to {}",
            from.as_str(),
            to.as_str()
        )));
    }
    let update = ClusterUpdate {
        id,
        target: to,
        created_at: epoch_now(),
        completes_at: Instant::now() + duration,
        status: UpdateStatus::InProgress,
    };
    let out = json!({ "update": update_json(&update) });
    c.updates.push(update);
    c.status = "UPDATING".to_owned();
    Ok(out)
}

/// ListUpdates: update IDs of the cluster, oldest first.
pub fn list_updates(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let ids: Vec<String> = cluster(world, call)?
        .updates
        .iter()
        .map(|u| u.id.clone())
        .collect();
    let (page, next) = pagination::page(&ids, call.query)?;
    Ok(json!({ "updateIds": page, "nextToken": next }))
}

/// DescribeUpdate.
pub fn describe_update(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let id = call.segment(3);
    cluster(world, call)?
        .updates
        .iter()
        .find(|u| u.id == id)
        .map(|u| json!({ "update": update_json(u) }))
        .ok_or_else(|| EksError::not_found(format!("No update found for ID: {id}")))
}

/// ListNodegroups.
pub fn list_nodegroups(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let names: Vec<String> = cluster(world, call)?.nodegroups.keys().cloned().collect();
    let (page, next) = pagination::page(&names, call.query)?;
    Ok(json!({ "nodegroups": page, "nextToken": next }))
}

/// DescribeNodegroup.
pub fn describe_nodegroup(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let c = cluster(world, call)?;
    let name = call.segment(3);
    let ng = c
        .nodegroups
        .get(name)
        .ok_or_else(|| EksError::not_found(format!("No node group found for name: {name}.")))?;
    Ok(json!({ "nodegroup": {
        "nodegroupName": ng.name,
        "nodegroupArn": format!(
            "arn:aws:eks:{}:{}:nodegroup/{}/{}/sim",
            c.key.region, c.key.account, c.key.name, ng.name
        ),
        "clusterName": c.key.name,
        "version": c.version,
        "createdAt": c.created_at,
        "modifiedAt": c.created_at,
        "status": "ACTIVE",
        "capacityType": "ON_DEMAND",
        "amiType": "AL2023_x86_64_STANDARD",
        "nodeRole": ng.node_role,
        "tags": {},
    }}))
}

/// ListFargateProfiles.
pub fn list_fargate_profiles(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let names: Vec<String> = cluster(world, call)?
        .fargate_profiles
        .keys()
        .cloned()
        .collect();
    let (page, next) = pagination::page(&names, call.query)?;
    Ok(json!({ "fargateProfileNames": page, "nextToken": next }))
}

/// DescribeFargateProfile.
pub fn describe_fargate_profile(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let c = cluster(world, call)?;
    let name = call.segment(3);
    let fp = c.fargate_profiles.get(name).ok_or_else(|| {
        EksError::not_found(format!("No Fargate Profile found with name: {name}."))
    })?;
    Ok(json!({ "fargateProfile": {
        "fargateProfileName": fp.name,
        "fargateProfileArn": format!(
            "arn:aws:eks:{}:{}:fargateprofile/{}/{}/sim",
            c.key.region, c.key.account, c.key.name, fp.name
        ),
        "clusterName": c.key.name,
        "createdAt": c.created_at,
        "podExecutionRoleArn": fp.pod_execution_role_arn,
        "status": "ACTIVE",
        "selectors": [],
        "subnets": [],
        "tags": {},
    }}))
}
