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

/// The bootstrap ClusterRoles as a list.
pub fn cluster_role_list() -> Vec<ClusterRole> {
    cluster_roles().cluster_roles.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
