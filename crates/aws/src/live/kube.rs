//! The Kubernetes side of a gather and of aws-auth writes, by the route chosen for the cluster
//! (`crate::route`): directly, with a bearer token signed from the configuration's credentials
//! (eks-auth-kube), or through the in-VPC agent, which signs its own. Either way the caller
//! gets the same results and the same errors, worded with the cluster, the route and what to do
//! ([`KubeCtx`]).

use super::caller::caller_identity;
use super::error::{GatherError, KubeDenied, RbacError, Refused, WriteError};
use super::kube_ctx::{KubeCtx, Refusal};
use crate::route::Via;
use crate::route::agent_client::AgentClient;
use crate::sdk_error::credentials::credentials_failure;
use aws_credential_types::provider::ProvideCredentials as _;
use aws_credential_types::provider::error::CredentialsError;
use eks_auth_core::agent_protocol::{FailureReason, Operation, Outcome};
use eks_auth_kube::ids::{ClusterName, Region};
use eks_auth_kube::{AwsAuthConfigMap, KubeCallError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Reads kube-system/aws-auth; `Ok(None)` when it does not exist.
pub(crate) async fn read_aws_auth(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
    via: &Via,
) -> Result<Option<AwsAuthConfigMap>, GatherError> {
    let refused = Refused::ReadAwsAuth;
    let agent = match via {
        Via::Direct => {
            let client = direct(config, ctx).await?;
            return match eks_auth_kube::aws_auth::read_aws_auth(client).await {
                Ok(cm) => Ok(cm),
                Err(e) => Err(match sort(ctx, e) {
                    Sorted::Denied(r) => {
                        GatherError::KubeForbidden(direct_denied(config, ctx, refused, r).await)
                    }
                    Sorted::Other(e) => e,
                }),
            };
        }
        Via::Agent(agent) => agent,
    };
    let outcome = agent
        .call(ctx.agent_cluster(), Operation::ReadAwsAuth {})
        .await
        .map_err(|e| ctx.call_failed(agent, e))?;
    match outcome {
        Outcome::AwsAuth { config_map } => Ok(config_map.map(|c| AwsAuthConfigMap {
            metadata: serde_json::to_value(&c.metadata).unwrap_or_default(),
            data: c.data,
            resource_version: c.resource_version,
        })),
        Outcome::Failed(f) if f.reason == FailureReason::Denied => Err(GatherError::KubeForbidden(
            ctx.agent_denied(refused, agent, f),
        )),
        Outcome::Failed(f) if f.reason == FailureReason::NotFound => Ok(None),
        Outcome::Failed(f) => Err(ctx.agent_failure(agent, &f)),
        other => Err(ctx.unexpected(agent, "read_aws_auth", &other)),
    }
}

/// What a conditional write of aws-auth is conditional on: the resourceVersion it was read at
/// and the data read there.
pub(crate) struct Expected<'a> {
    pub(crate) resource_version: &'a str,
    pub(crate) data: &'a BTreeMap<String, String>,
}

/// Sets aws-auth's `data` to `data`, only if it is still at `expected.resource_version`.
/// Returns the new resourceVersion.
pub(crate) async fn patch_aws_auth(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
    via: &Via,
    expected: Expected<'_>,
    data: &BTreeMap<String, String>,
) -> Result<String, WriteError> {
    let changed = |message| WriteError::Changed {
        cluster: ctx.cluster.to_string(),
        expected: expected.resource_version.to_owned(),
        message,
    };
    let missing = || WriteError::Missing {
        cluster: ctx.cluster.to_string(),
    };
    let refused = Refused::WriteAwsAuth;
    let agent = match via {
        Via::Direct => {
            let client = direct(config, ctx).await?;
            let written = eks_auth_kube::aws_auth::patch_aws_auth(
                client,
                expected.resource_version,
                expected.data,
                data,
            )
            .await;
            return match written {
                Ok(rv) => Ok(rv),
                Err(KubeCallError::Conflict { message }) => Err(changed(message)),
                Err(KubeCallError::NotFound) => Err(missing()),
                Err(other) => Err(match sort(ctx, other) {
                    Sorted::Denied(r) => {
                        WriteError::Denied(direct_denied(config, ctx, refused, r).await)
                    }
                    Sorted::Other(e) => WriteError::Live(e),
                }),
            };
        }
        Via::Agent(agent) => agent,
    };
    let operation = Operation::WriteAwsAuth {
        resource_version: expected.resource_version.to_owned(),
        current: expected.data.clone(),
        data: data.clone(),
    };
    let outcome = agent
        .call(ctx.agent_cluster(), operation)
        .await
        .map_err(|e| ctx.call_failed(agent, e))?;
    match outcome {
        Outcome::Written { resource_version } => Ok(resource_version),
        Outcome::Failed(f) => Err(match f.reason {
            FailureReason::Conflict => changed(f.message),
            FailureReason::NotFound => missing(),
            FailureReason::Denied => WriteError::Denied(ctx.agent_denied(refused, agent, f)),
            _ => WriteError::Live(ctx.agent_failure(agent, &f)),
        }),
        other => Err(ctx.unexpected(agent, "write_aws_auth", &other).into()),
    }
}

/// Items per RBAC page.
const PAGE: u32 = 500;

/// Every object of one RBAC kind (`resource`), every page.
pub(crate) async fn list_rbac(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
    via: &Via,
    resource: &'static str,
) -> Result<Vec<Value>, RbacError> {
    match via {
        Via::Direct => {
            let client = direct(config, ctx).await?;
            list_direct(config, &client, ctx, resource).await
        }
        Via::Agent(agent) => list_through(agent, ctx, resource).await,
    }
}

/// The API's answer to a list that is neither a page nor a refusal.
fn list_failed(
    ctx: &KubeCtx<'_>,
    resource: &'static str,
    code: u16,
    status_reason: String,
    message: String,
) -> RbacError {
    RbacError::Api {
        cluster: ctx.cluster.to_string(),
        resource,
        code,
        status_reason,
        message,
    }
}

async fn list_direct(
    config: &aws_config::SdkConfig,
    client: &kube::Client,
    ctx: &KubeCtx<'_>,
    resource: &'static str,
) -> Result<Vec<Value>, RbacError> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let listed =
            eks_auth_kube::rbac::list_rbac_page(client, resource, PAGE, token.as_deref()).await;
        let page = match listed {
            Ok(page) => page,
            Err(KubeCallError::Api {
                code,
                status_reason,
                message,
            }) => return Err(list_failed(ctx, resource, code, status_reason, message)),
            Err(other) => {
                return Err(match sort(ctx, other) {
                    Sorted::Denied(r) => {
                        let refused = Refused::ListRbac { resource };
                        RbacError::Denied(direct_denied(config, ctx, refused, r).await)
                    }
                    Sorted::Other(e) => RbacError::Live(e),
                });
            }
        };
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
    resource: &'static str,
) -> Result<Vec<Value>, RbacError> {
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
            .map_err(|e| ctx.call_failed(agent, e))?;
        let next = match outcome {
            Outcome::RbacPage {
                items: page,
                continue_token,
            } => {
                items.extend(page);
                continue_token
            }
            Outcome::Failed(f) if f.reason == FailureReason::Denied => {
                let refused = Refused::ListRbac { resource };
                return Err(RbacError::Denied(ctx.agent_denied(refused, agent, f)));
            }
            Outcome::Failed(f) if f.reason == FailureReason::ApiError => {
                let code = f.code.unwrap_or_default();
                let status_reason = f.status_reason.unwrap_or_default();
                return Err(list_failed(ctx, resource, code, status_reason, f.message));
            }
            Outcome::Failed(f) => return Err(ctx.agent_failure(agent, &f).into()),
            other => return Err(ctx.unexpected(agent, "list_rbac", &other).into()),
        };
        match next {
            Some(t) => token = Some(t),
            None => return Ok(items),
        }
    }
}

/// A direct call's error, sorted.
enum Sorted {
    Denied(Refusal),
    Other(GatherError),
}

fn sort(ctx: &KubeCtx<'_>, e: KubeCallError) -> Sorted {
    match e {
        KubeCallError::Denied {
            code,
            status_reason,
            message,
        } => Sorted::Denied(Refusal {
            code,
            status_reason,
            message,
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

/// The API's refusal of a direct call, which ran with this process's credentials:
/// sts:GetCallerIdentity tells whose.
async fn direct_denied(
    config: &aws_config::SdkConfig,
    ctx: &KubeCtx<'_>,
    refused: Refused,
    refusal: Refusal,
) -> Box<KubeDenied> {
    ctx.denied(refused, refusal, caller_identity(config).await)
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
async fn bearer(
    config: &aws_config::SdkConfig,
    cluster: &ClusterName,
    region: &Region,
) -> Result<String, GatherError> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| GatherError::Credentials {
            cluster: cluster.to_string(),
            failure: Box::new(credentials_failure(&CredentialsError::not_loaded(
                "the configuration has no credentials provider",
            ))),
        })?;
    let credentials =
        provider
            .provide_credentials()
            .await
            .map_err(|e| GatherError::Credentials {
                cluster: cluster.to_string(),
                failure: Box::new(credentials_failure(&e)),
            })?;
    let token = eks_auth_kube::token::token(&credentials, region, cluster, SystemTime::now())
        .map_err(|source| GatherError::Token {
            cluster: cluster.to_string(),
            source,
        })?;
    Ok(token.as_str().to_owned())
}
