//! The central stack's agent signing key (template.yaml's `AgentSigningKey`), created in moto's
//! KMS for tests and demos that run in-VPC agents: the worker signs with it, each agent stack
//! verifies with its public key.

use anyhow::Context as _;
use base64::Engine as _;

/// The key as the central stack's outputs give it.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// Its ARN: the worker's `AGENT_SIGNING_KEY_ARN`.
    pub arn: String,
    /// Its public key (DER, base64): each agent stack's `SigningPublicKey`.
    pub public_key: String,
}

/// Creates an ECC_NIST_P256 SIGN_VERIFY key through `config`'s KMS endpoint and reads its public
/// key, as the central stack and its operator do.
///
/// # Errors
///
/// CreateKey or GetPublicKey failing, or an answer without the key's ARN or public key.
pub async fn create(config: &aws_config::SdkConfig) -> anyhow::Result<SigningKey> {
    let kms = aws_sdk_kms::Client::new(config);
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .context("KMS CreateKey")?;
    let arn = key
        .key_metadata()
        .and_then(|m| m.arn())
        .context("CreateKey returned no key ARN")?
        .to_owned();
    let public = kms
        .get_public_key()
        .key_id(&arn)
        .send()
        .await
        .context("KMS GetPublicKey")?;
    let der = public
        .public_key()
        .context("GetPublicKey returned no key")?;
    Ok(SigningKey {
        arn,
        public_key: base64::engine::general_purpose::STANDARD.encode(der.as_ref()),
    })
}
