//! Access policies: the catalogue, STANDARD-only association, scopes, one association per
//! policy, and the eventual consistency right after CreateAccessEntry.

use aws_sdk_eks::types::{AccessScope, AccessScopeType};

use crate::helpers::*;

const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn cluster_scope() -> AccessScope {
    AccessScope::builder()
        .r#type(AccessScopeType::Cluster)
        .build()
}

fn namespaces(ns: &[&str]) -> AccessScope {
    let mut b = AccessScope::builder().r#type(AccessScopeType::Namespace);
    for n in ns {
        b = b.namespaces(*n);
    }
    b.build()
}

#[tokio::test]
async fn list_access_policies_includes_the_documented_ones() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let out = eks.list_access_policies().send().await?;
    let arns: Vec<&str> = out
        .access_policies()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert!(arns.contains(&ADMIN_POLICY));
    assert!(arns.contains(&VIEW));
    let page = eks.list_access_policies().max_results(5).send().await?;
    assert_eq!(page.access_policies().len(), 5);
    assert!(page.next_token().is_some());
    Ok(())
}

#[tokio::test]
async fn associate_list_reassociate_disassociate() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    create_entry(&eks, "modern", role("team")).await?;
    let out = eks
        .associate_access_policy()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .policy_arn(VIEW)
        .access_scope(cluster_scope())
        .send()
        .await?;
    assert_eq!(out.cluster_name(), Some("modern"));
    assert_eq!(out.principal_arn(), Some(role("team").as_str()));
    let assoc = out.associated_access_policy().expect("association");
    assert_eq!(assoc.policy_arn(), Some(VIEW));
    assert!(assoc.associated_at().is_some());

    // Re-associating the same policy replaces its scope: still one association.
    eks.associate_access_policy()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .policy_arn(VIEW)
        .access_scope(namespaces(&["kube-system", "team-*"]))
        .send()
        .await?;
    let listed = eks
        .list_associated_access_policies()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .send()
        .await?;
    assert_eq!(listed.associated_access_policies().len(), 1);
    let scope = listed.associated_access_policies()[0]
        .access_scope()
        .expect("scope");
    assert_eq!(scope.r#type().map(|t| t.as_str()), Some("namespace"));
    assert_eq!(scope.namespaces(), ["kube-system", "team-*"]);

    let filtered = eks
        .list_access_entries()
        .cluster_name("modern")
        .associated_policy_arn(VIEW)
        .send()
        .await?;
    assert_eq!(filtered.access_entries(), [role("team")]);

    eks.disassociate_access_policy()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .policy_arn(VIEW)
        .send()
        .await?;
    let listed = eks
        .list_associated_access_policies()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .send()
        .await?;
    assert!(listed.associated_access_policies().is_empty());
    Ok(())
}

#[tokio::test]
async fn policies_only_on_standard_entries() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    // The node role's EC2_LINUX entry was created by EKS for the node group.
    let (code, message) = code_and_message(
        eks.associate_access_policy()
            .cluster_name("modern")
            .principal_arn(role("node-role"))
            .policy_arn(VIEW)
            .access_scope(cluster_scope())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "This operation can only be performed on Access Entries with a type of \"STANDARD\"."
    );
}

#[tokio::test]
async fn scopes_and_policy_arns_are_validated() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    create_entry(&eks, "modern", role("team")).await?;
    for (policy, scope) in [
        (VIEW, namespaces(&[])),
        (VIEW, namespaces(&["Not_Valid"])),
        (
            "arn:aws:eks::aws:cluster-access-policy/NoSuchPolicy",
            cluster_scope(),
        ),
    ] {
        let (code, _) = code_and_message(
            eks.associate_access_policy()
                .cluster_name("modern")
                .principal_arn(role("team"))
                .policy_arn(policy)
                .access_scope(scope.clone())
                .send()
                .await,
        );
        assert_eq!(code, "InvalidParameterException", "{policy} {scope:?}");
    }
    Ok(())
}

#[tokio::test]
async fn associate_right_after_create_can_404_until_consistent() -> TestResult {
    let sim = sim().await;
    sim.with_world(|w| w.settings.eventual_consistency_calls = 2);
    let eks = eks(&sim).await;
    create_entry(&eks, "modern", role("team")).await?;
    let call = || {
        eks.associate_access_policy()
            .cluster_name("modern")
            .principal_arn(role("team"))
            .policy_arn(ADMIN_POLICY)
            .access_scope(cluster_scope())
            .send()
    };
    for _ in 0..2 {
        let (code, message) = code_and_message(call().await);
        assert_eq!(code, "ResourceNotFoundException");
        assert!(
            message.starts_with("The specified principalArn could not be found."),
            "{message}"
        );
    }
    call().await?;
    Ok(())
}
