//! The clusters whose migration failed in a way no retry can heal (`FAILED_TERMINAL`), with
//! the reason and what to do their record holds.

use crate::report::input::ClusterView;
use crate::report::model::TerminalFailure;
use crate::state::Phase;

/// The `FAILED_TERMINAL` clusters of `clusters` (already ordered), in that order.
pub(super) fn failures(clusters: &[&ClusterView]) -> Vec<TerminalFailure> {
    clusters
        .iter()
        .filter(|c| c.phase == Phase::Failed { retryable: false })
        .map(|c| TerminalFailure {
            account: c.account.clone(),
            region: c.region.clone(),
            name: c.name.clone(),
            reason: c.last_error.clone().unwrap_or_default(),
            what_to_do: c
                .what_to_do
                .clone()
                .unwrap_or_else(|| "read the cluster's last error (`status`)".to_owned()),
        })
        .collect()
}
