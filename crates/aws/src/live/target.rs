//! The cluster a live call is about: its validated name, the configuration's region, what
//! DescribeCluster says of it, and the route to its Kubernetes API.

use super::eks::{self, ClusterInfo};
use super::error::{GatherError, Unreachable};
use crate::route::signer::AgentSigner;
use crate::route::{self, RoutePolicy};
use crate::sdk_config::eks_client;
use eks_auth_core::reach::ClusterPlace;
use eks_auth_kube::ids::{ClusterName, Region};

/// The configuration's region, validated; [`GatherError::NoRegion`] without one.
pub(crate) fn region_of(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
) -> Result<Region, GatherError> {
    config
        .region()
        .ok_or_else(|| GatherError::NoRegion {
            cluster: cluster_name.to_owned(),
        })
        .and_then(|r| Region::parse(r.as_ref()).map_err(GatherError::from))
}

/// An ACTIVE cluster, named and described.
pub(crate) struct Target {
    /// Its name.
    pub(crate) cluster: ClusterName,
    /// The configuration's region.
    pub(crate) region: Region,
    /// The EKS client that described it.
    pub(crate) eks: aws_sdk_eks::Client,
    /// What DescribeCluster said.
    pub(crate) info: ClusterInfo,
}

impl Target {
    /// Validates `cluster_name`, takes the configuration's region and describes the cluster.
    ///
    /// # Errors
    ///
    /// [`GatherError::Input`], [`GatherError::NoRegion`], and DescribeCluster's errors
    /// ([`GatherError::ClusterNotActive`] for a cluster that is not ACTIVE).
    pub(crate) async fn describe(
        config: &aws_config::SdkConfig,
        cluster_name: &str,
    ) -> Result<Self, GatherError> {
        let cluster = ClusterName::parse(cluster_name)?;
        let region = region_of(config, cluster_name)?;
        let eks = eks_client(config);
        let ctx = eks::Ctx {
            cluster: cluster.as_ref(),
            region: region.as_ref(),
        };
        let info = eks::describe(&eks, &ctx).await?;
        Ok(Self {
            cluster,
            region,
            eks,
            info,
        })
    }

    /// Names the cluster's EKS calls in errors.
    pub(crate) fn ctx(&self) -> eks::Ctx<'_> {
        eks::Ctx {
            cluster: self.cluster.as_ref(),
            region: self.region.as_ref(),
        }
    }

    /// The route to the cluster's Kubernetes API, or [`GatherError::Unreachable`] with what to
    /// deploy. Agents are invoked with `config` (the member role's, in the cluster's account),
    /// their requests signed with `signer`.
    pub(crate) fn route(
        &self,
        config: &aws_config::SdkConfig,
        policy: &RoutePolicy,
        signer: Option<&AgentSigner>,
    ) -> Result<route::Access, GatherError> {
        let place = ClusterPlace {
            account: &self.info.account,
            region: self.region.as_ref(),
            name: self.cluster.as_ref(),
        };
        route::choose(config, place, &self.info.access, policy, signer).map_err(|no| {
            GatherError::Unreachable(Box::new(Unreachable {
                cluster: self.cluster.to_string(),
                account: self.info.account.clone(),
                region: self.region.to_string(),
                reach: no.reach,
                reason: no.reason,
            }))
        })
    }
}
