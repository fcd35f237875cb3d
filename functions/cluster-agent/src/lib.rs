//! `cluster-agent`: the in-VPC agent (docs/cluster-agent.md). Deployed per member account and
//! VPC by infra/cluster-agent.yaml, invoked synchronously by the central cluster-worker through
//! the member role, it does the Kubernetes-API part of a migration for clusters the worker
//! cannot reach: read kube-system/aws-auth, write it conditionally on the resourceVersion read,
//! list RBAC pages — the three operations of `eks_auth_core::agent_protocol`, nothing else.
//!
//! It carries out only requests the central worker signed with its KMS key for that cluster,
//! operation and payload, unexpired and once ([`authenticate`]), and connects only to EKS
//! endpoints of its region. It signs its bearer token with its own role's credentials (the
//! Lambda environment's), never with anything a request carries; it calls no AWS service; what
//! it keeps between invocations is the ids of the requests it carried out. Every answer is a protocol response, failures included, so the worker always
//! learns what happened; nothing is written unless the write itself succeeded.

mod authenticate;
mod env;
mod operation;

pub use env::{AgentEnv, EnvError};

use authenticate::{authenticate, now};
use eks_auth_core::agent_protocol::{
    AGENT_PROTOCOL_VERSION, AgentResponse, Failure, FailureReason, Outcome, ProtocolError,
    decode_request,
};
use operation::perform;
use serde_json::Value;
use std::time::Instant;

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
            let outcome = match authenticate(env, &request, now()) {
                Ok(()) => perform(env, request).await,
                Err(refused) => refused,
            };
            (cluster, operation, outcome)
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
    async fn requests_outside_the_protocol_or_unsigned_are_refused_without_a_call() {
        let cluster = json!({"name": "prod", "region": "eu-west-1", "endpoint": "https://127.0.0.1:1", "certificate_authority": "eA=="});
        let f = answer(
            json!({"version": 1, "cluster": cluster, "operation": {"kind": "delete_aws_auth"}}),
        )
        .await;
        assert_eq!(f.reason, FailureReason::InvalidRequest);
        // Unsigned: refused before anything else, whatever it names.
        for region in ["eu-west-1", "us-east-1"] {
            let mut c = cluster.clone();
            c["region"] = json!(region);
            let f =
                answer(json!({"version": 1, "cluster": c, "operation": {"kind": "read_aws_auth"}}))
                    .await;
            assert_eq!(f.reason, FailureReason::Unauthenticated);
            assert!(f.message.contains("not signed"), "{}", f.message);
            assert_eq!(
                f.agent_principal.as_deref(),
                Some("arn:aws:iam::111122223333:role/eks-auth-migrator-agent-vpc-1")
            );
        }
    }
}
