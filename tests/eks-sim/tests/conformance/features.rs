//! The EKS features that create access entries EKS manages itself (EKS Capabilities, Auto Mode,
//! SageMaker HyperPod) and the 2026 access-policy catalogue, through aws-sdk-eks.

use crate::helpers::{ACCOUNT, TestResult, eks, role};
use eks_sim::Sim;
use eks_sim::seed::{Seed, SeedError};

fn features_seed(mode: &str) -> String {
    format!(
        r#"
accounts:
  - id: "{ACCOUNT}"
    credentials:
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice" }}
    iam:
      - {}
      - {}
      - {}
      - {}
      - {}
      - {}
    clusters:
      - name: auto
        region: us-east-1
        mode: {mode}
        role_arn: {}
        auto_mode: {{ node_role_arn: {} }}
        capabilities: [{{ name: gitops, type: ARGOCD, role_arn: {} }}]
        hyperpod_roles: [{}]
"#,
        crate::helpers::ADMIN.0,
        crate::helpers::ADMIN.1,
        role("admin"),
        role("auto-cluster"),
        role("auto-node"),
        role("argocd"),
        role("kro"),
        role("hyperpod"),
        role("auto-cluster"),
        role("auto-node"),
        role("argocd"),
        role("hyperpod"),
    )
}

async fn features_sim() -> Sim {
    let seed = Seed::parse(&features_seed("API")).expect("seed parses");
    Sim::start(seed).await.expect("simulator starts")
}

#[tokio::test]
async fn a_config_map_cluster_refuses_auto_mode_capabilities_and_hyperpod() {
    let seed = Seed::parse(&features_seed("CONFIG_MAP")).expect("seed parses");
    let err = seed
        .into_world()
        .expect_err("EKS refuses these on CONFIG_MAP");
    assert!(matches!(err, SeedError::NeedsAccessEntries { .. }), "{err}");
}

#[tokio::test]
async fn eks_creates_the_entries_of_auto_mode_capabilities_and_hyperpod() -> TestResult {
    let sim = features_sim().await;
    let eks = eks(&sim).await;
    let described = eks.describe_cluster().name("auto").send().await?;
    let cluster = described.cluster().expect("cluster");
    let compute = cluster.compute_config().expect("computeConfig");
    assert_eq!(compute.enabled(), Some(true));
    assert_eq!(compute.node_role_arn(), Some(role("auto-node").as_str()));
    assert_eq!(cluster.role_arn(), Some(role("auto-cluster").as_str()));

    let expect = [
        (
            "argocd",
            "STANDARD",
            vec!["AmazonEKSArgoCDClusterPolicy", "AmazonEKSArgoCDPolicy"],
        ),
        (
            "auto-cluster",
            "STANDARD",
            vec![
                "AmazonEKSBlockStorageClusterPolicy",
                "AmazonEKSComputeClusterPolicy",
                "AmazonEKSLoadBalancingClusterPolicy",
                "AmazonEKSNetworkingClusterPolicy",
            ],
        ),
        ("auto-node", "EC2", vec!["AmazonEKSAutoNodePolicy"]),
        ("hyperpod", "HYPERPOD_LINUX", vec![]),
    ];
    for (name, kind, policies) in expect {
        let entry = eks
            .describe_access_entry()
            .cluster_name("auto")
            .principal_arn(role(name))
            .send()
            .await?;
        assert_eq!(
            entry.access_entry().and_then(|e| e.r#type()),
            Some(kind),
            "{name}"
        );
        let listed = eks
            .list_associated_access_policies()
            .cluster_name("auto")
            .principal_arn(role(name))
            .send()
            .await?;
        let mut names: Vec<&str> = listed
            .associated_access_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .map(|a| a.rsplit('/').next().unwrap_or(a))
            .collect();
        names.sort_unstable();
        assert_eq!(names, policies, "{name}");
    }
    Ok(())
}

#[tokio::test]
async fn capabilities_are_listed_described_and_created_with_their_entry() -> TestResult {
    let sim = features_sim().await;
    let eks = eks(&sim).await;
    let listed = eks.list_capabilities().cluster_name("auto").send().await?;
    let names: Vec<&str> = listed
        .capabilities()
        .iter()
        .filter_map(|c| c.capability_name())
        .collect();
    assert_eq!(names, vec!["gitops"]);
    let described = eks
        .describe_capability()
        .cluster_name("auto")
        .capability_name("gitops")
        .send()
        .await?;
    let capability = described.capability().expect("capability");
    assert_eq!(capability.role_arn(), Some(role("argocd").as_str()));
    assert_eq!(capability.r#type().map(|t| t.as_str()), Some("ARGOCD"));

    eks.create_capability()
        .cluster_name("auto")
        .capability_name("resources")
        .r#type(aws_sdk_eks::types::CapabilityType::Kro)
        .role_arn(role("kro"))
        .delete_propagation_policy(aws_sdk_eks::types::CapabilityDeletePropagationPolicy::Retain)
        .send()
        .await?;
    let entry = eks
        .describe_access_entry()
        .cluster_name("auto")
        .principal_arn(role("kro"))
        .send()
        .await?;
    assert_eq!(
        entry.access_entry().and_then(|e| e.username()),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/kro/KRO").as_str())
    );
    let missing = eks
        .describe_capability()
        .cluster_name("auto")
        .capability_name("nope")
        .send()
        .await;
    assert!(missing.is_err());
    Ok(())
}

#[tokio::test]
async fn list_access_policies_returns_the_2026_catalogue() -> TestResult {
    let sim = features_sim().await;
    let eks = eks(&sim).await;
    let names: Vec<String> = eks
        .list_access_policies()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await?
        .into_iter()
        .filter_map(|p| p.name().map(str::to_owned))
        .collect();
    assert!(names.len() > 30, "{}", names.len());
    for name in [
        "AmazonEKSAdminViewPolicy",
        "AmazonEKSSecretReaderPolicy",
        "AmazonEKSAutoNodePolicy",
        "AmazonEKSHybridPolicy",
        "AmazonEKSArgoCDClusterPolicy",
        "AmazonSagemakerHyperpodControllerPolicy",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    // Every name the service lists is one the migrator's bundled catalogue knows.
    let bundled = eks_auth_core::access_policies::Catalogue::bundled();
    for name in &names {
        assert!(bundled.names().contains(name), "{name} not bundled");
    }
    Ok(())
}
