//! Kubernetes RBAC objects reduced to what authorisation uses: rules, aggregation rules and
//! labels of ClusterRoles, rules of Roles, role references and subjects of bindings; and a
//! cluster's objects as read ([`Rbac`]), with what could not be read ([`Unreadable`]).

use crate::finding::Finding;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// `null` and absent lists both mean empty, as in Kubernetes' JSON.
fn list_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// One RBAC rule (`rbac.authorization.k8s.io/v1` PolicyRule).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// Verbs (`get`, `create`, `*`, ...).
    #[serde(default, deserialize_with = "list_or_null")]
    pub verbs: Vec<String>,
    /// API groups (`""` is the core group, `*` any).
    #[serde(
        default,
        deserialize_with = "list_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub api_groups: Vec<String>,
    /// Resources (`pods`, `pods/log`, `*`, `*/scale`).
    #[serde(
        default,
        deserialize_with = "list_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<String>,
    /// Object names the rule is limited to; empty: every name.
    #[serde(
        default,
        deserialize_with = "list_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resource_names: Vec<String>,
    /// Non-resource URLs (`/healthz`, `/api/*`, `*`); only in ClusterRoles.
    #[serde(
        default,
        rename = "nonResourceURLs",
        deserialize_with = "list_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// Why the API server would refuse this rule, if it would (kubernetes/kubernetes
    /// `pkg/apis/rbac/validation/validation.go` `ValidatePolicyRule`, commit 1dc8b4f2: verbs
    /// required; non-resource URLs only in cluster rules and never with API groups, resources or
    /// resource names; resource rules need API groups and resources).
    pub fn invalid_reason(&self, namespaced: bool) -> Option<&'static str> {
        if self.verbs.is_empty() {
            return Some("a rule needs at least one verb");
        }
        if !self.non_resource_urls.is_empty() {
            if namespaced {
                return Some("namespaced rules cannot apply to non-resource URLs");
            }
            if !self.api_groups.is_empty()
                || !self.resources.is_empty()
                || !self.resource_names.is_empty()
            {
                return Some("rules cannot apply to both regular resources and non-resource URLs");
            }
            return None;
        }
        if self.resources.is_empty() {
            return Some("resource rules must supply at least one resource");
        }
        if self.api_groups.is_empty() {
            return Some("resource rules must supply at least one api group");
        }
        None
    }
}

/// One requirement of a label selector's `matchExpressions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`.
    #[serde(default, deserialize_with = "list_or_null")]
    pub values: Vec<String>,
}

/// A label selector of a ClusterRole's aggregation rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must be equal.
    #[serde(default)]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Set-based requirements.
    #[serde(default)]
    pub match_expressions: Option<Vec<LabelRequirement>>,
}

/// Why a label selector cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("matchExpressions operator `{0}` is not In, NotIn, Exists or DoesNotExist")]
pub struct SelectorError(pub String);

impl LabelSelector {
    /// Whether `labels` satisfy the selector (an empty selector matches everything, as
    /// `metav1.LabelSelectorAsSelector` makes it).
    ///
    /// # Errors
    /// [`SelectorError`] for an operator Kubernetes does not know (the API server would have
    /// refused the object).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> Result<bool, SelectorError> {
        let equal = self
            .match_labels
            .iter()
            .flatten()
            .all(|(k, v)| labels.get(k) == Some(v));
        let mut expressions = true;
        for r in self.match_expressions.iter().flatten() {
            let value = labels.get(&r.key);
            let ok = match r.operator.as_str() {
                "In" => value.is_some_and(|v| r.values.contains(v)),
                "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => return Err(SelectorError(other.to_owned())),
            };
            expressions &= ok;
        }
        Ok(equal && expressions)
    }
}

/// A ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRole {
    /// Its name.
    pub name: String,
    /// Its labels (what aggregation selects on).
    pub labels: BTreeMap<String, String>,
    /// The aggregation rule's selectors, when the role is aggregated.
    pub aggregation: Option<Vec<LabelSelector>>,
    /// Its rules as stored (for an aggregated role: what the controller last wrote).
    pub rules: Vec<PolicyRule>,
}

/// A namespaced Role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its rules.
    pub rules: Vec<PolicyRule>,
}

/// ClusterRoleBinding or RoleBinding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BindingKind {
    /// Cluster-wide.
    ClusterRoleBinding,
    /// In one namespace.
    RoleBinding,
}

/// What a binding's `roleRef` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RoleKind {
    /// A ClusterRole.
    ClusterRole,
    /// A Role in the binding's namespace.
    Role,
}

/// A subject's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// A Kubernetes group (what aws-auth `groups` set).
    Group,
    /// A Kubernetes user (what aws-auth `username` sets).
    User,
    /// A service account (never an aws-auth principal).
    ServiceAccount,
}

impl SubjectKind {
    /// The Kubernetes spelling (`Group`, `User`, `ServiceAccount`).
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Group => "Group",
            SubjectKind::User => "User",
            SubjectKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// One subject of a binding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Subject {
    /// Group, User or ServiceAccount.
    pub kind: SubjectKind,
    /// Its name.
    pub name: String,
}

/// A ClusterRoleBinding or RoleBinding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Which of the two.
    pub kind: BindingKind,
    /// Its namespace (RoleBindings only).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// Kind of the referenced role.
    pub role_kind: RoleKind,
    /// Name of the referenced role.
    pub role_name: String,
    /// Its subjects.
    pub subjects: Vec<Subject>,
}

impl Binding {
    /// `ClusterRoleBinding/NAME` or `RoleBinding/NAMESPACE/NAME`.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("RoleBinding/{ns}/{}", self.name),
            None => format!("ClusterRoleBinding/{}", self.name),
        }
    }

    /// `ClusterRole/NAME` or `Role/NAMESPACE/NAME`.
    pub fn role_display(&self) -> String {
        match (self.role_kind, &self.namespace) {
            (RoleKind::Role, Some(ns)) => format!("Role/{ns}/{}", self.role_name),
            (RoleKind::Role, None) => format!("Role/{}", self.role_name),
            (RoleKind::ClusterRole, _) => format!("ClusterRole/{}", self.role_name),
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

/// The API group of RBAC objects.
pub(crate) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

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
