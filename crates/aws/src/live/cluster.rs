//! What EKS says about one cluster without its Kubernetes API being read: its status, its
//! account, the update in progress, and the access policies its region offers.

use super::eks;
use super::error::GatherError;
use super::target::{Target, region_of};
use crate::sdk_config::eks_client;
use eks_auth_core::access_policies::Catalogue;

/// The cluster's status (`ACTIVE`, `UPDATING`, `CREATING`, …) per DescribeCluster.
///
/// # Errors
///
/// [`GatherError`] when the cluster cannot be described.
pub async fn cluster_status(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
) -> Result<String, GatherError> {
    match Target::describe(config, cluster_name).await {
        Ok(_) => Ok("ACTIVE".to_owned()),
        Err(GatherError::ClusterNotActive { status, .. }) => Ok(status),
        Err(e) => Err(e),
    }
}

/// The account that owns cluster `cluster_name` (from its ARN), whatever the cluster's status.
///
/// # Errors
///
/// [`GatherError`] when the cluster cannot be described.
pub async fn cluster_account(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
) -> Result<String, GatherError> {
    match Target::describe(config, cluster_name).await {
        Ok(target) => Ok(target.info.account),
        Err(GatherError::ClusterNotActive { account, .. }) => Ok(account),
        Err(e) => Err(e),
    }
}

/// The cluster's update in progress (an authentication-mode switch, a version upgrade, …),
/// whoever started it: its ID, or `None` when nothing runs.
///
/// # Errors
///
/// [`GatherError::Eks`] when ListUpdates or DescribeUpdate fails after retries.
pub async fn update_in_progress(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
) -> Result<Option<String>, GatherError> {
    let region = region_of(config, cluster_name)?;
    let ctx = eks::Ctx {
        cluster: cluster_name,
        region: region.as_ref(),
    };
    eks::update_in_progress(&eks_client(config), &ctx).await
}

/// The access-policy catalogue the cluster's region offers (ListAccessPolicies), to check a
/// policy file's names against.
///
/// # Errors
///
/// [`GatherError::Eks`] when ListAccessPolicies fails after retries.
pub async fn access_policy_catalogue(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
) -> Result<Catalogue, GatherError> {
    let region = region_of(config, cluster_name)?;
    let ctx = eks::Ctx {
        cluster: cluster_name,
        region: region.as_ref(),
    };
    let names = eks::access_policy_names(&eks_client(config), &ctx).await?;
    Ok(Catalogue::listed(
        names,
        format!("ListAccessPolicies in {region}"),
    ))
}
