//! ConfigMaps of one cluster with Kubernetes semantics: resourceVersion on every write,
//! optimistic concurrency (409 Conflict on a stale resourceVersion), AlreadyExists, NotFound.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

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

/// A field a write sets: a `data` key, a label or an annotation, as `managedFields` names them
/// (`("f:data", "f:mapRoles")`, `("f:labels", "f:team")`).
pub type Field = (String, String);

/// The field manager of a write, as the API server names it: the `fieldManager` query
/// parameter, else the User-Agent up to its first `/`, printable characters only, at most 128
/// bytes (k8s.io/apiserver `pkg/endpoints/handlers/create.go` `managerOrUserAgent`,
/// `prefixFromUserAgent`).
pub fn field_manager(query: Option<&str>, user_agent: &str) -> String {
    let named = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("fieldManager="))
        .filter(|m| !m.is_empty());
    if let Some(manager) = named {
        return manager.to_owned();
    }
    let prefix: String = user_agent
        .split('/')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let mut end = prefix.len().min(128);
    while !prefix.is_char_boundary(end) {
        end -= 1;
    }
    prefix[..end].to_owned()
}

/// The fields a create, replace or merge patch body sets (a `null` removes, it does not set).
pub fn written_fields(body: &Value) -> Vec<Field> {
    let mut fields = Vec::new();
    for (section, pointer) in [
        ("f:data", "/data"),
        ("f:labels", "/metadata/labels"),
        ("f:annotations", "/metadata/annotations"),
    ] {
        if let Some(map) = body.pointer(pointer).and_then(Value::as_object) {
            fields.extend(
                map.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, _)| (section.to_owned(), format!("f:{k}"))),
            );
        }
    }
    fields
}

/// The fields an object holds, as [`written_fields`] names them.
fn present_fields(object: &Value) -> Vec<Field> {
    written_fields(object)
}

/// The fields a `managedFields` entry's `fieldsV1` owns.
fn entry_fields(entry: &Value) -> Vec<Field> {
    let mut fields = Vec::new();
    for (section, pointer) in [
        ("f:data", "/fieldsV1/f:data"),
        ("f:labels", "/fieldsV1/f:metadata/f:labels"),
        ("f:annotations", "/fieldsV1/f:metadata/f:annotations"),
    ] {
        if let Some(map) = entry.pointer(pointer).and_then(Value::as_object) {
            fields.extend(
                map.keys()
                    .filter(|k| k.as_str() != ".")
                    .map(|k| (section.to_owned(), k.clone())),
            );
        }
    }
    fields
}

/// `fieldsV1` owning `fields`.
fn fields_v1(fields: &[Field]) -> Value {
    let (mut data, mut labels, mut annotations) = (Map::new(), Map::new(), Map::new());
    for (section, key) in fields {
        let target = match section.as_str() {
            "f:data" => &mut data,
            "f:labels" => &mut labels,
            _ => &mut annotations,
        };
        target.insert(key.clone(), json!({}));
    }
    let mut metadata = Map::new();
    for (name, map) in [("f:labels", labels), ("f:annotations", annotations)] {
        if !map.is_empty() {
            metadata.insert(name.to_owned(), Value::Object(map));
        }
    }
    let mut root = Map::new();
    if !data.is_empty() {
        root.insert("f:data".to_owned(), Value::Object(data));
    }
    if !metadata.is_empty() {
        root.insert("f:metadata".to_owned(), Value::Object(metadata));
    }
    Value::Object(root)
}

/// Records a write of `fields` by `manager` (operation `Update`) in the stored object's
/// `metadata.managedFields` ([`record_write`]). Returns the object.
///
/// # Errors
///
/// 404 NotFound.
pub fn track_manager(
    cluster: &mut Cluster,
    namespace: &str,
    name: &str,
    manager: &str,
    fields: &[Field],
) -> Result<Value, KubeError> {
    let stored = cluster
        .configmaps
        .get_mut(&key(namespace, name))
        .ok_or_else(|| KubeError::not_found(name))?;
    let now = crate::clock::rfc3339(epoch_now() as i64);
    record_write(&mut stored.object, manager, fields, &now);
    Ok(stored.object.clone())
}

/// Records a write of `fields` by `manager` at `now` in `object`'s `metadata.managedFields`, as
/// the API server does for an update: the fields move to the writer's entry (created, or its
/// time renewed), other managers lose them, fields the object no longer holds are owned by
/// nobody, and an entry left owning nothing is dropped.
pub fn record_write(object: &mut Value, manager: &str, fields: &[Field], now: &str) {
    let present = present_fields(object);
    let entries: Vec<Value> = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut kept = Vec::new();
    let mut mine: Vec<Field> = Vec::new();
    for entry in entries {
        let is_mine = entry["manager"] == json!(manager) && entry["operation"] == json!("Update");
        let owned: Vec<Field> = entry_fields(&entry)
            .into_iter()
            .filter(|f| present.contains(f) && (is_mine || !fields.contains(f)))
            .collect();
        if is_mine {
            mine = owned;
        } else if !owned.is_empty() {
            let mut entry = entry;
            entry["fieldsV1"] = fields_v1(&owned);
            kept.push(entry);
        }
    }
    mine.extend(fields.iter().filter(|f| present.contains(f)).cloned());
    mine.sort();
    mine.dedup();
    if !mine.is_empty() {
        kept.push(json!({
            "manager": manager,
            "operation": "Update",
            "apiVersion": "v1",
            "time": now,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1(&mine),
        }));
    }
    object["metadata"]["managedFields"] = Value::Array(kept);
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
    fn writes_move_fields_to_their_manager() {
        assert_eq!(
            field_manager(None, "eksctl/0.190.0 (linux/amd64) kubernetes/abc"),
            "eksctl"
        );
        assert_eq!(
            field_manager(Some("fieldManager=eks-auth-migrator&x=1"), "kube-rs/1"),
            "eks-auth-migrator"
        );
        let data = BTreeMap::from([
            ("mapRoles".to_owned(), "- a".to_owned()),
            ("mapUsers".to_owned(), "- b".to_owned()),
        ]);
        let mut object = new_configmap("kube-system", "aws-auth", &data, 1, 0.0);
        let created = written_fields(&object);
        record_write(&mut object, "argocd-controller", &created, "t1");
        assert_eq!(
            object["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:mapRoles": {}, "f:mapUsers": {}}})
        );
        let patch = json!({"data": {"mapUsers": null}});
        merge(&mut object, &patch);
        record_write(&mut object, "kubectl-edit", &written_fields(&patch), "t2");
        let patch = json!({"data": {"mapRoles": "- a2"}});
        merge(&mut object, &patch);
        record_write(
            &mut object,
            "eks-auth-migrator",
            &written_fields(&patch),
            "t3",
        );
        let after = object;
        assert_eq!(
            after["metadata"]["managedFields"]
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| (e["manager"].clone(), e["fieldsV1"].clone()))
                .collect::<Vec<_>>(),
            [(
                json!("eks-auth-migrator"),
                json!({"f:data": {"f:mapRoles": {}}})
            )],
            "the migrator took mapRoles over; mapUsers is gone, so Argo CD owns nothing left"
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }
}
