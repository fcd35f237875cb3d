//! The worker's signature on each agent request (docs/cluster-agent.md, "Signed requests"):
//! kms:Sign with the central stack's asymmetric key (ECC_NIST_P256, ECDSA_SHA_256), whose key
//! policy lets the worker role alone sign, over the canonical bytes of
//! `eks_auth_core::agent_auth`. The agent verifies with the key's public half; nothing else
//! can produce a request it carries out.

use crate::sdk_error::failure;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use eks_auth_core::agent_auth::{self, REQUEST_LIFETIME_SECONDS, SIGNING_ALGORITHM};
use eks_auth_core::agent_protocol::{AgentRequest, RequestAuth};
use std::time::{SystemTime, UNIX_EPOCH};

/// Signs agent requests with one KMS key, with the central credentials (not a member role's).
#[derive(Debug, Clone)]
pub struct AgentSigner {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl AgentSigner {
    /// A signer with `config`'s credentials (the worker's own role) and the key `key_id` (the
    /// central stack's `AgentSigningKeyArn`, the worker's `AGENT_SIGNING_KEY_ARN`).
    pub fn new(config: &aws_config::SdkConfig, key_id: &str) -> Self {
        Self {
            client: aws_sdk_kms::Client::new(config),
            key_id: key_id.to_owned(),
        }
    }

    /// Signs `request` to be carried out once within [`REQUEST_LIFETIME_SECONDS`]: a fresh
    /// random request id, its expiry, and KMS's signature over the canonical bytes.
    ///
    /// # Errors
    ///
    /// Why it could not be signed (no cluster ARN, KMS refused or failed), for a person.
    pub(crate) async fn sign(&self, request: &mut AgentRequest) -> Result<(), String> {
        let request_id = random_id()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let expires_at = now + REQUEST_LIFETIME_SECONDS;
        let message = agent_auth::signing_bytes(request, &request_id, expires_at)
            .map_err(|e| format!("cannot sign the agent request: {e}"))?;
        let out = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "kms:Sign with the agent signing key {} failed: {} (the worker role signs agent requests with the central stack's AgentSigningKeyArn)",
                    self.key_id,
                    failure(&self.client, "Sign", &e)
                )
            })?;
        let signature = out
            .signature()
            .ok_or_else(|| format!("kms:Sign with {} returned no signature", self.key_id))?;
        request.auth = Some(RequestAuth {
            key_id: out.key_id().unwrap_or(&self.key_id).to_owned(),
            algorithm: SIGNING_ALGORITHM.to_owned(),
            request_id,
            expires_at,
            signature: agent_auth::hex(signature.as_ref()),
        });
        Ok(())
    }
}

/// 16 random bytes from the system's generator, as 32 hex digits.
fn random_id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| "the system's random generator failed: no request id".to_owned())?;
    Ok(agent_auth::hex(&bytes))
}
