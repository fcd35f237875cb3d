//! ConfigMaps of one cluster with Kubernetes semantics: resourceVersion on every write,
//! optimistic concurrency (409 Conflict on a stale resourceVersion), AlreadyExists, NotFound.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::model::{Cluster, StoredObject, epoch_now};

/// A Kubernetes API error, rendered as a `Status` object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct KubeError {
    /// HTTP status.
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Unauthorized`, `Forbidden`, ...
    pub reason: &'static str,
    /// Message as the API server words it.
    pub message: String,
    /// `details` (name/kind) when known.
    pub name: Option<String>,
}

impl KubeError {
    /// The `Status` body.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(name) = &self.name {
            status["details"] = json!({ "name": name, "kind": "configmaps" });
        }
        status
    }

    fn not_found(name: &str) -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: format!("configmaps \"{name}\" not found"),
            name: Some(name.to_owned()),
        }
    }

    fn conflict(name: &str) -> Self {
        Self {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on configmaps \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            name: Some(name.to_owned()),
        }
    }

    /// 400/422 for a malformed body.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: 422,
            reason: "Invalid",
            message: message.into(),
            name: None,
        }
    }
}

/// Hands out the next resourceVersion of the cluster.
pub fn next_resource_version(cluster: &mut Cluster) -> u64 {
    cluster.resource_version += 1;
    cluster.resource_version
}

/// A new ConfigMap object.
pub fn new_configmap(
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, String>,
    resource_version: u64,
    now: f64,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": format!("{:08x}-0000-4000-8000-{:012x}", resource_version, (now * 1000.0) as u64),
            "resourceVersion": resource_version.to_string(),
            "creationTimestamp": crate::clock::rfc3339(now as i64),
        },
        "data": data,
    })
}

fn key(namespace: &str, name: &str) -> (String, String) {
    (namespace.to_owned(), name.to_owned())
}

fn resource_version_of(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// GET one ConfigMap.
///
/// # Errors
///
/// 404 NotFound.
pub fn get(cluster: &Cluster, namespace: &str, name: &str) -> Result<Value, KubeError> {
    cluster
        .configmaps
        .get(&key(namespace, name))
        .map(|o| o.object.clone())
        .ok_or_else(|| KubeError::not_found(name))
}

/// LIST the ConfigMaps of a namespace.
pub fn list(cluster: &Cluster, namespace: &str) -> Value {
    let items: Vec<Value> = cluster
        .configmaps
        .iter()
        .filter(|((ns, _), _)| ns == namespace)
        .map(|(_, o)| o.object.clone())
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMapList",
        "metadata": { "resourceVersion": cluster.resource_version.to_string() },
        "items": items,
    })
}

/// Normalises a submitted object: namespace/name from the URL, server-owned fields kept.
fn prepare(mut body: Value, namespace: &str, name: &str) -> Result<Value, KubeError> {
    let obj = body
        .as_object_mut()
        .ok_or_else(|| KubeError::invalid("the body must be a ConfigMap object"))?;
    obj.insert("apiVersion".to_owned(), json!("v1"));
    obj.insert("kind".to_owned(), json!("ConfigMap"));
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| KubeError::invalid("metadata must be an object"))?;
    if let Some(n) = meta.get("name").and_then(Value::as_str)
        && n != name
    {
        return Err(KubeError {
            code: 400,
            reason: "BadRequest",
            message: format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            ),
            name: Some(name.to_owned()),
        });
    }
    meta.insert("name".to_owned(), json!(name));
    meta.insert("namespace".to_owned(), json!(namespace));
    if let Some(data) = obj.get("data")
        && !data.is_null()
        && !data
            .as_object()
            .is_some_and(|d| d.values().all(Value::is_string))
    {
        return Err(KubeError::invalid("ConfigMap data values must be strings"));
    }
    Ok(body)
}

/// POST (create).
///
/// # Errors
///
/// 409 AlreadyExists, 422 for a malformed object.
pub fn create(cluster: &mut Cluster, namespace: &str, body: Value) -> Result<Value, KubeError> {
    let name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| KubeError::invalid("metadata.name: Required value: name is required"))?;
    if cluster.configmaps.contains_key(&key(namespace, &name)) {
        return Err(KubeError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("configmaps \"{name}\" already exists"),
            name: Some(name),
        });
    }
    let mut object = prepare(body, namespace, &name)?;
    let rv = next_resource_version(cluster);
    let fresh = new_configmap(namespace, &name, &BTreeMap::new(), rv, epoch_now());
    object["metadata"]["uid"] = fresh["metadata"]["uid"].clone();
    object["metadata"]["creationTimestamp"] = fresh["metadata"]["creationTimestamp"].clone();
    object["metadata"]["resourceVersion"] = json!(rv.to_string());
    cluster.configmaps.insert(
        key(namespace, &name),
        StoredObject {
            object: object.clone(),
        },
    );
    Ok(object)
}

/// Stores `object` as the new version of an existing ConfigMap, checking `resourceVersion`.
fn write(
    cluster: &mut Cluster,
    namespace: &str,
    name: &str,
    object: Value,
) -> Result<Value, KubeError> {
    let current = cluster
        .configmaps
        .get(&key(namespace, name))
        .ok_or_else(|| KubeError::not_found(name))?;
    if let Some(rv) = resource_version_of(&object)
        && Some(rv) != resource_version_of(&current.object)
    {
        return Err(KubeError::conflict(name));
    }
    let uid = current.object["metadata"]["uid"].clone();
    let created = current.object["metadata"]["creationTimestamp"].clone();
    let mut object = prepare(object, namespace, name)?;
    let rv = next_resource_version(cluster);
    object["metadata"]["uid"] = uid;
    object["metadata"]["creationTimestamp"] = created;
    object["metadata"]["resourceVersion"] = json!(rv.to_string());
    cluster.configmaps.insert(
        key(namespace, name),
        StoredObject {
            object: object.clone(),
        },
    );
    Ok(object)
}

/// PUT (replace). A non-empty `metadata.resourceVersion` must equal the current one.
///
/// # Errors
///
/// 404 NotFound, 409 Conflict, 422 Invalid.
pub fn replace(
    cluster: &mut Cluster,
    namespace: &str,
    name: &str,
    body: Value,
) -> Result<Value, KubeError> {
    write(cluster, namespace, name, body)
}

/// PATCH with a JSON merge patch (RFC 7386); strategic merge patches of ConfigMaps merge the
/// same way. A `metadata.resourceVersion` in the patch is a precondition.
///
/// # Errors
///
/// 404 NotFound, 409 Conflict, 422 Invalid.
pub fn merge_patch(
    cluster: &mut Cluster,
    namespace: &str,
    name: &str,
    patch: &Value,
) -> Result<Value, KubeError> {
    let mut object = get(cluster, namespace, name)?;
    let precondition = resource_version_of(patch).map(str::to_owned);
    merge(&mut object, patch);
    if let Some(rv) = precondition {
        object["metadata"]["resourceVersion"] = json!(rv);
    }
    write(cluster, namespace, name, object)
}

/// RFC 7386 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    let Some(patch_obj) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Some(t) = target.as_object_mut() {
        for (k, v) in patch_obj {
            if v.is_null() {
                t.remove(k);
            } else {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// DELETE; returns the Success status.
///
/// # Errors
///
/// 404 NotFound.
pub fn delete(cluster: &mut Cluster, namespace: &str, name: &str) -> Result<Value, KubeError> {
    let removed = cluster
        .configmaps
        .remove(&key(namespace, name))
        .ok_or_else(|| KubeError::not_found(name))?;
    next_resource_version(cluster);
    Ok(json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": name,
            "kind": "configmaps",
            "uid": removed.object["metadata"]["uid"],
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }
}
