//! The admin API as docs/local-stack.md documents it.

use crate::helpers::*;

#[tokio::test]
async fn documented_fault_and_settings_bodies_are_accepted() -> TestResult {
    let sim = sim().await;
    let admin = sim.admin_url();
    let faults = r#"{
      "seed": 42,
      "rules": [
        {"operation": "UpdateClusterConfig", "throttle_probability": 1.0, "remaining": 2},
        {"operation": "*", "token_bucket": {"rate_per_sec": 20, "burst": 40}},
        {"operation": "DescribeCluster", "latency_ms": 150, "error_probability": 0.05, "error_status": 503},
        {"operation": "ListAccessEntries", "reset_probability": 0.01}
      ]}"#;
    http("PUT", &format!("{admin}/faults"), faults).await?;
    let installed: serde_json::Value =
        serde_json::from_str(&http("GET", &format!("{admin}/faults"), "").await?)?;
    assert_eq!(installed["rules"].as_array().map(Vec::len), Some(4));
    http("DELETE", &format!("{admin}/faults"), "").await?;

    let settings = http(
        "PATCH",
        &format!("{admin}/settings"),
        r#"{"eventual_consistency_calls": 2}"#,
    )
    .await?;
    let settings: serde_json::Value = serde_json::from_str(&settings)?;
    assert_eq!(settings["eventual_consistency_calls"], 2);
    assert_eq!(
        settings["update_duration_ms"], 300,
        "other settings are kept"
    );
    assert!(
        http(
            "PATCH",
            &format!("{admin}/settings"),
            r#"{"no_such_setting": 1}"#
        )
        .await
        .is_err()
    );
    Ok(())
}

#[tokio::test]
async fn seed_can_be_replaced_and_stats_count_calls() -> TestResult {
    let sim = sim().await;
    let admin = sim.admin_url();
    let eks = eks(&sim).await;
    eks.list_clusters().send().await?;
    let stats: serde_json::Value =
        serde_json::from_str(&http("GET", &format!("{admin}/stats"), "").await?)?;
    assert_eq!(stats["operations"]["ListClusters"], 1);

    let seed = include_str!("../../../stack/seed.example.yaml");
    let loaded = http("PUT", &format!("{admin}/seed"), seed).await?;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&loaded)?["clusters"],
        2
    );
    assert!(
        http("PUT", &format!("{admin}/seed"), "accounts: [{id: nope}]")
            .await
            .is_err()
    );
    let clusters: serde_json::Value =
        serde_json::from_str(&http("GET", &format!("{admin}/clusters"), "").await?)?;
    let arns: Vec<&str> = clusters["clusters"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["arn"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        arns,
        [
            "arn:aws:eks:eu-west-1:123456789012:cluster/staging",
            "arn:aws:eks:us-east-1:123456789012:cluster/prod"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn iam_principals_can_be_added_and_removed_at_run_time() -> TestResult {
    let sim = sim().await;
    let admin = sim.admin_url();
    let eks = eks(&sim).await;
    let arn = "arn:aws:iam::111122223333:role/created/later";
    let (code, _) = code_and_message(
        eks.create_access_entry()
            .cluster_name("modern")
            .principal_arn(arn)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let body = format!(r#"{{"principals": ["{arn}"]}}"#);
    http("POST", &format!("{admin}/iam"), &body).await?;
    assert!(
        http("GET", &format!("{admin}/iam"), "")
            .await?
            .contains(arn)
    );
    create_entry(&eks, "modern", arn).await?;
    http("DELETE", &format!("{admin}/iam"), &body).await?;
    let other = "arn:aws:iam::111122223333:role/team";
    http(
        "DELETE",
        &format!("{admin}/iam"),
        &format!(r#"{{"principals": ["{other}"]}}"#),
    )
    .await?;
    let (code, _) = code_and_message(
        eks.create_access_entry()
            .cluster_name("modern")
            .principal_arn(other)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    Ok(())
}
