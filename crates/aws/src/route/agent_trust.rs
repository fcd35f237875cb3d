//! Whether the agent a route names may be trusted (docs/networking.md, "Pinned agents"): before
//! the first request to it, lambda:GetFunction (through the member role) says which code and
//! role the function has, and `eks_auth_core::agent_pin` decides against what the
//! configuration pinned. A function that is missing, or not what was pinned, is not invoked.

use crate::sdk_error::failure;
use eks_auth_core::agent_pin::{self, Expected, FoundAgent};

/// What the worker expects of the agent of one VPC.
#[derive(Debug, Clone)]
pub(crate) struct Trust {
    /// The cluster's VPC (named in the finding).
    pub(crate) vpc: String,
    /// The pin, or how the route came by the agent.
    pub(crate) expected: Expected,
}

/// Why an agent is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Distrust {
    /// The function does not exist (or the member role may not see it).
    Missing(String),
    /// GetFunction failed otherwise: the reason, for a person.
    Unverifiable(String),
    /// The function is not what was pinned: the finding that says what to pin.
    Untrusted(String),
}

/// Checks `function` with GetFunction through `client` (the member role's) against `trust`.
///
/// # Errors
///
/// [`Distrust`] saying why the agent is not used.
pub(crate) async fn verify(
    client: &aws_sdk_lambda::Client,
    function: &str,
    trust: &Trust,
) -> Result<(), Distrust> {
    let out = client
        .get_function()
        .function_name(function)
        .send()
        .await
        .map_err(|e| {
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception())
            {
                Distrust::Missing(failure(client, "GetFunction", &e).to_string())
            } else {
                Distrust::Unverifiable(format!(
                    "lambda:GetFunction on the agent {function} failed: {} (the member role needs lambda:GetFunction on the agents, infra/member-role.yaml of this release)",
                    failure(client, "GetFunction", &e)
                ))
            }
        })?;
    let configuration = out.configuration().ok_or_else(|| {
        Distrust::Unverifiable(format!(
            "lambda:GetFunction on the agent {function} returned no configuration"
        ))
    })?;
    let found = FoundAgent {
        function_arn: configuration.function_arn().unwrap_or(function).to_owned(),
        code_sha256: configuration.code_sha256().unwrap_or_default().to_owned(),
        role: configuration.role().unwrap_or_default().to_owned(),
    };
    agent_pin::check(&trust.vpc, &trust.expected, &found).map_err(Distrust::Untrusted)
}
