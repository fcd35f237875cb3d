//! `cluster-worker`: a batch of queued jobs, one cluster each, run through the engine within the
//! invocation's time (`eks_auth_aws::fleet::worker`). Partial-batch response: only jobs worth
//! retrying are reported as failures; SQS returns them after the visibility timeout and moves
//! them to the dead-letter queue after the queue's maxReceiveCount.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use eks_auth_aws::fleet::environment::FunctionEnv;
use eks_auth_aws::fleet::worker::{Disposition, Worker};
use eks_auth_aws::fleet::{Clients, load_config};
use eks_auth_aws::store::lease::HeldLeases;
use eks_auth_core::jobs::Job;
use eks_auth_core::notify::metrics::run_metrics;
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
            clients: Clients::new(&config, &env),
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
    .await?;
    let worker = Worker {
        members: &deps.clients.members,
        store: &deps.clients.store,
        config: &config,
        org: Some(&deps.clients.org),
        worker_id: deps.worker_id.clone(),
        update_poll: deps.env.update_poll,
        watching_since: deps.clients.watching_since().await?,
        force_mode: None,
        held_leases: deps.held_leases.clone(),
        publisher: deps.clients.publisher.as_ref(),
    };
    // Stop starting runs when less than this is left.
    let run_deadline = deadline
        .checked_sub(Duration::from_secs(15))
        .unwrap_or(deadline);
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let receives: u32 = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let job = match Job::parse(record.body.as_deref().unwrap_or("")) {
            Ok(job) => job,
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "malformed job dropped");
                continue;
            }
        };
        let span = tracing::info_span!("job", account = %job.account, region = %job.region, cluster = %job.cluster, reason = %job.reason);
        let _entered = span.enter();
        let (disposition, figures) = worker.work_measured(&job, run_deadline).await;
        deps.clients.metrics.emit(&run_metrics(&figures));
        match disposition {
            Disposition::Finished {
                mode,
                phase,
                outcome,
            } => {
                tracing::info!(%mode, %phase, ?outcome, "cluster run finished");
            }
            Disposition::Requeue { job, delay, reason } => {
                tracing::info!(%reason, delay_s = delay.as_secs(), "cluster re-enqueued");
                if let Err(e) = deps
                    .clients
                    .queue
                    .send(std::slice::from_ref(&job), delay)
                    .await
                {
                    tracing::error!(error = %e, "re-enqueue failed; the message is retried");
                    failures.push(id);
                }
            }
            Disposition::Drop(reason) => tracing::warn!(%reason, "job dropped"),
            Disposition::Retry(reason) => {
                if receives >= deps.env.max_receive_count {
                    tracing::error!(%reason, receives, "job failed on its last delivery: the queue moves it to the dead-letter queue");
                } else {
                    tracing::warn!(%reason, receives, "job failed; SQS retries it");
                }
                failures.push(id);
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    Ok(response)
}
