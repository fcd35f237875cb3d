//! The fleet side, for the Lambda functions: member-account credentials, the job queue, the
//! organisation scan and the per-job worker, plus the configuration document's loader.

pub mod environment;
pub mod members;
pub mod queue;
pub mod scan;
pub mod worker;

use crate::live::sdk_reason;
use eks_auth_core::config::Config;
use eks_auth_core::state::Mode;

/// Why the configuration document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigLoadError {
    /// SSM refused or the parameter does not exist.
    #[error("cannot read the configuration parameter {name}: {reason}")]
    Read {
        /// The parameter.
        name: String,
        /// SSM's answer.
        reason: String,
    },
    /// The document is invalid.
    #[error("the configuration parameter {name} is invalid (docs/configuration.md): {source}")]
    Invalid {
        /// The parameter.
        name: String,
        /// What is wrong.
        #[source]
        source: eks_auth_core::config::ConfigError,
    },
}

/// Reads and validates the configuration document from SSM parameter `name`; `default_mode`
/// (the stack's `DEFAULT_MODE`) applies when the document has none.
///
/// # Errors
///
/// [`ConfigLoadError`].
pub async fn load_config(
    config: &aws_config::SdkConfig,
    name: &str,
    default_mode: Mode,
) -> Result<Config, ConfigLoadError> {
    let ssm = aws_sdk_ssm::Client::new(config);
    let out = ssm
        .get_parameter()
        .name(name)
        .send()
        .await
        .map_err(|e| ConfigLoadError::Read {
            name: name.to_owned(),
            reason: sdk_reason(&e),
        })?;
    let text = out
        .parameter()
        .and_then(|p| p.value())
        .ok_or_else(|| ConfigLoadError::Read {
            name: name.to_owned(),
            reason: "the parameter has no value".to_owned(),
        })?;
    Config::parse_with_default_mode(text, default_mode).map_err(|source| ConfigLoadError::Invalid {
        name: name.to_owned(),
        source,
    })
}
