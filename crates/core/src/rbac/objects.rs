//! Reading one RBAC object of each kind, leniently: what cannot be read becomes a finding and
//! an entry in [`Unreadable`](super::model::Unreadable), never an error.

use super::model::{
    Binding, BindingKind, ClusterRole, LabelSelector, PolicyRule, RBAC_GROUP, Rbac, Role, RoleKind,
    Subject, SubjectKind,
};
use super::validation::{self, Violation};
use crate::finding::{Finding, FindingCode, Severity};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

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
    let subjects = read_subjects(raw_subjects);
    let role_ref = read_role_ref(item, binding_kind, kind);
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

/// A binding's subjects (validation has refused any other kind than these three).
fn read_subjects(raw: Vec<RawSubject>) -> Vec<Subject> {
    raw.into_iter()
        .filter_map(|s| {
            let kind = match s.kind.as_str() {
                "Group" => SubjectKind::Group,
                "User" => SubjectKind::User,
                "ServiceAccount" => SubjectKind::ServiceAccount,
                _ => return None,
            };
            Some(Subject { kind, name: s.name })
        })
        .collect()
}

/// A binding's role reference: a ClusterRole, or (for a RoleBinding) a Role, of the RBAC API
/// group; or why it cannot be read.
fn read_role_ref(
    item: &Value,
    binding_kind: BindingKind,
    kind: &str,
) -> Result<(RoleKind, String), String> {
    let r = field::<Option<RawRoleRef>>(item, "/roleRef")?
        .ok_or_else(|| "`roleRef` is missing".to_owned())?;
    let role_kind = match (binding_kind, r.kind.as_str()) {
        (_, "ClusterRole") => RoleKind::ClusterRole,
        (BindingKind::RoleBinding, "Role") => RoleKind::Role,
        (_, other) => {
            return Err(format!(
                "`roleRef.kind` `{other}` cannot be used by a {kind}"
            ));
        }
    };
    Ok((role_kind, r.name))
}

/// The four RBAC kinds.
pub(super) fn is_rbac_kind(kind: &str) -> bool {
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

/// Reads one item of a List (or one the live path listed) into `rbac`: an item without a kind or a
/// name makes everything unreadable, one of another kind is reported and ignored.
pub(super) fn read_item(rbac: &mut Rbac, index: usize, item: &Value) {
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
    let violations = validation::violations(kind, item);
    if !violations.is_empty() {
        refuse(rbac, &place, (kind, namespace, name), item, &violations);
        return;
    }
    match kind {
        "ClusterRole" => read_cluster_role(rbac, &place, name, item),
        "Role" => read_role(rbac, &place, namespace, name, item),
        _ => read_binding(rbac, &place, kind, namespace, name, item),
    }
}

/// Records an object the API server refuses (`violations`): a finding naming the object and the
/// rules it breaks, and what depends on it unreadable — a role's bindings (and, for a
/// ClusterRole, any aggregated role that may select it), a binding's users and groups.
fn refuse(
    rbac: &mut Rbac,
    place: &Place,
    (kind, namespace, name): (&str, Option<&str>, &str),
    item: &Value,
    violations: &[Violation],
) {
    let rules: Vec<String> = violations.iter().map(ToString::to_string).collect();
    let why = format!("the API server refuses it: {}", rules.join("; "));
    let effect = match kind {
        "ClusterRole" | "Role" => {
            "groups and users bound to it (or to a role aggregating it) get no suggestion"
        }
        _ => "its groups and users get no suggestion",
    };
    rbac.findings.push(place.finding(
        FindingCode::RbacInvalid,
        Severity::Warning,
        &format!("{why}. No cluster can hold this object, so the dump was edited or is corrupt; {effect}. Dump the cluster again with kubectl."),
    ));
    match (kind, namespace) {
        ("ClusterRole", _) => {
            rbac.cluster_roles.remove(name);
            rbac.unreadable.cluster_roles.insert(name.to_owned(), why);
            let labels_valid = !violations
                .iter()
                .any(|v| v.field.starts_with("metadata.labels"));
            let labels = field::<BTreeMap<String, String>>(item, "/metadata/labels");
            match labels {
                Ok(labels) if labels_valid => {
                    rbac.unreadable
                        .cluster_role_labels
                        .insert(name.to_owned(), labels);
                }
                _ => {
                    rbac.unreadable.cluster_role_labels.remove(name);
                }
            }
        }
        ("Role", Some(ns)) => {
            let key = (ns.to_owned(), name.to_owned());
            rbac.roles.remove(&key);
            rbac.unreadable.roles.insert(key, why);
        }
        ("Role", None) => {
            rbac.unreadable
                .everything
                .get_or_insert(format!("{} {why}", place.what));
        }
        _ => refuse_binding(rbac, place, item, why),
    }
}

/// A refused binding's users and groups are unreadable; when its
/// subjects cannot even be listed, everything is.
fn refuse_binding(rbac: &mut Rbac, place: &Place, item: &Value, why: String) {
    match item.get("subjects") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for s in list {
                let text = |k: &str| s.get(k).and_then(Value::as_str);
                let kind = match text("kind") {
                    Some("Group") => SubjectKind::Group,
                    Some("User") => SubjectKind::User,
                    _ => continue,
                };
                if let Some(name) = text("name") {
                    let subject = Subject {
                        kind,
                        name: name.to_owned(),
                    };
                    rbac.unreadable
                        .subjects
                        .entry(subject)
                        .or_insert_with(|| why.clone());
                }
            }
        }
        Some(_) => {
            rbac.unreadable
                .everything
                .get_or_insert(format!("{} has unreadable subjects", place.what));
        }
    }
}
