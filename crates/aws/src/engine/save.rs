//! Saving the cluster's state under the lease, recording its phase change in the same
//! conditional write, and the ways a run stops with its state saved (waiting, failed, done in
//! API mode).

use super::error::EngineError;
use super::instance::Engine;
use super::outcome::{Outcome, Report};
use super::step_failure::StepFailure;
use crate::store::ClusterKey;
use crate::store::records::{ClusterRecord, ClusterState};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::state::Phase;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

impl Engine<'_> {
    /// Saves `state` over `record` under the lease, recording the phase change (if any) in the
    /// record's outbox in the same conditional write.
    pub(super) async fn save(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: &ClusterState,
    ) -> Result<(), EngineError> {
        let lease = self.renew(false).await?;
        let now = SystemTime::now();
        let restored = self.restoring.swap(0, Ordering::SeqCst);
        let transition = self.transition(record, state, restored, now);
        let saved = self
            .store
            .save_cluster_recording(
                key,
                record.version,
                state,
                now,
                Some(&lease),
                transition.as_ref(),
            )
            .await?;
        self.remember(saved);
        Ok(())
    }

    /// Ends the run before a step: saves `state` and reports `outcome`.
    pub(super) async fn stop(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: ClusterState,
        outcome: Outcome,
    ) -> Result<Report, EngineError> {
        self.save(key, record, &state).await?;
        Ok(self.report(key, state.mode, Some(&state), outcome, None, Vec::new()))
    }

    /// Ends the run to come back after the settings' update poll, because `reason`.
    pub(super) async fn waiting(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: ClusterState,
        reason: String,
    ) -> Result<Report, EngineError> {
        let retry_after = self.settings.update_poll;
        self.stop(
            key,
            record,
            state,
            Outcome::Waiting {
                reason,
                retry_after,
            },
        )
        .await
    }

    /// In API mode aws-auth is ignored, so not being able to read it changes nothing: the
    /// migration is complete if the migrator made the switch, and there is nothing to do.
    pub(super) async fn api_mode_unreadable(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        mut state: ClusterState,
    ) -> Result<Report, EngineError> {
        state.authentication_mode = Some(AuthenticationMode::Api);
        state.pending_update = None;
        state.last_error = None;
        if matches!(state.phase, Phase::ApiSwitching | Phase::ConfigMapPruned) {
            state.phase = Phase::Complete;
        }
        self.stop(key, record, state, Outcome::Done).await
    }

    /// Ends the run with its observation failed: the reason is recorded and the phase stays —
    /// unless no retry can heal the failure (the cluster is gone, the member role may not make
    /// the call): then the cluster is `FAILED_TERMINAL` with what to do, and notified.
    pub(super) async fn failed(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        mut state: ClusterState,
        failure: StepFailure,
    ) -> Result<Report, EngineError> {
        state.last_error = Some(failure.reason.clone());
        let outcome = match failure.what_to_do {
            Some(what_to_do) => {
                state.phase = Phase::Failed { retryable: false };
                state.what_to_do = Some(what_to_do.clone());
                Outcome::FailedTerminal {
                    reason: failure.reason,
                    what_to_do,
                }
            }
            // A failed observation is not a failed step: the phase (what was done) stays.
            None => Outcome::Failed(failure.reason),
        };
        self.stop(key, record, state, outcome).await
    }
}
