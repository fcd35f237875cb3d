//! TagResource / UntagResource / ListTagsForResource on cluster and access-entry ARNs.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, EksError};
use crate::model::{Cluster, ClusterKey, World};

/// The tags of the resource an ARN names: a cluster, or an access entry (by its ARN).
fn target<'w>(
    world: &'w mut World,
    call: &Call<'_>,
) -> Result<&'w mut BTreeMap<String, String>, EksError> {
    let arn = call.segment(1);
    let not_found = || EksError::tag_not_found(format!("Resource {arn} not found"));
    let cluster_key = ClusterKey::from_arn(arn).or_else(|| {
        // arn:aws:eks:<region>:<account>:access-entry/<cluster>/...
        let mut parts = arn.splitn(6, ':');
        let (_, _, _, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let name = resource.strip_prefix("access-entry/")?.split('/').next()?;
        Some(ClusterKey {
            account: account.to_owned(),
            region: region.to_owned(),
            name: name.to_owned(),
        })
    });
    let key = cluster_key
        .ok_or_else(|| EksError::bad_request(format!("{arn} is not a valid resource ARN")))?;
    if key.account != call.account || key.region != call.region {
        return Err(not_found());
    }
    let cluster: &'w mut Cluster = world.clusters.get_mut(&key).ok_or_else(not_found)?;
    if arn.contains(":access-entry/") {
        return cluster
            .entries
            .values_mut()
            .find(|e| e.arn == arn)
            .map(|e| &mut e.tags)
            .ok_or_else(not_found);
    }
    Ok(&mut cluster.tags)
}

#[derive(Deserialize)]
struct TagBody {
    tags: BTreeMap<String, String>,
}

/// TagResource: merges tags.
pub fn tag(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let body: TagBody = call.body_json()?;
    target(world, call)?.extend(body.tags);
    Ok(json!({}))
}

/// UntagResource: removes each `tagKeys` query value.
pub fn untag(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let keys: Vec<&str> = call
        .query_pairs
        .iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v.as_str())
        .collect();
    let tags = target(world, call)?;
    for k in keys {
        tags.remove(k);
    }
    Ok(json!({}))
}

/// ListTagsForResource.
pub fn list(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    Ok(json!({ "tags": target(world, call)? }))
}
