//! kube-system/aws-auth: read it with its resourceVersion, write its `data` conditionally on
//! that resourceVersion.

use crate::client::KubeCallError;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use std::collections::BTreeMap;

/// The aws-auth ConfigMap as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsAuthConfigMap {
    /// Its `data`, verbatim.
    pub data: BTreeMap<String, String>,
    /// Its `metadata.resourceVersion` (for conditional writes).
    pub resource_version: String,
    /// Its whole `metadata` as the API server sent it (labels, annotations, managedFields),
    /// for owner detection.
    pub metadata: serde_json::Value,
}

/// The field manager of the migrator's aws-auth writes: the API server records it in
/// `managedFields`, and owner detection knows it as the migrator's own.
pub const FIELD_MANAGER: &str = "eks-auth-migrator";

/// Reads kube-system/aws-auth; `Ok(None)` when it does not exist.
///
/// # Errors
///
/// [`KubeCallError`] other than `NotFound`.
pub async fn read_aws_auth(
    client: kube::Client,
) -> Result<Option<AwsAuthConfigMap>, KubeCallError> {
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-system");
    match api.get_opt("aws-auth").await {
        Ok(None) => Ok(None),
        Ok(Some(cm)) => Ok(Some(AwsAuthConfigMap {
            resource_version: cm.metadata.resource_version.clone().unwrap_or_default(),
            metadata: serde_json::to_value(&cm.metadata).unwrap_or_default(),
            data: cm.data.unwrap_or_default(),
        })),
        Err(e) => Err(KubeCallError::from_kube(e)),
    }
}

/// Sets aws-auth's `data` to exactly `data` (keys of `current`, the data read, that `data`
/// lacks are removed) with a JSON merge patch whose `metadata.resourceVersion` is a
/// precondition, so the write only lands on the version that was read. Labels, annotations and
/// other metadata are kept; the API server records the write under [`FIELD_MANAGER`]. Returns
/// the new resourceVersion.
///
/// # Errors
///
/// [`KubeCallError::Conflict`] when aws-auth moved on since `expected_resource_version`
/// (nothing written), [`KubeCallError::NotFound`] when it is gone, others as they come.
pub async fn patch_aws_auth(
    client: kube::Client,
    expected_resource_version: &str,
    current: &BTreeMap<String, String>,
    data: &BTreeMap<String, String>,
) -> Result<String, KubeCallError> {
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-system");
    let patch = merge_patch(expected_resource_version, current, data);
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    api.patch("aws-auth", &params, &Patch::Merge(&patch))
        .await
        .map(|cm| cm.metadata.resource_version.unwrap_or_default())
        .map_err(KubeCallError::from_kube)
}

/// The merge patch [`patch_aws_auth`] sends.
fn merge_patch(
    expected_resource_version: &str,
    current: &BTreeMap<String, String>,
    data: &BTreeMap<String, String>,
) -> serde_json::Value {
    let mut patch_data = serde_json::Map::new();
    for key in current.keys().filter(|k| !data.contains_key(*k)) {
        patch_data.insert(key.clone(), serde_json::Value::Null);
    }
    for (key, value) in data {
        patch_data.insert(key.clone(), serde_json::Value::String(value.clone()));
    }
    serde_json::json!({
        "metadata": { "resourceVersion": expected_resource_version },
        "data": patch_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patch_removes_dropped_keys_and_is_conditional() {
        let current = BTreeMap::from([
            ("mapRoles".to_owned(), "- a".to_owned()),
            ("mapUsers".to_owned(), "- b".to_owned()),
        ]);
        let data = BTreeMap::from([("mapRoles".to_owned(), "- a2".to_owned())]);
        assert_eq!(
            merge_patch("7", &current, &data),
            serde_json::json!({
                "metadata": { "resourceVersion": "7" },
                "data": { "mapRoles": "- a2", "mapUsers": null },
            })
        );
    }
}
