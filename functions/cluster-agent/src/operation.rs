//! One decoded request carried out against its cluster's Kubernetes API — read aws-auth,
//! write it conditionally on the resourceVersion read, list an RBAC page — with the agent's own
//! bearer token, and every failure as the protocol reports it.

use crate::env::AgentEnv;
use eks_auth_core::agent_protocol::{
    AgentCluster, AgentRequest, ConfigMapData, Failure, FailureReason, Operation, Outcome,
};
use eks_auth_kube::{ClusterEndpoint, ClusterName, KubeCallError};
use std::time::SystemTime;

/// Carries out a decoded request against its cluster's Kubernetes API: the protocol's answer,
/// failures included.
pub(crate) async fn perform(env: &AgentEnv, request: AgentRequest) -> Outcome {
    let token = match bearer_token(env, &request.cluster) {
        Ok(token) => token,
        Err(refused) => return refused,
    };
    let endpoint = ClusterEndpoint {
        url: &request.cluster.endpoint,
        ca_data: &request.cluster.certificate_authority,
    };
    let client = match eks_auth_kube::connect(endpoint, token, env.proxy.as_deref()) {
        Ok(client) => client,
        Err(e) => return failure(env, e),
    };
    let result = match request.operation {
        Operation::ReadAwsAuth {} => {
            eks_auth_kube::aws_auth::read_aws_auth(client)
                .await
                .map(|cm| Outcome::AwsAuth {
                    config_map: cm.map(|c| ConfigMapData {
                        metadata: serde_json::from_value(c.metadata).ok(),
                        data: c.data,
                        resource_version: c.resource_version,
                    }),
                })
        }
        Operation::WriteAwsAuth {
            resource_version,
            current,
            data,
        } => eks_auth_kube::aws_auth::patch_aws_auth(client, &resource_version, &current, &data)
            .await
            .map(|resource_version| Outcome::Written { resource_version }),
        Operation::ListRbac {
            resource,
            limit,
            continue_token,
        } => eks_auth_kube::rbac::list_rbac_page(
            &client,
            &resource,
            limit,
            continue_token.as_deref(),
        )
        .await
        .map(|page| Outcome::RbacPage {
            items: page.items,
            continue_token: page.continue_token,
        }),
    };
    result.unwrap_or_else(|e| failure(env, e))
}

/// The bearer token for the request's cluster, signed with the agent's own credentials, once
/// the cluster is one this agent serves (its region, a valid name); or the refusal.
fn bearer_token(env: &AgentEnv, cluster: &AgentCluster) -> Result<String, Outcome> {
    let failed = |reason, message: String| {
        Outcome::Failed(Failure {
            agent_principal: env.principal.clone(),
            ..Failure::new(reason, message)
        })
    };
    if cluster.region != env.region.as_ref() {
        return Err(failed(
            FailureReason::InvalidRequest,
            format!(
                "this agent serves region {}, not {}: invoke the agent of the cluster's region",
                env.region, cluster.region
            ),
        ));
    }
    let name = ClusterName::parse(&cluster.name)
        .map_err(|e| failed(FailureReason::InvalidRequest, e.to_string()))?;
    eks_auth_kube::token(&env.credentials, &env.region, &name, SystemTime::now())
        .map(|token| token.as_str().to_owned())
        .map_err(|e| {
            failed(
                FailureReason::Unreachable,
                format!("cannot sign a bearer token: {e}"),
            )
        })
}

/// A failed call as the protocol reports it.
fn failure(env: &AgentEnv, e: KubeCallError) -> Outcome {
    let base = |reason, message: String| Failure {
        agent_principal: env.principal.clone(),
        ..Failure::new(reason, message)
    };
    // A failure the Kubernetes API answered, with its HTTP status and status reason.
    let answered = |reason, code: u16, status_reason: &str, message: String| Failure {
        code: Some(code),
        status_reason: Some(status_reason.to_owned()),
        ..base(reason, message)
    };
    Outcome::Failed(match e {
        KubeCallError::Denied {
            code,
            status_reason,
            message,
        } => answered(FailureReason::Denied, code, &status_reason, message),
        KubeCallError::Conflict { message } => {
            answered(FailureReason::Conflict, 409, "Conflict", message)
        }
        KubeCallError::NotFound => answered(
            FailureReason::NotFound,
            404,
            "NotFound",
            "kube-system/aws-auth does not exist".to_owned(),
        ),
        KubeCallError::Api {
            code,
            status_reason,
            message,
        } => answered(FailureReason::ApiError, code, &status_reason, message),
        KubeCallError::Unreachable(reason) => base(FailureReason::Unreachable, reason),
        KubeCallError::Config(reason) => base(FailureReason::InvalidRequest, reason),
    })
}
