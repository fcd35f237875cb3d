//! The Kubernetes side of a gather and of aws-auth writes, by the route chosen for the cluster
//! (`crate::route`): directly, with a bearer token signed from the configuration's credentials
//! (eks-auth-kube), or through the in-VPC agent, which signs its own. Either way the caller
//! gets the same results and the same errors, worded with the cluster, the route and what to do.

use super::eks::ClusterInfo;
use super::error::{GatherError, KubeStatus};
use crate::ids::{ClusterName, Region};
use crate::route::Via;
use crate::route::agent::{AgentClient, CallError};
use aws_credential_types::provider::ProvideCredentials as _;
use eks_auth_core::agent_protocol::{AgentCluster, Failure, FailureReason, Operation, Outcome};
use eks_auth_core::reach::{self, ClusterPlace, ClusterReach, DirectVia, ReachClass, Route};
use eks_auth_kube::{AwsAuthConfigMap, ClusterEndpoint, KubeCallError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The cluster a call is for, as errors name it.
pub(crate) struct KubeCtx<'a> {
    pub(crate) cluster: &'a ClusterName,
    pub(crate) region: &'a Region,
    pub(crate) info: &'a ClusterInfo,
    pub(crate) reach: &'a ClusterReach,
}

impl KubeCtx<'_> {
    fn place(&self) -> ClusterPlace<'_> {
        ClusterPlace {
            account: &self.info.account,
            region: self.region.as_ref(),
            name: self.cluster.as_ref(),
        }
    }

    fn endpoint(&self) -> ClusterEndpoint<'_> {
        ClusterEndpoint {
            url: &self.info.endpoint,
            ca_data: &self.info.ca_data,
        }
    }

    fn agent_cluster(&self) -> AgentCluster {
        AgentCluster {
            name: self.cluster.to_string(),
            region: self.region.to_string(),
            endpoint: self.info.endpoint.clone(),
            certificate_authority: self.info.ca_data.clone(),
        }
    }

    /// A call that reached nothing: the endpoint, and what the reachability says to do.
    fn unreachable(&self, reason: String) -> GatherError {
        let r = &self.reach.reachability;
        let hint = match (&self.reach.route, r.class) {
            (Route::Direct { via: DirectVia::HubVpc }, _) => format!(
                "The migrator reaches {} through its hub VPC: check the route to it, DNS resolution of the private endpoint and HTTPS 443 into the cluster security group (docs/networking.md)",
                r.vpc_id.as_deref().unwrap_or("the cluster's VPC")
            ),
            (_, ReachClass::Public) => "If the endpoint is not reachable from where the migrator runs (a firewall, a private endpoint), run the migrator inside its VPC or deploy the in-VPC agent (docs/networking.md)".to_owned(),
            (_, class) => format!(
                "The cluster has a {}: {}",
                class.describe(),
                reach::what_to_deploy(r, self.place())
            ),
        };
        GatherError::KubeUnreachable {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            endpoint: self.info.endpoint.clone(),
            reason: format!("{reason}. {hint}"),
        }
    }

    fn api(&self, code: u16, status_reason: String, message: String) -> GatherError {
        GatherError::KubeApi(Box::new(KubeStatus {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            code,
            status_reason,
            message,
        }))
    }

    fn config(&self, reason: String) -> GatherError {
        GatherError::KubeConfig {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            reason,
        }
    }

    fn agent_failed(&self, agent: &AgentClient, reason: String) -> GatherError {
        GatherError::Agent(Box::new(super::AgentFailed {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            function: agent.function().to_owned(),
            reason,
        }))
    }

    /// The agent does not exist: the cluster is unreachable until it is deployed.
    fn agent_missing(&self, agent: &AgentClient, reason: &str) -> GatherError {
        let what = format!(
            "no agent function {} exists in account {}, region {} ({reason}); {}",
            agent.function(),
            self.info.account,
            self.region,
            reach::what_to_deploy(&self.reach.reachability, self.place())
        );
        let no_route = crate::route::NoRoute::new(self.reach.reachability.clone(), what);
        GatherError::Unreachable(Box::new(super::Unreachable {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            reach: no_route.reach,
            reason: no_route.reason,
        }))
    }

    /// A failure an agent reported that is not the API's refusal.
    fn agent_failure(&self, agent: &AgentClient, f: &Failure) -> GatherError {
        match (f.reason, f.code) {
            (FailureReason::ApiError, Some(code)) => self.api(
                code,
                f.status_reason.clone().unwrap_or_default(),
                f.message.clone(),
            ),
            (FailureReason::Unreachable, _) => self.unreachable(format!(
                "the agent {} could not reach it either: {}",
                agent.function(),
                f.message
            )),
            _ => self.agent_failed(agent, format!("it reported {:?}: {}", f.reason, f.message)),
        }
    }

    /// Who a refused agent call ran as.
    fn agent_caller(agent: &AgentClient, f: &Failure) -> String {
        format!(
            "{} (the in-VPC agent {})",
            f.agent_principal.as_deref().unwrap_or("the agent's role"),
            agent.function()
        )
    }

    fn unexpected(&self, agent: &AgentClient, operation: &str, outcome: &Outcome) -> GatherError {
        self.agent_failed(
            agent,
            format!(
                "it answered `{}` to {operation}",
                crate::route::agent::outcome_name(outcome)
            ),
        )
    }

    fn call_failed(&self, agent: &AgentClient, e: CallError) -> GatherError {
        match e {
            CallError::Missing(reason) => self.agent_missing(agent, &reason),
            CallError::Failed(reason) => self.agent_failed(agent, reason),
        }
    }
}

/// A refusal (401/403) by the Kubernetes API, before the caller's identity is known.
pub(crate) struct Denied {
    pub(crate) code: u16,
    pub(crate) status_reason: String,
    pub(crate) message: String,
    /// Who the call ran as, when the route knows it (the agent's role); `None`: this process's
    /// credentials (sts:GetCallerIdentity tells).
    pub(crate) caller: Option<String>,
}

/// Why reading aws-auth failed.
pub(crate) enum ReadError {
    /// 401 or 403.
    Denied(Denied),
    /// Anything else, already worded.
    Other(GatherError),
}

/// Reads kube-system/aws-auth; `Ok(None)` when it does not exist.
pub(crate) async fn read_aws_auth(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
    via: &Via,
) -> Result<Option<AwsAuthConfigMap>, ReadError> {
    match via {
        Via::Direct => {
            let client = direct(config, ctx).await.map_err(ReadError::Other)?;
            eks_auth_kube::aws_auth::read_aws_auth(client)
                .await
                .map_err(|e| match sort(ctx, e) {
                    Sorted::Denied(d) => ReadError::Denied(d),
                    Sorted::Other(e) => ReadError::Other(e),
                })
        }
        Via::Agent(agent) => {
            let outcome = agent
                .call(ctx.agent_cluster(), Operation::ReadAwsAuth {})
                .await
                .map_err(|e| ReadError::Other(ctx.call_failed(agent, e)))?;
            match outcome {
                Outcome::AwsAuth { config_map } => Ok(config_map.map(|c| AwsAuthConfigMap {
                    data: c.data,
                    resource_version: c.resource_version,
                })),
                Outcome::Failed(f) if f.reason == FailureReason::Denied => {
                    Err(ReadError::Denied(agent_denied(agent, f)))
                }
                Outcome::Failed(f) if f.reason == FailureReason::NotFound => Ok(None),
                Outcome::Failed(f) => Err(ReadError::Other(ctx.agent_failure(agent, &f))),
                other => Err(ReadError::Other(ctx.unexpected(
                    agent,
                    "read_aws_auth",
                    &other,
                ))),
            }
        }
    }
}

/// Why writing aws-auth failed.
pub(crate) enum WriteError {
    /// 409: aws-auth changed since it was read.
    Conflict(String),
    /// 404: aws-auth does not exist.
    Missing,
    /// 401 or 403.
    Denied(Denied),
    /// Anything else, already worded.
    Other(GatherError),
}

/// Sets aws-auth's `data` to `data`, only if it is still at `expected_resource_version` (whose
/// data was `current`). Returns the new resourceVersion.
pub(crate) async fn patch_aws_auth(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
    via: &Via,
    expected_resource_version: &str,
    current: &BTreeMap<String, String>,
    data: &BTreeMap<String, String>,
) -> Result<String, WriteError> {
    match via {
        Via::Direct => {
            let client = direct(config, ctx).await.map_err(WriteError::Other)?;
            eks_auth_kube::aws_auth::patch_aws_auth(
                client,
                expected_resource_version,
                current,
                data,
            )
            .await
            .map_err(|e| match e {
                KubeCallError::Conflict { message } => WriteError::Conflict(message),
                KubeCallError::NotFound => WriteError::Missing,
                other => match sort(ctx, other) {
                    Sorted::Denied(d) => WriteError::Denied(d),
                    Sorted::Other(e) => WriteError::Other(e),
                },
            })
        }
        Via::Agent(agent) => {
            let operation = Operation::WriteAwsAuth {
                resource_version: expected_resource_version.to_owned(),
                current: current.clone(),
                data: data.clone(),
            };
            let outcome = agent
                .call(ctx.agent_cluster(), operation)
                .await
                .map_err(|e| WriteError::Other(ctx.call_failed(agent, e)))?;
            match outcome {
                Outcome::Written { resource_version } => Ok(resource_version),
                Outcome::Failed(f) => Err(match f.reason {
                    FailureReason::Conflict => WriteError::Conflict(f.message),
                    FailureReason::NotFound => WriteError::Missing,
                    FailureReason::Denied => WriteError::Denied(agent_denied(agent, f)),
                    _ => WriteError::Other(ctx.agent_failure(agent, &f)),
                }),
                other => Err(WriteError::Other(ctx.unexpected(
                    agent,
                    "write_aws_auth",
                    &other,
                ))),
            }
        }
    }
}

/// Why listing RBAC failed.
pub(crate) enum ListError {
    /// 401 or 403.
    Denied(Denied),
    /// Another answer of the API: (code, reason, message).
    Api(u16, String, String),
    /// Anything else, already worded.
    Other(GatherError),
}

/// Items per RBAC page.
const PAGE: u32 = 500;

/// Every object of one RBAC kind (`resource`), every page.
pub(crate) async fn list_rbac(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
    via: &Via,
    resource: &str,
) -> Result<Vec<Value>, ListError> {
    match via {
        Via::Direct => {
            let client = direct(config, ctx).await.map_err(ListError::Other)?;
            list_direct(&client, ctx, resource).await
        }
        Via::Agent(agent) => list_through(agent, ctx, resource).await,
    }
}

async fn list_direct(
    client: &kube::Client,
    ctx: &KubeCtx<'_>,
    resource: &str,
) -> Result<Vec<Value>, ListError> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = eks_auth_kube::rbac::list_rbac_page(client, resource, PAGE, token.as_deref())
            .await
            .map_err(|e| match e {
                KubeCallError::Api {
                    code,
                    status_reason,
                    message,
                } => ListError::Api(code, status_reason, message),
                other => match sort(ctx, other) {
                    Sorted::Denied(d) => ListError::Denied(d),
                    Sorted::Other(e) => ListError::Other(e),
                },
            })?;
        items.extend(page.items);
        match page.continue_token {
            Some(t) => token = Some(t),
            None => return Ok(items),
        }
    }
}

async fn list_through(
    agent: &AgentClient,
    ctx: &KubeCtx<'_>,
    resource: &str,
) -> Result<Vec<Value>, ListError> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let operation = Operation::ListRbac {
            resource: resource.to_owned(),
            limit: PAGE,
            continue_token: token.take(),
        };
        let outcome = agent
            .call(ctx.agent_cluster(), operation)
            .await
            .map_err(|e| ListError::Other(ctx.call_failed(agent, e)))?;
        let next = match outcome {
            Outcome::RbacPage {
                items: page,
                continue_token,
            } => {
                items.extend(page);
                continue_token
            }
            Outcome::Failed(f) if f.reason == FailureReason::Denied => {
                return Err(ListError::Denied(agent_denied(agent, f)));
            }
            Outcome::Failed(f) if f.reason == FailureReason::ApiError => {
                return Err(ListError::Api(
                    f.code.unwrap_or_default(),
                    f.status_reason.unwrap_or_default(),
                    f.message,
                ));
            }
            Outcome::Failed(f) => return Err(ListError::Other(ctx.agent_failure(agent, &f))),
            other => return Err(ListError::Other(ctx.unexpected(agent, "list_rbac", &other))),
        };
        match next {
            Some(t) => token = Some(t),
            None => return Ok(items),
        }
    }
}

fn agent_denied(agent: &AgentClient, f: Failure) -> Denied {
    Denied {
        code: f.code.unwrap_or(403),
        caller: Some(KubeCtx::agent_caller(agent, &f)),
        status_reason: f.status_reason.unwrap_or_else(|| "Forbidden".to_owned()),
        message: f.message,
    }
}

/// A direct call's error, sorted.
enum Sorted {
    Denied(Denied),
    Other(GatherError),
}

fn sort(ctx: &KubeCtx<'_>, e: KubeCallError) -> Sorted {
    match e {
        KubeCallError::Denied {
            code,
            status_reason,
            message,
        } => Sorted::Denied(Denied {
            code,
            status_reason,
            message,
            caller: None,
        }),
        KubeCallError::Conflict { message } => {
            Sorted::Other(ctx.api(409, "Conflict".to_owned(), message))
        }
        KubeCallError::NotFound => Sorted::Other(ctx.api(
            404,
            "NotFound".to_owned(),
            "the server could not find the requested resource".to_owned(),
        )),
        KubeCallError::Api {
            code,
            status_reason,
            message,
        } => Sorted::Other(ctx.api(code, status_reason, message)),
        KubeCallError::Unreachable(reason) => Sorted::Other(ctx.unreachable(reason)),
        KubeCallError::Config(reason) => Sorted::Other(ctx.config(reason)),
    }
}

/// A client for the direct route.
async fn direct(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
) -> Result<kube::Client, GatherError> {
    let token = bearer(config, ctx.cluster, ctx.region).await?;
    eks_auth_kube::connect(ctx.endpoint(), token, None).map_err(|e| match e {
        KubeCallError::Config(reason) => ctx.config(reason),
        other => ctx.config(other.to_string()),
    })
}

/// A fresh EKS bearer token for `cluster` from the configuration's credentials.
pub(crate) async fn bearer(
    config: &aws_config::SdkConfig,
    cluster: &ClusterName,
    region: &Region,
) -> Result<String, GatherError> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| GatherError::Credentials {
            cluster: cluster.to_string(),
            reason: "the configuration has no credentials provider".to_owned(),
        })?;
    let credentials =
        provider
            .provide_credentials()
            .await
            .map_err(|e| GatherError::Credentials {
                cluster: cluster.to_string(),
                reason: aws_sdk_eks::error::DisplayErrorContext(&e).to_string(),
            })?;
    let token = crate::token::token(&credentials, region, cluster, SystemTime::now()).map_err(
        |source| GatherError::Token {
            cluster: cluster.to_string(),
            source,
        },
    )?;
    Ok(token.as_str().to_owned())
}
