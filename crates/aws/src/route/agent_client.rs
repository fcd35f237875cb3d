//! The central side of the agent protocol (`eks_auth_core::agent_protocol`): one synchronous Lambda
//! invocation (RequestResponse) of the agent function per operation, with the member role's
//! credentials, bounded by the configured timeout and never retried here (a failed call fails
//! the run, which SQS retries; a write is conditional on resourceVersion, so a retry can never
//! land twice). Every request is signed first ([`AgentSigner`]): an agent carries out nothing
//! else. Every call is logged (cluster, function, operation, outcome, duration); writes
//! are also audited by the engine before and after.

use super::agent_trust::{self, Distrust, Trust};
use super::signer::AgentSigner;
use crate::sdk_error::failure;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use eks_auth_core::agent_protocol::{
    AGENT_PROTOCOL_VERSION, AgentCluster, AgentRequest, Operation, Outcome, ProtocolError,
    decode_response,
};
use std::time::{Duration, Instant};

/// An agent function and the client that invokes it.
pub(crate) struct AgentClient {
    client: aws_sdk_lambda::Client,
    function: String,
    timeout: Duration,
    signer: Option<AgentSigner>,
    trust: Trust,
    /// GetFunction's verdict, once per client.
    verified: tokio::sync::OnceCell<Result<(), Distrust>>,
}

/// Why an agent call gave no outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// The function does not exist (or the member role may not see it).
    Missing(String),
    /// No usable answer: the reason, worded for a person.
    Failed(String),
    /// The function is not the agent pinned for the VPC: the finding that says what to pin.
    Untrusted(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Missing(reason)
            | CallError::Failed(reason)
            | CallError::Untrusted(reason) => f.write_str(reason),
        }
    }
}

impl AgentClient {
    /// A client for `function` with `config`'s credentials and region, giving up after
    /// `timeout`, signing with `signer` (without one every call fails before it is sent), once
    /// GetFunction shows the function is what `trust` expects.
    pub(crate) fn new(
        config: &aws_config::SdkConfig,
        function: &str,
        timeout: Duration,
        signer: Option<AgentSigner>,
        trust: Trust,
    ) -> Self {
        let client = aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(config)
                .retry_config(RetryConfig::standard().with_max_attempts(1))
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(10))
                        .operation_attempt_timeout(timeout)
                        .operation_timeout(timeout)
                        .build(),
                )
                .build(),
        );
        Self {
            client,
            function: function.to_owned(),
            timeout,
            signer,
            trust,
            verified: tokio::sync::OnceCell::new(),
        }
    }

    /// The function's name or ARN.
    pub(crate) fn function(&self) -> &str {
        &self.function
    }

    /// Sends `operation` on `cluster` and returns the agent's outcome.
    pub(crate) async fn call(
        &self,
        cluster: AgentCluster,
        operation: Operation,
    ) -> Result<Outcome, CallError> {
        let name = operation.name();
        let cluster_name = cluster.name.clone();
        let mut request = AgentRequest {
            version: AGENT_PROTOCOL_VERSION,
            cluster,
            operation,
            auth: None,
        };
        let started = Instant::now();
        let result = match self.verify().await {
            Ok(()) => match self.sign(&mut request).await {
                Ok(()) => self.invoke(&request).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(outcome) => tracing::info!(
                cluster = %cluster_name,
                function = %self.function,
                operation = name,
                outcome = outcome_name(outcome),
                millis,
                "agent call"
            ),
            Err(e) => tracing::warn!(
                cluster = %cluster_name,
                function = %self.function,
                operation = name,
                error = %e,
                millis,
                "agent call failed"
            ),
        }
        result
    }

    /// Whether the function is the agent expected (GetFunction, once per client).
    async fn verify(&self) -> Result<(), CallError> {
        let verdict = self
            .verified
            .get_or_init(|| agent_trust::verify(&self.client, &self.function, &self.trust))
            .await;
        verdict.clone().map_err(|distrust| match distrust {
            Distrust::Missing(reason) => CallError::Missing(reason),
            Distrust::Unverifiable(reason) => CallError::Failed(reason),
            Distrust::Untrusted(finding) => CallError::Untrusted(finding),
        })
    }

    async fn sign(&self, request: &mut AgentRequest) -> Result<(), CallError> {
        let signer = self.signer.as_ref().ok_or_else(|| {
            CallError::Failed(
                "this worker has no agent signing key (AGENT_SIGNING_KEY_ARN, template.yaml's AgentSigningKey), and agents carry out only signed requests".to_owned(),
            )
        })?;
        signer.sign(request).await.map_err(CallError::Failed)
    }

    async fn invoke(&self, request: &AgentRequest) -> Result<Outcome, CallError> {
        let payload = serde_json::to_vec(request)
            .map_err(|e| CallError::Failed(format!("cannot encode the request: {e}")))?;
        let out = self
            .client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception())
                {
                    CallError::Missing(failure(&self.client, "Invoke", &e).to_string())
                } else if matches!(e, aws_sdk_lambda::error::SdkError::TimeoutError(_)) {
                    CallError::Failed(format!(
                        "no answer within {} s (network.agent_timeout_seconds)",
                        self.timeout.as_secs()
                    ))
                } else {
                    CallError::Failed(failure(&self.client, "Invoke", &e).to_string())
                }
            })?;
        let body = out.payload().map(|b| b.as_ref()).unwrap_or_default();
        if let Some(kind) = out.function_error() {
            return Err(CallError::Failed(format!(
                "the agent function failed ({kind}): {}",
                excerpt(body)
            )));
        }
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
            CallError::Failed(format!(
                "the agent answered something that is not JSON: {}",
                excerpt(body)
            ))
        })?;
        match decode_response(&value) {
            Ok(response) => Ok(response.outcome),
            Err(ProtocolError::UnsupportedVersion { found }) => Err(CallError::Failed(format!(
                "the agent answered in protocol version {found}; this worker speaks version {AGENT_PROTOCOL_VERSION}: deploy infra/cluster-agent.yaml from the same release as the central stack"
            ))),
            Err(e @ ProtocolError::Invalid { .. }) => Err(CallError::Failed(format!(
                "the agent's answer is unusable: {e}"
            ))),
        }
    }
}

/// The outcome's kind, for logs.
pub(crate) fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::AwsAuth { .. } => "aws_auth",
        Outcome::Written { .. } => "written",
        Outcome::RbacPage { .. } => "rbac_page",
        Outcome::Failed(_) => "failed",
    }
}

/// At most 200 characters of a body, for an error message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(an empty body)");
    }
    out
}
