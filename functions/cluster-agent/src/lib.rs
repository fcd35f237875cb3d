//! `cluster-agent`: the in-VPC agent (docs/cluster-agent.md). Deployed per member account and
//! VPC by infra/cluster-agent.yaml, invoked synchronously by the central cluster-worker through
//! the member role, it does the Kubernetes-API part of a migration for clusters the worker
//! cannot reach: read kube-system/aws-auth, write it conditionally on the resourceVersion read,
//! list RBAC pages — the three operations of `eks_auth_core::agent_protocol`, nothing else.
//!
//! It signs its bearer token with its own role's credentials (the Lambda environment's), never
//! with anything a request carries; it calls no AWS service; it keeps no state between
//! invocations. Every answer is a protocol response, failures included, so the worker always
//! learns what happened; nothing is written unless the write itself succeeded.

use aws_credential_types::Credentials;
use eks_auth_core::agent_protocol::{
    AGENT_PROTOCOL_VERSION, AgentRequest, AgentResponse, ConfigMapData, Failure, FailureReason,
    Operation, Outcome, ProtocolError, decode_request,
};
use eks_auth_kube::{ClusterEndpoint, ClusterName, KubeCallError, Region};
use serde_json::Value;
use std::time::{Instant, SystemTime};

/// Why the environment is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}: {reason} (Lambda and infra/cluster-agent.yaml set it)")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// What the Lambda environment and infra/cluster-agent.yaml give the agent.
#[derive(Debug, Clone)]
pub struct AgentEnv {
    /// `AWS_REGION`: the only region it serves.
    pub region: Region,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: its role's credentials,
    /// which sign its bearer tokens.
    pub credentials: Credentials,
    /// `AGENT_ROLE_ARN`: its role, named in refusals so that a person knows what to map.
    pub principal: Option<String>,
    /// `KUBE_API_PROXY`: an HTTP CONNECT proxy every Kubernetes API connection goes through
    /// (for VPCs that reach cluster endpoints only through one); unset: directly.
    pub proxy: Option<String>,
}

impl AgentEnv {
    /// From the process environment.
    ///
    /// # Errors
    ///
    /// [`EnvError`] naming the missing or invalid variable.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any lookup (tests, and the in-process agents of the local demo).
    ///
    /// # Errors
    ///
    /// [`EnvError`] naming the missing or invalid variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let value = |name| get(name).filter(|v: &String| !v.trim().is_empty());
        let required = |name: &'static str| {
            value(name).ok_or_else(|| EnvError {
                name,
                reason: "is not set".to_owned(),
            })
        };
        let region = Region::parse(required("AWS_REGION")?).map_err(|e| EnvError {
            name: "AWS_REGION",
            reason: e.to_string(),
        })?;
        let credentials = Credentials::new(
            required("AWS_ACCESS_KEY_ID")?,
            required("AWS_SECRET_ACCESS_KEY")?,
            value("AWS_SESSION_TOKEN"),
            None,
            "lambda-environment",
        );
        Ok(Self {
            region,
            credentials,
            principal: value("AGENT_ROLE_ARN"),
            proxy: value("KUBE_API_PROXY"),
        })
    }
}

/// Answers one invocation. Never fails: every failure is a [`Outcome::Failed`] the worker
/// reads.
pub async fn handle(env: &AgentEnv, payload: &Value) -> Value {
    let started = Instant::now();
    let (cluster, operation, outcome) = match decode_request(payload) {
        Ok(request) => {
            let (cluster, operation) = (
                request.cluster.name.clone(),
                request.operation.name().to_owned(),
            );
            (cluster, operation, perform(env, request).await)
        }
        Err(e) => (String::new(), "(undecodable)".to_owned(), refused(env, &e)),
    };
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match &outcome {
        Outcome::Failed(f) => tracing::warn!(
            %cluster,
            %operation,
            reason = ?f.reason,
            code = f.code,
            message = %f.message,
            millis,
            "refused or failed"
        ),
        _ => tracing::info!(%cluster, %operation, millis, "done"),
    }
    serde_json::to_value(AgentResponse::new(outcome)).unwrap_or_else(|e| {
        serde_json::json!({
            "version": AGENT_PROTOCOL_VERSION,
            "outcome": {"kind": "failed", "reason": "api_error", "message": format!("cannot encode the answer: {e}")},
        })
    })
}

/// A request that is not one: which version the agent speaks, or what is wrong.
fn refused(env: &AgentEnv, e: &ProtocolError) -> Outcome {
    let reason = match e {
        ProtocolError::UnsupportedVersion { .. } => FailureReason::UnsupportedVersion,
        ProtocolError::Invalid { .. } => FailureReason::InvalidRequest,
    };
    Outcome::Failed(Failure {
        supported_versions: vec![AGENT_PROTOCOL_VERSION],
        agent_principal: env.principal.clone(),
        ..Failure::new(reason, e.to_string())
    })
}

async fn perform(env: &AgentEnv, request: AgentRequest) -> Outcome {
    let failed = |reason, message: String| {
        Outcome::Failed(Failure {
            agent_principal: env.principal.clone(),
            ..Failure::new(reason, message)
        })
    };
    if request.cluster.region != env.region.as_ref() {
        return failed(
            FailureReason::InvalidRequest,
            format!(
                "this agent serves region {}, not {}: invoke the agent of the cluster's region",
                env.region, request.cluster.region
            ),
        );
    }
    let name = match ClusterName::parse(&request.cluster.name) {
        Ok(name) => name,
        Err(e) => return failed(FailureReason::InvalidRequest, e.to_string()),
    };
    let token = match eks_auth_kube::token(&env.credentials, &env.region, &name, SystemTime::now())
    {
        Ok(token) => token,
        Err(e) => {
            return failed(
                FailureReason::Unreachable,
                format!("cannot sign a bearer token: {e}"),
            );
        }
    };
    let endpoint = ClusterEndpoint {
        url: &request.cluster.endpoint,
        ca_data: &request.cluster.certificate_authority,
    };
    let client =
        match eks_auth_kube::connect(endpoint, token.as_str().to_owned(), env.proxy.as_deref()) {
            Ok(client) => client,
            Err(e) => return failure(env, e),
        };
    let result = match request.operation {
        Operation::ReadAwsAuth {} => {
            eks_auth_kube::aws_auth::read_aws_auth(client)
                .await
                .map(|cm| Outcome::AwsAuth {
                    config_map: cm.map(|c| ConfigMapData {
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

/// A failed call as the protocol reports it.
fn failure(env: &AgentEnv, e: KubeCallError) -> Outcome {
    let base = |reason, message: String| Failure {
        agent_principal: env.principal.clone(),
        ..Failure::new(reason, message)
    };
    Outcome::Failed(match e {
        KubeCallError::Denied {
            code,
            status_reason,
            message,
        } => Failure {
            code: Some(code),
            status_reason: Some(status_reason),
            ..base(FailureReason::Denied, message)
        },
        KubeCallError::Conflict { message } => Failure {
            code: Some(409),
            status_reason: Some("Conflict".to_owned()),
            ..base(FailureReason::Conflict, message)
        },
        KubeCallError::NotFound => Failure {
            code: Some(404),
            status_reason: Some("NotFound".to_owned()),
            ..base(
                FailureReason::NotFound,
                "kube-system/aws-auth does not exist".to_owned(),
            )
        },
        KubeCallError::Api {
            code,
            status_reason,
            message,
        } => Failure {
            code: Some(code),
            status_reason: Some(status_reason),
            ..base(FailureReason::ApiError, message)
        },
        KubeCallError::Unreachable(reason) => base(FailureReason::Unreachable, reason),
        KubeCallError::Config(reason) => base(FailureReason::InvalidRequest, reason),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn env() -> AgentEnv {
        let vars: HashMap<&str, &str> = HashMap::from([
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIAAGENT"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            (
                "AGENT_ROLE_ARN",
                "arn:aws:iam::111122223333:role/eks-auth-migrator-agent-vpc-1",
            ),
        ]);
        AgentEnv::from_lookup(|k| vars.get(k).map(|v| (*v).to_owned())).expect("env")
    }

    #[test]
    fn the_environment_names_what_is_missing() {
        let e = AgentEnv::from_lookup(|k| (k == "AWS_REGION").then(|| "eu-west-1".to_owned()))
            .expect_err("no credentials");
        assert_eq!(e.name, "AWS_ACCESS_KEY_ID");
        let e = AgentEnv::from_lookup(|_| None).expect_err("nothing");
        assert_eq!(e.name, "AWS_REGION");
    }

    async fn answer(payload: Value) -> Failure {
        let value = handle(&env(), &payload).await;
        assert_eq!(value["version"], 1, "{value}");
        match serde_json::from_value::<AgentResponse>(value)
            .expect("a response")
            .outcome
        {
            Outcome::Failed(f) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn another_version_is_answered_with_the_versions_spoken() {
        let f =
            answer(json!({"version": 7, "cluster": {}, "operation": {"kind": "anything"}})).await;
        assert_eq!(f.reason, FailureReason::UnsupportedVersion);
        assert_eq!(f.supported_versions, vec![1]);
        assert!(f.message.contains("version 7"), "{}", f.message);
    }

    #[tokio::test]
    async fn requests_outside_the_protocol_or_the_region_are_refused_without_a_call() {
        let cluster = json!({"name": "prod", "region": "eu-west-1", "endpoint": "https://127.0.0.1:1", "certificate_authority": "eA=="});
        let f = answer(
            json!({"version": 1, "cluster": cluster, "operation": {"kind": "delete_aws_auth"}}),
        )
        .await;
        assert_eq!(f.reason, FailureReason::InvalidRequest);
        let mut other_region = cluster.clone();
        other_region["region"] = json!("us-east-1");
        let f = answer(
            json!({"version": 1, "cluster": other_region, "operation": {"kind": "read_aws_auth"}}),
        )
        .await;
        assert_eq!(f.reason, FailureReason::InvalidRequest);
        assert!(
            f.message.contains("serves region eu-west-1"),
            "{}",
            f.message
        );
        // A CA that is no certificate: refused before anything is sent.
        let f = answer(
            json!({"version": 1, "cluster": cluster, "operation": {"kind": "read_aws_auth"}}),
        )
        .await;
        assert_eq!(f.reason, FailureReason::InvalidRequest);
        assert_eq!(
            f.agent_principal.as_deref(),
            Some("arn:aws:iam::111122223333:role/eks-auth-migrator-agent-vpc-1")
        );
    }
}
