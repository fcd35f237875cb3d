//! The one place an AWS SDK error becomes a [`CallFailure`] a person can act on: a service's
//! answer by its code and message (expired or unknown credentials, a wrong secret, an access
//! denial with the principal and action, a missing state table, throttling), a failure to get
//! an answer by its kind (no credentials, no region, a refused connection, DNS, a timeout,
//! TLS — with the endpoint override in effect). Only what the SDK's errors render with
//! `Display` is kept, never the request, its signature, the raw response or a `Debug` dump.
//!
//! - `chain`: an error chain as text, and the transport failure it ends in;
//! - `codes`: what a service's error code means;
//! - [`credentials`]: a credentials provider's failure;
//! - [`endpoint`]: where an endpoint override comes from;
//! - [`clients`]: the service and region of each SDK client;
//! - [`log`]: a failure in the functions' logs, as structured fields.

mod chain;
pub mod clients;
mod codes;
pub mod credentials;
pub mod endpoint;
pub mod log;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use clients::ServiceClient;
use eks_auth_core::call_failure::{CallFailure, Cause, Network, Service};
use std::error::Error;

/// `err`, the failure of `operation` on `client`'s service, classified.
pub fn failure<C, E>(client: &C, operation: &str, err: &SdkError<E, HttpResponse>) -> CallFailure
where
    C: ServiceClient,
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    classify(C::SERVICE, operation, client.region(), err)
}

/// `err`, the failure of DynamoDB `operation` on `table`: a missing table is named as such.
pub fn table_failure<E>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    operation: &str,
    err: &SdkError<E, HttpResponse>,
) -> CallFailure
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let mut failure = failure(client, operation, err);
    if failure.code.as_deref() == Some("ResourceNotFoundException") {
        failure.cause = Cause::TableMissing {
            table: table.to_owned(),
        };
    }
    failure
}

/// `err`, the failure of `operation` on `service` in `region`, classified.
pub fn classify<E>(
    service: Service,
    operation: &str,
    region: Option<String>,
    err: &SdkError<E, HttpResponse>,
) -> CallFailure
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let (chain, detail) = chain::render(err);
    let mut failure = match err {
        SdkError::ServiceError(ctx) => answered(service, operation, ctx.err(), ctx.raw()),
        SdkError::ResponseError(ctx) => CallFailure {
            http_status: Some(ctx.raw().status().as_u16()),
            request_id: request_id(ctx.raw()),
            ..CallFailure::new(Cause::Unreadable)
        },
        SdkError::TimeoutError(_) => unreachable(service, Network::Timeout),
        SdkError::DispatchFailure(d) if d.is_timeout() => unreachable(service, Network::Timeout),
        _ => not_sent(service, err, &chain),
    };
    // Credentials and region problems are the configuration's, not this call's.
    if !matches!(
        failure.cause,
        Cause::NoRegion | Cause::NoCredentials { .. } | Cause::CredentialsFailed { .. }
    ) {
        failure.service = Some(service);
        failure.operation = Some(operation.to_owned());
        failure.region = region;
    }
    if failure.detail.is_empty() {
        failure.detail = detail;
    }
    failure.chain = chain;
    failure
}

/// A failure without a service answer: the region is missing, credentials could not be loaded,
/// or the way to the service failed.
fn not_sent<E>(service: Service, err: &SdkError<E, HttpResponse>, chain: &str) -> CallFailure
where
    E: Error + Send + Sync + 'static,
{
    if let Some(credentials) = chain::find::<CredentialsError>(err) {
        return credentials::credentials_failure(credentials);
    }
    let text = chain.to_ascii_lowercase();
    if text.contains("signing region") || text.contains("region must be set") {
        return CallFailure::new(Cause::NoRegion);
    }
    match err {
        SdkError::DispatchFailure(_) => unreachable(service, chain::network(chain)),
        _ => CallFailure::new(Cause::Other),
    }
}

/// The service could not be reached: how, and the endpoint override in effect.
fn unreachable(service: Service, network: Network) -> CallFailure {
    CallFailure::new(Cause::Unreachable {
        network,
        endpoint: endpoint::from_env(service),
    })
}

/// The service answered with an error: its code, message, status and request id, and what the
/// code means.
fn answered<E>(service: Service, operation: &str, err: &E, raw: &HttpResponse) -> CallFailure
where
    E: ProvideErrorMetadata,
{
    let code = err.code().map(str::to_owned);
    let message = err.message().map(str::to_owned);
    let action = format!("{}:{operation}", service.action_prefix());
    let cause = match code.as_deref() {
        Some(code) => codes::cause(code, message.as_deref(), action),
        None => Cause::Rejected,
    };
    CallFailure {
        code,
        message,
        http_status: Some(raw.status().as_u16()),
        request_id: request_id(raw)
            .or_else(|| err.meta().extra("aws_request_id").map(str::to_owned)),
        ..CallFailure::new(cause)
    }
}

/// The request id of an answer (`x-amzn-requestid`, or S3-style `x-amz-request-id`).
fn request_id(raw: &HttpResponse) -> Option<String> {
    ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"]
        .iter()
        .find_map(|h| raw.headers().get(*h))
        .map(str::to_owned)
}

/// The service's error code, when the service answered with one.
pub(crate) fn service_code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    err.as_service_error().and_then(|e| e.code())
}

/// Any error and its sources as one line of `Display` texts (for errors that are not SDK
/// errors: a waiter's, a credentials provider's).
pub(crate) fn error_chain(err: &(dyn Error + 'static)) -> String {
    chain::render(err).0
}

/// The failure of a command that needs a region when none is configured.
pub fn no_region() -> CallFailure {
    CallFailure::new(Cause::NoRegion)
}
