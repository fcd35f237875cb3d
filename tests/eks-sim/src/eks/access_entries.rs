//! Create/Describe/Update/Delete/ListAccessEntries.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, EksError, cluster, cluster_mut, pagination, require_api_mode, validate};
use crate::model::{AccessEntry, ClusterKey, World, epoch_now};

/// 409 for a duplicate entry.
pub const DUPLICATE: &str =
    "The specified access entry resource is already in use on this cluster.";

/// The ARN EKS gives the entry of `principal` on `cluster`.
pub fn entry_arn(cluster: &ClusterKey, principal: &str) -> String {
    let tail = principal
        .splitn(6, ':')
        .nth(5)
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let kind = if principal.contains(":user/") {
        "user"
    } else {
        "role"
    };
    let account = principal.split(':').nth(4).unwrap_or_default();
    format!(
        "arn:aws:eks:{}:{}:access-entry/{}/{kind}/{account}/{tail}/sim",
        cluster.region, cluster.account, cluster.name
    )
}

/// The `accessEntry` structure.
pub fn entry_json(cluster: &ClusterKey, e: &AccessEntry) -> Value {
    json!({
        "clusterName": cluster.name,
        "principalArn": e.principal_arn,
        "kubernetesGroups": e.groups,
        "accessEntryArn": e.arn,
        "createdAt": e.created_at,
        "modifiedAt": e.modified_at,
        "tags": e.tags,
        "username": e.username,
        "type": e.kind,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    principal_arn: String,
    #[serde(default)]
    kubernetes_groups: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    username: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// CreateAccessEntry: validates type, principal, username and groups; 409 on duplicates.
pub fn create(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let body: CreateBody = call.body_json()?;
    let key = call.cluster_key();
    require_api_mode(cluster(world, call)?)?;
    let kind = body.kind.unwrap_or_else(|| "STANDARD".to_owned());
    let (pkind, paccount) = validate::principal(world, &body.principal_arn)?;
    validate::entry_type(
        &kind,
        (pkind, &paccount),
        &key,
        body.username.as_deref(),
        &body.kubernetes_groups,
    )?;
    if let Some(u) = &body.username {
        validate::username(u)?;
    }
    validate::groups(&body.kubernetes_groups)?;
    let settings = world.settings.clone();
    let c = cluster_mut(world, call)?;
    if c.entries.contains_key(&body.principal_arn) {
        return Err(EksError::in_use(DUPLICATE));
    }
    let now = epoch_now();
    let username = body.username.unwrap_or_else(|| {
        if kind == "STANDARD" {
            crate::oracle::default_username(&body.principal_arn)
        } else if kind == "FARGATE_LINUX" {
            "system:node:{{SessionName}}".to_owned()
        } else {
            "system:node:{{EC2PrivateDNSName}}".to_owned()
        }
    });
    // Node and Fargate types carry their groups implicitly; DescribeAccessEntry shows them.
    let groups = match kind.as_str() {
        "STANDARD" => body.kubernetes_groups,
        "FARGATE_LINUX" => vec!["system:node-proxier".to_owned(), "system:nodes".to_owned()],
        _ => vec!["system:nodes".to_owned()],
    };
    let entry = AccessEntry {
        arn: entry_arn(&key, &body.principal_arn),
        principal_arn: body.principal_arn.clone(),
        kind,
        username,
        groups,
        policies: BTreeMap::new(),
        tags: body.tags,
        created_at: now,
        modified_at: now,
        consistent_after: (settings.eventual_consistency_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(settings.eventual_consistency_ms)),
        inconsistent_calls: settings.eventual_consistency_calls,
    };
    let out = json!({ "accessEntry": entry_json(&key, &entry) });
    c.entries.insert(body.principal_arn, entry);
    Ok(out)
}

/// The entry a call addresses (path segment 3).
///
/// # Errors
///
/// `ResourceNotFoundException` when the cluster or the entry does not exist.
pub fn entry<'w>(world: &'w World, call: &Call<'_>) -> Result<&'w AccessEntry, EksError> {
    let c = cluster(world, call)?;
    require_api_mode(c)?;
    c.entries
        .get(call.segment(3))
        .ok_or_else(|| EksError::not_found(not_found_message()))
}

/// The 404 message for a principal with no entry.
pub fn not_found_message() -> &'static str {
    "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'."
}

/// DescribeAccessEntry.
pub fn describe(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let e = entry(world, call)?;
    Ok(json!({ "accessEntry": entry_json(&call.cluster_key(), e) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateBody {
    kubernetes_groups: Option<Vec<String>>,
    username: Option<String>,
}

/// UpdateAccessEntry: replaces the groups (whole list) and/or the username; STANDARD only.
pub fn update(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let body: UpdateBody = call.body_json()?;
    let existing = entry(world, call)?;
    if existing.kind != "STANDARD" {
        return Err(EksError::invalid_parameter(
            "This operation can only be performed on Access Entries with a type of \"STANDARD\".",
        ));
    }
    if let Some(u) = &body.username {
        validate::username(u)?;
    }
    if let Some(g) = &body.kubernetes_groups {
        validate::groups(g)?;
    }
    let key = call.cluster_key();
    let c = cluster_mut(world, call)?;
    let e = c
        .entries
        .get_mut(call.segment(3))
        .ok_or_else(|| EksError::not_found(not_found_message()))?;
    if let Some(g) = body.kubernetes_groups {
        e.groups = g;
    }
    if let Some(u) = body.username {
        e.username = u;
    }
    e.modified_at = epoch_now();
    Ok(json!({ "accessEntry": entry_json(&key, e) }))
}

/// DeleteAccessEntry.
pub fn delete(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    entry(world, call)?;
    let c = cluster_mut(world, call)?;
    c.entries.remove(call.segment(3));
    Ok(json!({}))
}

/// ListAccessEntries (optionally only entries with `associatedPolicyArn`).
pub fn list(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let c = cluster(world, call)?;
    require_api_mode(c)?;
    let filter = call.query.get("associatedPolicyArn");
    let arns: Vec<String> = c
        .entries
        .values()
        .filter(|e| filter.is_none_or(|p| e.policies.contains_key(p)))
        .map(|e| e.principal_arn.clone())
        .collect();
    let (page, next) = pagination::page(&arns, call.query)?;
    Ok(json!({ "accessEntries": page, "nextToken": next }))
}
