//! The simulator's authoriser: may this identity do this request? Kubernetes' RBAC decision
//! written out plainly (RuleAllows: VerbMatches, APIGroupMatches, ResourceMatches with `*` and
//! `*/subresource`, ResourceNameMatches, NonResourceURLMatches with `prefix*`; ClusterRoleBindings
//! everywhere, RoleBindings only for requests in their namespace), `system:masters`, and EKS
//! access policies with their scopes, whose rules come from the shared data file. Every
//! authenticated identity is also in `system:authenticated`.
//!
//! Deliberately independent of `eks-auth-core`'s comparison code: it evaluates one request at a
//! time, which is what makes it a reference for the suggestion engine's set arithmetic.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::oracle::PolicyGrant;
use crate::rbac_store::{ClusterRbac, Rule};

/// One request as the authoriser sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `get`, `list`, `create`, ...
    pub verb: String,
    /// API group (`""` core).
    pub api_group: String,
    /// Resource, with `/subresource` when there is one.
    pub resource: String,
    /// Object name (empty for list/create).
    pub name: String,
    /// Namespace; `None` for cluster-scoped (and all-namespace) requests.
    pub namespace: Option<String>,
    /// A non-resource request's path (then the resource fields are unused).
    pub non_resource_url: Option<String>,
}

impl Request {
    /// A core-group resource request.
    pub fn core(verb: &str, resource: &str, namespace: &str) -> Request {
        Request {
            verb: verb.to_owned(),
            resource: resource.to_owned(),
            namespace: Some(namespace.to_owned()),
            ..Request::default()
        }
    }
}

fn list(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or_default()
}

fn matches_any(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

fn resource_matches(rule: &[String], resource: &str) -> bool {
    let sub = resource.split_once('/').map(|(_, s)| s);
    rule.iter().any(|r| {
        r == "*"
            || r == resource
            || sub.is_some_and(|s| r.len() == s.len() + 2 && r.starts_with("*/") && r.ends_with(s))
    })
}

fn url_matches(rule: &[String], url: &str) -> bool {
    rule.iter().any(|r| {
        r == "*" || r == url || (r.ends_with('*') && url.starts_with(r.trim_end_matches('*')))
    })
}

/// Kubernetes' RuleAllows.
pub fn rule_allows(rule: &Rule, req: &Request) -> bool {
    if !matches_any(list(&rule.verbs), &req.verb) {
        return false;
    }
    match &req.non_resource_url {
        Some(url) => url_matches(list(&rule.non_resource_urls), url),
        None => {
            let names = list(&rule.resource_names);
            matches_any(list(&rule.api_groups), &req.api_group)
                && resource_matches(list(&rule.resources), &req.resource)
                && (names.is_empty() || names.contains(&req.name))
        }
    }
}

#[derive(Deserialize)]
struct PolicyData {
    policies: Vec<PolicyDef>,
}

#[derive(Deserialize)]
struct PolicyDef {
    name: String,
    rules: Vec<Rule>,
}

/// The rules of an access policy, from the shared data file (`None` when it lists no rules).
fn policy_rules(policy_arn: &str) -> Option<&'static [Rule]> {
    static DATA: OnceLock<Vec<PolicyDef>> = OnceLock::new();
    let data = DATA.get_or_init(|| {
        serde_saphyr::from_str::<PolicyData>(eks_auth_core::rbac::policies::ACCESS_POLICIES_YAML)
            .map(|d| d.policies)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "the access-policy data cannot be read: policies grant nothing");
                Vec::new()
            })
    });
    let name = policy_arn.rsplit('/').next()?;
    data.iter()
        .find(|p| p.name == name)
        .map(|p| p.rules.as_slice())
}

/// Whether an access policy association grants `req`: a cluster scope everywhere, a namespace
/// scope only for resource requests in a listed namespace (`prefix*` allowed).
fn policy_allows(grant: &PolicyGrant, req: &Request) -> bool {
    let in_scope = grant.scope.kind == "cluster"
        || (req.non_resource_url.is_none()
            && req
                .namespace
                .as_deref()
                .is_some_and(|ns| grant.scope.covers(ns)));
    in_scope
        && policy_rules(&grant.policy_arn)
            .is_some_and(|rules| rules.iter().any(|r| rule_allows(r, req)))
}

/// May an identity (`username`, `groups`, access `policies`) make `req`?
pub fn allows(
    rbac: &ClusterRbac,
    username: &str,
    groups: &[String],
    policies: &[PolicyGrant],
    req: &Request,
) -> bool {
    if groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    if policies.iter().any(|p| policy_allows(p, req)) {
        return true;
    }
    let names_subject = |kind: &str, name: &str| match kind {
        "Group" => name == "system:authenticated" || groups.iter().any(|g| g == name),
        "User" => name == username,
        _ => false,
    };
    rbac.bindings().any(|b| {
        let applies = match &b.namespace {
            None => true,
            Some(ns) => req.non_resource_url.is_none() && req.namespace.as_deref() == Some(ns),
        };
        applies
            && b.subjects.iter().any(|(k, n)| names_subject(k, n))
            && rbac
                .role_rules(&b.role_kind, b.namespace.as_deref(), &b.role_name)
                .iter()
                .any(|r| rule_allows(r, req))
    })
}

/// May `username` in `groups` with `policies` do `verb` on the core-group `resource` in
/// `namespace`?
pub fn allowed(
    username: &str,
    groups: &[String],
    policies: &[PolicyGrant],
    rbac: &ClusterRbac,
    verb: &str,
    resource: &str,
    namespace: &str,
) -> bool {
    allows(
        rbac,
        username,
        groups,
        policies,
        &Request::core(verb, resource, namespace),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessScope, RoleBinding};

    fn grant(name: &str, namespaces: &[&str]) -> PolicyGrant {
        PolicyGrant {
            policy_arn: format!("arn:aws:eks::aws:cluster-access-policy/{name}"),
            scope: AccessScope {
                kind: if namespaces.is_empty() {
                    "cluster"
                } else {
                    "namespace"
                }
                .to_owned(),
                namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
            },
        }
    }

    fn rbac(simple: &[RoleBinding], objects: &[serde_json::Value]) -> ClusterRbac {
        ClusterRbac::build(simple, objects).expect("rbac")
    }

    #[test]
    fn view_policy_reads_configmaps_but_not_secrets_and_cannot_write() {
        let (r, p) = (rbac(&[], &[]), [grant("AmazonEKSViewPolicy", &[])]);
        assert!(allowed(
            "u",
            &[],
            &p,
            &r,
            "get",
            "configmaps",
            "kube-system"
        ));
        assert!(!allowed("u", &[], &p, &r, "get", "secrets", "kube-system"));
        assert!(!allowed(
            "u",
            &[],
            &p,
            &r,
            "update",
            "configmaps",
            "kube-system"
        ));
    }

    #[test]
    fn namespace_scope_limits_edit_and_edit_lacks_eviction() {
        let (r, p) = (rbac(&[], &[]), [grant("AmazonEKSEditPolicy", &["team-*"])]);
        assert!(allowed("u", &[], &p, &r, "update", "configmaps", "team-a"));
        assert!(!allowed(
            "u",
            &[],
            &p,
            &r,
            "update",
            "configmaps",
            "kube-system"
        ));
        assert!(!allowed(
            "u",
            &[],
            &p,
            &r,
            "create",
            "pods/eviction",
            "team-a"
        ));
    }

    #[test]
    fn masters_bindings_aggregation_and_names() {
        assert!(allowed(
            "u",
            &["system:masters".to_owned()],
            &[],
            &rbac(&[], &[]),
            "delete",
            "configmaps",
            "x"
        ));
        let crd = serde_json::json!({
            "kind": "ClusterRole",
            "metadata": { "name": "widgets", "labels": { "rbac.authorization.k8s.io/aggregate-to-edit": "true" } },
            "rules": [{ "apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["create"] }],
        });
        let only_aws_auth = serde_json::json!({
            "kind": "Role",
            "metadata": { "name": "aws-auth", "namespace": "kube-system" },
            "rules": [{ "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["aws-auth"], "verbs": ["get"] }],
        });
        let bind = |kind: &str, role: &str, group: &str| {
            serde_json::json!({
                "kind": "RoleBinding",
                "metadata": { "name": format!("{group}-{role}"), "namespace": "kube-system" },
                "roleRef": { "kind": kind, "name": role },
                "subjects": [{ "kind": "Group", "name": group }],
            })
        };
        let r = rbac(
            &[RoleBinding {
                subject_kind: "Group".to_owned(),
                subject: "readers".to_owned(),
                role: "view".to_owned(),
                namespace: None,
            }],
            &[
                crd,
                only_aws_auth,
                bind("ClusterRole", "edit", "editors"),
                bind("Role", "aws-auth", "migrator"),
            ],
        );
        let g = |name: &str| vec![name.to_owned()];
        assert!(allowed(
            "u",
            &g("readers"),
            &[],
            &r,
            "list",
            "configmaps",
            "any"
        ));
        assert!(!allowed(
            "u",
            &g("writers"),
            &[],
            &r,
            "list",
            "configmaps",
            "any"
        ));
        let widgets = Request {
            verb: "create".to_owned(),
            api_group: "example.com".to_owned(),
            resource: "widgets".to_owned(),
            namespace: Some("kube-system".to_owned()),
            ..Request::default()
        };
        assert!(
            allows(&r, "u", &g("editors"), &[], &widgets),
            "edit aggregates the CRD role"
        );
        assert!(!allows(
            &r,
            "u",
            &g("editors"),
            &[],
            &Request {
                namespace: Some("other".into()),
                ..widgets
            }
        ));
        let mut get = Request::core("get", "configmaps", "kube-system");
        assert!(
            !allows(&r, "u", &g("migrator"), &[], &get),
            "resourceNames limit the role"
        );
        get.name = "aws-auth".to_owned();
        assert!(allows(&r, "u", &g("migrator"), &[], &get));
        let healthz = Request {
            verb: "get".to_owned(),
            non_resource_url: Some("/healthz".to_owned()),
            ..Request::default()
        };
        assert!(
            allows(&r, "anyone", &[], &[], &healthz),
            "system:authenticated reads /healthz"
        );
    }
}
