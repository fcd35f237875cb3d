//! Just enough Kubernetes authorization to answer "may this identity do VERB on RESOURCE in
//! NAMESPACE": `system:masters`, EKS access policies with their scopes, and bindings to the
//! built-in cluster roles.

use crate::model::RoleBinding;
use crate::oracle::PolicyGrant;

/// True for read-only verbs.
pub fn is_read(verb: &str) -> bool {
    matches!(verb, "get" | "list" | "watch")
}

/// What a built-in role allows. `cluster-admin`, `admin` and `edit` allow every verb on
/// ConfigMaps and Secrets in scope; `view` reads everything but Secrets; `admin-view` reads all.
fn role_allows(role: &str, verb: &str, resource: &str) -> bool {
    match role {
        "cluster-admin" | "admin" | "edit" => true,
        "view" => is_read(verb) && resource != "secrets",
        "admin-view" => is_read(verb),
        _ => false,
    }
}

/// The built-in role an access policy stands for.
fn policy_role(policy_arn: &str) -> Option<&'static str> {
    match policy_arn.rsplit('/').next()? {
        "AmazonEKSClusterAdminPolicy" => Some("cluster-admin"),
        "AmazonEKSAdminPolicy" => Some("admin"),
        "AmazonEKSEditPolicy" => Some("edit"),
        "AmazonEKSViewPolicy" => Some("view"),
        "AmazonEKSAdminViewPolicy" => Some("admin-view"),
        _ => None,
    }
}

/// May `username` in `groups` with `policies` do `verb` on `resource` in `namespace`?
pub fn allowed(
    username: &str,
    groups: &[String],
    policies: &[PolicyGrant],
    bindings: &[RoleBinding],
    verb: &str,
    resource: &str,
    namespace: &str,
) -> bool {
    if groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    let by_policy = policies.iter().any(|p| {
        p.scope.covers(namespace)
            && policy_role(&p.policy_arn).is_some_and(|role| role_allows(role, verb, resource))
    });
    by_policy
        || bindings.iter().any(|b| {
            let subject = match b.subject_kind.as_str() {
                "Group" => groups.contains(&b.subject),
                "User" => b.subject == username,
                _ => false,
            };
            subject
                && b.namespace.as_deref().is_none_or(|ns| ns == namespace)
                && role_allows(&b.role, verb, resource)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccessScope;

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

    #[test]
    fn view_reads_configmaps_but_not_secrets_and_cannot_write() {
        let p = [grant("AmazonEKSViewPolicy", &[])];
        assert!(allowed(
            "u",
            &[],
            &p,
            &[],
            "get",
            "configmaps",
            "kube-system"
        ));
        assert!(!allowed("u", &[], &p, &[], "get", "secrets", "kube-system"));
        assert!(!allowed(
            "u",
            &[],
            &p,
            &[],
            "update",
            "configmaps",
            "kube-system"
        ));
    }

    #[test]
    fn namespace_scope_limits_edit() {
        let p = [grant("AmazonEKSEditPolicy", &["team-*"])];
        assert!(allowed("u", &[], &p, &[], "update", "configmaps", "team-a"));
        assert!(!allowed(
            "u",
            &[],
            &p,
            &[],
            "update",
            "configmaps",
            "kube-system"
        ));
    }

    #[test]
    fn masters_and_group_bindings() {
        assert!(allowed(
            "u",
            &["system:masters".to_owned()],
            &[],
            &[],
            "delete",
            "configmaps",
            "x"
        ));
        let b = [RoleBinding {
            subject_kind: "Group".to_owned(),
            subject: "readers".to_owned(),
            role: "view".to_owned(),
            namespace: None,
        }];
        assert!(allowed(
            "u",
            &["readers".to_owned()],
            &[],
            &b,
            "list",
            "configmaps",
            "kube-system"
        ));
        assert!(!allowed(
            "u",
            &["writers".to_owned()],
            &[],
            &b,
            "list",
            "configmaps",
            "kube-system"
        ));
    }
}
