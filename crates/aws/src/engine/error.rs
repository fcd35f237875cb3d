//! Why an engine run could not even start or record its work. Failures of a single step are
//! not errors: they are recorded on the cluster (phase `FAILED_RETRYABLE` or `FAILED_TERMINAL`,
//! `last_error`) and reported as [`super::Outcome::Failed`] or
//! [`super::Outcome::FailedTerminal`].

use crate::live::GatherError;
use crate::sdk_error::log::HasCallFailure;
use crate::store::error::StoreError;
use eks_auth_core::call_failure::CallFailure;

/// Why [`super::Engine::run`] or [`super::Engine::rollback`] returned without a report.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The cluster could not be identified (DescribeCluster failed or the input is invalid).
    #[error(transparent)]
    Identify(#[from] GatherError),
    /// The state store refused (unreachable, or a conflict that means another writer).
    #[error("state store: {0}")]
    Store(#[from] StoreError),
    /// A test failpoint stopped the run where a crash would (debug builds only).
    #[error("failpoint `{0}` stopped the run")]
    FailPoint(String),
}

impl HasCallFailure for EngineError {
    fn call_failure(&self) -> Option<&CallFailure> {
        match self {
            EngineError::Identify(e) => e.call_failure(),
            EngineError::Store(e) => e.call_failure(),
            EngineError::FailPoint(_) => None,
        }
    }
}

/// Returns [`EngineError::FailPoint`] when failpoint `name` is armed.
pub(crate) fn failpoint(name: &str) -> Result<(), EngineError> {
    if crate::failpoint::hit(name) {
        tracing::warn!(failpoint = name, "failpoint hit: stopping as a crash would");
        return Err(EngineError::FailPoint(name.to_owned()));
    }
    Ok(())
}
