//! A cluster whose Kubernetes API no route reaches (`crate::route`): the run blocks, recording
//! the reachability and what to deploy, and goes on by itself once a later run finds a route.

use super::error::EngineError;
use super::instance::Engine;
use super::outcome::{Outcome, Progress, Report};
use crate::store::ClusterKey;
use crate::store::records::{ClusterRecord, ClusterState};
use eks_auth_core::reach::ClusterReach;
use eks_auth_core::state::Phase;

impl Engine<'_> {
    /// Blocks the run: nothing can be read or written until the agent (or a hub VPC route) is
    /// deployed; `reason` says which. The phase goes to `BLOCKED`; what the cluster had reached
    /// stays true and is re-derived from the cluster by the next run that reaches it.
    pub(super) async fn unreachable(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        mut state: ClusterState,
        reach: ClusterReach,
        reason: String,
        progress: Progress<'_>,
    ) -> Result<Report, EngineError> {
        self.note(progress, format!("Block: {reason}"));
        state.phase = Phase::Blocked;
        state.last_error = Some(reason.clone());
        state.reach = Some(reach);
        self.stop(key, record, state, Outcome::Blocked(reason))
            .await
    }
}

/// Whether a run has planned the cluster before, so that its plan need not be recorded again
/// (`Step::Plan`). A cluster blocked before its first plan — its API was unreachable — has not:
/// it is `BLOCKED` without an inventory, and its first run that reaches it plans first; so is a
/// cluster that failed (terminally: gone, refused) before its first plan, once retried.
pub(super) fn planned_before(state: &ClusterState) -> bool {
    match state.phase {
        Phase::Discovered => false,
        Phase::Blocked | Phase::Failed { .. } => state.inventory.is_some(),
        _ => true,
    }
}
