//! `cluster-events`: one EventBridge event (an `aws.eks` CloudTrail API call forwarded to the
//! central bus) in, at most one job out. Decoding is `eks_auth_core::jobs::decode_cloudtrail`,
//! the account and region scope `eks_auth_core::scope` (the scan's, from the configuration
//! document); this handler only de-duplicates deliveries and queues the job. Malformed,
//! irrelevant and out-of-scope events are logged and dropped, never failed (a failure would only
//! be retried into the DLQ).

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use eks_auth_aws::StateStore;
use eks_auth_aws::fleet::load_config;
use eks_auth_aws::fleet::queue::JobQueue;
use eks_auth_aws::notify::metrics::MetricsOut;
use eks_auth_core::jobs::{Decision, JobReason, cloudtrail_event_id, decode_cloudtrail};
use eks_auth_core::notify::metrics::{decision_reason, event_metrics};
use eks_auth_core::scope;
use eks_auth_core::state::Mode;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// How long a delivered event ID is remembered (EventBridge redelivers within hours at most).
const DEDUP_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// What the handler needs.
pub struct Deps {
    /// The state table (delivery marks).
    pub store: StateStore,
    /// The job queue.
    pub queue: JobQueue,
    /// The member write role's name: calls made through it (in the event's own account) are the
    /// migrator's own and ignored.
    pub write_role_name: String,
    /// Where the per-event metric goes.
    pub metrics: MetricsOut,
    /// Where the scope comes from: the configuration document.
    pub scope: ScopeSource,
}

/// The configuration document the scope is read from (on each event that would be queued), and
/// the environment's fallbacks.
pub struct ScopeSource {
    /// The function's own AWS configuration (SSM).
    pub sdk: aws_config::SdkConfig,
    /// `CONFIG_PARAMETER`.
    pub parameter: String,
    /// `DEFAULT_MODE`.
    pub default_mode: Mode,
    /// `REGIONS`: the regions in scope when the document lists none.
    pub regions: Vec<String>,
}

/// Handles one event; the result says what was done (for logs and `cargo lambda invoke`).
///
/// # Errors
///
/// Only when the configuration document, the state table or the queue fails (then EventBridge
/// retries, bounded by the rule's retry policy, into the rule's dead-letter queue).
pub async fn handle(deps: &Deps, event: &Value) -> Result<Value, lambda_runtime::Error> {
    let decision = in_scope(deps, decode_cloudtrail(event, &deps.write_role_name)).await?;
    let (mut kind, reason) = decision_reason(&decision);
    let result = decide(deps, event, decision).await;
    if result
        .as_ref()
        .is_ok_and(|answer| answer["decision"] == "duplicate")
    {
        kind = "duplicate";
    }
    if result.is_ok() {
        deps.metrics.emit(&event_metrics(kind, reason));
    }
    result
}

/// The decision, with a job for a cluster outside the configuration's account and region scope
/// turned into a drop that says why (the same scope as the scan's, design.md invariant 7).
async fn in_scope(deps: &Deps, decision: Decision) -> Result<Decision, lambda_runtime::Error> {
    let Decision::Enqueue(job) = decision else {
        return Ok(decision);
    };
    let source = &deps.scope;
    let config = load_config(&source.sdk, &source.parameter, source.default_mode).await?;
    Ok(
        match scope::cluster(&config, &source.regions, &job.account, &job.region) {
            Ok(()) => Decision::Enqueue(job),
            Err(out) => Decision::Drop {
                reason: format!("{out} (cluster {})", job.cluster),
            },
        },
    )
}

async fn decide(
    deps: &Deps,
    event: &Value,
    decision: Decision,
) -> Result<Value, lambda_runtime::Error> {
    match decision {
        Decision::Ignore { reason } => {
            tracing::info!(%reason, "event ignored");
            Ok(json!({ "decision": "ignored", "reason": reason }))
        }
        Decision::Drop { reason } => {
            tracing::warn!(%reason, "event dropped");
            Ok(json!({ "decision": "dropped", "reason": reason }))
        }
        Decision::Enqueue(job) => {
            if let Some(id) = cloudtrail_event_id(event)
                && !deps
                    .store
                    .first_delivery(id, SystemTime::now(), DEDUP_RETENTION)
                    .await?
            {
                tracing::info!(event_id = id, "duplicate delivery ignored");
                return Ok(json!({ "decision": "duplicate", "eventId": id }));
            }
            if job.reason == JobReason::NewCluster {
                // The migrator has been watching since at least this event, so a scan counts
                // the cluster as new even when this is the first event it ever handled.
                let at = event_time(event).unwrap_or_else(SystemTime::now);
                deps.store.watching_since(at).await?;
            }
            deps.queue
                .send(std::slice::from_ref(&job), Duration::ZERO)
                .await?;
            tracing::info!(account = %job.account, region = %job.region, cluster = %job.cluster, reason = %job.reason, "job queued");
            Ok(
                json!({ "decision": "enqueued", "job": serde_json::from_str::<Value>(&job.to_body())? }),
            )
        }
    }
}

/// The event's `time` (when CloudTrail recorded the call, to the second).
fn event_time(event: &Value) -> Option<SystemTime> {
    let text = event.get("time")?.as_str()?;
    SystemTime::try_from(DateTime::from_str(text, Format::DateTime).ok()?).ok()
}
