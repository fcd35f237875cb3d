//! The job queue: one SQS message per cluster that needs work (`eks_auth_core::jobs::Job`).

use crate::sdk_error::failure;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use eks_auth_core::jobs::Job;
use futures::StreamExt as _;
use std::time::Duration;

/// SendMessageBatch calls in flight at once.
pub const SEND_CONCURRENCY: usize = 8;

/// SQS's largest message delay.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// Why jobs were not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot queue {count} job(s) on {queue_url}: {reason}")]
pub struct QueueError {
    /// The queue.
    pub queue_url: String,
    /// How many jobs were not queued.
    pub count: usize,
    /// SQS's answer.
    pub reason: String,
}

/// Where a fleet scan puts its jobs: the SQS queue (the functions), or a list the caller works
/// through itself (the CLI's in-process `scan`).
pub trait JobSink: Sync {
    /// Queues `jobs`, each delayed by `delay`; how many were queued.
    ///
    /// # Errors
    ///
    /// [`QueueError`] with the number not queued.
    fn send(
        &self,
        jobs: &[Job],
        delay: Duration,
    ) -> impl std::future::Future<Output = Result<usize, QueueError>> + Send;
}

/// Jobs kept in memory, in the order they were sent.
#[derive(Debug, Default)]
pub struct CollectedJobs(std::sync::Mutex<Vec<Job>>);

impl CollectedJobs {
    /// Every job sent so far, taken out.
    pub fn take(&self) -> Vec<Job> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl JobSink for CollectedJobs {
    async fn send(&self, jobs: &[Job], _delay: Duration) -> Result<usize, QueueError> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(jobs);
        Ok(jobs.len())
    }
}

impl JobSink for JobQueue {
    async fn send(&self, jobs: &[Job], delay: Duration) -> Result<usize, QueueError> {
        JobQueue::send(self, jobs, delay).await
    }
}

/// The job queue.
#[derive(Debug, Clone)]
pub struct JobQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl JobQueue {
    /// The queue at `url`, with a client from the configuration.
    pub fn new(config: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(config),
            url: url.into(),
        }
    }

    /// Sends `jobs` (10 per SendMessageBatch, [`SEND_CONCURRENCY`] batches at once), each
    /// delayed by `delay` (at most 15 minutes). Returns how many were sent.
    ///
    /// # Errors
    ///
    /// [`QueueError`] with the number not queued when SQS refuses a batch or entries in it.
    pub async fn send(&self, jobs: &[Job], delay: Duration) -> Result<usize, QueueError> {
        let delay = i32::try_from(delay.min(MAX_DELAY).as_secs()).unwrap_or(900);
        // Owned chunks: a future borrowing a slice through a stream closure is not provably
        // `Send` for every lifetime, which the JobSink trait requires.
        let chunks: Vec<Vec<Job>> = jobs.chunks(10).map(<[Job]>::to_vec).collect();
        let outcomes: Vec<(usize, Vec<String>)> = futures::stream::iter(chunks)
            .map(|chunk| self.send_batch(chunk, delay))
            .buffer_unordered(SEND_CONCURRENCY)
            .collect()
            .await;
        let sent = outcomes.iter().map(|(sent, _)| sent).sum();
        let mut failed: Vec<String> = outcomes.into_iter().flat_map(|(_, f)| f).collect();
        if failed.is_empty() {
            Ok(sent)
        } else {
            failed.sort();
            failed.dedup();
            Err(QueueError {
                queue_url: self.url.clone(),
                count: jobs.len() - sent,
                reason: failed.join("; "),
            })
        }
    }

    /// One SendMessageBatch: how many were sent, and why the others were not.
    async fn send_batch(&self, chunk: Vec<Job>, delay: i32) -> (usize, Vec<String>) {
        let entries: Vec<SendMessageBatchRequestEntry> = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, job)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(job.to_body())
                    .delay_seconds(delay)
                    .build()
                    .ok()
            })
            .collect();
        match self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => (
                out.successful().len(),
                out.failed()
                    .iter()
                    .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or("")))
                    .collect(),
            ),
            Err(e) => (
                0,
                vec![failure(&self.client, "SendMessageBatch", &e).to_string(); chunk.len()],
            ),
        }
    }
}
