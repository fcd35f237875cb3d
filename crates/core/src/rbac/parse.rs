//! Reading RBAC objects: the `v1 List` that `kubectl get clusterroles,clusterrolebindings,roles,
//! rolebindings -A -o yaml` (or `-o json`) prints, or the items the live path lists.
//!
//! # Guarantees
//! - A malformed object is a finding, never an error for the whole dump, and whatever it could
//!   grant is recorded in [`Unreadable`]: a subject whose permissions could depend on an object
//!   that could not be read gets no suggestion.
//! - Items of other kinds are reported and ignored; they grant nothing.

use super::model::{Binding, ClusterRole, Role, Subject};
use super::objects;
use crate::finding::{Finding, FindingCode, Severity};
use serde_json::Value;
use std::collections::BTreeMap;

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

/// What could not be read, and so what no suggestion may rely on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unreadable {
    /// Something unreadable could grant anything to anyone (an object without a kind or name, a
    /// binding whose subjects cannot be read): no subject gets a suggestion.
    pub everything: Option<String>,
    /// A ClusterRole's labels could not be read: any aggregated ClusterRole might select it.
    pub labels: Option<String>,
    /// ClusterRoles whose rules or aggregation could not be read, with why.
    pub cluster_roles: BTreeMap<String, String>,
    /// The labels of those ClusterRoles, where they could be read (for aggregation).
    pub cluster_role_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Roles (namespace, name) whose rules could not be read, with why.
    pub roles: BTreeMap<(String, String), String>,
    /// Subjects of bindings whose role reference could not be read, with why.
    pub subjects: BTreeMap<Subject, String>,
}

/// A cluster's RBAC objects as read, with findings about them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rbac {
    /// ClusterRoles by name.
    pub cluster_roles: BTreeMap<String, ClusterRole>,
    /// Roles by (namespace, name).
    pub roles: BTreeMap<(String, String), Role>,
    /// ClusterRoleBindings and RoleBindings, in input order.
    pub bindings: Vec<Binding>,
    /// What was wrong with the input.
    pub findings: Vec<Finding>,
    /// What could not be read.
    pub unreadable: Unreadable,
}

/// Verbs the Kubernetes API server and its built-in authorisation checks use.
pub(super) const KNOWN_VERBS: &[&str] = &[
    "*",
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "impersonate",
    "bind",
    "escalate",
    "use",
    "approve",
    "sign",
    "attest",
    "proxy",
];

pub(super) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

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

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn is_rbac_kind(kind: &str) -> bool {
    matches!(
        kind,
        "ClusterRole" | "Role" | "ClusterRoleBinding" | "RoleBinding"
    )
}

/// Where a finding points: `items[3] (ClusterRole ops)`.
pub(super) struct Place {
    pub(super) index: usize,
    pub(super) what: String,
}

impl Place {
    pub(super) fn finding(&self, code: FindingCode, severity: Severity, message: &str) -> Finding {
        Finding::general(
            code,
            severity,
            format!("RBAC items[{}] ({}): {message}", self.index, self.what),
        )
    }
}

fn read_item(rbac: &mut Rbac, index: usize, item: &Value) {
    let kind = item.get("kind").and_then(Value::as_str);
    let name = item
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let namespace = item
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let api_version = item.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let place = Place {
        index,
        what: match (kind, namespace, name) {
            (Some(k), Some(ns), Some(n)) => format!("{k} {ns}/{n}"),
            (Some(k), None, Some(n)) => format!("{k} {n}"),
            (Some(k), _, None) => format!("{k} without a name"),
            (None, _, _) => "no kind".to_owned(),
        },
    };
    let Some(kind) = kind else {
        let why = format!("RBAC items[{index}] has no `kind`");
        rbac.findings.push(place.finding(
            FindingCode::RbacInvalid,
            Severity::Warning,
            "the object has no `kind`, so it cannot be read; it could be a binding that grants anything, so no group or user gets a suggestion. Fix the dump (kubectl prints `kind` on every item).",
        ));
        rbac.unreadable.everything.get_or_insert(why);
        return;
    };
    if !is_rbac_kind(kind) || !api_version.starts_with(&format!("{RBAC_GROUP}/")) {
        rbac.findings.push(place.finding(
            FindingCode::RbacInvalid,
            Severity::Info,
            &format!("`{api_version}` `{kind}` is not an RBAC object (ClusterRole, Role, ClusterRoleBinding, RoleBinding of {RBAC_GROUP}); ignored."),
        ));
        return;
    }
    let Some(name) = name else {
        let why = format!("RBAC items[{index}] ({kind}) has no name");
        rbac.findings.push(place.finding(
            FindingCode::RbacInvalid,
            Severity::Warning,
            "the object has no `metadata.name`; what it grants cannot be tied to anything, so no group or user gets a suggestion. Fix the dump.",
        ));
        rbac.unreadable.everything.get_or_insert(why);
        return;
    };
    match kind {
        "ClusterRole" => objects::read_cluster_role(rbac, &place, name, item),
        "Role" => objects::read_role(rbac, &place, namespace, name, item),
        _ => objects::read_binding(rbac, &place, kind, namespace, name, item),
    }
}
