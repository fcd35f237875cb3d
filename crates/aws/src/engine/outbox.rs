//! The engine's side of phase-change events: what each save records in the cluster's outbox,
//! and the delivery of the outbox at the end of a run (one PutEvents call, then the delivered
//! transitions cleared). A delivery failure never fails the run: the transitions stay on the
//! record and the next run sends them (eks_auth_core::notify::transition).

use super::error::{EngineError, failpoint};
use super::instance::Engine;
use super::outcome::EventsDelivered;
use crate::store::ClusterKey;
use crate::store::records::{ClusterRecord, ClusterState};
use eks_auth_core::notify::transition::{
    ClusterRef, MAX_PENDING, Transition, TransitionCounts, run_events,
};
use eks_auth_core::state::Phase;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

impl Engine<'_> {
    /// Keeps `record` as the run's latest view of the cluster.
    pub(super) fn remember(&self, record: ClusterRecord) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(record);
        }
    }

    /// The step about to be saved created `to_create` entries; when the cluster had verified its
    /// entries before (it has a verification time), that repaired drift.
    pub(super) fn note_restored(&self, record: &ClusterRecord, to_create: usize) {
        if record.state.verified_at.is_some() {
            let n = u32::try_from(to_create).unwrap_or(u32::MAX);
            self.restoring.store(n, Ordering::SeqCst);
        }
    }

    /// The transition a save of `state` over `record` records, if it changes the phase or
    /// repaired drift (and the outbox is not full).
    pub(super) fn transition(
        &self,
        record: &ClusterRecord,
        state: &ClusterState,
        restored: u32,
        now: SystemTime,
    ) -> Option<Transition> {
        let from = record.state.phase;
        if !Transition::worth_recording(from, state.phase, restored) {
            return None;
        }
        if record.outbox.len() >= MAX_PENDING {
            tracing::warn!(
                cluster = %record.key,
                pending = record.outbox.len(),
                from = %from,
                to = %state.phase,
                "phase change not recorded: the outbox is full (events have not been delivered for a long time; check EventsNotDelivered)"
            );
            return None;
        }
        let c = state.counts;
        let failing = matches!(state.phase, Phase::Blocked | Phase::Failed { .. });
        Some(Transition {
            run: self.run_id.lock().map(|r| r.clone()).unwrap_or_default(),
            version: record.version.saturating_add(1),
            from,
            to: state.phase,
            at_ms: now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            mode: state.mode,
            authentication_mode: state.authentication_mode,
            counts: TransitionCounts {
                aws_auth_rows: c.aws_auth_rows.unwrap_or(0),
                entries_planned: c.entries_planned,
                entries_applied: c.entries_applied,
                entries_verified: c.entries_verified,
                blockers: c.blockers,
            },
            blocker_codes: state.blocker_codes.clone(),
            reason: state.last_error.clone().filter(|_| failing),
            what_to_do: state
                .what_to_do
                .clone()
                .filter(|_| state.phase == Phase::Failed { retryable: false }),
            restored,
        })
    }

    /// Puts the events of the transitions pending on the cluster's record on the bus (one
    /// PutEvents call for up to ten events) and clears those EventBridge accepted. Without a
    /// publisher nothing is sent: the transitions wait for a run that has one.
    ///
    /// # Errors
    ///
    /// [`EngineError::Store`] when the delivered transitions cannot be cleared (they are sent
    /// again by the next run); [`EngineError::FailPoint`] at `before:PutEvents` and
    /// `after:PutEvents` (debug builds, tests).
    pub(super) async fn deliver_events(
        &self,
        key: &ClusterKey,
    ) -> Result<EventsDelivered, EngineError> {
        let Some(publisher) = self.publisher else {
            return Ok(EventsDelivered::default());
        };
        let pending = self
            .latest
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(|r| r.outbox.clone()))
            .unwrap_or_default();
        if pending.is_empty() {
            return Ok(EventsDelivered::default());
        }
        let cluster = ClusterRef {
            account: key.account.as_ref(),
            region: key.region.as_ref(),
            name: key.name.as_ref(),
        };
        let runs = run_events(cluster, &pending);
        let events: Vec<_> = runs.iter().flat_map(|r| r.events.iter().cloned()).collect();
        failpoint("before:PutEvents")?;
        let accepted = publisher.put(&events).await;
        failpoint("after:PutEvents")?;
        let mut delivered = EventsDelivered::default();
        let mut clear = Vec::new();
        let mut results = accepted.iter();
        for run in &runs {
            let outcomes: Vec<&Result<(), String>> =
                results.by_ref().take(run.events.len()).collect();
            delivered.published += outcomes.iter().filter(|r| r.is_ok()).count();
            delivered.not_delivered += outcomes.iter().filter(|r| r.is_err()).count();
            for failure in outcomes.iter().filter_map(|r| r.as_ref().err()) {
                tracing::warn!(cluster = %key, reason = %failure, "phase-change event not delivered; the next run sends it again");
            }
            if outcomes.iter().all(|r| r.is_ok()) {
                clear.extend(run.versions.iter().copied());
            }
        }
        self.store.clear_outbox(key, &clear).await?;
        Ok(delivered)
    }
}
