//! A failure in the functions' JSON logs: the one-line reason as the message's `error`, and the
//! structured fields a search or a metric filter needs (service, operation, error code, HTTP
//! status, request id, region) — never a `Debug` dump.

use eks_auth_core::call_failure::CallFailure;
use std::error::Error;

/// An error that may carry a classified AWS call failure.
pub trait HasCallFailure: Error {
    /// The classified failure of the AWS call behind this error, when one is.
    fn call_failure(&self) -> Option<&CallFailure>;
}

/// Logs `$err` at `$level` with `$what` as the message: its one-line text, and the failure's
/// structured fields when it carries one.
macro_rules! log_failure {
    ($level:ident, $err:expr, $what:expr) => {{
        let err = $err;
        let f = err.call_failure();
        tracing::$level!(
            error = %err,
            service = f.and_then(|f| f.service).map(|s| s.name()),
            operation = f.and_then(|f| f.operation.as_deref()),
            error_code = f.and_then(|f| f.code.as_deref()),
            http_status = f.and_then(|f| f.http_status),
            request_id = f.and_then(|f| f.request_id.as_deref()),
            region = f.and_then(|f| f.region.as_deref()),
            "{}",
            $what
        )
    }};
}

/// Logs `err` at warn level with `what` as the message: its one-line text, and the failure's
/// structured fields when it carries one.
pub fn warn(err: &dyn HasCallFailure, what: &str) {
    log_failure!(warn, err, what);
}

/// [`warn`] at error level.
pub fn error(err: &dyn HasCallFailure, what: &str) {
    log_failure!(error, err, what);
}

impl HasCallFailure for CallFailure {
    fn call_failure(&self) -> Option<&CallFailure> {
        Some(self)
    }
}
