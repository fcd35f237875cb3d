//! The Kubernetes API server's validation of RBAC objects, ported as behaviour: what it refuses
//! cannot exist in a cluster, so a dump holding it was edited by hand or is corrupt.
//!
//! Sources (kubernetes/kubernetes unless noted; read at the commits the project's source index
//! holds):
//! - `pkg/apis/rbac/validation/validation.go` (commit 1dc8b4f2): `ValidateClusterRole`,
//!   `ValidateRole`, `ValidateRoleBinding`, `ValidateClusterRoleBinding`,
//!   `ValidateRoleBindingSubject`; `ValidatePolicyRule` is [`PolicyRule::invalid_reason`]
//!   (`super::model`), checked where the rules are read.
//! - `pkg/apis/rbac/v1/defaults.go`: an empty `roleRef.apiGroup` becomes
//!   `rbac.authorization.k8s.io`, an empty subject `apiGroup` becomes it for User and Group (and
//!   stays empty for ServiceAccount) before validation, so empty is accepted.
//! - kubernetes/apimachinery `pkg/api/validation/path/name.go` (`IsValidPathSegmentName`: the
//!   names of RBAC objects and `roleRef.name`), `pkg/util/validation/validation.go`
//!   (`IsQualifiedName`, `IsValidLabelValue`, `IsDNS1123Label`, `IsDNS1123Subdomain`),
//!   `pkg/apis/meta/v1/validation/validation.go` (`ValidateLabels`,
//!   `ValidateLabelSelectorRequirement`) and `pkg/api/validation/objectmeta.go` (annotations).
//!
//! Shape errors (a string where a list belongs) are left to the reader, which reports them.
//! A cluster-scoped object's `metadata.namespace` is not checked: the API server clears it.

use super::model::RBAC_GROUP;
use serde_json::{Map, Value};
use std::fmt;

/// One rule the API server enforces, broken by one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Violation {
    /// The field, as the API server names it (`metadata.labels`, `subjects[1].kind`).
    pub field: String,
    /// The rule it breaks.
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.rule)
    }
}

/// Collects violations.
#[derive(Default)]
struct Checks(Vec<Violation>);

impl Checks {
    fn add(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            rule: rule.into(),
        });
    }
}

/// Every rule of the API server's validation that `item` (a ClusterRole, Role, ClusterRoleBinding
/// or RoleBinding, by `kind`) breaks, apart from its rules' (checked where they are read).
pub(super) fn violations(kind: &str, item: &Value) -> Vec<Violation> {
    let mut checks = Checks::default();
    let namespaced = matches!(kind, "Role" | "RoleBinding");
    metadata(&mut checks, item, namespaced);
    match kind {
        "ClusterRole" => aggregation_rule(&mut checks, item),
        "ClusterRoleBinding" | "RoleBinding" => {
            role_ref(&mut checks, item, kind == "RoleBinding");
            subjects(&mut checks, item, namespaced);
        }
        _ => {}
    }
    checks.0
}

/// `ValidateObjectMeta` with `ValidateRBACName`: the name is a path segment, a namespaced
/// object's namespace a DNS-1123 label, labels and annotation keys qualified names.
fn metadata(checks: &mut Checks, item: &Value, namespaced: bool) {
    if let Some(name) = item.pointer("/metadata/name").and_then(Value::as_str) {
        for why in path_segment(name) {
            checks.add("metadata.name", why);
        }
    }
    if namespaced
        && let Some(ns) = item.pointer("/metadata/namespace").and_then(Value::as_str)
        && !ns.is_empty()
        && let Some(why) = dns1123_label(ns)
    {
        checks.add("metadata.namespace", why);
    }
    if let Some(Value::Object(labels)) = item.pointer("/metadata/labels") {
        label_map(checks, "metadata.labels", labels);
    }
    if let Some(Value::Object(annotations)) = item.pointer("/metadata/annotations") {
        for key in annotations.keys() {
            if let Some(why) = qualified_name(key) {
                checks.add(format!("metadata.annotations[{key}]"), why);
            }
        }
        let size: usize = annotations
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        if size > 256 * 1024 {
            checks.add(
                "metadata.annotations",
                "may not be larger than 256 KiB in total",
            );
        }
    }
}

/// `ValidateLabels`: keys are qualified names, values label values.
fn label_map(checks: &mut Checks, field: &str, labels: &Map<String, Value>) {
    for (key, value) in labels {
        if let Some(why) = qualified_name(key) {
            checks.add(format!("{field}[{key}]"), format!("(key) {why}"));
        }
        if let Some(why) = value.as_str().and_then(label_value) {
            checks.add(format!("{field}[{key}]"), why);
        }
    }
}

/// `ValidateClusterRole`'s aggregation rule: at least one selector, each a valid label selector.
fn aggregation_rule(checks: &mut Checks, item: &Value) {
    let Some(rule) = item.get("aggregationRule").filter(|v| !v.is_null()) else {
        return;
    };
    let selectors = rule.get("clusterRoleSelectors");
    match selectors {
        None | Some(Value::Null) => checks.add(
            "aggregationRule.clusterRoleSelectors",
            "is required: at least one clusterRoleSelector when aggregationRule is set",
        ),
        Some(Value::Array(list)) if list.is_empty() => checks.add(
            "aggregationRule.clusterRoleSelectors",
            "is required: at least one clusterRoleSelector when aggregationRule is set",
        ),
        Some(Value::Array(list)) => {
            for (i, selector) in list.iter().enumerate() {
                label_selector(
                    checks,
                    &format!("aggregationRule.clusterRoleSelectors[{i}]"),
                    selector,
                );
            }
        }
        Some(_) => {}
    }
}

/// `ValidateLabelSelector`: `matchLabels` as labels; each requirement's operator, values and key.
fn label_selector(checks: &mut Checks, field: &str, selector: &Value) {
    if let Some(Value::Object(labels)) = selector.get("matchLabels") {
        label_map(checks, &format!("{field}.matchLabels"), labels);
    }
    let Some(Value::Array(expressions)) = selector.get("matchExpressions") else {
        return;
    };
    for (i, expr) in expressions.iter().enumerate() {
        let at = format!("{field}.matchExpressions[{i}]");
        let values: Vec<&str> = match expr.get("values") {
            Some(Value::Array(vs)) => vs.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        match expr.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" | "NotIn" if values.is_empty() => checks.add(
                format!("{at}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            ),
            "Exists" | "DoesNotExist" if !values.is_empty() => checks.add(
                format!("{at}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => checks.add(
                format!("{at}.operator"),
                format!(
                    "`{other}` is not a valid selector operator (In, NotIn, Exists, DoesNotExist)"
                ),
            ),
        }
        let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
        if let Some(why) = qualified_name(key) {
            checks.add(format!("{at}.key"), why);
        }
        for (j, value) in values.iter().enumerate() {
            if let Some(why) = label_value(value) {
                checks.add(format!("{at}.values[{j}]"), why);
            }
        }
    }
}

/// `roleRef`: the RBAC group (or empty, defaulted to it), a kind the binding can use, a name that
/// is a path segment.
fn role_ref(checks: &mut Checks, item: &Value, role_binding: bool) {
    let Some(Value::Object(r)) = item.get("roleRef") else {
        return;
    };
    let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
    let group = text("apiGroup");
    if !group.is_empty() && group != RBAC_GROUP {
        checks.add(
            "roleRef.apiGroup",
            format!("`{group}` is not supported (only {RBAC_GROUP})"),
        );
    }
    match (text("kind"), role_binding) {
        ("ClusterRole", _) | ("Role", true) => {}
        (other, true) => checks.add(
            "roleRef.kind",
            format!("`{other}` is not supported (Role or ClusterRole)"),
        ),
        (other, false) => checks.add(
            "roleRef.kind",
            format!("`{other}` is not supported (a ClusterRoleBinding binds a ClusterRole)"),
        ),
    }
    let name = text("name");
    if name.is_empty() {
        checks.add("roleRef.name", "is required");
    }
    for why in path_segment(name) {
        checks.add("roleRef.name", why);
    }
}

/// `ValidateRoleBindingSubject` for each subject.
fn subjects(checks: &mut Checks, item: &Value, namespaced: bool) {
    let Some(Value::Array(list)) = item.get("subjects") else {
        return;
    };
    for (i, s) in list.iter().enumerate() {
        let at = format!("subjects[{i}]");
        let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
        let (kind, name, group) = (text("kind"), text("name"), text("apiGroup"));
        if name.is_empty() {
            checks.add(format!("{at}.name"), "is required");
        }
        match kind {
            "ServiceAccount" => {
                if let Some(why) = dns1123_subdomain(name).filter(|_| !name.is_empty()) {
                    checks.add(format!("{at}.name"), why);
                }
                if !group.is_empty() {
                    checks.add(
                        format!("{at}.apiGroup"),
                        format!("`{group}` is not supported (a ServiceAccount's is empty)"),
                    );
                }
                if !namespaced && text("namespace").is_empty() {
                    checks.add(
                        format!("{at}.namespace"),
                        "is required for a ServiceAccount in a ClusterRoleBinding",
                    );
                }
            }
            "User" | "Group" => {
                if !group.is_empty() && group != RBAC_GROUP {
                    checks.add(
                        format!("{at}.apiGroup"),
                        format!("`{group}` is not supported (only {RBAC_GROUP})"),
                    );
                }
            }
            other => checks.add(
                format!("{at}.kind"),
                format!("`{other}` is not supported (ServiceAccount, User or Group)"),
            ),
        }
    }
}

/// `IsValidPathSegmentName`: not `.` or `..`, no `/` or `%`.
pub(super) fn path_segment(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|c| name.contains(*c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

/// `[A-Za-z0-9]`, then `[-A-Za-z0-9_.]*`, ending alphanumeric: label values and name parts.
fn alnum_dashes(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric();
    b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `IsValidLabelValue`: empty, or at most 63 characters of [`alnum_dashes`].
pub(super) fn label_value(v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    if v.len() > 63 {
        return Some(format!(
            "`{v}` is longer than 63 characters (a label value)"
        ));
    }
    (!alnum_dashes(v)).then(|| {
        format!("`{v}` is not a valid label value (alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)")
    })
}

/// `IsQualifiedName`: an optional DNS-1123 subdomain prefix and `/`, then a name of at most 63
/// characters of [`alnum_dashes`].
pub(super) fn qualified_name(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some(format!("`{key}`: the prefix before '/' must be non-empty"));
        }
        if let Some(why) = dns1123_subdomain(p) {
            return Some(format!("`{key}`: the prefix {why}"));
        }
    }
    if name.is_empty() || name.len() > 63 || !alnum_dashes(name) {
        return Some(format!(
            "`{key}` is not a qualified name (an optional DNS subdomain prefix and '/', then at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)"
        ));
    }
    None
}

/// `[a-z0-9-]`, starting and ending alphanumeric (a DNS-1123 label without its length limit).
fn is_dns_part(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || *c == b'-')
}

/// `IsDNS1123Label`.
fn dns1123_label(s: &str) -> Option<String> {
    (s.len() > 63 || !is_dns_part(s))
        .then(|| format!("`{s}` is not a DNS-1123 label (at most 63 lower-case alphanumerics or '-', starting and ending with an alphanumeric)"))
}

/// `IsDNS1123Subdomain`: at most 253 characters, dot-separated parts of [`is_dns_part`] (the
/// parts have no length limit of their own there).
fn dns1123_subdomain(s: &str) -> Option<String> {
    (s.len() > 253 || !s.split('.').all(is_dns_part))
        .then(|| format!("`{s}` is not a DNS-1123 subdomain (at most 253 characters of lower-case alphanumerics, '-' and '.', each part starting and ending with an alphanumeric)"))
}
