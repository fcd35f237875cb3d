//! How a failed command is printed: one line on standard error — what failed, why, what to do —
//! and, with `--verbose` (or `RUST_LOG` set), the classified AWS failure's error chain, request
//! id and fields below it. Only `Display` texts are printed, never a `Debug` rendering.
//!
//! A service that could not be reached is named with the endpoint override the loaded
//! configuration holds for it (an AWS profile's `endpoint_url` is not in the environment where
//! the failure was sorted).

use crate::aws_env::configured_endpoint;
use eks_auth_aws::engine::EngineError;
use eks_auth_aws::fleet::ConfigLoadError;
use eks_auth_aws::fleet::scan::ScanError;
use eks_auth_aws::live::GatherError;
use eks_auth_aws::sdk_error::log::HasCallFailure;
use eks_auth_aws::store::error::StoreError;
use eks_auth_core::call_failure::CallFailure;

/// Whether the details are wanted: `--verbose`, or `RUST_LOG` set to anything.
pub fn verbose(flag: bool) -> bool {
    flag || std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty())
}

/// The lines to print for `error`: the one-line message, then (when `verbose`) the details.
pub fn lines(error: &anyhow::Error, verbose: bool) -> Vec<String> {
    let failure = call_failure(error);
    let mut line = one_line(error);
    if let Some(failure) = failure {
        line = with_configured_endpoint(&line, failure);
    }
    let mut lines = vec![format!("eks-auth-migrator: {line}")];
    if !verbose {
        return lines;
    }
    match failure {
        Some(failure) => lines.extend(failure.details()),
        None => lines.extend(
            error
                .chain()
                .skip(1)
                .map(|cause| format!("caused by: {}", collapse(&cause.to_string()))),
        ),
    }
    lines
}

/// `line` with `failure`'s text naming the endpoint override the loaded configuration holds
/// for its service, when it could not name one.
fn with_configured_endpoint(line: &str, failure: &CallFailure) -> String {
    let Some(endpoint) = failure.service.and_then(configured_endpoint) else {
        return line.to_owned();
    };
    let named = failure.clone().with_endpoint(endpoint);
    line.replace(&failure.to_string(), &named.to_string())
}

/// The error and its contexts, `: `-joined, on one line.
fn one_line(error: &anyhow::Error) -> String {
    collapse(&format!("{error:#}"))
}

/// `text` with every run of whitespace (line breaks included) as one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The classified AWS failure behind `error`, when one is: the first error of its chain that is
/// one, or that carries one.
fn call_failure(error: &anyhow::Error) -> Option<&CallFailure> {
    error.chain().find_map(|cause| {
        if let Some(f) = cause.downcast_ref::<CallFailure>() {
            return Some(f);
        }
        let carrier: Option<&dyn HasCallFailure> = cause
            .downcast_ref::<StoreError>()
            .map(|e| e as &dyn HasCallFailure)
            .or_else(|| cause.downcast_ref::<GatherError>().map(|e| e as _))
            .or_else(|| cause.downcast_ref::<EngineError>().map(|e| e as _))
            .or_else(|| cause.downcast_ref::<ScanError>().map(|e| e as _))
            .or_else(|| cause.downcast_ref::<ConfigLoadError>().map(|e| e as _));
        carrier.and_then(HasCallFailure::call_failure)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_auth_core::call_failure::{Cause, Service};

    fn denied() -> CallFailure {
        CallFailure {
            service: Some(Service::DynamoDb),
            operation: Some("Query".to_owned()),
            code: Some("AccessDeniedException".to_owned()),
            request_id: Some("req-7".to_owned()),
            chain: "service error: AccessDeniedException:\nnot authorized".to_owned(),
            ..CallFailure::new(Cause::AccessDenied {
                principal: None,
                action: "dynamodb:Query".to_owned(),
            })
        }
    }

    #[test]
    fn without_verbose_a_failure_is_one_line_with_its_context() {
        let error = anyhow::Error::new(denied()).context("cannot read the state table t");
        let lines = lines(&error, false);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with(
                "eks-auth-migrator: cannot read the state table t: DynamoDB Query: access denied"
            ),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn verbose_adds_the_chain_request_id_and_fields_of_a_carried_failure() {
        let store = StoreError::Service {
            operation: "Query",
            code: Some("AccessDeniedException".to_owned()),
            retryable: false,
            failure: Box::new(denied()),
        };
        let error = anyhow::Error::new(store).context("cannot read");
        let lines = lines(&error, true);
        assert_eq!(
            lines[1],
            "error chain: service error: AccessDeniedException: not authorized"
        );
        assert_eq!(lines[2], "request id: req-7");
        assert!(lines[3].contains("operation Query"), "{}", lines[3]);
    }

    #[test]
    fn verbose_without_a_classified_failure_lists_the_causes() {
        let error = anyhow::Error::new(std::io::Error::other("disk\nfull"))
            .context("cannot write the plan");
        assert_eq!(
            lines(&error, true),
            vec![
                "eks-auth-migrator: cannot write the plan: disk full".to_owned(),
                "caused by: disk full".to_owned(),
            ]
        );
    }
}
