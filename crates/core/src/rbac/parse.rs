//! Reading RBAC objects: the `v1 List` that `kubectl get clusterroles,clusterrolebindings,roles,
//! rolebindings -A -o yaml` (or `-o json`) prints, or the items the live path lists.
//!
//! # Guarantees
//! - A malformed object is a finding, never an error for the whole dump, and whatever it could
//!   grant is recorded in [`Unreadable`]: a subject whose permissions could depend on an object
//!   that could not be read gets no suggestion.
//! - Items of other kinds are reported and ignored; they grant nothing.

use super::model::{
    Binding, BindingKind, ClusterRole, LabelSelector, PolicyRule, Role, RoleKind, Subject,
    SubjectKind,
};
use crate::finding::{Finding, FindingCode, Severity};
use serde::Deserialize;
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
const KNOWN_VERBS: &[&str] = &[
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

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

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
struct Place {
    index: usize,
    what: String,
}

impl Place {
    fn finding(&self, code: FindingCode, severity: Severity, message: &str) -> Finding {
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
        "ClusterRole" => read_cluster_role(rbac, &place, name, item),
        "Role" => read_role(rbac, &place, namespace, name, item),
        _ => read_binding(rbac, &place, kind, namespace, name, item),
    }
}

/// Decodes `value` (absent or null: `T::default()`).
fn field<T: for<'de> Deserialize<'de> + Default>(item: &Value, pointer: &str) -> Result<T, String> {
    match item.pointer(pointer) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
            format!(
                "`{}` cannot be read: {e}",
                pointer.trim_start_matches('/').replace('/', ".")
            )
        }),
    }
}

/// Reads and validates rules; reports unknown verbs.
fn read_rules(
    rbac: &mut Rbac,
    place: &Place,
    item: &Value,
    namespaced: bool,
) -> Result<Vec<PolicyRule>, String> {
    let rules: Vec<PolicyRule> = field(item, "/rules")?;
    for (i, rule) in rules.iter().enumerate() {
        if let Some(reason) = rule.invalid_reason(namespaced) {
            return Err(format!("rules[{i}]: {reason}"));
        }
    }
    let unknown: Vec<&str> = rules
        .iter()
        .flat_map(|r| r.verbs.iter())
        .map(String::as_str)
        .filter(|v| !KNOWN_VERBS.contains(v))
        .collect();
    if !unknown.is_empty() {
        rbac.findings.push(place.finding(
            FindingCode::RbacUnknownVerb,
            Severity::Warning,
            &format!(
                "verbs [{}] are not verbs the Kubernetes API server uses (they are case-sensitive and lower-case); they match only requests that use them literally (an aggregated API or webhook might), so the comparison keeps them as they are written.",
                unknown.join(", ")
            ),
        ));
    }
    Ok(rules)
}

fn read_cluster_role(rbac: &mut Rbac, place: &Place, name: &str, item: &Value) {
    let labels: Result<BTreeMap<String, String>, String> = field(item, "/metadata/labels");
    let labels = match labels {
        Ok(l) => l,
        Err(why) => {
            rbac.findings.push(place.finding(
                FindingCode::RbacInvalid,
                Severity::Warning,
                &format!("{why}; any aggregated ClusterRole might select it, so groups and users bound to aggregated roles get no suggestion."),
            ));
            rbac.unreadable
                .labels
                .get_or_insert(format!("ClusterRole {name} has unreadable labels"));
            rbac.unreadable
                .cluster_roles
                .insert(name.to_owned(), "its labels cannot be read".to_owned());
            return;
        }
    };
    let aggregation = match item.get("aggregationRule") {
        None | Some(Value::Null) => Ok(None),
        Some(_) => {
            field::<Option<Vec<LabelSelector>>>(item, "/aggregationRule/clusterRoleSelectors")
                .map(|s| Some(s.unwrap_or_default()))
        }
    };
    let rules = read_rules(rbac, place, item, false);
    match (aggregation, rules) {
        (Ok(aggregation), Ok(rules)) => {
            insert_cluster_role(
                rbac,
                place,
                ClusterRole {
                    name: name.to_owned(),
                    labels,
                    aggregation,
                    rules,
                },
            );
        }
        (Err(why), _) | (_, Err(why)) => {
            rbac.findings.push(place.finding(
                FindingCode::RbacInvalid,
                Severity::Warning,
                &format!("{why}; the role cannot be read, so groups and users bound to it get no suggestion."),
            ));
            rbac.unreadable.cluster_roles.insert(name.to_owned(), why);
            rbac.unreadable
                .cluster_role_labels
                .insert(name.to_owned(), labels);
            rbac.cluster_roles.remove(name);
        }
    }
}

fn insert_cluster_role(rbac: &mut Rbac, place: &Place, role: ClusterRole) {
    if rbac.unreadable.cluster_roles.contains_key(&role.name) {
        return;
    }
    if rbac.cluster_roles.contains_key(&role.name) {
        rbac.findings.push(place.finding(
            FindingCode::RbacInvalid,
            Severity::Warning,
            "a ClusterRole of this name appears earlier in the dump; the later one is used (a cluster holds one object per name: the dump was edited or concatenated).",
        ));
    }
    rbac.cluster_roles.insert(role.name.clone(), role);
}

fn read_role(rbac: &mut Rbac, place: &Place, namespace: Option<&str>, name: &str, item: &Value) {
    let Some(namespace) = namespace else {
        let why = "a Role without `metadata.namespace`".to_owned();
        rbac.findings.push(place.finding(
            FindingCode::RbacInvalid,
            Severity::Warning,
            "the Role has no `metadata.namespace`, so RoleBindings cannot be matched to it; no group or user gets a suggestion. Dump with `-A`, which prints every namespace.",
        ));
        rbac.unreadable.everything.get_or_insert(why);
        return;
    };
    let key = (namespace.to_owned(), name.to_owned());
    match read_rules(rbac, place, item, true) {
        Ok(rules) => {
            if rbac.roles.contains_key(&key) {
                rbac.findings.push(place.finding(
                    FindingCode::RbacInvalid,
                    Severity::Warning,
                    "a Role of this name in this namespace appears earlier in the dump; the later one is used.",
                ));
            }
            if !rbac.unreadable.roles.contains_key(&key) {
                rbac.roles.insert(
                    key,
                    Role {
                        namespace: namespace.to_owned(),
                        name: name.to_owned(),
                        rules,
                    },
                );
            }
        }
        Err(why) => {
            rbac.findings.push(place.finding(
                FindingCode::RbacInvalid,
                Severity::Warning,
                &format!("{why}; the role cannot be read, so groups and users bound to it get no suggestion."),
            ));
            rbac.roles.remove(&key);
            rbac.unreadable.roles.insert(key, why);
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoleRef {
    #[serde(default)]
    api_group: String,
    kind: String,
    name: String,
}

#[derive(Deserialize)]
struct RawSubject {
    kind: String,
    name: String,
}

fn read_binding(
    rbac: &mut Rbac,
    place: &Place,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    item: &Value,
) {
    let binding_kind = if kind == "ClusterRoleBinding" {
        BindingKind::ClusterRoleBinding
    } else {
        BindingKind::RoleBinding
    };
    let raw_subjects: Result<Option<Vec<RawSubject>>, String> = field(item, "/subjects");
    let raw_subjects = match raw_subjects {
        Ok(s) => s.unwrap_or_default(),
        Err(why) => {
            rbac.findings.push(place.finding(
                FindingCode::RbacInvalid,
                Severity::Warning,
                &format!("{why}; whom it grants access to is unknown, so no group or user gets a suggestion."),
            ));
            rbac.unreadable
                .everything
                .get_or_insert(format!("{} has unreadable subjects", place.what));
            return;
        }
    };
    let mut subjects = Vec::new();
    for (i, s) in raw_subjects.into_iter().enumerate() {
        let kind = match s.kind.as_str() {
            "Group" => SubjectKind::Group,
            "User" => SubjectKind::User,
            "ServiceAccount" => SubjectKind::ServiceAccount,
            other => {
                rbac.findings.push(place.finding(
                    FindingCode::RbacInvalid,
                    Severity::Warning,
                    &format!("subjects[{i}] has kind `{other}`, which is not Group, User or ServiceAccount (the API server refuses it); ignored, it grants nothing."),
                ));
                continue;
            }
        };
        subjects.push(Subject { kind, name: s.name });
    }
    let role_ref = field::<Option<RawRoleRef>>(item, "/roleRef").and_then(|r| {
        let r = r.ok_or_else(|| "`roleRef` is missing".to_owned())?;
        let role_kind = match (binding_kind, r.kind.as_str()) {
            (_, "ClusterRole") => RoleKind::ClusterRole,
            (BindingKind::RoleBinding, "Role") => RoleKind::Role,
            (_, other) => {
                return Err(format!(
                    "`roleRef.kind` `{other}` cannot be used by a {kind}"
                ));
            }
        };
        if !r.api_group.is_empty() && r.api_group != RBAC_GROUP {
            return Err(format!("`roleRef.apiGroup` is `{}`", r.api_group));
        }
        Ok((role_kind, r.name))
    });
    let namespace = match (binding_kind, namespace) {
        (BindingKind::RoleBinding, None) => {
            Err("a RoleBinding without `metadata.namespace`".to_owned())
        }
        (BindingKind::RoleBinding, Some(ns)) => Ok(Some(ns.to_owned())),
        (BindingKind::ClusterRoleBinding, _) => Ok(None),
    };
    match (role_ref, namespace) {
        (Ok((role_kind, role_name)), Ok(namespace)) => rbac.bindings.push(Binding {
            kind: binding_kind,
            namespace,
            name: name.to_owned(),
            role_kind,
            role_name,
            subjects,
        }),
        (Err(why), _) | (_, Err(why)) => {
            rbac.findings.push(place.finding(
                FindingCode::RbacInvalid,
                Severity::Warning,
                &format!("{why}; what it grants is unknown, so its subjects get no suggestion."),
            ));
            for s in subjects {
                rbac.unreadable
                    .subjects
                    .entry(s)
                    .or_insert_with(|| format!("{} cannot be read", place.what));
            }
        }
    }
}
