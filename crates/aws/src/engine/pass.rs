//! One pass of the engine's loop, in named steps: begin (lease, record, interrupt, deadline) →
//! follow the EKS update in progress → observe and plan (`super::observe`) → decide ([`next`])
//! → perform (`super::steps`) and save.

use super::eks_write::update_status;
use super::error::{EngineError, failpoint};
use super::instance::Engine;
use super::observe::Observed;
use super::outcome::{Flow, Outcome, Progress, Report};
use super::plan_counts::{block_text, blocker_codes, counts};
use super::step_failure::StepFailure;
use super::steps::{StepCtx, step_name};
use crate::store::ClusterKey;
use crate::store::error::StoreError;
use crate::store::records::{ClusterRecord, ClusterState};
use crate::store::schema::META;
use eks_auth_core::plan::Plan;
use eks_auth_core::state::{
    Mode, PendingUpdate, Phase, Step, UpdateStatus, next, phase_after, run_phase,
};
use std::time::{Instant, SystemTime};

impl Engine<'_> {
    /// Passes until the run has to wait, is done, blocks, fails, is interrupted or runs out of
    /// time.
    pub(super) async fn drive(
        &self,
        key: &ClusterKey,
        mode: Mode,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Report, EngineError> {
        loop {
            let (record, mut state) = match self.begin_pass(key, mode, deadline).await? {
                Flow::Go(begun) => begun,
                Flow::Again => continue,
                Flow::Stop(report) => return Ok(*report),
            };
            let pending = match self.follow_update(key, &record, &mut state).await? {
                Flow::Go(pending) => pending,
                Flow::Again => continue,
                Flow::Stop(report) => return Ok(*report),
            };
            let observed = match self
                .observe_and_plan(key, &record, &mut state, pending, deadline, progress)
                .await?
            {
                Flow::Go(observed) => observed,
                Flow::Again => continue,
                Flow::Stop(report) => return Ok(*report),
            };
            let step = next(state.phase, mode, &observed.observation);
            if let Some(report) = self
                .perform(step, key, &record, state, observed, deadline, progress)
                .await?
            {
                return Ok(report);
            }
        }
    }

    /// Renews the lease and reads the record; stops on an interrupt or near the deadline.
    async fn begin_pass(
        &self,
        key: &ClusterKey,
        mode: Mode,
        deadline: Instant,
    ) -> Result<Flow<(ClusterRecord, ClusterState)>, EngineError> {
        let _ = self.renew(true).await?;
        let record = self
            .store
            .get_cluster(key)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                key: key.pk(),
                sk: META.to_owned(),
            })?;
        self.remember(record.clone());
        let mut state = record.state.clone();
        state.mode = mode;
        state.phase = run_phase(state.phase, self.settings.trigger);
        if state.phase == (Phase::Failed { retryable: false }) {
            // Only a new scan or an explicit `apply` retries it: this run changes nothing.
            let outcome = Outcome::FailedTerminal {
                reason: state.last_error.clone().unwrap_or_default(),
                what_to_do: state.what_to_do.clone().unwrap_or_default(),
            };
            let report = self.report(key, mode, Some(&state), outcome, None, Vec::new());
            return Ok(Flow::Stop(Box::new(report)));
        }
        state.what_to_do = None;
        if self.interrupt.is_requested() {
            let report = self.stop(key, &record, state, Outcome::Interrupted).await?;
            return Ok(Flow::Stop(Box::new(report)));
        }
        if Instant::now() + self.settings.step_margin >= deadline {
            let report = self.report(
                key,
                mode,
                Some(&state),
                Outcome::OutOfTime,
                None,
                Vec::new(),
            );
            return Ok(Flow::Stop(Box::new(report)));
        }
        Ok(Flow::Go((record, state)))
    }

    /// The update this cluster's record follows (its own switch): its status, or a stop while it
    /// is in progress or cannot be described.
    async fn follow_update(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: &mut ClusterState,
    ) -> Result<Flow<Option<PendingUpdate>>, EngineError> {
        let Some(update) = state.pending_update.clone() else {
            return Ok(Flow::Go(None));
        };
        let status = match update_status(&self.eks, key.name.as_ref(), &update.id).await {
            Ok(status) => status,
            Err(fail) => {
                let failure = fail.step(format!("DescribeUpdate {} failed", update.id));
                let report = self.failed(key, record, state.clone(), failure).await?;
                return Ok(Flow::Stop(Box::new(report)));
            }
        };
        if status == UpdateStatus::InProgress {
            self.set_following(Some(update.id.clone()));
            let reason = format!(
                "update {} (the switch to {}) is in progress",
                update.id,
                update.target.as_str()
            );
            let report = self.waiting(key, record, state.clone(), reason).await?;
            return Ok(Flow::Stop(Box::new(report)));
        }
        Ok(Flow::Go(Some(PendingUpdate {
            target: update.target,
            status,
        })))
    }

    /// Performs `step`, records its outcome and saves the new phase; the run's report when the
    /// run ends here.
    #[allow(clippy::too_many_arguments)]
    async fn perform(
        &self,
        step: Step,
        key: &ClusterKey,
        record: &ClusterRecord,
        mut state: ClusterState,
        observed: Observed,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Option<Report>, EngineError> {
        let ctx = StepCtx {
            key,
            gathered: &observed.gathered,
            auth: &observed.auth,
            plan: &observed.plan,
            deadline,
            progress,
        };
        let result = self.execute(step, &ctx, &mut state).await?;
        state.counts = counts(&observed.plan, &state, observed.summary.blockers);
        state.blocker_codes = blocker_codes(&observed.plan);
        if step == Step::CreateEntries && result.is_ok() {
            self.note_restored(record, observed.summary.to_create);
        }
        let outcome = match result {
            Err(failure) => Some(record_failure(&mut state, failure)),
            Ok(()) => {
                state.phase = phase_after(step, state.phase, &observed.observation);
                state.last_error = None;
                self.outcome_of(step, &mut state, &observed.plan)
            }
        };
        self.save(key, record, &state).await?;
        if observed.inventory_changed {
            self.forget_old_inventories(key, &state).await;
        }
        failpoint(&format!("after-save:{}", step_name(step)))?;
        Ok(outcome.map(|outcome| {
            self.report(
                key,
                state.mode,
                Some(&state),
                outcome,
                Some(observed.plan),
                observed.outside,
            )
        }))
    }

    /// How the run ends after a step that succeeded, if it ends.
    fn outcome_of(&self, step: Step, state: &mut ClusterState, plan: &Plan) -> Option<Outcome> {
        match step {
            Step::WaitForUpdate => Some(Outcome::Waiting {
                reason: "the authentication-mode update has not shown on the cluster yet"
                    .to_owned(),
                retry_after: self.settings.update_poll,
            }),
            Step::WaitForSoak => {
                let now = SystemTime::now();
                let left = state
                    .verified_at
                    .map(|t| {
                        (t + self.settings.soak)
                            .duration_since(now)
                            .unwrap_or_default()
                    })
                    .unwrap_or(self.settings.soak);
                Some(Outcome::Waiting {
                    reason: format!("the soak after verification ({} s left)", left.as_secs()),
                    retry_after: left,
                })
            }
            Step::Done => Some(Outcome::Done),
            Step::Block(reason) => {
                let text = block_text(reason, plan);
                state.last_error = Some(text.clone());
                Some(Outcome::Blocked(text))
            }
            _ => None,
        }
    }
}

/// Records a failed step on `state`: `FAILED_TERMINAL` with what to do when no retry can heal
/// it, `FAILED_RETRYABLE` otherwise; how the run ends.
fn record_failure(state: &mut ClusterState, failure: StepFailure) -> Outcome {
    state.last_error = Some(failure.reason.clone());
    state.what_to_do = failure.what_to_do.clone();
    match failure.what_to_do {
        Some(what_to_do) => {
            state.phase = Phase::Failed { retryable: false };
            Outcome::FailedTerminal {
                reason: failure.reason,
                what_to_do,
            }
        }
        None => {
            state.phase = Phase::Failed { retryable: true };
            Outcome::Failed(failure.reason)
        }
    }
}
