//! A cluster's RBAC objects: Kubernetes' bootstrap ClusterRoles (and the four bootstrap
//! bindings the suggestion logic must see), the seed's objects and its simple bindings, with
//! ClusterRole aggregation applied the way the clusterrole-aggregation controller leaves it.
//! Served read-only by the Kubernetes API (`kube_api.rs`) and read by the authoriser
//! (`rbac.rs`).
//!
//! Its own code on purpose: the simulator is the reference the migrator's RBAC logic is tested
//! against, so it shares only the data files (the bootstrap roles and the access-policy rules)
//! with `eks-auth-core`, never its parser or comparison.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::RoleBinding;

/// One RBAC rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Verbs.
    #[serde(default)]
    pub verbs: Option<Vec<String>>,
    /// API groups.
    #[serde(default)]
    pub api_groups: Option<Vec<String>>,
    /// Resources (`res`, `res/sub`, `*`, `*/sub`).
    #[serde(default)]
    pub resources: Option<Vec<String>>,
    /// Object names (empty: all).
    #[serde(default)]
    pub resource_names: Option<Vec<String>>,
    /// Non-resource URLs.
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Option<Vec<String>>,
}

/// A binding, reduced to what authorisation reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// `None` for a ClusterRoleBinding.
    pub namespace: Option<String>,
    /// `ClusterRole` or `Role`.
    pub role_kind: String,
    /// The role's name.
    pub role_name: String,
    /// (kind, name) of each subject.
    pub subjects: Vec<(String, String)>,
}

/// The four RBAC kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// ClusterRole.
    ClusterRole,
    /// Role.
    Role,
    /// ClusterRoleBinding.
    ClusterRoleBinding,
    /// RoleBinding.
    RoleBinding,
}

impl Kind {
    /// Parses the Kubernetes kind.
    pub fn parse(kind: &str) -> Option<Kind> {
        Some(match kind {
            "ClusterRole" => Kind::ClusterRole,
            "Role" => Kind::Role,
            "ClusterRoleBinding" => Kind::ClusterRoleBinding,
            "RoleBinding" => Kind::RoleBinding,
            _ => return None,
        })
    }

    /// The URL resource (`clusterroles`, ...).
    pub fn plural(self) -> &'static str {
        match self {
            Kind::ClusterRole => "clusterroles",
            Kind::Role => "roles",
            Kind::ClusterRoleBinding => "clusterrolebindings",
            Kind::RoleBinding => "rolebindings",
        }
    }

    /// Parses the URL resource.
    pub fn from_plural(plural: &str) -> Option<Kind> {
        [
            Kind::ClusterRole,
            Kind::Role,
            Kind::ClusterRoleBinding,
            Kind::RoleBinding,
        ]
        .into_iter()
        .find(|k| k.plural() == plural)
    }

    /// The Kubernetes kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ClusterRole => "ClusterRole",
            Kind::Role => "Role",
            Kind::ClusterRoleBinding => "ClusterRoleBinding",
            Kind::RoleBinding => "RoleBinding",
        }
    }

    /// True for Role and RoleBinding.
    pub fn namespaced(self) -> bool {
        matches!(self, Kind::Role | Kind::RoleBinding)
    }
}

/// Object key: kind, namespace (empty for cluster-scoped kinds), name.
type Key = (Kind, String, String);

/// A cluster's RBAC objects, as served and as authorised.
#[derive(Debug, Clone, Default)]
pub struct ClusterRbac {
    /// Every object as the API serves it (aggregated rules filled in).
    objects: BTreeMap<Key, Value>,
    /// Rules of each ClusterRole (aggregated) and Role, by (namespace or "", name).
    rules: BTreeMap<(Kind, String, String), Vec<Rule>>,
    /// Every binding, by object key.
    bindings: BTreeMap<Key, Bound>,
}

/// The bindings a real cluster has that grant groups something (kube-apiserver's bootstrap).
const BOOTSTRAP_BINDINGS: &[(&str, &str, &str)] = &[
    ("cluster-admin", "cluster-admin", "system:masters"),
    (
        "system:basic-user",
        "system:basic-user",
        "system:authenticated",
    ),
    (
        "system:discovery",
        "system:discovery",
        "system:authenticated",
    ),
    (
        "system:public-info-viewer",
        "system:public-info-viewer",
        "system:authenticated",
    ),
];

/// The bootstrap ClusterRoles (aggregated) and bindings every cluster starts from, built once
/// per process.
fn base() -> Result<ClusterRbac, String> {
    static BASE: OnceLock<Result<ClusterRbac, String>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut rbac = ClusterRbac::default();
        for role in bootstrap_roles()? {
            rbac.insert(role)?;
        }
        for (name, role, group) in BOOTSTRAP_BINDINGS {
            rbac.insert(binding_object(
                Kind::ClusterRoleBinding,
                name,
                None,
                ("ClusterRole", role),
                ("Group", group),
            ))?;
        }
        rbac.aggregate();
        let all: Vec<Key> = rbac.objects.keys().cloned().collect();
        rbac.index(&all)?;
        Ok(rbac)
    })
    .clone()
}

/// Kubernetes' bootstrap ClusterRoles, parsed once per process.
fn bootstrap_roles() -> Result<Vec<Value>, String> {
    static ROLES: OnceLock<Result<Vec<Value>, String>> = OnceLock::new();
    ROLES
        .get_or_init(|| {
            let list: Value =
                serde_saphyr::from_str(eks_auth_core::rbac::bootstrap::CLUSTER_ROLES_YAML)
                    .map_err(|e| format!("bootstrap ClusterRoles: {e}"))?;
            Ok(list
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default())
        })
        .clone()
}

fn binding_object(
    kind: Kind,
    name: &str,
    namespace: Option<&str>,
    role: (&str, &str),
    subject: (&str, &str),
) -> Value {
    let mut metadata = json!({ "name": name });
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind.name(),
        "metadata": metadata,
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": role.0, "name": role.1 },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": subject.0, "name": subject.1 }],
    })
}

impl ClusterRbac {
    /// The bootstrap objects, the seed's `objects` (which replace bootstrap objects of the same
    /// name) and its simple bindings (`eks-sim-binding-<i>`), aggregated.
    ///
    /// # Errors
    /// Why an object is not an RBAC object the simulator can serve.
    pub fn build(simple: &[RoleBinding], objects: &[Value]) -> Result<ClusterRbac, String> {
        let mut rbac = base()?;
        let mut added = Vec::new();
        for object in objects.iter().cloned() {
            added.push(rbac.insert(object)?);
        }
        for (i, b) in simple.iter().enumerate() {
            let name = format!("eks-sim-binding-{i}");
            let kind = match b.namespace {
                Some(_) => Kind::RoleBinding,
                None => Kind::ClusterRoleBinding,
            };
            added.push(rbac.insert(binding_object(
                kind,
                &name,
                b.namespace.as_deref(),
                ("ClusterRole", &b.role),
                (&b.subject_kind, &b.subject),
            ))?);
        }
        if added.iter().any(|(kind, _, _)| *kind == Kind::ClusterRole) {
            // A new ClusterRole may be selected by an aggregated one: aggregate again.
            rbac.aggregate();
            let all: Vec<Key> = rbac.objects.keys().cloned().collect();
            rbac.index(&all)?;
        } else {
            rbac.index(&added)?;
        }
        Ok(rbac)
    }

    fn insert(&mut self, mut object: Value) -> Result<Key, String> {
        let kind_text = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let kind = Kind::parse(kind_text).ok_or_else(|| {
            format!("`{kind_text}` is not ClusterRole, Role, ClusterRoleBinding or RoleBinding")
        })?;
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("a {kind_text} without metadata.name"))?
            .to_owned();
        let namespace = if kind.namespaced() {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{kind_text} {name} without metadata.namespace"))?
                .to_owned()
        } else {
            String::new()
        };
        object["apiVersion"] = json!("rbac.authorization.k8s.io/v1");
        let key = (kind, namespace, name);
        self.objects.insert(key.clone(), object);
        Ok(key)
    }

    /// Fills in every aggregated ClusterRole's rules from the roles its selectors match
    /// (`matchLabels` only), repeating until nothing changes (aggregation is transitive).
    fn aggregate(&mut self) {
        for _ in 0..16 {
            let mut changed = false;
            let roles: Vec<(String, Value)> = self
                .objects
                .iter()
                .filter(|((k, _, _), _)| *k == Kind::ClusterRole)
                .map(|((_, _, n), v)| (n.clone(), v.clone()))
                .collect();
            for (name, role) in &roles {
                let Some(selectors) = role
                    .pointer("/aggregationRule/clusterRoleSelectors")
                    .and_then(Value::as_array)
                else {
                    continue;
                };
                let mut rules: Vec<Value> = Vec::new();
                for selector in selectors {
                    let wanted = selector
                        .get("matchLabels")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    for (other, other_role) in &roles {
                        let labels = other_role.pointer("/metadata/labels");
                        let matches = wanted
                            .iter()
                            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
                        if other == name || !matches {
                            continue;
                        }
                        for rule in other_role
                            .get("rules")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if !rules.contains(rule) {
                                rules.push(rule.clone());
                            }
                        }
                    }
                }
                let key = (Kind::ClusterRole, String::new(), name.clone());
                if let Some(object) = self.objects.get_mut(&key)
                    && object.get("rules") != Some(&Value::Array(rules.clone()))
                {
                    object["rules"] = Value::Array(rules);
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// Builds the typed views authorisation reads.
    fn index(&mut self, keys: &[Key]) -> Result<(), String> {
        for key in keys {
            let Some(object) = self.objects.get(key) else {
                continue;
            };
            let (kind, ns, name) = key;
            match kind {
                Kind::ClusterRole | Kind::Role => {
                    let rules: Vec<Rule> =
                        serde_json::from_value(object.get("rules").cloned().unwrap_or(Value::Null))
                            .map(Option::unwrap_or_default)
                            .map_err(|e| format!("{} {name}: rules: {e}", kind.name()))?;
                    self.rules.insert((*kind, ns.clone(), name.clone()), rules);
                }
                Kind::ClusterRoleBinding | Kind::RoleBinding => {
                    let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
                    let subjects = object
                        .get("subjects")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|s| {
                            let field = |f: &str| s.get(f).and_then(Value::as_str).unwrap_or("");
                            (field("kind").to_owned(), field("name").to_owned())
                        })
                        .collect();
                    let bound = Bound {
                        namespace: (*kind == Kind::RoleBinding).then(|| ns.clone()),
                        role_kind: text("/roleRef/kind").to_owned(),
                        role_name: text("/roleRef/name").to_owned(),
                        subjects,
                    };
                    self.bindings.insert(key.clone(), bound);
                }
            }
        }
        Ok(())
    }

    /// Every binding.
    pub fn bindings(&self) -> impl Iterator<Item = &Bound> {
        self.bindings.values()
    }

    /// The rules of ClusterRole `name` (aggregated), or of Role `name` in `namespace`.
    pub fn role_rules(&self, kind: &str, namespace: Option<&str>, name: &str) -> &[Rule] {
        let key = match kind {
            "ClusterRole" => (Kind::ClusterRole, String::new(), name.to_owned()),
            _ => (
                Kind::Role,
                namespace.unwrap_or_default().to_owned(),
                name.to_owned(),
            ),
        };
        self.rules.get(&key).map_or(&[], Vec::as_slice)
    }

    /// Objects of `kind` (in `namespace`, or all), in name order.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| v)
            .collect()
    }

    /// One object.
    pub fn get(&self, kind: Kind, namespace: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.get(&(
            kind,
            namespace.unwrap_or_default().to_owned(),
            name.to_owned(),
        ))
    }
}
