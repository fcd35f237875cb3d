//! One page of one RBAC kind (ClusterRoles, ClusterRoleBindings, Roles, RoleBindings) in every
//! namespace, each object with its `kind` and `apiVersion` set (list items carry neither), as
//! `eks_auth_core::rbac::Rbac::from_items` reads them.

use crate::client::KubeCallError;
use kube::api::ListParams;
use serde_json::Value;

/// The RBAC kinds, as (URL resource, kind).
pub const RBAC_KINDS: [(&str, &str); 4] = [
    ("clusterroles", "ClusterRole"),
    ("clusterrolebindings", "ClusterRoleBinding"),
    ("roles", "Role"),
    ("rolebindings", "RoleBinding"),
];

/// One page of objects.
#[derive(Debug, Clone, PartialEq)]
pub struct RbacPage {
    /// The objects, each with `kind` and `apiVersion`.
    pub items: Vec<Value>,
    /// The next page's token; `None` on the last page.
    pub continue_token: Option<String>,
}

/// Lists one page of `resource` (one of [`RBAC_KINDS`]' resources).
///
/// # Errors
///
/// [`KubeCallError::Config`] for a resource outside [`RBAC_KINDS`], others as they come.
pub async fn list_rbac_page(
    client: &kube::Client,
    resource: &str,
    limit: u32,
    continue_token: Option<&str>,
) -> Result<RbacPage, KubeCallError> {
    let kind = RBAC_KINDS
        .iter()
        .find(|(r, _)| *r == resource)
        .map(|(_, k)| *k)
        .ok_or_else(|| KubeCallError::Config(format!("`{resource}` is not an RBAC kind")))?;
    let path = format!("/apis/rbac.authorization.k8s.io/v1/{resource}");
    let mut params = ListParams::default().limit(limit);
    if let Some(token) = continue_token {
        params = params.continue_token(token);
    }
    let request = kube::core::Request::new(&path)
        .list(&params)
        .map_err(|e| KubeCallError::Config(crate::client::error_chain(&e)))?;
    let page: Value = client
        .request(request)
        .await
        .map_err(KubeCallError::from_kube)?;
    let items = page
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut item| {
            if let Some(map) = item.as_object_mut() {
                map.entry("kind").or_insert_with(|| Value::from(kind));
                map.entry("apiVersion")
                    .or_insert_with(|| Value::from("rbac.authorization.k8s.io/v1"));
            }
            item
        })
        .collect();
    let continue_token = page
        .pointer("/metadata/continue")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok(RbacPage {
        items,
        continue_token,
    })
}
