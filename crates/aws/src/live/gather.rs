//! [`gather`]: everything the planner needs about one cluster, read-only — DescribeCluster, every
//! managed node group's and Fargate profile's role, every access entry with its policies (none
//! in CONFIG_MAP mode), EKS Capabilities, kube-system/aws-auth with its resourceVersion, and the
//! real IAM ARN of every principal aws-auth could still grant.

use super::error::GatherError;
use super::kube::read_aws_auth;
use super::kube_ctx::KubeCtx;
use super::options::GatherOptions;
use super::target::Target;
use super::{eks, iam};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::{
    AuthenticationMode, CapabilityFact, ClusterFacts, EksFeatures, ExistingEntry,
    FACTS_FORMAT_VERSION,
};
use eks_auth_core::owner::acceptance::OwnerTag;
use eks_auth_core::owner::detect::{aws_auth_owners, cluster_owners};
use eks_auth_core::owner::metadata::ObjectMetadata;
use eks_auth_core::owner::ownership::{AwsAuthOwnership, MetadataSeen, Owners};
use eks_auth_kube::AwsAuthConfigMap;
use std::collections::BTreeMap;

/// The result of a gather.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered {
    /// kube-system/aws-auth; `None` when it does not exist.
    pub configmap: Option<AwsAuthConfigMap>,
    /// The facts for the planner.
    pub facts: ClusterFacts,
}

/// What the EKS API lists about a cluster besides DescribeCluster.
struct Listed {
    node_group_roles: Vec<String>,
    fargate_profile_roles: Vec<String>,
    existing_entries: Vec<ExistingEntry>,
    capabilities: Vec<CapabilityFact>,
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
    let target = Target::describe(config, cluster_name).await?;
    let (cluster, region, info) = (&target.cluster, &target.region, &target.info);
    tracing::debug!(cluster = %cluster, account = %info.account, mode = info.mode.as_str(), "described cluster");
    let listed = list(&target).await?;
    let access = target.route(config, &options.route, options.agent_signer.as_ref())?;
    let configmap =
        read_aws_auth(config, &KubeCtx::new(&target, &access.reach), &access.via).await?;
    tracing::debug!(
        cluster = %cluster,
        entries = listed.existing_entries.len(),
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
        facts: ClusterFacts {
            format_version: FACTS_FORMAT_VERSION,
            cluster_name: Some(cluster.to_string()),
            partition: Some(info.partition.clone()),
            account_id: Some(info.account.clone()),
            region: Some(region.to_string()),
            authentication_mode: Some(info.mode),
            node_group_roles: listed.node_group_roles,
            fargate_profile_roles: listed.fargate_profile_roles,
            existing_entries: listed.existing_entries,
            iam,
            eks_features: EksFeatures {
                capabilities: listed.capabilities,
                auto_mode: info.auto_mode.clone(),
            },
            reach: Some(access.reach),
            owners: Some(owners(configmap.as_ref(), &info.tags, &options.owner_tags)),
        },
        configmap,
    })
}

/// Who owns aws-auth (its live metadata: managedFields, annotations, labels) and the cluster
/// (its tags and the configuration's ownership tags); docs/owners.md.
fn owners(
    configmap: Option<&AwsAuthConfigMap>,
    tags: &BTreeMap<String, String>,
    owner_tags: &[OwnerTag],
) -> Owners {
    let aws_auth = match configmap {
        None => AwsAuthOwnership {
            metadata: MetadataSeen::NoConfigMap,
            owners: Vec::new(),
        },
        Some(cm) => {
            // An agent that predates the metadata field sends none: the owner is then unknown.
            let metadata = serde_json::from_value::<ObjectMetadata>(cm.metadata.clone()).ok();
            let seen = match metadata {
                Some(_) => MetadataSeen::Live,
                None => MetadataSeen::None,
            };
            aws_auth_owners(metadata.as_ref(), seen)
        }
    };
    Owners {
        aws_auth,
        cluster: Some(cluster_owners(tags, owner_tags)),
    }
}

/// Node-group and Fargate roles, access entries and capabilities, read at once (the last two
/// only outside CONFIG_MAP mode, where EKS has none to list).
async fn list(target: &Target) -> Result<Listed, GatherError> {
    let (eks_client, ctx, mode) = (&target.eks, &target.ctx(), target.info.mode);
    let (node_group_roles, fargate_profile_roles, existing_entries, capabilities) = futures::try_join!(
        eks::node_group_roles(eks_client, ctx),
        eks::fargate_roles(eks_client, ctx),
        async {
            match mode {
                AuthenticationMode::ConfigMap => Ok(Vec::new()),
                _ => eks::access_entries(eks_client, ctx).await,
            }
        },
        async {
            match mode {
                AuthenticationMode::ConfigMap => Ok(Vec::new()),
                _ => eks::capabilities(eks_client, ctx).await,
            }
        }
    )?;
    Ok(Listed {
        node_group_roles,
        fargate_profile_roles,
        existing_entries,
        capabilities,
    })
}
