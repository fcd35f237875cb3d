//! `cluster-worker`: a batch of queued jobs, one cluster each, run through the engine within the
//! invocation's time (`eks_auth_aws::fleet::worker`). Partial-batch response: only jobs worth
//! retrying are reported as failures; SQS returns them after the visibility timeout and moves
//! them to the dead-letter queue after the queue's maxReceiveCount.

mod message;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use eks_auth_aws::fleet::environment::{Function, FunctionEnv};
use eks_auth_aws::fleet::worker::Worker;
use eks_auth_aws::fleet::{Clients, load_config};
use eks_auth_aws::sdk_error::log;
use eks_auth_aws::store::lease::HeldLeases;
use eks_auth_core::config::Config;
use message::Messages;
use std::time::{Duration, Instant};

/// What the handler needs.
pub struct Deps {
    /// The function's environment.
    pub env: FunctionEnv,
    /// The function's own configuration (central account).
    pub config: aws_config::SdkConfig,
    /// Table, queue (delayed re-enqueues), member roles, organisation (OU-based modes).
    pub clients: Clients,
    /// This function instance's ID (lease owner).
    pub worker_id: String,
    /// The leases this instance holds right now, released on shutdown ([`shutdown`]).
    pub held_leases: HeldLeases,
}

impl Deps {
    /// Everything from one configuration and the environment.
    pub fn new(config: aws_config::SdkConfig, env: FunctionEnv, worker_id: String) -> Self {
        Self {
            clients: Clients::new(&config, &env, Function::ClusterWorker),
            config,
            env,
            worker_id,
            held_leases: HeldLeases::new(),
        }
    }
}

/// What the function does when Lambda shuts its environment down (SIGTERM, through
/// lambda_runtime's graceful shutdown): releases every cluster lease a run still holds, so the
/// next worker starts on those clusters at once instead of waiting for the leases to expire.
pub async fn shutdown(store: &eks_auth_aws::StateStore, held: &HeldLeases) {
    let released = held.release_all(store).await;
    tracing::info!(released, "shutdown: cluster leases released");
}

/// Works through the batch until `deadline`.
///
/// # Errors
///
/// When the configuration document or the time the migrator started watching (the state
/// table) cannot be read: every message is then retried.
pub async fn handle(
    deps: &Deps,
    event: SqsEvent,
    deadline: Instant,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let config = load_config(
        &deps.config,
        &deps.env.config_parameter,
        deps.env.default_mode,
    )
    .await
    .inspect_err(|e| log::error(e, "cannot read the configuration document"))?;
    let messages = Messages {
        worker: worker(deps, &config).await?,
        clients: &deps.clients,
        max_receive_count: deps.env.max_receive_count,
        // Stop starting runs when less than this is left.
        run_deadline: deadline
            .checked_sub(Duration::from_secs(15))
            .unwrap_or(deadline),
    };
    let mut failures = Vec::new();
    for message in event.records {
        failures.extend(messages.work(message).await);
    }
    Ok(batch_response(failures))
}

/// The engine's worker for this invocation, with the configuration document just read.
async fn worker<'a>(
    deps: &'a Deps,
    config: &'a Config,
) -> Result<Worker<'a>, lambda_runtime::Error> {
    Ok(Worker {
        members: &deps.clients.members,
        store: &deps.clients.store,
        config,
        regions: deps.env.regions.clone(),
        org: Some(&deps.clients.org),
        worker_id: deps.worker_id.clone(),
        update_poll: deps.env.update_poll,
        watching_since: deps
            .clients
            .watching_since()
            .await
            .inspect_err(|e| log::error(e, "cannot read when the migrator started watching"))?,
        force_mode: None,
        held_leases: deps.held_leases.clone(),
        publisher: deps.clients.publisher.as_ref(),
        agent_signer: deps.clients.agent_signer.as_ref(),
    })
}

/// The partial-batch response: the messages SQS must deliver again.
fn batch_response(failures: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}
