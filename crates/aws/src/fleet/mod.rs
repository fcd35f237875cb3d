//! The fleet side, for the Lambda functions: member-account credentials, the organisation, the
//! job queue, the organisation scan and the per-job worker, plus the configuration document's
//! loader; and [`in_process`], the organisation's audit in one process (the CLI's `scan`).

pub mod environment;
pub mod in_process;
pub mod members;
pub mod organization;
pub mod queue;
pub mod scan;
pub mod worker;

use crate::notify::events::EventPublisher;
use crate::notify::metrics::MetricsOut;
use crate::sdk_config::{retry, timeouts};
use crate::sdk_error::failure;
use crate::sdk_error::log::HasCallFailure;
use crate::store::error::StoreError;
use crate::store::table::StateStore;
use eks_auth_core::call_failure::CallFailure;
use eks_auth_core::config::Config;
use eks_auth_core::state::Mode;

/// The clients every function builds from its configuration and environment.
pub struct Clients {
    /// The state table.
    pub store: StateStore,
    /// The job queue.
    pub queue: queue::JobQueue,
    /// Member-account credentials (cached across invocations of a warm function).
    pub members: members::MemberAccounts,
    /// The organisation.
    pub org: organization::Organization,
    /// The central bus's publisher, when `EVENT_BUS_NAME` is set.
    pub publisher: Option<EventPublisher>,
    /// Where EMF metric lines go (standard output in `METRICS_NAMESPACE`, or nowhere).
    pub metrics: MetricsOut,
    /// Signs in-VPC agent requests, when `AGENT_SIGNING_KEY_ARN` is set (the worker).
    pub agent_signer: Option<crate::route::signer::AgentSigner>,
    /// Since when the migrator watches the fleet, once read (it never changes).
    watching_since: tokio::sync::OnceCell<std::time::SystemTime>,
}

impl Clients {
    /// The clients of `function` for `env`'s table, queue and member roles: its own member role
    /// ([`environment::Function::member_role`]) with its own session name, principals of other
    /// accounts looked up through the read role.
    pub fn new(
        config: &aws_config::SdkConfig,
        env: &environment::FunctionEnv,
        function: environment::Function,
    ) -> Self {
        let members = members::MemberAccounts::new(config.clone(), function.member_role(env))
            .with_session(function.session_name())
            .with_lookup_role(env.member_role_name.clone());
        Self {
            store: StateStore::from_config(config, &env.table),
            queue: queue::JobQueue::new(config, &env.queue_url),
            members,
            org: organization::Organization::new(config),
            publisher: env
                .event_bus
                .as_ref()
                .map(|bus| EventPublisher::new(config, bus)),
            metrics: MetricsOut::stdout(env.metrics_namespace.clone()),
            agent_signer: env
                .agent_signing_key
                .as_ref()
                .map(|key| crate::route::signer::AgentSigner::new(config, key)),
            watching_since: tokio::sync::OnceCell::new(),
        }
    }

    /// Since when the migrator watches the fleet ([`StateStore::watching_since`]; now, when
    /// nothing was recorded yet), read once per warm function.
    ///
    /// # Errors
    ///
    /// [`StoreError`] from the state table.
    pub async fn watching_since(&self) -> Result<std::time::SystemTime, StoreError> {
        self.watching_since
            .get_or_try_init(|| self.store.watching_since(std::time::SystemTime::now()))
            .await
            .copied()
    }
}

/// The monotonic deadline of an invocation whose wall-clock deadline is `deadline`.
pub fn instant_of(deadline: std::time::SystemTime) -> std::time::Instant {
    let left = deadline
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    std::time::Instant::now() + left
}

/// The functions' AWS configuration: the standard environment (the Lambda role's credentials,
/// region, `AWS_ENDPOINT_URL*`) with adaptive retry and timeouts for every client built from it.
pub async fn function_config() -> aws_config::SdkConfig {
    config_with_retries(None).await
}

/// The standard configuration with the functions' adaptive retry and timeouts, `region`
/// overriding the configured one (the CLI's in-process fleet commands).
pub async fn config_with_retries(region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(retry())
        .timeout_config(timeouts());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}

/// Why the configuration document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigLoadError {
    /// SSM refused or the parameter does not exist.
    #[error("cannot read the configuration parameter {name}: {reason}")]
    Read {
        /// The parameter.
        name: String,
        /// SSM's answer, or what the answer lacks.
        reason: String,
        /// SSM's failure, classified, when the call failed.
        failure: Option<Box<CallFailure>>,
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

impl HasCallFailure for ConfigLoadError {
    fn call_failure(&self) -> Option<&CallFailure> {
        match self {
            ConfigLoadError::Read { failure, .. } => failure.as_deref(),
            ConfigLoadError::Invalid { .. } => None,
        }
    }
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
    let out = ssm.get_parameter().name(name).send().await.map_err(|e| {
        let failure = failure(&ssm, "GetParameter", &e);
        ConfigLoadError::Read {
            name: name.to_owned(),
            reason: failure.to_string(),
            failure: Some(Box::new(failure)),
        }
    })?;
    let text = out
        .parameter()
        .and_then(|p| p.value())
        .ok_or_else(|| ConfigLoadError::Read {
            name: name.to_owned(),
            reason: "the parameter has no value".to_owned(),
            failure: None,
        })?;
    Config::parse_with_default_mode(text, default_mode).map_err(|source| ConfigLoadError::Invalid {
        name: name.to_owned(),
        source,
    })
}
