//! The read-only live path: everything the planner needs about one cluster, gathered through
//! the EKS API, the cluster's Kubernetes API and IAM.
//!
//! [`gather`] reads DescribeCluster (partition, account, mode, endpoint, CA), every managed node
//! group's and Fargate profile's role, every access entry with its policies (all pages; none in
//! CONFIG_MAP mode), kube-system/aws-auth with its resourceVersion, and resolves every principal
//! aws-auth could still grant to its real IAM ARN (with path) in the principal's own account.
//! It changes nothing. Clients use the shared configuration as given (region, credentials,
//! endpoints) plus adaptive retry and timeouts.

mod eks;
mod error;
mod iam;
mod kube;
mod rbac;

pub(crate) use eks::sdk_reason;
pub use eks_auth_kube::AwsAuthConfigMap;
pub use error::{AgentFailed, GatherError, KubeDenied, KubeStatus, Unreachable};
pub use rbac::{RbacDenied, RbacError, RbacGathered, gather_rbac, gather_rbac_with};

use crate::ids::{ClusterName, Region};
use crate::route::{self, RoutePolicy};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use eks_auth_core::access_policies::Catalogue;
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::{AuthenticationMode, ClusterFacts, EksFeatures, FACTS_FORMAT_VERSION};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// How many per-entry or per-principal calls run at once.
pub(crate) const CONCURRENCY: usize = 8;
pub use eks_auth_core::plan::MANAGED_TAG;

/// Options of a gather.
#[derive(Debug, Clone, Default)]
pub struct GatherOptions {
    /// Name of the role to assume in a principal's account (other than the cluster's) for its
    /// IAM lookup; `None` makes such principals `Unresolvable`.
    pub member_role_name: Option<String>,
    /// Whose credentials assume that role: the functions pass their own (central) configuration,
    /// which the member roles trust; `None`: the gather's own configuration (the operator's, in
    /// the CLI).
    pub assume_from: Option<aws_config::SdkConfig>,
    /// How the cluster's Kubernetes API is reached: directly (the default, the CLI), or as the
    /// cluster's reachability and the configuration's network section say (the functions).
    pub route: RoutePolicy,
}

/// The result of a gather.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered {
    /// kube-system/aws-auth; `None` when it does not exist.
    pub configmap: Option<AwsAuthConfigMap>,
    /// The facts for the planner.
    pub facts: ClusterFacts,
}

/// Gathers the facts of cluster `cluster_name` in the configuration's region. Read-only.
///
/// # Errors
///
/// [`GatherError`] when the cluster cannot be described or is not ACTIVE, an EKS list or
/// describe call fails after retries, or aws-auth cannot be read (with what to grant when the
/// Kubernetes API refuses). A single principal that IAM cannot resolve is not an error.
pub async fn gather(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
    options: &GatherOptions,
) -> Result<Gathered, GatherError> {
    let cluster = ClusterName::parse(cluster_name)?;
    let region = region_of(config, cluster_name)?;
    let ctx = eks::Ctx {
        cluster: cluster.as_ref(),
        region: region.as_ref(),
    };
    let eks_client = eks_client(config);
    let info = eks::describe(&eks_client, &ctx).await?;
    tracing::debug!(cluster = %cluster, account = %info.account, mode = info.mode.as_str(), "described cluster");
    let (node_group_roles, fargate_profile_roles, existing_entries, capabilities) = futures::try_join!(
        eks::node_group_roles(&eks_client, &ctx),
        eks::fargate_roles(&eks_client, &ctx),
        async {
            match info.mode {
                AuthenticationMode::ConfigMap => Ok(Vec::new()),
                _ => eks::access_entries(&eks_client, &ctx).await,
            }
        },
        async {
            match info.mode {
                AuthenticationMode::ConfigMap => Ok(Vec::new()),
                _ => eks::capabilities(&eks_client, &ctx).await,
            }
        }
    )?;

    let access = choose_route(config, &cluster, &region, &info, &options.route)?;
    let configmap = read_configmap(config, &cluster, &region, &info, &access).await?;
    tracing::debug!(
        cluster = %cluster,
        entries = existing_entries.len(),
        aws_auth = configmap.is_some(),
        "read access entries and aws-auth"
    );
    let iam = match &configmap {
        Some(cm) => {
            let lookups = iam::lookups(&AwsAuth::parse_data(&cm.data));
            iam::resolve(
                config,
                options.assume_from.as_ref().unwrap_or(config),
                &info.account,
                options.member_role_name.as_deref(),
                lookups,
            )
            .await
        }
        None => BTreeMap::new(),
    };

    Ok(Gathered {
        configmap,
        facts: ClusterFacts {
            format_version: FACTS_FORMAT_VERSION,
            cluster_name: Some(cluster.to_string()),
            partition: Some(info.partition.clone()),
            account_id: Some(info.account.clone()),
            region: Some(region.to_string()),
            authentication_mode: Some(info.mode),
            node_group_roles,
            fargate_profile_roles,
            existing_entries,
            iam,
            eks_features: EksFeatures {
                capabilities,
                auto_mode: info.auto_mode.clone(),
            },
            reach: Some(access.reach),
        },
    })
}

/// The route to the cluster's Kubernetes API, or [`GatherError::Unreachable`] with what to
/// deploy. Agents are invoked with `config` (the member role's, in the cluster's account).
fn choose_route(
    config: &aws_config::SdkConfig,
    cluster: &ClusterName,
    region: &Region,
    info: &eks::ClusterInfo,
    policy: &RoutePolicy,
) -> Result<route::Access, GatherError> {
    let place = eks_auth_core::reach::ClusterPlace {
        account: &info.account,
        region: region.as_ref(),
        name: cluster.as_ref(),
    };
    route::choose(config, place, &info.access, policy).map_err(|no| {
        GatherError::Unreachable(Box::new(Unreachable {
            cluster: cluster.to_string(),
            account: info.account.clone(),
            region: region.to_string(),
            reach: no.reach,
            reason: no.reason,
        }))
    })
}

/// The cluster's status (`ACTIVE`, `UPDATING`, `CREATING`, …) per DescribeCluster.
///
/// # Errors
///
/// [`GatherError`] when the cluster cannot be described.
pub async fn cluster_status(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
) -> Result<String, GatherError> {
    let cluster = ClusterName::parse(cluster_name)?;
    let region = region_of(config, cluster_name)?;
    let ctx = eks::Ctx {
        cluster: cluster.as_ref(),
        region: region.as_ref(),
    };
    match eks::describe(&eks_client(config), &ctx).await {
        Ok(_) => Ok("ACTIVE".to_owned()),
        Err(GatherError::ClusterNotActive { status, .. }) => Ok(status),
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

async fn read_configmap(
    config: &aws_config::SdkConfig,
    cluster: &ClusterName,
    region: &Region,
    info: &eks::ClusterInfo,
    access: &route::Access,
) -> Result<Option<AwsAuthConfigMap>, GatherError> {
    let kctx = kube::KubeCtx {
        cluster,
        region,
        info,
        reach: &access.reach,
    };
    match kube::read_aws_auth(config, &kctx, &access.via).await {
        Ok(cm) => Ok(cm),
        Err(kube::ReadError::Other(e)) => Err(e),
        Err(kube::ReadError::Denied(d)) => Err(denied(config, cluster, region, info, d).await),
    }
}

async fn denied(
    config: &aws_config::SdkConfig,
    cluster: &ClusterName,
    region: &Region,
    info: &eks::ClusterInfo,
    d: kube::Denied,
) -> GatherError {
    GatherError::KubeForbidden(Box::new(KubeDenied {
        cluster: cluster.to_string(),
        account: info.account.clone(),
        region: region.to_string(),
        code: d.code,
        status_reason: d.status_reason,
        message: d.message,
        caller: match d.caller {
            Some(caller) => caller,
            None => caller_identity(config).await,
        },
    }))
}

/// Why [`write_aws_auth`] did not write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// aws-auth changed since it was read: nothing was written; read it again and re-plan.
    #[error(
        "kube-system/aws-auth on cluster `{cluster}` changed since it was read (expected resourceVersion {expected}): nothing was written; the next run reads it again ({message})"
    )]
    Changed {
        /// The cluster.
        cluster: String,
        /// The resourceVersion the write was conditional on.
        expected: String,
        /// The API server's message.
        message: String,
    },
    /// aws-auth no longer exists.
    #[error("kube-system/aws-auth on cluster `{cluster}` no longer exists: nothing was written")]
    Missing {
        /// The cluster.
        cluster: String,
    },
    /// The Kubernetes API refused the write (401/403).
    #[error(
        "cannot update kube-system/aws-auth on cluster `{cluster}`: the Kubernetes API answered {code} {status_reason}: {message}. The migrator runs as {caller}; grant it get, update and patch on the configmap aws-auth in kube-system (infra/kubernetes/migrator-rbac.yaml) or, on an API_AND_CONFIG_MAP cluster, an access entry with AmazonEKSEditPolicy scoped to the namespace kube-system"
    )]
    Denied {
        /// The cluster.
        cluster: String,
        /// 401 or 403.
        code: u16,
        /// `Unauthorized` / `Forbidden`.
        status_reason: String,
        /// The API server's message.
        message: String,
        /// Who the migrator runs as.
        caller: String,
    },
    /// Describing the cluster, signing the token or reaching the API failed.
    #[error(transparent)]
    Live(#[from] GatherError),
}

/// Sets kube-system/aws-auth's `data` to `data`, only if the ConfigMap is still at
/// `expected.resource_version` (`expected.data` is what was read there), by the route
/// `options.route` chooses (directly or through the in-VPC agent). Returns the new
/// resourceVersion. Other metadata (labels, annotations) is kept.
///
/// # Errors
///
/// [`WriteError::Changed`] when aws-auth changed since it was read (nothing written),
/// [`WriteError::Missing`], [`WriteError::Denied`] with what to grant, [`WriteError::Live`].
pub async fn write_aws_auth(
    config: &aws_config::SdkConfig,
    cluster_name: &str,
    options: &GatherOptions,
    expected: &AwsAuthConfigMap,
    data: &BTreeMap<String, String>,
) -> Result<String, WriteError> {
    let cluster = ClusterName::parse(cluster_name).map_err(GatherError::from)?;
    let region = region_of(config, cluster_name)?;
    let eks_client = eks_client(config);
    let ctx = eks::Ctx {
        cluster: cluster.as_ref(),
        region: region.as_ref(),
    };
    let info = eks::describe(&eks_client, &ctx).await?;
    let access = choose_route(config, &cluster, &region, &info, &options.route)?;
    let kctx = kube::KubeCtx {
        cluster: &cluster,
        region: &region,
        info: &info,
        reach: &access.reach,
    };
    match kube::patch_aws_auth(
        config,
        &kctx,
        &access.via,
        &expected.resource_version,
        &expected.data,
        data,
    )
    .await
    {
        Ok(rv) => Ok(rv),
        Err(kube::WriteError::Conflict(message)) => Err(WriteError::Changed {
            cluster: cluster.to_string(),
            expected: expected.resource_version.clone(),
            message,
        }),
        Err(kube::WriteError::Missing) => Err(WriteError::Missing {
            cluster: cluster.to_string(),
        }),
        Err(kube::WriteError::Denied(d)) => Err(WriteError::Denied {
            cluster: cluster.to_string(),
            code: d.code,
            status_reason: d.status_reason,
            message: d.message,
            caller: match d.caller {
                Some(caller) => caller,
                None => caller_identity(config).await,
            },
        }),
        Err(kube::WriteError::Other(e)) => Err(e.into()),
    }
}

fn region_of(config: &aws_config::SdkConfig, cluster_name: &str) -> Result<Region, GatherError> {
    config
        .region()
        .ok_or_else(|| GatherError::NoRegion {
            cluster: cluster_name.to_owned(),
        })
        .and_then(|r| Region::parse(r.as_ref()).map_err(GatherError::from))
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
    let cluster = ClusterName::parse(cluster_name)?;
    let region = region_of(config, cluster_name)?;
    let ctx = eks::Ctx {
        cluster: cluster.as_ref(),
        region: region.as_ref(),
    };
    match eks::describe(&eks_client(config), &ctx).await {
        Ok(info) => Ok(info.account),
        Err(GatherError::ClusterNotActive { account, .. }) => Ok(account),
        Err(e) => Err(e),
    }
}

/// An EKS client from the shared configuration with adaptive retry and timeouts.
pub fn eks_client(config: &aws_config::SdkConfig) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(config)
            .retry_config(retry())
            .timeout_config(timeouts())
            .interceptor(crate::notify::call_stats::CountCalls)
            .build(),
    )
}

/// A described cluster's tags and creation time (`None` when EKS gave none).
pub fn tags_and_creation(
    cluster: Option<&aws_sdk_eks::types::Cluster>,
) -> (BTreeMap<String, String>, Option<SystemTime>) {
    let tags = cluster
        .and_then(|c| c.tags())
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let created_at = cluster
        .and_then(|c| c.created_at())
        .and_then(|t| SystemTime::try_from(*t).ok());
    (tags, created_at)
}

/// What DescribeCluster says about a cluster that the fleet report shows: authentication mode,
/// Kubernetes version, status, tags, creation time and the reachability of its Kubernetes API
/// (classified with the migrator's configured egress blocks `egress_cidrs`).
pub fn sighting(
    cluster: Option<&aws_sdk_eks::types::Cluster>,
    egress_cidrs: &[String],
) -> crate::store::sightings::Sighting {
    let (tags, created_at) = tags_and_creation(cluster);
    let authentication_mode = cluster
        .and_then(|c| c.access_config())
        .and_then(|a| a.authentication_mode())
        .and_then(|m| match m.as_str() {
            "CONFIG_MAP" => Some(AuthenticationMode::ConfigMap),
            "API_AND_CONFIG_MAP" => Some(AuthenticationMode::ApiAndConfigMap),
            "API" => Some(AuthenticationMode::Api),
            _ => None,
        });
    crate::store::sightings::Sighting {
        authentication_mode,
        kubernetes_version: cluster.and_then(|c| c.version()).map(str::to_owned),
        status: cluster
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_owned()),
        tags,
        created_at,
        reachability: cluster
            .map(|c| eks_auth_core::reach::classify(&eks::endpoint_access(c), egress_cidrs)),
    }
}

/// The IAM principal the configuration's credentials act as, with its path: for an assumed-role
/// session the role (IAM GetRole), for a user the user. This is the ARN an access entry for the
/// migrator itself must name.
///
/// # Errors
///
/// [`GatherError::Caller`] when STS or IAM cannot tell.
pub async fn caller_principal(config: &aws_config::SdkConfig) -> Result<String, GatherError> {
    let fail = |reason: String| GatherError::Caller { reason };
    let sts = aws_sdk_sts::Client::from_conf(sts_config(config).build());
    let arn = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            fail(format!(
                "sts:GetCallerIdentity failed: {}",
                eks::sdk_reason(&e)
            ))
        })?
        .arn()
        .map(str::to_owned)
        .ok_or_else(|| fail("sts:GetCallerIdentity returned no ARN".to_owned()))?;
    // arn:<partition>:sts::<account>:assumed-role/<role>/<session>
    let Some((_, rest)) = arn.split_once(":assumed-role/") else {
        return Ok(arn);
    };
    let role = rest.split('/').next().unwrap_or_default();
    let iam = aws_sdk_iam::Client::from_conf(iam_config(config).build());
    let out = iam.get_role().role_name(role).send().await.map_err(|e| {
        fail(format!(
            "iam:GetRole {role} failed: {}",
            eks::sdk_reason(&e)
        ))
    })?;
    out.role()
        .map(|r| r.arn().to_owned())
        .ok_or_else(|| fail(format!("iam:GetRole {role} returned no role")))
}

/// The caller's ARN per sts:GetCallerIdentity, or why it is unknown.
async fn caller_identity(config: &aws_config::SdkConfig) -> String {
    let sts = aws_sdk_sts::Client::from_conf(sts_config(config).build());
    match sts.get_caller_identity().send().await {
        Ok(out) => out
            .arn()
            .map(str::to_owned)
            .unwrap_or_else(|| "(sts:GetCallerIdentity returned no ARN)".to_owned()),
        Err(e) => format!(
            "(unknown: sts:GetCallerIdentity failed: {})",
            eks::sdk_reason(&e)
        ),
    }
}

pub(crate) fn retry() -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

pub(crate) fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(30))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(120))
        .build()
}

pub(crate) fn iam_config(config: &aws_config::SdkConfig) -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::from(config)
        .retry_config(retry())
        .timeout_config(timeouts())
        .interceptor(crate::notify::call_stats::CountCalls)
}

pub(crate) fn sts_config(config: &aws_config::SdkConfig) -> aws_sdk_sts::config::Builder {
    aws_sdk_sts::config::Builder::from(config)
        .retry_config(retry())
        .timeout_config(timeouts())
}
