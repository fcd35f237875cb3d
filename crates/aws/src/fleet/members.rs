//! Credentials in member accounts: STS AssumeRole into the configured member role, cached per
//! account until ten minutes before they expire.

use crate::sdk_config::sts_config;
use crate::sdk_error::sdk_reason;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use eks_auth_core::arn::partition_of;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// Why a member account cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot assume {role_arn}: {reason}. Deploy infra/member-role.yaml to account {account} (service-managed StackSet) with the central function roles as trusted principals"
)]
pub struct AssumeError {
    /// The account.
    pub account: String,
    /// The role it tried.
    pub role_arn: String,
    /// STS's code and message.
    pub reason: String,
}

/// Member-account configurations from one base configuration.
#[derive(Debug)]
pub struct MemberAccounts {
    base: aws_config::SdkConfig,
    role_name: String,
    partition: String,
    /// Per account, its own lock: first-time AssumeRoles of different accounts run at once, and
    /// concurrent callers for one account wait for a single AssumeRole.
    cache: std::sync::Mutex<HashMap<String, Arc<Mutex<Option<Credentials>>>>>,
}

/// Credentials are renewed when less than this is left.
const RENEW_BEFORE: Duration = Duration::from_secs(600);

impl MemberAccounts {
    /// Assumes `role_name` in each account, with the base configuration's credentials.
    pub fn new(base: aws_config::SdkConfig, role_name: impl Into<String>) -> Self {
        let partition = base
            .region()
            .map(|r| partition_of(r.as_ref()))
            .unwrap_or("aws")
            .to_owned();
        Self {
            base,
            role_name: role_name.into(),
            partition,
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Options for the engine's gather: foreign principals are looked up through this member
    /// role, assumed with the central credentials the member roles trust.
    pub fn gather_options(&self) -> crate::live::GatherOptions {
        crate::live::GatherOptions {
            member_role_name: Some(self.role_name.clone()),
            assume_from: Some(self.base.clone()),
            route: crate::route::RoutePolicy::default(),
            agent_signer: None,
        }
    }

    /// The member role's name.
    pub fn role_name(&self) -> &str {
        &self.role_name
    }

    /// The configuration for `account` in `region` (credentials of the member role there).
    ///
    /// # Errors
    ///
    /// [`AssumeError`] when STS refuses.
    pub async fn config(
        &self,
        account: &str,
        region: &str,
    ) -> Result<aws_config::SdkConfig, AssumeError> {
        let credentials = self.credentials(account).await?;
        Ok(self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .region(aws_config::Region::new(region.to_owned()))
            .build())
    }

    async fn credentials(&self, account: &str) -> Result<Credentials, AssumeError> {
        let slot = {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(cache.entry(account.to_owned()).or_default())
        };
        let mut slot = slot.lock().await;
        if let Some(c) = slot.as_ref()
            && c.expiry()
                .is_none_or(|e| e > SystemTime::now() + RENEW_BEFORE)
        {
            return Ok(c.clone());
        }
        let role_arn = format!(
            "arn:{}:iam::{account}:role/{}",
            self.partition, self.role_name
        );
        let fail = |reason: String| AssumeError {
            account: account.to_owned(),
            role_arn: role_arn.clone(),
            reason,
        };
        let sts = aws_sdk_sts::Client::from_conf(sts_config(&self.base).build());
        let out = sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("eks-auth-migrator")
            .send()
            .await
            .map_err(|e| fail(sdk_reason(&e)))?;
        let c = out
            .credentials()
            .ok_or_else(|| fail("AssumeRole returned no credentials".to_owned()))?;
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "eks-auth-migrator-member-role",
        );
        *slot = Some(credentials.clone());
        Ok(credentials)
    }
}
