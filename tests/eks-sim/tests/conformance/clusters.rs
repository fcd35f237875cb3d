//! ListClusters, DescribeCluster, node groups, Fargate profiles, tags.

use base64::Engine as _;

use crate::helpers::*;

#[tokio::test]
async fn list_clusters_is_scoped_to_account_and_region_and_paginates() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let first = eks.list_clusters().max_results(2).send().await?;
    assert_eq!(first.clusters(), ["hybrid", "legacy"]);
    let token = first.next_token().expect("a second page");
    let second = eks
        .list_clusters()
        .max_results(2)
        .next_token(token)
        .send()
        .await?;
    assert_eq!(second.clusters(), ["modern"]);
    assert_eq!(second.next_token(), None);

    let west = eks_as(&sim, ADMIN, "us-west-2", 1).await;
    assert_eq!(west.list_clusters().send().await?.clusters(), ["west"]);
    let partner = eks_as(&sim, PARTNER_KEY, REGION, 1).await;
    assert!(partner.list_clusters().send().await?.clusters().is_empty());
    Ok(())
}

#[tokio::test]
async fn max_results_above_100_is_refused() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, message) = code_and_message(eks.list_clusters().max_results(101).send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("less than or equal to 100"), "{message}");
}

#[tokio::test]
async fn describe_cluster_reports_what_clients_need() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let out = eks.describe_cluster().name("legacy").send().await?;
    let c = out.cluster().expect("cluster");
    assert_eq!(c.name(), Some("legacy"));
    assert_eq!(
        c.arn(),
        Some("arn:aws:eks:us-east-1:111122223333:cluster/legacy")
    );
    assert_eq!(c.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(c.version(), Some("1.31"));
    assert_eq!(c.platform_version(), Some("eks.20"));
    assert!(c.created_at().is_some());
    assert_eq!(
        c.tags().and_then(|t| t.get("env")).map(String::as_str),
        Some("prod")
    );
    let mode = c.access_config().and_then(|a| a.authentication_mode());
    assert_eq!(mode.map(|m| m.as_str()), Some("CONFIG_MAP"));
    assert!(
        c.endpoint()
            .is_some_and(|e| e.starts_with("https://127.0.0.1:"))
    );
    let ca = c
        .certificate_authority()
        .and_then(|ca| ca.data())
        .expect("CA data");
    let pem = base64::engine::general_purpose::STANDARD.decode(ca)?;
    assert!(String::from_utf8(pem)?.starts_with("-----BEGIN CERTIFICATE-----"));
    Ok(())
}

#[tokio::test]
async fn describe_missing_cluster_is_resource_not_found() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, message) = code_and_message(eks.describe_cluster().name("nope").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(message, "No cluster found for name: nope.");
    // Another account's credentials do not see this account's clusters.
    let partner = eks_as(&sim, PARTNER_KEY, REGION, 1).await;
    let (code, _) = code_and_message(partner.describe_cluster().name("legacy").send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn node_groups_and_fargate_profiles_report_their_roles() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let ngs = eks.list_nodegroups().cluster_name("legacy").send().await?;
    assert_eq!(ngs.nodegroups(), ["ng1"]);
    let ng = eks
        .describe_nodegroup()
        .cluster_name("legacy")
        .nodegroup_name("ng1")
        .send()
        .await?;
    assert_eq!(
        ng.nodegroup().and_then(|n| n.node_role()),
        Some(role("node-role").as_str())
    );
    let fps = eks
        .list_fargate_profiles()
        .cluster_name("legacy")
        .send()
        .await?;
    assert_eq!(fps.fargate_profile_names(), ["fp1"]);
    let fp = eks
        .describe_fargate_profile()
        .cluster_name("legacy")
        .fargate_profile_name("fp1")
        .send()
        .await?;
    assert_eq!(
        fp.fargate_profile()
            .and_then(|f| f.pod_execution_role_arn()),
        Some(role("fargate-role").as_str())
    );
    let (code, _) = code_and_message(
        eks.describe_nodegroup()
            .cluster_name("legacy")
            .nodegroup_name("nope")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    Ok(())
}

#[tokio::test]
async fn tags_can_be_added_listed_and_removed() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let arn = "arn:aws:eks:us-east-1:111122223333:cluster/legacy";
    eks.tag_resource()
        .resource_arn(arn)
        .tags("eam/mode", "migrate")
        .send()
        .await?;
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await?;
    let tags = tags.tags().expect("tags");
    assert_eq!(tags.get("eam/mode").map(String::as_str), Some("migrate"));
    assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
    eks.untag_resource()
        .resource_arn(arn)
        .tag_keys("eam/mode")
        .send()
        .await?;
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await?;
    assert!(!tags.tags().expect("tags").contains_key("eam/mode"));
    let (code, _) = code_and_message(
        eks.list_tags_for_resource()
            .resource_arn("arn:aws:eks:us-east-1:111122223333:cluster/nope")
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    Ok(())
}

#[tokio::test]
async fn requests_signed_with_the_wrong_secret_are_refused() -> TestResult {
    let sim = sim().await;
    let forged = eks_as(&sim, (ADMIN.0, "not-the-secret"), REGION, 1).await;
    let result = forged
        .describe_access_entry()
        .cluster_name("modern")
        .principal_arn(role("node-role"))
        .send()
        .await;
    let status = result
        .as_ref()
        .err()
        .and_then(|e| e.raw_response())
        .map(|r| r.status().as_u16());
    assert_eq!(status, Some(403));
    let (code, _) = code_and_message(result);
    assert_eq!(code, "InvalidSignatureException");
    // The right secret passes the same check, with the ARN label double-encoded as SigV4 wants.
    let genuine = eks(&sim).await;
    genuine
        .describe_access_entry()
        .cluster_name("modern")
        .principal_arn(role("node-role"))
        .send()
        .await?;
    Ok(())
}
