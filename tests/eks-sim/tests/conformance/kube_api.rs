//! The per-cluster Kubernetes API through kube-rs: TLS with the cluster CA from
//! DescribeCluster, bearer tokens, resourceVersion conflicts, and authorization by mode.

use std::time::{Duration, SystemTime};

use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};

use crate::helpers::*;

fn configmaps(client: kube::Client) -> Api<ConfigMap> {
    Api::namespaced(client, "kube-system")
}

#[tokio::test]
async fn aws_auth_can_be_read_and_replaced_with_resource_version_checks() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let api = configmaps(kube_as(&eks, "legacy", ADMIN).await);
    let mut cm = api.get("aws-auth").await?;
    let rv = cm
        .metadata
        .resource_version
        .clone()
        .expect("resourceVersion");
    assert!(cm.data.as_ref().is_some_and(|d| d.contains_key("mapRoles")));

    cm.data
        .get_or_insert_default()
        .insert("mapUsers".to_owned(), "[]".to_owned());
    let replaced = api.replace("aws-auth", &PostParams::default(), &cm).await?;
    let new_rv = replaced
        .metadata
        .resource_version
        .clone()
        .expect("resourceVersion");
    assert_ne!(new_rv, rv);

    // The same (now stale) object again: 409 Conflict.
    let status = kube_code(api.replace("aws-auth", &PostParams::default(), &cm).await);
    assert_eq!(status, 409);
    Ok(())
}

#[tokio::test]
async fn merge_patch_create_delete() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let api = configmaps(kube_as(&eks, "legacy", ADMIN).await);
    let patch = serde_json::json!({ "data": { "mapAccounts": "- \"111122223333\"\n" } });
    let patched = api
        .patch("aws-auth", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let data = patched.data.expect("data");
    assert!(data.contains_key("mapAccounts") && data.contains_key("mapRoles"));

    let mut backup = ConfigMap::default();
    backup.metadata.name = Some("aws-auth-backup".to_owned());
    api.create(&PostParams::default(), &backup).await?;
    assert_eq!(
        kube_code(api.create(&PostParams::default(), &backup).await),
        409
    );
    let names: Vec<String> = api
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(names, ["aws-auth", "aws-auth-backup"]);
    api.delete("aws-auth-backup", &DeleteParams::default())
        .await?;
    assert_eq!(kube_code(api.get("aws-auth-backup").await), 404);
    Ok(())
}

#[tokio::test]
async fn view_rbac_reads_but_cannot_write() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let api = configmaps(kube_as(&eks, "legacy", VIEWER).await);
    let cm = api.get("aws-auth").await?;
    assert_eq!(
        kube_code(api.replace("aws-auth", &PostParams::default(), &cm).await),
        403
    );
    Ok(())
}

#[tokio::test]
async fn unmapped_principals_and_bad_tokens_get_401() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let stranger = configmaps(kube_as(&eks, "legacy", STRANGER).await);
    assert_eq!(kube_code(stranger.get("aws-auth").await), 401);

    let bad_tokens = [
        // Signed for another cluster.
        token("hybrid", ADMIN),
        // Wrong secret.
        token("legacy", (ADMIN.0, "not-the-secret")),
        // Older than 15 minutes.
        token_at(
            "legacy",
            ADMIN,
            SystemTime::now() - Duration::from_secs(16 * 60),
        ),
        // No prefix.
        token("legacy", ADMIN).replacen("k8s-aws-v1.", "", 1),
        // Padded base64.
        format!("{}==", token("legacy", ADMIN)),
    ];
    for t in bad_tokens {
        let api = configmaps(kube_with_token(&eks, "legacy", &t).await);
        assert_eq!(kube_code(api.get("aws-auth").await), 401, "{t}");
    }
    // A token 10 minutes old is still good.
    let recent = token_at(
        "legacy",
        ADMIN,
        SystemTime::now() - Duration::from_secs(600),
    );
    configmaps(kube_with_token(&eks, "legacy", &recent).await)
        .get("aws-auth")
        .await?;
    Ok(())
}

#[tokio::test]
async fn api_mode_ignores_aws_auth_and_honours_entries_and_scopes() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let admin = configmaps(kube_as(&eks, "modern", ADMIN).await);
    assert_eq!(
        kube_code(admin.get("aws-auth").await),
        401,
        "aws-auth is ignored in API mode"
    );

    create_entry(&eks, "modern", role("admin")).await?;
    // An entry without policies authenticates but may not read.
    assert_eq!(kube_code(admin.get("aws-auth").await), 403);

    let view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
    eks.associate_access_policy()
        .cluster_name("modern")
        .principal_arn(role("admin"))
        .policy_arn(view)
        .access_scope(
            AccessScope::builder()
                .r#type(AccessScopeType::Cluster)
                .build(),
        )
        .send()
        .await?;
    let cm = admin.get("aws-auth").await?;
    assert_eq!(
        kube_code(admin.replace("aws-auth", &PostParams::default(), &cm).await),
        403
    );

    let edit = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
    eks.associate_access_policy()
        .cluster_name("modern")
        .principal_arn(role("admin"))
        .policy_arn(edit)
        .access_scope(
            AccessScope::builder()
                .r#type(AccessScopeType::Namespace)
                .namespaces("kube-*")
                .build(),
        )
        .send()
        .await?;
    admin
        .replace("aws-auth", &PostParams::default(), &cm)
        .await?;
    Ok(())
}

#[tokio::test]
async fn config_map_cluster_creator_and_switch_keep_access() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    // After the switch to API_AND_CONFIG_MAP, aws-auth still grants the admin its access.
    let started = eks
        .update_cluster_config()
        .name("legacy")
        .access_config(
            aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
                .authentication_mode(aws_sdk_eks::types::AuthenticationMode::ApiAndConfigMap)
                .build(),
        )
        .send()
        .await?;
    let id = started
        .update()
        .and_then(|u| u.id())
        .expect("id")
        .to_owned();
    wait_for_update(&eks, "legacy", &id).await?;
    configmaps(kube_as(&eks, "legacy", ADMIN).await)
        .get("aws-auth")
        .await?;
    Ok(())
}

#[tokio::test]
async fn kubernetes_faults_throttle_and_fail_calls() -> TestResult {
    use eks_sim::faults::{FaultConfig, FaultRule};
    let sim = sim().await;
    let eks = eks(&sim).await;
    let api = configmaps(kube_as(&eks, "legacy", ADMIN).await);
    let cm = api.get("aws-auth").await?;
    sim.set_faults(FaultConfig {
        seed: 1,
        rules: vec![
            FaultRule {
                operation: "Kubernetes:update".to_owned(),
                throttle_probability: 1.0,
                remaining: Some(2),
                ..FaultRule::default()
            },
            FaultRule {
                operation: "Kubernetes:*".to_owned(),
                error_probability: 1.0,
                error_status: 500,
                remaining: Some(3),
                ..FaultRule::default()
            },
            // EKS-wide rules do not touch the Kubernetes APIs.
            FaultRule {
                error_probability: 1.0,
                ..FaultRule::default()
            },
        ],
    });
    // kube retries 429s by itself: two throttled attempts (each also spends the 500 rule),
    // then a 500, which it does not retry.
    assert_eq!(
        kube_code(api.replace("aws-auth", &PostParams::default(), &cm).await),
        500
    );
    api.replace("aws-auth", &PostParams::default(), &cm).await?;
    let spent: Vec<Option<u64>> = eks_sim::server::lock(&sim.shared().faults)
        .config()
        .rules
        .iter()
        .map(|r| r.remaining)
        .collect();
    assert_eq!(spent, [Some(0), Some(0), None]);
    assert_eq!(
        sim.stats().get("Kubernetes:update"),
        Some(&1),
        "only the served call counts"
    );
    Ok(())
}
