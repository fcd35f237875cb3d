//! Fault injection through the admin API, observed through the SDK.

use std::time::{Duration, Instant};

use eks_sim::faults::{FaultConfig, FaultRule, TokenBucket};

use crate::helpers::*;

fn rule(operation: &str) -> FaultRule {
    FaultRule {
        operation: operation.to_owned(),
        ..FaultRule::default()
    }
}

#[tokio::test]
async fn throttling_is_a_429_throttling_exception() {
    let sim = sim().await;
    sim.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            throttle_probability: 1.0,
            ..rule("UpdateClusterConfig")
        }],
    });
    let eks = eks(&sim).await;
    let result = eks
        .update_cluster_config()
        .name("legacy")
        .access_config(
            aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
                .authentication_mode(aws_sdk_eks::types::AuthenticationMode::ApiAndConfigMap)
                .build(),
        )
        .send()
        .await;
    let status = result
        .as_ref()
        .err()
        .and_then(|e| e.raw_response())
        .map(|r| r.status().as_u16());
    assert_eq!(status, Some(429));
    let (code, _) = code_and_message(result);
    assert_eq!(code, "ThrottlingException");
}

#[tokio::test]
async fn sdk_retries_through_a_short_burst_of_throttling() -> TestResult {
    let sim = sim().await;
    sim.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            throttle_probability: 1.0,
            remaining: Some(2),
            ..rule("ListClusters")
        }],
    });
    // Attempts 1 and 2 are throttled, attempt 3 is served.
    let eks = eks_as(&sim, ADMIN, REGION, 3).await;
    let out = eks.list_clusters().send().await?;
    assert_eq!(out.clusters().len(), 3);
    assert_eq!(
        sim.stats().get("ListClusters"),
        Some(&1),
        "only the served call is counted"
    );
    Ok(())
}

#[tokio::test]
async fn server_errors_surface_without_retries() {
    let sim = sim().await;
    sim.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            error_probability: 1.0,
            ..rule("*")
        }],
    });
    let eks = eks(&sim).await;
    let (code, _) = code_and_message(eks.describe_cluster().name("legacy").send().await);
    assert_eq!(code, "ServerException");
}

#[tokio::test]
async fn connection_reset_is_a_dispatch_failure() {
    let sim = sim().await;
    sim.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            reset_probability: 1.0,
            ..rule("ListClusters")
        }],
    });
    let eks = eks(&sim).await;
    let err = eks.list_clusters().send().await.expect_err("reset");
    assert!(
        matches!(
            err,
            aws_sdk_eks::error::SdkError::DispatchFailure(_)
                | aws_sdk_eks::error::SdkError::ResponseError(_)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn latency_is_added_to_the_matching_operation_only() -> TestResult {
    let sim = sim().await;
    let latency = |ms| FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            latency_ms: ms,
            ..rule("DescribeCluster")
        }],
    };
    sim.set_faults(latency(300));
    let eks = eks(&sim).await;
    let t = Instant::now();
    eks.describe_cluster().name("legacy").send().await?;
    assert!(t.elapsed() >= Duration::from_millis(300));
    // Another operation is not delayed by the rule: while a DescribeCluster waits out a minute,
    // ListClusters answers (an order of events, not a time limit).
    sim.set_faults(latency(60_000));
    let slow = {
        let eks = eks.clone();
        tokio::spawn(async move { eks.describe_cluster().name("legacy").send().await })
    };
    eks.list_clusters().send().await?;
    assert!(
        !slow.is_finished(),
        "ListClusters answered only after the delayed DescribeCluster"
    );
    slow.abort();
    Ok(())
}

#[tokio::test]
async fn token_bucket_throttles_above_its_rate() {
    let sim = sim().await;
    sim.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            token_bucket: Some(TokenBucket {
                rate_per_sec: 0.001,
                burst: 3.0,
            }),
            ..rule("*")
        }],
    });
    let eks = eks(&sim).await;
    for _ in 0..3 {
        assert!(eks.list_clusters().send().await.is_ok());
    }
    let (code, _) = code_and_message(eks.list_clusters().send().await);
    assert_eq!(code, "ThrottlingException");
}
