//! Reading RBAC objects: the `v1 List` that `kubectl get clusterroles,clusterrolebindings,roles,
//! rolebindings -A -o yaml` (or `-o json`) prints, or the items the live path lists.
//!
//! # Guarantees
//! - A malformed object is a finding, never an error for the whole dump, and whatever it could
//!   grant is recorded in [`Unreadable`](super::model::Unreadable): a subject whose permissions could depend on an object
//!   that could not be read gets no suggestion.
//! - Items of other kinds are reported and ignored; they grant nothing.

use super::model::{ClusterRole, Rbac};
use super::objects::{is_rbac_kind, read_item};
use crate::value_kind::kind_of;
use serde_json::Value;

/// Why an RBAC dump is unusable as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RbacError {
    /// Nothing to read.
    #[error(
        "the RBAC input is empty; expected the output of `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml`"
    )]
    Empty,
    /// Not YAML or JSON.
    #[error("the RBAC input is not YAML or JSON: {0}")]
    Syntax(String),
    /// YAML, but not a List of RBAC objects.
    #[error(
        "the RBAC input is {0}; expected a v1 List from `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml`"
    )]
    NotAList(String),
}

impl Rbac {
    /// Parses a dump (YAML or JSON): a `List` (or `ClusterRoleList`, ...) of RBAC objects, or a
    /// single RBAC object.
    ///
    /// # Errors
    /// [`RbacError`] when the text is empty, not YAML/JSON, or not a list of objects. Problems
    /// with single objects are findings, not errors.
    pub fn parse(text: &str) -> Result<Rbac, RbacError> {
        if text.trim().is_empty() {
            return Err(RbacError::Empty);
        }
        let root: Value = serde_saphyr::from_str(text).map_err(|e| {
            RbacError::Syntax(e.to_string().lines().next().unwrap_or_default().to_owned())
        })?;
        let Value::Object(fields) = &root else {
            return Err(RbacError::NotAList(kind_of(&root).to_owned()));
        };
        let kind = fields.get("kind").and_then(Value::as_str).unwrap_or("");
        if is_rbac_kind(kind) {
            return Ok(Rbac::from_items([root]));
        }
        if kind != "List" && !kind.ends_with("List") {
            return Err(RbacError::NotAList(if kind.is_empty() {
                "a mapping without `kind`".to_owned()
            } else {
                format!("a `{kind}`")
            }));
        }
        match fields.get("items") {
            Some(Value::Array(items)) => Ok(Rbac::from_items(items.iter().cloned())),
            Some(Value::Null) | None => Ok(Rbac::from_items([])),
            Some(other) => Err(RbacError::NotAList(format!(
                "a List whose `items` is {}",
                kind_of(other)
            ))),
        }
    }

    /// Reads RBAC objects one by one (what a List's `items` hold, or what the live path lists).
    pub fn from_items(items: impl IntoIterator<Item = Value>) -> Rbac {
        let mut rbac = Rbac::default();
        for (index, item) in items.into_iter().enumerate() {
            read_item(&mut rbac, index, &item);
        }
        rbac
    }

    /// Adds the ClusterRoles of `other` that this dump lacks (used to complete a dump with
    /// Kubernetes' bootstrap roles in tests and the simulator).
    pub fn add_missing_cluster_roles(&mut self, roles: impl IntoIterator<Item = ClusterRole>) {
        for role in roles {
            self.cluster_roles.entry(role.name.clone()).or_insert(role);
        }
    }
}
