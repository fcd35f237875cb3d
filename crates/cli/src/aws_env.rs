//! The standard AWS configuration (environment, profiles, IMDS, endpoint URLs) and the async
//! runtime the live commands run on. Offline commands never touch either.

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// A single-threaded runtime for one live command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Loads the standard AWS configuration, with `region` overriding the configured one.
pub async fn load(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    loader.load().await
}

/// The credentials the configuration resolves to (never logged or printed).
pub async fn credentials(config: &SdkConfig) -> Result<aws_credential_types::Credentials> {
    use aws_credential_types::provider::ProvideCredentials;
    let provider = config.credentials_provider().context(
        "no AWS credentials are configured (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role is available)",
    )?;
    provider
        .provide_credentials()
        .await
        .context("cannot load AWS credentials")
}
