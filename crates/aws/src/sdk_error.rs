//! How an AWS SDK error is worded in this crate's errors and logs: the service's `Code: message`
//! when the service answered, the whole error chain otherwise (a timeout, a connection failure,
//! a credentials provider that failed). Only what the SDK renders is kept: never the request,
//! its signature or the raw response.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error;

/// `Code: message` of a service error, or the full context of a transport failure.
pub(crate) fn sdk_reason<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or("(no message)")
        ),
        None => error_context(err),
    }
}

/// The service's error code (`ResourceNotFoundException`, `NoSuchEntity`, …), when the service
/// answered with one.
pub(crate) fn service_code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    err.as_service_error().and_then(|e| e.code())
}

/// An error and every error that caused it, on one line.
pub(crate) fn error_context<E>(err: &E) -> String
where
    E: Error,
{
    DisplayErrorContext(err).to_string()
}
