//! A failed step: its one-line reason and, when no retry can heal it
//! ([`eks_auth_core::failure_decision::decide`]), what a person does about it.

use eks_auth_core::call_failure::CallFailure;
use eks_auth_core::failure_decision::{Decision, decide};
use std::fmt;

/// Why a step (or the observation before it) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StepFailure {
    /// What failed and why, in one line (recorded as the cluster's `last_error`).
    pub(super) reason: String,
    /// `Some` when the failure is terminal (`FAILED_TERMINAL`): what a person does about it.
    pub(super) what_to_do: Option<String>,
}

impl StepFailure {
    /// A failure a later run may heal (`FAILED_RETRYABLE`).
    pub(super) fn retryable(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            what_to_do: None,
        }
    }

    /// `decision` about a failure of `what`; `text` is the classified failure, used when the
    /// failure is retryable (a terminal one says its own reason).
    pub(super) fn decided(what: impl fmt::Display, text: &str, decision: Decision) -> Self {
        match decision {
            Decision::Retryable => Self::retryable(format!("{what}: {text}")),
            Decision::Terminal { reason, what_to_do } => Self {
                reason: format!("{what}: {reason}"),
                what_to_do: Some(what_to_do),
            },
        }
    }

    /// A failure described by `text` whose failed call is `failure`, decided from the call's
    /// service, operation, code and message; without a call (`None`) it is retryable.
    pub(super) fn of_call(text: &str, failure: Option<&CallFailure>) -> Self {
        match failure.map(|f| decide(f.key(), f.message.as_deref())) {
            Some(Decision::Terminal { reason, what_to_do }) => Self {
                reason,
                what_to_do: Some(what_to_do),
            },
            Some(Decision::Retryable) | None => Self::retryable(text),
        }
    }

    /// Several failures of one step as one: terminal when any of them is (the cluster cannot
    /// converge until a person acts), with every reason and each distinct thing to do.
    pub(super) fn combined(summary: &str, failures: &[StepFailure]) -> Self {
        let reasons: Vec<&str> = failures.iter().map(|f| f.reason.as_str()).collect();
        let mut todo: Vec<&str> = Vec::new();
        for t in failures.iter().filter_map(|f| f.what_to_do.as_deref()) {
            if !todo.contains(&t) {
                todo.push(t);
            }
        }
        Self {
            reason: format!("{summary}: {}", reasons.join("; ")),
            what_to_do: (!todo.is_empty()).then(|| todo.join(" ")),
        }
    }
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_terminal_failure_makes_the_step_terminal() {
        let retry = StepFailure::retryable("a: throttled");
        let gone = StepFailure::decided(
            "b",
            "x",
            Decision::Terminal {
                reason: "refused".into(),
                what_to_do: "fix it".into(),
            },
        );
        assert_eq!(gone.reason, "b: refused");
        let both = StepFailure::combined(
            "2 of 3 entries failed",
            &[retry.clone(), gone.clone(), gone],
        );
        assert!(both.what_to_do.is_some());
        assert_eq!(both.what_to_do.as_deref(), Some("fix it"));
        assert_eq!(
            both.reason,
            "2 of 3 entries failed: a: throttled; b: refused; b: refused"
        );
        assert_eq!(StepFailure::combined("1 failed", &[retry]).what_to_do, None);
    }
}
