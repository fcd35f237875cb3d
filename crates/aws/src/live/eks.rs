//! The EKS side of a gather: DescribeCluster, managed node groups, Fargate profiles and the
//! existing access entries with their policies, every list read to its last page.

use super::error::GatherError;
use super::options::CONCURRENCY;
use crate::sdk_error::classify;
use aws_sdk_eks::Client;
use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::types::Cluster;
use eks_auth_core::call_failure::{CallFailure, Cause, Service};
use eks_auth_core::facts::{AuthenticationMode, AutoModeFact, CapabilityFact, ExistingEntry};
use eks_auth_core::plan::{AccessPolicy, AccessScope, EntryType, MANAGED_TAG, ScopeType};
use eks_auth_core::reach::EndpointAccess;
use futures::{StreamExt as _, TryStreamExt as _};
use std::collections::BTreeMap;

/// What DescribeCluster tells.
#[derive(Debug, Clone)]
pub(crate) struct ClusterInfo {
    pub(crate) partition: String,
    pub(crate) account: String,
    pub(crate) mode: AuthenticationMode,
    pub(crate) endpoint: String,
    pub(crate) ca_data: String,
    /// EKS Auto Mode's roles, when `computeConfig.enabled`.
    pub(crate) auto_mode: Option<AutoModeFact>,
    /// Where the Kubernetes API listens (`resourcesVpcConfig`).
    pub(crate) access: EndpointAccess,
    /// The cluster's tags (owner detection reads them).
    pub(crate) tags: BTreeMap<String, String>,
}

/// Names an EKS call for errors.
pub(crate) struct Ctx<'a> {
    pub(crate) cluster: &'a str,
    pub(crate) region: &'a str,
}

impl Ctx<'_> {
    /// EKS `operation` failed (after the SDK's retries).
    fn fail<E>(&self, operation: &'static str, err: SdkError<E, HttpResponse>) -> GatherError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let failure = classify(Service::Eks, operation, Some(self.region.to_owned()), &err);
        GatherError::Eks {
            operation,
            cluster: self.cluster.to_owned(),
            region: self.region.to_owned(),
            failure: Box::new(failure),
        }
    }

    /// DescribeCluster's answer lacks `what`.
    fn incomplete(&self, what: &'static str) -> GatherError {
        GatherError::Incomplete {
            cluster: self.cluster.to_owned(),
            region: self.region.to_owned(),
            what,
        }
    }
}

/// DescribeCluster: partition and account from the ARN, mode, endpoint and CA.
pub(crate) async fn describe(eks: &Client, ctx: &Ctx<'_>) -> Result<ClusterInfo, GatherError> {
    let out = match eks.describe_cluster().name(ctx.cluster).send().await {
        Ok(out) => out,
        Err(err) => {
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception())
            {
                let failure = classify(
                    Service::Eks,
                    "DescribeCluster",
                    Some(ctx.region.to_owned()),
                    &err,
                );
                return Err(GatherError::ClusterNotFound {
                    cluster: ctx.cluster.to_owned(),
                    region: ctx.region.to_owned(),
                    reason: format!(
                        "{}: {}",
                        failure
                            .code
                            .as_deref()
                            .unwrap_or("ResourceNotFoundException"),
                        failure.message.as_deref().unwrap_or("no such cluster")
                    ),
                    failure: Box::new(failure),
                });
            }
            return Err(ctx.fail("DescribeCluster", err));
        }
    };
    let cluster = out.cluster().ok_or_else(|| ctx.incomplete("cluster"))?;
    cluster_info(cluster, ctx)
}

/// What an ACTIVE described cluster tells; [`GatherError::ClusterNotActive`] for any other.
fn cluster_info(cluster: &Cluster, ctx: &Ctx<'_>) -> Result<ClusterInfo, GatherError> {
    let arn = cluster.arn().ok_or_else(|| ctx.incomplete("arn"))?;
    // arn:<partition>:eks:<region>:<account>:cluster/<name>
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (partition, account) = match parts.as_slice() {
        ["arn", partition, "eks", _, account, _] if !partition.is_empty() => {
            ((*partition).to_owned(), (*account).to_owned())
        }
        _ => return Err(ctx.incomplete("parseable cluster ARN")),
    };
    let status = cluster
        .status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|| "in an unknown status".to_owned());
    if status != "ACTIVE" {
        return Err(GatherError::ClusterNotActive {
            cluster: ctx.cluster.to_owned(),
            account,
            region: ctx.region.to_owned(),
            status,
        });
    }
    let mode =
        authentication_mode(cluster).ok_or_else(|| ctx.incomplete("known authenticationMode"))?;
    let endpoint = cluster
        .endpoint()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ctx.incomplete("endpoint"))?
        .to_owned();
    let ca_data = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ctx.incomplete("certificateAuthority.data"))?
        .to_owned();
    Ok(ClusterInfo {
        partition,
        account,
        mode,
        endpoint,
        ca_data,
        auto_mode: auto_mode(cluster),
        access: endpoint_access(cluster),
        tags: cluster
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    })
}

/// The cluster's authentication mode; `None` when EKS names one this version does not know.
/// A cluster without accessConfig predates access entries: it reads aws-auth only.
fn authentication_mode(cluster: &Cluster) -> Option<AuthenticationMode> {
    match cluster
        .access_config()
        .and_then(|a| a.authentication_mode())
        .map(|m| m.as_str())
    {
        None | Some("CONFIG_MAP") => Some(AuthenticationMode::ConfigMap),
        Some("API_AND_CONFIG_MAP") => Some(AuthenticationMode::ApiAndConfigMap),
        Some("API") => Some(AuthenticationMode::Api),
        Some(_) => None,
    }
}

/// EKS Auto Mode's roles, when `computeConfig.enabled`.
fn auto_mode(cluster: &Cluster) -> Option<AutoModeFact> {
    cluster
        .compute_config()
        .filter(|c| c.enabled() == Some(true))
        .map(|c| AutoModeFact {
            cluster_role_arn: cluster.role_arn().map(str::to_owned),
            node_role_arn: c.node_role_arn().map(str::to_owned),
        })
}

/// DescribeCluster's `resourcesVpcConfig` endpoint fields. A cluster described without them
/// (never the case on EKS) counts as public, the API's default.
pub(crate) fn endpoint_access(cluster: &Cluster) -> EndpointAccess {
    let Some(vpc) = cluster.resources_vpc_config() else {
        return EndpointAccess {
            public_access: true,
            ..EndpointAccess::default()
        };
    };
    EndpointAccess {
        public_access: vpc.endpoint_public_access(),
        private_access: vpc.endpoint_private_access(),
        public_access_cidrs: vpc.public_access_cidrs().to_vec(),
        vpc_id: vpc.vpc_id().map(str::to_owned),
        subnet_ids: vpc.subnet_ids().to_vec(),
        cluster_security_group_id: vpc.cluster_security_group_id().map(str::to_owned),
    }
}

/// The node roles of every managed node group (all pages), sorted and de-duplicated.
pub(crate) async fn node_group_roles(
    eks: &Client,
    ctx: &Ctx<'_>,
) -> Result<Vec<String>, GatherError> {
    let names: Vec<String> = eks
        .list_nodegroups()
        .cluster_name(ctx.cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ctx.fail("ListNodegroups", e))?;
    roles_of(names, |name| async move {
        eks.describe_nodegroup()
            .cluster_name(ctx.cluster)
            .nodegroup_name(name)
            .send()
            .await
            .map(|out| {
                out.nodegroup()
                    .and_then(|n| n.node_role())
                    .map(str::to_owned)
            })
            .map_err(|e| ctx.fail("DescribeNodegroup", e))
    })
    .await
}

/// The pod-execution roles of every Fargate profile (all pages), sorted and de-duplicated.
pub(crate) async fn fargate_roles(eks: &Client, ctx: &Ctx<'_>) -> Result<Vec<String>, GatherError> {
    let names: Vec<String> = eks
        .list_fargate_profiles()
        .cluster_name(ctx.cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ctx.fail("ListFargateProfiles", e))?;
    roles_of(names, |name| async move {
        eks.describe_fargate_profile()
            .cluster_name(ctx.cluster)
            .fargate_profile_name(name)
            .send()
            .await
            .map(|out| {
                out.fargate_profile()
                    .and_then(|p| p.pod_execution_role_arn())
                    .map(str::to_owned)
            })
            .map_err(|e| ctx.fail("DescribeFargateProfile", e))
    })
    .await
}

/// Every EKS Capability with its role (ListCapabilities, all pages, then DescribeCapability for
/// the role, which the list leaves out), sorted by name. None on a CONFIG_MAP cluster, which
/// cannot have capabilities.
pub(crate) async fn capabilities(
    eks: &Client,
    ctx: &Ctx<'_>,
) -> Result<Vec<CapabilityFact>, GatherError> {
    let names: Vec<String> = eks
        .list_capabilities()
        .cluster_name(ctx.cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ctx.fail("ListCapabilities", e))?
        .into_iter()
        .filter_map(|c| c.capability_name().map(str::to_owned))
        .collect();
    let mut found: Vec<CapabilityFact> = futures::stream::iter(names)
        .map(|name| async move {
            let out = eks
                .describe_capability()
                .cluster_name(ctx.cluster)
                .capability_name(&name)
                .send()
                .await
                .map_err(|e| ctx.fail("DescribeCapability", e))?;
            let capability = out.capability();
            Ok::<_, GatherError>(capability.and_then(|c| c.role_arn()).map(|role| {
                CapabilityFact {
                    capability_type: capability
                        .and_then(|c| c.r#type())
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    role_arn: role.to_owned(),
                    name,
                }
            }))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The newest update of the cluster that is in progress (ListUpdates, then DescribeUpdate from
/// the last listed backwards, at most 10 looked at).
pub(crate) async fn update_in_progress(
    eks: &Client,
    ctx: &Ctx<'_>,
) -> Result<Option<String>, GatherError> {
    let ids: Vec<String> = eks
        .list_updates()
        .name(ctx.cluster)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ctx.fail("ListUpdates", e))?;
    for id in ids.iter().rev().take(10) {
        let out = eks
            .describe_update()
            .name(ctx.cluster)
            .update_id(id)
            .send()
            .await
            .map_err(|e| ctx.fail("DescribeUpdate", e))?;
        if out.update().and_then(|u| u.status()).map(|s| s.as_str()) == Some("InProgress") {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}

/// Every access policy ListAccessPolicies names (all pages).
pub(crate) async fn access_policy_names(
    eks: &Client,
    ctx: &Ctx<'_>,
) -> Result<Vec<String>, GatherError> {
    Ok(eks
        .list_access_policies()
        .max_results(100)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ctx.fail("ListAccessPolicies", e))?
        .into_iter()
        .filter_map(|p| p.name().map(str::to_owned))
        .collect())
}

/// Describes every named resource (`CONCURRENCY` at a time) for the role it names; the roles,
/// sorted and de-duplicated.
async fn roles_of<F, Fut>(names: Vec<String>, describe: F) -> Result<Vec<String>, GatherError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, GatherError>>,
{
    let roles: Vec<Option<String>> = futures::stream::iter(names)
        .map(describe)
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(sorted(roles.into_iter().flatten().collect()))
}

/// Every access entry (all pages of ListAccessEntries, 100 at a time) with its type, username,
/// groups, migrator tag and associated policies (all pages), sorted by principal ARN.
pub(crate) async fn access_entries(
    eks: &Client,
    ctx: &Ctx<'_>,
) -> Result<Vec<ExistingEntry>, GatherError> {
    let principals: Vec<String> = eks
        .list_access_entries()
        .cluster_name(ctx.cluster)
        .max_results(100)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| ctx.fail("ListAccessEntries", e))?;
    let mut entries: Vec<ExistingEntry> = futures::stream::iter(principals)
        .map(|principal| entry(eks, ctx, principal))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    entries.sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
    Ok(entries)
}

async fn entry(
    eks: &Client,
    ctx: &Ctx<'_>,
    principal: String,
) -> Result<ExistingEntry, GatherError> {
    let described = eks
        .describe_access_entry()
        .cluster_name(ctx.cluster)
        .principal_arn(&principal)
        .send()
        .await
        .map_err(|e| ctx.fail("DescribeAccessEntry", e))?;
    let entry = described.access_entry();
    let type_name = entry.and_then(|e| e.r#type()).unwrap_or("STANDARD");
    let entry_type = entry_type(type_name).ok_or_else(|| {
        let detail = format!(
            "entry {principal} has an access-entry type this version does not know: {type_name}; upgrade eks-auth-migrator"
        );
        GatherError::Eks {
            operation: "DescribeAccessEntry",
            cluster: ctx.cluster.to_owned(),
            region: ctx.region.to_owned(),
            failure: Box::new(CallFailure {
                service: Some(Service::Eks),
                operation: Some("DescribeAccessEntry".to_owned()),
                region: Some(ctx.region.to_owned()),
                chain: detail.clone(),
                detail,
                ..CallFailure::new(Cause::Other)
            }),
        }
    })?;
    let managed_by_migrator = entry
        .and_then(|e| e.tags())
        .and_then(|t| t.get(MANAGED_TAG.0))
        .is_some_and(|v| v == MANAGED_TAG.1);
    let mut policies: Vec<AccessPolicy> = Vec::new();
    let mut pages = eks
        .list_associated_access_policies()
        .cluster_name(ctx.cluster)
        .principal_arn(&principal)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ctx.fail("ListAssociatedAccessPolicies", e))?;
        for p in page.associated_access_policies() {
            let Some(policy_arn) = p.policy_arn() else {
                continue;
            };
            let scope = p.access_scope();
            let access_scope = match scope.and_then(|s| s.r#type()).map(|t| t.as_str()) {
                Some("namespace") => AccessScope {
                    scope_type: ScopeType::Namespace,
                    namespaces: scope.map(|s| s.namespaces().to_vec()).unwrap_or_default(),
                },
                _ => AccessScope::cluster(),
            };
            policies.push(AccessPolicy {
                policy_arn: policy_arn.to_owned(),
                access_scope,
            });
        }
    }
    policies.sort_by(|a, b| a.policy_arn.cmp(&b.policy_arn));
    Ok(ExistingEntry {
        principal_arn: entry
            .and_then(|e| e.principal_arn())
            .map_or(principal.clone(), str::to_owned),
        entry_type,
        username: entry.and_then(|e| e.username()).map(str::to_owned),
        kubernetes_groups: entry
            .map(|e| e.kubernetes_groups().to_vec())
            .unwrap_or_default(),
        access_policies: policies,
        managed_by_migrator,
    })
}

fn entry_type(name: &str) -> Option<EntryType> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}
