//! Authentication-mode updates: one way, no skipping, no no-op, one at a time, asynchronous,
//! and the entries EKS creates itself on the first switch.

use aws_sdk_eks::types::{AuthenticationMode, UpdateAccessConfigRequest};

use crate::helpers::*;

fn to(mode: AuthenticationMode) -> UpdateAccessConfigRequest {
    UpdateAccessConfigRequest::builder()
        .authentication_mode(mode)
        .build()
}

/// The error code and message of an authentication-mode update of `cluster` to `mode`.
async fn refused_update(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    mode: AuthenticationMode,
) -> (String, String) {
    code_and_message(
        eks.update_cluster_config()
            .name(cluster)
            .access_config(to(mode))
            .send()
            .await,
    )
}

#[tokio::test]
async fn config_map_cannot_skip_to_api() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, message) = refused_update(&eks, "legacy", AuthenticationMode::Api).await;
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Unsupported authentication mode update from CONFIG_MAP to API"
    );
}

#[tokio::test]
async fn a_no_op_update_is_refused() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, message) = refused_update(&eks, "hybrid", AuthenticationMode::ApiAndConfigMap).await;
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Unsupported authentication mode update from API_AND_CONFIG_MAP to API_AND_CONFIG_MAP"
    );
}

#[tokio::test]
async fn modes_never_go_back() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, message) = refused_update(&eks, "modern", AuthenticationMode::ApiAndConfigMap).await;
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Unsupported authentication mode update from API to API_AND_CONFIG_MAP"
    );
}

#[tokio::test]
async fn update_is_asynchronous_exclusive_and_creates_node_and_fargate_entries() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    // Held until the test has seen the cluster UPDATING: no race with the update's duration.
    sim.with_world(|w| w.settings.hold_updates = true);
    let started = eks
        .update_cluster_config()
        .name("legacy")
        .access_config(to(AuthenticationMode::ApiAndConfigMap))
        .send()
        .await?;
    let update = started.update().expect("update");
    let id = update.id().expect("id").to_owned();
    assert_eq!(update.status().map(|s| s.as_str()), Some("InProgress"));
    assert_eq!(
        update.r#type().map(|t| t.as_str()),
        Some("AccessConfigUpdate")
    );
    let param = &update.params()[0];
    assert_eq!(
        param.r#type().map(|t| t.as_str()),
        Some("AuthenticationMode")
    );
    assert_eq!(param.value(), Some("API_AND_CONFIG_MAP"));

    let described = eks.describe_cluster().name("legacy").send().await?;
    assert_eq!(
        described
            .cluster()
            .and_then(|c| c.status())
            .map(|s| s.as_str()),
        Some("UPDATING")
    );
    let (code, _) = refused_update(&eks, "legacy", AuthenticationMode::Api).await;
    assert_eq!(code, "ResourceInUseException");

    sim.with_world(|w| w.settings.hold_updates = false);
    wait_for_update(&eks, "legacy", &id).await?;
    let described = eks.describe_cluster().name("legacy").send().await?;
    let c = described.cluster().expect("cluster");
    assert_eq!(c.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(
        c.access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str()),
        Some("API_AND_CONFIG_MAP")
    );
    let node = eks
        .describe_access_entry()
        .cluster_name("legacy")
        .principal_arn(role("node-role"))
        .send()
        .await?;
    assert_eq!(
        node.access_entry().and_then(|e| e.r#type()),
        Some("EC2_LINUX")
    );
    let fargate = eks
        .describe_access_entry()
        .cluster_name("legacy")
        .principal_arn(role("fargate-role"))
        .send()
        .await?;
    assert_eq!(
        fargate.access_entry().and_then(|e| e.r#type()),
        Some("FARGATE_LINUX")
    );
    // Creating them again collides: list entries after the switch.
    let (code, message) = code_and_message(
        eks.create_access_entry()
            .cluster_name("legacy")
            .principal_arn(role("node-role"))
            .r#type("EC2_LINUX")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceInUseException");
    assert_eq!(
        message,
        "The specified access entry resource is already in use on this cluster."
    );
    Ok(())
}
