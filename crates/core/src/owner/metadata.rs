//! The metadata of a Kubernetes object that owner detection reads — labels, annotations and
//! `managedFields` — in Kubernetes' own JSON shape (`ObjectMeta`), so the live read, the in-VPC
//! agent's answer and a `kubectl get -o yaml` file all decode into the same value.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The parts of `metadata` owner detection reads. Other `ObjectMeta` fields are ignored when
/// decoding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMetadata {
    /// `metadata.labels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `metadata.managedFields`: one entry per (manager, operation, subresource) that wrote the
    /// object, as the API server keeps them. `None` when the source did not include them
    /// (`kubectl get -o yaml` hides them unless `--show-managed-fields` is given); `Some(empty)`
    /// when it did and there were none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_fields: Option<Vec<ManagedFieldsEntry>>,
}

/// One `metadata.managedFields` entry (Kubernetes `ManagedFieldsEntry`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedFieldsEntry {
    /// The field manager: the request's `fieldManager` parameter, or what the API server derived
    /// from its User-Agent (the part before the first `/`).
    #[serde(default)]
    pub manager: String,
    /// `Apply` (server-side apply) or `Update` (every other write).
    #[serde(default)]
    pub operation: String,
    /// The API version the fields were written in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// When the manager last changed the object (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `FieldsV1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_type: Option<String>,
    /// The fields the manager owns (`{"f:data": {"f:mapRoles": {}}, …}`).
    #[serde(default, rename = "fieldsV1", skip_serializing_if = "Option::is_none")]
    pub fields_v1: Option<serde_json::Value>,
    /// The subresource written (`status`, …); absent for the object itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
}

/// The `data` keys aws-auth's rows live in.
pub const AWS_AUTH_DATA_KEYS: [&str; 3] = ["mapRoles", "mapUsers", "mapAccounts"];

impl ManagedFieldsEntry {
    /// Whether this manager owns aws-auth's rows: a `data` mapping key among
    /// [`AWS_AUTH_DATA_KEYS`], or the whole `data`. An entry whose fields are not given
    /// (hand-written metadata) counts as owning them: detection errs on the side of the owner.
    /// A subresource write never does.
    pub fn owns_rows(&self) -> bool {
        if self.subresource.as_deref().is_some_and(|s| !s.is_empty()) {
            return false;
        }
        let Some(fields) = &self.fields_v1 else {
            return true;
        };
        match fields.get("f:data") {
            None => false,
            Some(serde_json::Value::Object(data)) => {
                data.is_empty()
                    || AWS_AUTH_DATA_KEYS
                        .iter()
                        .any(|key| data.contains_key(&format!("f:{key}")))
            }
            Some(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_object_meta_as_the_api_server_writes_it() {
        let meta: ObjectMetadata = serde_json::from_value(serde_json::json!({
            "name": "aws-auth",
            "namespace": "kube-system",
            "resourceVersion": "7",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "managedFields": [{
                "manager": "helm",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2026-01-02T03:04:05Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {".": {}, "f:mapRoles": {}}}
            }]
        }))
        .expect("ObjectMeta decodes");
        let entries = meta.managed_fields.expect("managedFields present");
        assert_eq!(entries[0].manager, "helm");
        assert!(entries[0].owns_rows());
    }

    #[test]
    fn a_manager_of_labels_only_does_not_own_the_rows() {
        let labels_only = ManagedFieldsEntry {
            manager: "kubectl-label".to_owned(),
            operation: "Update".to_owned(),
            fields_v1: Some(serde_json::json!({"f:metadata": {"f:labels": {"f:team": {}}}})),
            ..ManagedFieldsEntry::default()
        };
        assert!(!labels_only.owns_rows());
        let unknown_fields = ManagedFieldsEntry {
            fields_v1: None,
            ..labels_only.clone()
        };
        assert!(unknown_fields.owns_rows());
        let status = ManagedFieldsEntry {
            subresource: Some("status".to_owned()),
            fields_v1: None,
            ..labels_only
        };
        assert!(!status.owns_rows());
    }

    #[test]
    fn absent_managed_fields_differ_from_none_written() {
        let hidden: ObjectMetadata =
            serde_json::from_value(serde_json::json!({"name": "aws-auth"})).expect("decodes");
        assert_eq!(hidden.managed_fields, None);
        let none: ObjectMetadata =
            serde_json::from_value(serde_json::json!({"managedFields": []})).expect("decodes");
        assert_eq!(none.managed_fields, Some(Vec::new()));
    }
}
