//! The effective-access oracle, as a Rust API and over the admin HTTP API.

use eks_sim::model::ClusterKey;
use eks_sim::oracle::Source;

use crate::helpers::*;

fn key(name: &str) -> ClusterKey {
    ClusterKey {
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        name: name.to_owned(),
    }
}

#[tokio::test]
async fn aws_auth_rows_in_config_map_mode() -> TestResult {
    let sim = sim().await;
    let admin = sim
        .oracle(&key("legacy"), &role("admin"))?
        .expect("admin is mapped");
    assert_eq!(admin.source, Source::AwsAuth);
    assert_eq!(admin.username, "admin:{{SessionName}}");
    assert_eq!(admin.groups, ["system:masters"]);
    let session = sim
        .oracle(
            &key("legacy"),
            "arn:aws:sts::111122223333:assumed-role/admin/alice@example.com",
        )?
        .expect("session is mapped");
    assert_eq!(
        session.rendered_username.as_deref(),
        Some("admin:alice-example.com")
    );
    assert_eq!(sim.oracle(&key("legacy"), &role("stranger"))?, None);
    Ok(())
}

#[tokio::test]
async fn an_entry_overrides_the_aws_auth_row_in_api_and_config_map() -> TestResult {
    let sim = sim().await;
    let before = sim
        .oracle(&key("hybrid"), &role("viewer"))?
        .expect("mapped");
    assert_eq!(before.source, Source::AwsAuth);
    let eks = eks(&sim).await;
    eks.create_access_entry()
        .cluster_name("hybrid")
        .principal_arn(role("viewer"))
        .username("other-name")
        .send()
        .await?;
    let after = sim
        .oracle(&key("hybrid"), &role("viewer"))?
        .expect("mapped");
    assert_eq!(after.source, Source::AccessEntry);
    assert_eq!(after.username, "other-name");
    assert!(
        after.groups.is_empty(),
        "the aws-auth groups are gone: {after:?}"
    );
    Ok(())
}

#[tokio::test]
async fn aws_auth_is_ignored_in_api_mode() -> TestResult {
    let sim = sim().await;
    assert_eq!(sim.oracle(&key("modern"), &role("admin"))?, None);
    let node = sim
        .oracle(&key("modern"), &role("node-role"))?
        .expect("EKS-created entry");
    assert_eq!(node.source, Source::AccessEntry);
    Ok(())
}

#[tokio::test]
async fn oracle_over_http() -> TestResult {
    let sim = sim().await;
    let url = format!(
        "{}/oracle?cluster=arn:aws:eks:us-east-1:111122223333:cluster/legacy&principal={}&session=bob",
        sim.admin_url(),
        role("viewer")
    );
    let body = http("GET", &url, "").await?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(v["access"]["source"], "aws_auth");
    assert_eq!(v["access"]["username"], "viewer");
    assert_eq!(v["access"]["groups"][0], "readers");
    let none = http("GET", &url.replace("viewer", "stranger"), "").await?;
    let v: serde_json::Value = serde_json::from_str(&none)?;
    assert!(v["access"].is_null());
    Ok(())
}

/// How tests use the oracle: record every principal's access, migrate by hand (switch, then
/// one equivalent entry per aws-auth row), and prove nothing was granted or removed.
#[tokio::test]
async fn a_faithful_manual_migration_keeps_every_principal_equivalent() -> TestResult {
    use aws_sdk_eks::types::{
        AccessScope, AccessScopeType, AuthenticationMode, UpdateAccessConfigRequest,
    };
    let sim = sim().await;
    let eks = eks(&sim).await;
    let principals = [
        role("admin"),
        role("viewer"),
        role("node-role"),
        role("stranger"),
        role("team"),
    ];
    let before: Vec<_> = principals
        .iter()
        .map(|p| {
            sim.oracle(&key("legacy"), p)
                .map(|a| a.map(|a| (a.username, a.groups)))
        })
        .collect::<Result<_, _>>()?;

    let update = eks
        .update_cluster_config()
        .name("legacy")
        .access_config(
            UpdateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                .build(),
        )
        .send()
        .await?;
    wait_for_update(
        &eks,
        "legacy",
        update.update().and_then(|u| u.id()).expect("id"),
    )
    .await?;
    // The viewer row translates to an identical STANDARD entry.
    eks.create_access_entry()
        .cluster_name("legacy")
        .principal_arn(role("viewer"))
        .username("viewer")
        .kubernetes_groups("readers")
        .send()
        .await?;
    // system:masters cannot be a group: the admin row becomes ClusterAdmin with the same username.
    eks.create_access_entry()
        .cluster_name("legacy")
        .principal_arn(role("admin"))
        .username("admin:{{SessionName}}")
        .send()
        .await?;
    eks.associate_access_policy()
        .cluster_name("legacy")
        .principal_arn(role("admin"))
        .policy_arn("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
        .access_scope(
            AccessScope::builder()
                .r#type(AccessScopeType::Cluster)
                .build(),
        )
        .send()
        .await?;

    for (principal, was) in principals.iter().zip(before) {
        let now = sim.oracle(&key("legacy"), principal)?;
        match (&was, &now) {
            (None, None) => {}
            (Some((username, groups)), Some(access)) => {
                assert_eq!(&access.username, username, "{principal}");
                let masters = groups.iter().any(|g| g == "system:masters");
                let kept: Vec<&String> = groups.iter().filter(|g| *g != "system:masters").collect();
                let node = groups.iter().any(|g| g == "system:nodes");
                if node {
                    assert_eq!(
                        access.groups,
                        ["system:nodes"],
                        "{principal}: EKS-made node entry"
                    );
                } else {
                    assert_eq!(
                        access.groups.iter().collect::<Vec<_>>(),
                        kept,
                        "{principal}"
                    );
                }
                let admin = access
                    .policies
                    .iter()
                    .any(|p| p.policy_arn.ends_with("/AmazonEKSClusterAdminPolicy"));
                assert_eq!(
                    admin, masters,
                    "{principal}: admin exactly when aws-auth made it one"
                );
            }
            _ => panic!("{principal}: access changed from {was:?} to {now:?}"),
        }
    }
    Ok(())
}
