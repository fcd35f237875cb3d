//! Kubernetes' bootstrap ClusterRoles (`admin`, `edit`, `view`, `cluster-admin`, the
//! `system:aggregate-to-*` roles and the `system:*` roles), as data: what every real cluster has.
//! The simulator seeds every cluster with them; tests and the documentation compare them with
//! the EKS access policies.

use super::model::ClusterRole;
use super::model::Rbac;

/// Where the data comes from (repository, commit, path).
pub const SOURCE: &str = "kubernetes/kubernetes@025f2834a128798cef30018a5e6a6ae82b5ad885:plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-roles.yaml";

/// The data file: a v1 List of ClusterRoles as kubectl prints it.
pub const CLUSTER_ROLES_YAML: &str =
    include_str!("../../data/kubernetes-bootstrap-cluster-roles.yaml");

/// The bootstrap ClusterRoles, read with the same parser as any RBAC dump (so a defect in the
/// data shows up as findings on the returned value, which a test checks are absent).
pub fn cluster_roles() -> Rbac {
    Rbac::parse(CLUSTER_ROLES_YAML).unwrap_or_else(|e| Rbac {
        findings: vec![crate::finding::Finding::general(
            crate::finding::FindingCode::RbacInvalid,
            crate::finding::Severity::Warning,
            format!("the bundled bootstrap ClusterRoles cannot be read: {e}"),
        )],
        ..Rbac::default()
    })
}

/// The Kubernetes release whose bootstrap roles the data holds (by its contents; see the data
/// file's header).
pub const KUBERNETES_VERSION: &str = "1.28";

/// The bootstrap ClusterRoles a partial dump is completed with: the user-facing roles bindings
/// name, and the `system:aggregate-to-*` roles that aggregate into them.
pub const ASSUMED_WHEN_MISSING: &[&str] = &[
    "cluster-admin",
    "admin",
    "edit",
    "view",
    "system:aggregate-to-admin",
    "system:aggregate-to-edit",
    "system:aggregate-to-view",
];

/// Completes a partial dump (bindings without the ClusterRoles, or a dump filtered to a team's
/// own roles): every cluster has the [`ASSUMED_WHEN_MISSING`] roles (the API server reconciles
/// them at start-up), so each one the dump lacks is taken from the bundled data; aggregation then
/// resolves them together with the dump's own roles (a CRD's `aggregate-to-edit` role still
/// reaches `edit`). A role the dump holds but could not read stays unreadable. Returns the names
/// added, in [`ASSUMED_WHEN_MISSING`]'s order.
pub fn complete(rbac: &mut Rbac) -> Vec<String> {
    let bundled = cluster_roles();
    let mut added = Vec::new();
    for name in ASSUMED_WHEN_MISSING {
        let present = rbac.cluster_roles.contains_key(*name)
            || rbac.unreadable.cluster_roles.contains_key(*name);
        if let (false, Some(role)) = (present, bundled.cluster_roles.get(*name)) {
            rbac.cluster_roles.insert(role.name.clone(), role.clone());
            added.push(role.name.clone());
        }
    }
    added
}

/// The bootstrap ClusterRoles as a list.
pub fn cluster_role_list() -> Vec<ClusterRole> {
    cluster_roles().cluster_roles.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_dump_is_completed_with_the_missing_bootstrap_roles_only() {
        let mut rbac = Rbac::parse(
            "kind: List\nitems:\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: view}, rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: edit}, rules: [{apiGroups: [''], resources: pods, verbs: [get]}]}\n",
        )
        .expect("a list");
        let added = complete(&mut rbac);
        assert_eq!(
            added,
            [
                "cluster-admin",
                "admin",
                "system:aggregate-to-admin",
                "system:aggregate-to-edit",
                "system:aggregate-to-view"
            ]
        );
        assert_eq!(
            rbac.cluster_roles["view"].rules.len(),
            1,
            "the dump's own view is kept"
        );
        assert!(
            !rbac.cluster_roles.contains_key("edit"),
            "an unreadable edit stays unreadable"
        );
        assert!(complete(&mut rbac).is_empty(), "idempotent");
    }

    #[test]
    fn the_data_reads_cleanly_and_aggregates_like_a_cluster() {
        let rbac = cluster_roles();
        assert!(rbac.findings.is_empty(), "{:#?}", rbac.findings);
        assert_eq!(rbac.cluster_roles.len(), 31);
        let resolved = super::super::aggregate::resolve(&rbac);
        assert!(resolved.findings.is_empty(), "{:#?}", resolved.findings);
        let rules = |name: &str| resolved.cluster_roles[name].clone().expect("resolved");
        let view = rules("view");
        let edit = rules("edit");
        let admin = rules("admin");
        assert_eq!(view, rules("system:aggregate-to-view"));
        assert!(
            view.iter().all(|r| edit.contains(r)),
            "edit aggregates view"
        );
        assert!(
            edit.iter().all(|r| admin.contains(r)),
            "admin aggregates edit"
        );
        assert!(
            edit.iter()
                .any(|r| r.resources == ["pods/eviction"] && r.verbs == ["create"])
        );
    }
}
