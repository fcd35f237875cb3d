//! Credentials in member accounts: STS AssumeRole into the configured member role, cached per
//! account until ten minutes before they expire. Each function assumes its role with its own
//! session name and SourceIdentity (`eks-auth-migrator-<function>`), so CloudTrail in the member
//! account tells the scan, the events handler and the worker apart (docs/security.md).

use crate::sdk_config::sts_config;
use crate::sdk_error::failure;
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
    /// The role foreign principals are looked up through (the read role; `role_name` unless set).
    lookup_role_name: String,
    /// Session name of every AssumeRole.
    session: String,
    /// SourceIdentity of every AssumeRole: the function's name; none for an operator (the CLI),
    /// whose role's trust policy may not allow `sts:SetSourceIdentity`.
    source_identity: Option<String>,
    partition: String,
    /// Per account, its own lock: first-time AssumeRoles of different accounts run at once, and
    /// concurrent callers for one account wait for a single AssumeRole.
    cache: std::sync::Mutex<HashMap<String, Arc<Mutex<Option<Credentials>>>>>,
}

/// The session name of an operator's AssumeRole (the CLI), when no function names itself.
const DEFAULT_SESSION: &str = "eks-auth-migrator";

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
        let role_name = role_name.into();
        Self {
            base,
            lookup_role_name: role_name.clone(),
            role_name,
            session: DEFAULT_SESSION.to_owned(),
            source_identity: None,
            partition,
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The same, with `session` as every AssumeRole's session name and SourceIdentity (a
    /// function's own name, `eks-auth-migrator-cluster-worker`).
    pub fn with_session(mut self, session: impl Into<String>) -> Self {
        self.session = session.into();
        self.source_identity = Some(self.session.clone());
        self
    }

    /// The same, looking foreign principals up through `role_name` (the read role) rather than
    /// the role assumed in the cluster's account (the worker's write role).
    pub fn with_lookup_role(mut self, role_name: impl Into<String>) -> Self {
        self.lookup_role_name = role_name.into();
        self
    }

    /// Options for the engine's gather: foreign principals are looked up through this member
    /// role, assumed with the central credentials the member roles trust.
    pub fn gather_options(&self) -> crate::live::GatherOptions {
        crate::live::GatherOptions {
            member_role_name: Some(self.lookup_role_name.clone()),
            assume_from: Some(self.base.clone()),
            route: crate::route::RoutePolicy::default(),
            owner_tags: Vec::new(),
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
            .role_session_name(&self.session)
            .set_source_identity(self.source_identity.clone())
            .send()
            .await
            .map_err(|e| fail(failure(&sts, "AssumeRole", &e).to_string()))?;
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
