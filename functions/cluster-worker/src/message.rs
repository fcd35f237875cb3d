//! One SQS message of a batch: its job parsed and run through the engine, then what becomes of
//! the message — acknowledged (finished, dropped, malformed, or re-enqueued with a delay) or
//! reported as a batch-item failure for SQS to deliver again.

use aws_lambda_events::event::sqs::SqsMessage;
use eks_auth_aws::fleet::Clients;
use eks_auth_aws::fleet::worker::{Disposition, Worker};
use eks_auth_core::jobs::Job;
use eks_auth_core::notify::metrics::run_metrics;
use std::time::Instant;

/// How the batch's messages are worked: the worker, the clients its dispositions need (queue,
/// metrics) and when to stop starting runs.
pub(crate) struct Messages<'a> {
    /// Runs one job through the engine.
    pub worker: Worker<'a>,
    /// Queue (delayed re-enqueues) and metrics.
    pub clients: &'a Clients,
    /// The queue's maxReceiveCount: the delivery after which a failed job goes to the DLQ.
    pub max_receive_count: u32,
    /// No run starts after this.
    pub run_deadline: Instant,
}

impl Messages<'_> {
    /// Works one message; its ID when SQS must deliver it again (a batch-item failure).
    pub async fn work(&self, message: SqsMessage) -> Option<String> {
        let id = message.message_id.clone().unwrap_or_default();
        let receives: u32 = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let job = match Job::parse(message.body.as_deref().unwrap_or("")) {
            Ok(job) => job,
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "malformed job dropped");
                return None;
            }
        };
        let span = tracing::info_span!("job", account = %job.account, region = %job.region, cluster = %job.cluster, reason = %job.reason);
        let _entered = span.enter();
        let (disposition, figures) = self.worker.work_measured(&job, self.run_deadline).await;
        self.clients.metrics.emit(&run_metrics(&figures));
        let retry = self.settle(disposition, receives).await;
        retry.then_some(id)
    }

    /// Logs the run's disposition and re-enqueues its job when it asks to; whether SQS must
    /// deliver the message again.
    async fn settle(&self, disposition: Disposition, receives: u32) -> bool {
        match disposition {
            Disposition::Finished {
                mode,
                phase,
                outcome,
            } => {
                tracing::info!(%mode, %phase, ?outcome, "cluster run finished");
                false
            }
            Disposition::Requeue { job, delay, reason } => {
                tracing::info!(%reason, delay_s = delay.as_secs(), "cluster re-enqueued");
                let sent = self
                    .clients
                    .queue
                    .send(std::slice::from_ref(&job), delay)
                    .await;
                if let Err(e) = &sent {
                    tracing::error!(error = %e, "re-enqueue failed; the message is retried");
                }
                sent.is_err()
            }
            Disposition::Drop(reason) => {
                tracing::warn!(%reason, "job dropped");
                false
            }
            Disposition::OutOfScope(reason) => {
                tracing::warn!(%reason, "job dropped: its cluster is outside the configuration's scope");
                false
            }
            Disposition::Retry(reason) => {
                if receives >= self.max_receive_count {
                    tracing::error!(%reason, receives, "job failed on its last delivery: the queue moves it to the dead-letter queue");
                } else {
                    tracing::warn!(%reason, receives, "job failed; SQS retries it");
                }
                true
            }
        }
    }
}
