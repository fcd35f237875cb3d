//! Errors of the state store.
//!
//! SDK errors are reduced to their operation, error code, retryability and a classified
//! [`CallFailure`] (`crate::sdk_error`): the SDK error itself (with its raw HTTP response) is not
//! kept, so nothing from a request can leak into logs through an error.

use crate::sdk_error::log::HasCallFailure;
use crate::sdk_error::table_failure;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use eks_auth_core::call_failure::{CallFailure, Cause, Service};
use eks_auth_kube::token::rfc3339_seconds;
use std::error::Error as StdError;
use std::time::SystemTime;

/// Why a state-store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Optimistic concurrency: the record changed since it was read.
    #[error("{key}: version {expected} is stale; the record is at version {found}")]
    Conflict {
        /// The cluster partition key.
        key: String,
        /// The version the writer read.
        expected: u64,
        /// The version stored now.
        found: u64,
    },
    /// Another worker holds the cluster's lease.
    #[error(
        "{key}: the lease is held by {owner}{} until {}",
        process.as_ref().map(|p| format!(" ({p})")).unwrap_or_default(),
        rfc3339_seconds(*until)
    )]
    LeaseHeld {
        /// The cluster partition key.
        key: String,
        /// The current holder.
        owner: String,
        /// When its lease expires.
        until: SystemTime,
        /// The holder's process, when recorded.
        process: Option<super::lease::process::ProcessId>,
    },
    /// The caller's lease expired and was taken over, or was released.
    #[error("{key}: the lease of {owner} is no longer held")]
    LeaseLost {
        /// The cluster partition key.
        key: String,
        /// The worker that thought it held the lease.
        owner: String,
    },
    /// The record does not exist.
    #[error("{key} {sk}: no such record")]
    NotFound {
        /// Partition key.
        key: String,
        /// Sort key.
        sk: String,
    },
    /// A record that is only ever created once already exists.
    #[error("{key} {sk}: already exists")]
    AlreadyExists {
        /// Partition key.
        key: String,
        /// Sort key.
        sk: String,
    },
    /// A backup of this resourceVersion exists with different text.
    #[error(
        "{key}: a backup of aws-auth resourceVersion {resource_version} already exists with different content"
    )]
    BackupMismatch {
        /// The cluster partition key.
        key: String,
        /// The resourceVersion.
        resource_version: String,
    },
    /// The audit record was already completed.
    #[error("{key} {sk}: the audit record is already completed")]
    AuditCompleted {
        /// The cluster partition key.
        key: String,
        /// The audit sort key.
        sk: String,
    },
    /// A stored item lacks an attribute or holds a malformed value.
    #[error("{key} {sk}: attribute `{attribute}` is missing or malformed")]
    Corrupt {
        /// Partition key.
        key: String,
        /// Sort key.
        sk: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// A value could not be serialized for storage.
    #[error("cannot serialize `{attribute}`")]
    Serialize {
        /// The attribute.
        attribute: &'static str,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// DynamoDB (or the way to it) failed.
    #[error("{failure}")]
    Service {
        /// The DynamoDB operation.
        operation: &'static str,
        /// The service error code, when the service answered.
        code: Option<String>,
        /// Whether retrying later may succeed (throttling, 5xx, timeouts, connection errors).
        retryable: bool,
        /// The failure, classified: one line, with what to do.
        failure: Box<CallFailure>,
    },
    /// The table did not become ACTIVE in time.
    #[error("table {table} did not become ACTIVE: {detail}")]
    TableNotReady {
        /// The table name.
        table: String,
        /// The rendered waiter error.
        detail: String,
    },
}

impl StoreError {
    /// Whether the same call may succeed later without anyone acting.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Service { retryable, .. } => *retryable,
            StoreError::LeaseHeld { .. } | StoreError::TableNotReady { .. } => true,
            _ => false,
        }
    }

    /// A failure of DynamoDB `operation` that is not the service's answer (a request that
    /// could not be built, items still unprocessed after retries).
    pub(crate) fn local(
        operation: &'static str,
        code: Option<&str>,
        retryable: bool,
        detail: String,
    ) -> Self {
        let failure = CallFailure {
            service: Some(Service::DynamoDb),
            operation: Some(operation.to_owned()),
            code: code.map(str::to_owned),
            chain: detail.clone(),
            detail,
            ..CallFailure::new(Cause::Other)
        };
        StoreError::Service {
            operation,
            code: code.map(str::to_owned),
            retryable,
            failure: Box::new(failure),
        }
    }
}

impl HasCallFailure for StoreError {
    fn call_failure(&self) -> Option<&CallFailure> {
        match self {
            StoreError::Service { failure, .. } => Some(failure),
            _ => None,
        }
    }
}

/// Error codes DynamoDB returns for conditions that clear by themselves.
const RETRYABLE_CODES: [&str; 7] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "LimitExceededException",
];

/// Reduce an SDK error of `operation` on `client`'s `table` to a [`StoreError::Service`].
pub(crate) fn service<E>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    operation: &'static str,
    err: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let (code, retryable) = match &err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().map(str::to_owned);
            let throttled = code
                .as_deref()
                .is_some_and(|c| RETRYABLE_CODES.contains(&c));
            (code, throttled || ctx.raw().status().is_server_error())
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (None, true)
        }
        _ => (None, false),
    };
    StoreError::Service {
        operation,
        code,
        retryable,
        failure: Box::new(table_failure(client, table, operation, &err)),
    }
}
