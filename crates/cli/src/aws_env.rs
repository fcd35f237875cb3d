//! The standard AWS configuration (environment, profiles, IMDS, endpoint URLs) and the async
//! runtime the live commands run on, and the preflight check every live command makes before
//! its first call: a region is set and credentials resolve, each failure one line (exit 2).
//! Offline commands never touch any of it.

use anyhow::{Context, Result};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use eks_auth_aws::sdk_error::credentials::credentials_failure;
use eks_auth_aws::sdk_error::endpoint::configured;
use eks_auth_aws::sdk_error::no_region;
use eks_auth_core::call_failure::{Endpoint, Service};
use std::sync::OnceLock;
use std::time::Duration;

/// How long an AWS call may take, retries included (`--call-timeout`).
static CALL_TIMEOUT: OnceLock<Duration> = OnceLock::new();

/// The configuration the command loaded first: where its endpoint overrides come from, for a
/// failure that could not reach one.
static LOADED: OnceLock<SdkConfig> = OnceLock::new();

/// The longest wait for a connection, within the call's time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sets how long an AWS call may take, retries included (once, from the flags).
pub fn set_call_timeout(timeout: Duration) {
    let _ = CALL_TIMEOUT.set(timeout);
}

/// The timeouts of every call: the whole call within `--call-timeout`, a connection within
/// [`CONNECT_TIMEOUT`] (or the call's time when shorter).
fn timeouts() -> TimeoutConfig {
    let call = CALL_TIMEOUT
        .get()
        .copied()
        .unwrap_or(Duration::from_secs(120));
    TimeoutConfig::builder()
        .operation_timeout(call)
        .connect_timeout(CONNECT_TIMEOUT.min(call))
        .build()
}

/// `config` with the calls' timeouts (for a configuration loaded elsewhere), remembered as
/// [`load`] remembers its own.
pub fn with_call_timeout(config: &SdkConfig) -> SdkConfig {
    let config = config.to_builder().timeout_config(timeouts()).build();
    let _ = LOADED.set(config.clone());
    config
}

/// A single-threaded runtime for one live command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Loads the standard AWS configuration, with `region` overriding the configured one and the
/// calls' timeouts.
pub async fn load(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let config = loader.load().await;
    let _ = LOADED.set(config.clone());
    config
}

/// The endpoint override the loaded configuration holds for `service` (a variable or the AWS
/// profile's `endpoint_url`), when a configuration was loaded.
pub fn configured_endpoint(service: Service) -> Option<Endpoint> {
    LOADED.get().map(|config| configured(config, service))
}

/// [`load`], then [`preflight`].
pub async fn load_checked(region: Option<&str>) -> Result<SdkConfig> {
    let config = load(region).await;
    preflight(&config).await?;
    Ok(config)
}

/// Checks what every live command needs before its first call: a region, and credentials
/// that resolve (the credentials are cached for the calls that follow).
pub async fn preflight(config: &SdkConfig) -> Result<()> {
    if config.region().is_none() {
        return Err(no_region().into());
    }
    credentials(config).await.map(|_| ())
}

/// The credentials the configuration resolves to (never logged or printed).
pub async fn credentials(config: &SdkConfig) -> Result<aws_credential_types::Credentials> {
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = config.credentials_provider() else {
        let none = CredentialsError::not_loaded("no credentials provider is configured");
        return Err(credentials_failure(&none).into());
    };
    provider
        .provide_credentials()
        .await
        .map_err(|e| credentials_failure(&e).into())
}
