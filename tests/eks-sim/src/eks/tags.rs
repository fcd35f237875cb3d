//! TagResource / UntagResource / ListTagsForResource on cluster ARNs.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, EksError};
use crate::model::{Cluster, ClusterKey, World};

fn target<'w>(world: &'w mut World, call: &Call<'_>) -> Result<&'w mut Cluster, EksError> {
    let arn = call.segment(1);
    let key = ClusterKey::from_arn(arn)
        .ok_or_else(|| EksError::bad_request(format!("{arn} is not a valid resource ARN")))?;
    if key.account != call.account || key.region != call.region {
        return Err(EksError::tag_not_found(format!("Resource {arn} not found")));
    }
    world
        .clusters
        .get_mut(&key)
        .ok_or_else(|| EksError::tag_not_found(format!("Resource {arn} not found")))
}

#[derive(Deserialize)]
struct TagBody {
    tags: BTreeMap<String, String>,
}

/// TagResource: merges tags.
pub fn tag(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let body: TagBody = call.body_json()?;
    let c = target(world, call)?;
    c.tags.extend(body.tags);
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
    let c = target(world, call)?;
    for k in keys {
        c.tags.remove(k);
    }
    Ok(json!({}))
}

/// ListTagsForResource.
pub fn list(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let c = target(world, call)?;
    Ok(json!({ "tags": c.tags }))
}
