//! One job of the queue: resolve the cluster's mode, run the engine on it through the member
//! role until the function's deadline, and say what should happen to the message.

use super::members::MemberAccounts;
use super::organization::Organization;
use super::queue::MAX_DELAY;
use crate::engine::{Engine, EngineError, Outcome, Report, Settings};
use crate::live::{self, GatherError};
use crate::notify::call_stats::CallStats;
use crate::notify::events::EventPublisher;
use crate::route::RoutePolicy;
use crate::route::signer::AgentSigner;
use crate::sdk_config::eks_client;
use crate::sdk_error::failure;
use crate::sdk_error::log;
use crate::store::lease::HeldLeases;
use crate::store::table::StateStore;
use eks_auth_core::config::{Config, is_new_cluster};
use eks_auth_core::jobs::{Job, JobReason};
use eks_auth_core::notify::metrics::{RunFigures, RunOutcome};
use eks_auth_core::scope;
use eks_auth_core::state::{Mode, Phase, Trigger};
use std::time::{Duration, Instant, SystemTime};

/// What to do with the job's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done for now (done, blocked, failed terminally or skipped): delete the message.
    Finished {
        /// The mode the cluster ran in.
        mode: Mode,
        /// The phase recorded.
        phase: Phase,
        /// How the run ended.
        outcome: Outcome,
    },
    /// Come back later: queue this job with this delay, then delete the message.
    Requeue {
        /// The job to queue.
        job: Job,
        /// Its delay (at most 15 minutes).
        delay: Duration,
        /// Why.
        reason: String,
    },
    /// A failure worth retrying: leave the message to SQS (it comes back after the visibility
    /// timeout, and goes to the dead-letter queue after the queue's maxReceiveCount).
    Retry(String),
    /// Nothing can ever be done with this job (the cluster is gone): delete the message.
    Drop(String),
    /// The job's cluster is outside the configuration's account and region scope (whoever queued
    /// it): nothing is done, the message is deleted, with a log line and a metric.
    OutOfScope(String),
}

/// The worker's fixed parts.
pub struct Worker<'a> {
    /// Member-account credentials.
    pub members: &'a MemberAccounts,
    /// The state table.
    pub store: &'a StateStore,
    /// The configuration document.
    pub config: &'a Config,
    /// The regions in scope when the document lists none (the `REGIONS` environment variable):
    /// with the document's account lists, what [`scope::cluster`] checks every job against.
    pub regions: Vec<String>,
    /// The organisation (for OU-based modes), when the configuration has OU rules.
    pub org: Option<&'a Organization>,
    /// This worker's ID (lease owner).
    pub worker_id: String,
    /// How long to wait before looking at an EKS update in progress again.
    pub update_poll: Duration,
    /// Since when the migrator watches the fleet: clusters created from then on are new.
    pub watching_since: SystemTime,
    /// Run every cluster in this mode whatever the configuration says (`Some(Mode::Audit)`:
    /// the CLI's `scan`, an operator's read-only audit); `None` for the functions.
    pub force_mode: Option<Mode>,
    /// The leases this process holds, released by the function's shutdown hook.
    pub held_leases: HeldLeases,
    /// Where each run's phase-change events go (`None`: they stay recorded on the cluster).
    pub publisher: Option<&'a EventPublisher>,
    /// Signs the requests sent to in-VPC agents (`None`: agent calls fail with what to
    /// configure).
    pub agent_signer: Option<&'a AgentSigner>,
}

impl Worker<'_> {
    /// Works on `job` until `deadline`.
    pub async fn work(&self, job: &Job, deadline: Instant) -> Disposition {
        self.work_measured(job, deadline).await.0
    }

    /// [`Worker::work`], with the figures of the run for its metrics.
    pub async fn work_measured(&self, job: &Job, deadline: Instant) -> (Disposition, RunFigures) {
        let started = Instant::now();
        let calls = CallStats::now();
        let (disposition, report) = self.run_job(job, deadline).await;
        let after = CallStats::now();
        let outcome = match (&disposition, report.as_ref().map(|r| &r.outcome)) {
            (Disposition::Drop(_), _) => RunOutcome::Dropped,
            (Disposition::OutOfScope(_), _) => RunOutcome::OutOfScope,
            (_, Some(Outcome::Done)) => RunOutcome::Done,
            (_, Some(Outcome::Blocked(_))) => RunOutcome::Blocked,
            (_, Some(Outcome::Waiting { .. })) => RunOutcome::Waiting,
            (_, Some(Outcome::Busy { .. })) => RunOutcome::Busy,
            (_, Some(Outcome::Failed(_))) => RunOutcome::Failed,
            (_, Some(Outcome::FailedTerminal { .. })) => RunOutcome::FailedTerminal,
            (_, Some(Outcome::OutOfTime)) => RunOutcome::OutOfTime,
            (_, Some(Outcome::Interrupted)) => RunOutcome::Interrupted,
            (_, None) => RunOutcome::Error,
        };
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let figures = RunFigures {
            outcome,
            steps: report.as_ref().map_or(0, |r| r.steps.len()),
            mutating_calls: report.as_ref().map_or(0, |r| {
                usize::try_from(r.mutating_calls).unwrap_or(usize::MAX)
            }),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            throttles: n(after.throttles_since(&calls)),
            retries: n(after.retries_since(&calls)),
            events_published: report.as_ref().map_or(0, |r| r.events.published),
            events_not_delivered: report.as_ref().map_or(0, |r| r.events.not_delivered),
        };
        (disposition, figures)
    }

    /// The run of `job`: what to do with its message, and the engine's report when it ran.
    async fn run_job(&self, job: &Job, deadline: Instant) -> (Disposition, Option<Report>) {
        // The same scope as the scan's, whoever queued the job (design.md invariant 7).
        if let Err(out) = scope::cluster(self.config, &self.regions, &job.account, &job.region) {
            return (Disposition::OutOfScope(out.to_string()), None);
        }
        let member = match self.members.config(&job.account, &job.region).await {
            Ok(c) => c,
            Err(e) => return (Disposition::Retry(e.to_string()), None),
        };
        let eks = eks_client(&member);
        let (tags, created_at) = match eks.describe_cluster().name(&job.cluster).send().await {
            Ok(out) => live::tags_and_creation(out.cluster()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return (
                    Disposition::Drop(format!(
                        "cluster {} no longer exists in {}/{}",
                        job.cluster, job.account, job.region
                    )),
                    None,
                );
            }
            Err(e) => {
                let failure = failure(&eks, "DescribeCluster", &e);
                log::warn(&failure, "cannot describe the job's cluster");
                return (Disposition::Retry(failure.to_string()), None);
            }
        };
        // Its CreateCluster event says so even when the migrator started watching only now.
        let new =
            job.reason == JobReason::NewCluster || is_new_cluster(created_at, self.watching_since);
        let ous = match self.account_ous(&job.account).await {
            Ok(o) => o,
            Err(reason) => return (Disposition::Retry(reason), None),
        };
        let mode = match self.force_mode {
            Some(mode) => mode,
            None => {
                let resolved = self.config.mode_for(&job.account, &ous, &tags, new);
                for warning in &resolved.warnings {
                    tracing::warn!(cluster = %job.cluster, %warning, "cluster mode");
                }
                resolved.mode
            }
        };
        let mut settings = Settings::new(self.worker_id.clone());
        settings.soak = Duration::from_secs(self.config.soak_hours.saturating_mul(3600));
        settings.break_glass_principal = self.config.break_glass_principal.clone();
        settings.policy = self.config.policy.clone();
        settings.update_poll = self.update_poll;
        // Principals of other accounts in aws-auth: their member role, assumed centrally.
        settings.gather = self.members.gather_options();
        // Private and restricted endpoints: a hub VPC or the in-VPC agent (docs/networking.md).
        settings.gather.route = RoutePolicy::ByReachability(self.config.network.clone());
        // Owners: the configured ownership tags, and the owners accepted per cluster.
        settings.gather.owner_tags = self.config.owners.tags.clone();
        settings.owners = self.config.owners.clone();
        settings.gather.agent_signer = self.agent_signer.cloned();
        // A new scan retries a FAILED_TERMINAL cluster (its cause may be fixed); an event or the
        // worker's own delayed job leaves it recorded.
        settings.trigger = match job.reason {
            JobReason::Scan => Trigger::Retry,
            _ => Trigger::Continue,
        };
        let mut engine =
            Engine::new(&member, self.store, &settings).with_held_leases(self.held_leases.clone());
        if let Some(publisher) = self.publisher {
            engine = engine.with_publisher(publisher);
        }
        // The engine logs every step itself (tracing), inside the handler's span for this job.
        let progress = |_: &str| {};
        match engine.run(&job.cluster, mode, deadline, &progress).await {
            Ok(report) => (self.disposition(job, mode, &report), Some(report)),
            Err(EngineError::Identify(GatherError::ClusterNotFound { .. })) => (
                Disposition::Drop(format!("cluster {} no longer exists", job.cluster)),
                None,
            ),
            Err(e) => {
                log::warn(&e, "the cluster's run could not start or record its work");
                (Disposition::Retry(e.to_string()), None)
            }
        }
    }

    /// What the engine's `report` means for the job's message.
    fn disposition(&self, job: &Job, mode: Mode, report: &Report) -> Disposition {
        match report.outcome.clone() {
            // A terminal failure is recorded and notified, never handed back to SQS: no retry
            // can heal it, and a new scan retries it once a person acted.
            Outcome::Done | Outcome::Blocked(_) | Outcome::FailedTerminal { .. } => {
                Disposition::Finished {
                    mode,
                    phase: report.phase,
                    outcome: report.outcome.clone(),
                }
            }
            Outcome::Waiting {
                reason,
                retry_after,
            } => self.requeue(job, retry_after, reason),
            Outcome::Busy { holder, until } => self.requeue(
                job,
                until.duration_since(SystemTime::now()).unwrap_or_default(),
                format!("{holder} holds the cluster"),
            ),
            Outcome::OutOfTime => self.requeue(job, Duration::ZERO, "out of time".to_owned()),
            Outcome::Interrupted => {
                self.requeue(job, Duration::ZERO, "interrupted (shutdown)".to_owned())
            }
            Outcome::Failed(reason) => Disposition::Retry(reason),
        }
    }

    fn requeue(&self, job: &Job, delay: Duration, reason: String) -> Disposition {
        let mut next = job.clone();
        // A new cluster's job stays one, so that its mode does not change between invocations.
        if next.reason == JobReason::Scan {
            next.reason = JobReason::UpdateInProgress;
        }
        Disposition::Requeue {
            job: next,
            delay: delay.clamp(Duration::from_secs(1), MAX_DELAY),
            reason,
        }
    }

    async fn account_ous(&self, account: &str) -> Result<Vec<String>, String> {
        // The OUs of the mode rules and of tags_may_raise (both decide the mode).
        let listed = self.config.listed_ou_ids();
        let (Some(org), false) = (self.org, listed.is_empty()) else {
            return Ok(Vec::new());
        };
        // The listed OUs above the account, nearest first (the scan's `accounts_in` order).
        Ok(org
            .ancestors(account)
            .await?
            .into_iter()
            .filter(|id| listed.contains(id))
            .collect())
    }
}
