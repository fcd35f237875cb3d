//! Whether a failed AWS call can heal by itself (retry with backoff) or needs a person
//! (`FAILED_TERMINAL`), decided from plain data: the service, operation, error code and HTTP
//! status of [`FailureKey`](crate::call_failure::FailureKey), and the service's message.
//!
//! Decided from EKS's and IAM's documented errors and the messages the real service sends
//! (`/work/shared/docs/domain.md` §2 and the EKS API reference's error lists). Everything not
//! named below stays retryable: throttling, 5xx, `ResourceInUseException` (another update runs),
//! eventual consistency (`ResourceNotFoundException` on a principal right after its entry was
//! created), network failures, and anything unknown — a wrong "terminal" stops a migration that
//! would have healed, a wrong "retryable" only costs retries.

use crate::call_failure::{FailureKey, Service};

/// What to do about a failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A later attempt may succeed: retry with backoff.
    Retryable,
    /// No retry can succeed until a person acts.
    Terminal {
        /// What cannot heal, in one sentence.
        reason: String,
        /// What a person does about it; after that a new scan or an explicit `apply` retries.
        what_to_do: String,
    },
}

fn terminal(reason: impl Into<String>, what_to_do: impl Into<String>) -> Decision {
    Decision::Terminal {
        reason: reason.into(),
        what_to_do: what_to_do.into(),
    }
}

/// Decides whether the failure `key` (with the service's `message`) can heal without a person.
pub fn decide(key: FailureKey<'_>, message: Option<&str>) -> Decision {
    let code = key.code.unwrap_or("");
    let message = message.unwrap_or("");
    let operation = key.operation.unwrap_or("the call");
    let service = key.service.map_or("AWS", Service::name);
    if is_access_denied(code, key.http_status) {
        return access_denied(service, operation);
    }
    match (key.service, code) {
        (Some(Service::Eks), "ResourceNotFoundException") => cluster_gone(operation, message),
        (Some(Service::Eks), "InvalidParameterException") => refused_parameter(operation, message),
        _ => Decision::Retryable,
    }
}

/// `AccessDenied*` (any service), or a 403 without a code.
fn is_access_denied(code: &str, status: Option<u16>) -> bool {
    code.starts_with("AccessDenied") || (code.is_empty() && status == Some(403))
}

/// Terminal: the member role (or the worker's role assuming it) lacks the action, or the member
/// role does not trust the worker. IAM policies change only when someone redeploys the stacks,
/// so retrying asks the same question and gets the same answer. (IAM's propagation delay after a
/// deployment is seconds; a run started after it sees the new policy, and a new scan retries.)
fn access_denied(service: &str, operation: &str) -> Decision {
    terminal(
        format!("{service} refused {operation}: the migrator's role may not call it"),
        "Deploy the member-role stack (infra/member-role.yaml) in the cluster's account with the current template, then start a new scan or run `apply` for the cluster.",
    )
}

/// Terminal when the cluster itself is gone (`No cluster found for name: …`, or DescribeCluster
/// not finding it): a deleted cluster never comes back under the same identity. A
/// `ResourceNotFoundException` about a principal or an access entry right after it was created
/// is EKS's eventual consistency (domain.md §2): retryable.
fn cluster_gone(operation: &str, message: &str) -> Decision {
    let about_cluster = message.contains("No cluster found")
        || (operation == "DescribeCluster" && !message.contains("principal"));
    if !about_cluster {
        return Decision::Retryable;
    }
    terminal(
        format!("the cluster no longer exists ({operation}: {message})"),
        "Nothing to migrate: take the cluster out of the migrator's scope; a new scan no longer lists a deleted cluster. If it was recreated under the same name, start a new scan.",
    )
}

/// Terminal when EKS refuses a parameter of an access-entry call: the same request is refused
/// the same way every time (an invalid principal ARN — a path-stripped SSO role, a service-linked
/// role —, a reserved username or group prefix, a non-STANDARD entry). An unsupported
/// authentication-mode update is retryable: it means the cluster's mode moved (a no-op update),
/// and the next run observes the mode again.
fn refused_parameter(operation: &str, message: &str) -> Decision {
    if message.contains("authentication mode") {
        return Decision::Retryable;
    }
    let what_to_do = if message.contains("principalArn") {
        "Fix the aws-auth row's ARN (the principal's full ARN with its IAM path), or leave the principal out of the migration in the policy file; then start a new scan or run `apply`."
    } else {
        "Fix the aws-auth row (or the policy file) the plan built this request from, then start a new scan or run `apply`."
    };
    terminal(
        format!("EKS refuses {operation} permanently: {message}"),
        what_to_do,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eks<'a>(operation: &'a str, code: &'a str, status: u16) -> FailureKey<'a> {
        FailureKey {
            service: Some(Service::Eks),
            operation: Some(operation),
            code: Some(code),
            http_status: Some(status),
        }
    }

    fn is_terminal(d: &Decision) -> bool {
        matches!(d, Decision::Terminal { .. })
    }

    #[test]
    fn a_deleted_cluster_is_terminal_a_lagging_principal_is_not() {
        let gone = decide(
            eks("DescribeCluster", "ResourceNotFoundException", 404),
            Some("No cluster found for name: prod."),
        );
        let Decision::Terminal { reason, what_to_do } = &gone else {
            panic!("{gone:?}")
        };
        assert!(
            reason.contains("no longer exists") && reason.contains("prod"),
            "{reason}"
        );
        assert!(what_to_do.contains("new scan"), "{what_to_do}");
        assert!(is_terminal(&decide(
            eks("CreateAccessEntry", "ResourceNotFoundException", 404),
            Some("No cluster found for name: prod.")
        )));
        // domain.md §2: associate right after create is eventually consistent.
        assert_eq!(
            decide(
                eks("AssociateAccessPolicy", "ResourceNotFoundException", 404),
                Some(
                    "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'."
                )
            ),
            Decision::Retryable
        );
    }

    #[test]
    fn principals_and_names_eks_refuses_are_terminal() {
        for message in [
            "The specified principalArn is invalid: invalid principal.",
            "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role",
            "The username must not begin with system:",
            "The kubernetes group name system:masters is invalid, it cannot start with system:",
            "This operation can only be performed on Access Entries with a type of \"STANDARD\".",
        ] {
            let d = decide(
                eks("CreateAccessEntry", "InvalidParameterException", 400),
                Some(message),
            );
            let Decision::Terminal { reason, what_to_do } = &d else {
                panic!("{message}: {d:?}")
            };
            assert!(reason.contains(message), "{reason}");
            assert_eq!(
                what_to_do.contains("full ARN"),
                message.contains("principalArn"),
                "{what_to_do}"
            );
        }
        // A no-op or out-of-order mode update: the next run observes the mode again.
        assert_eq!(
            decide(
                eks("UpdateClusterConfig", "InvalidParameterException", 400),
                Some(
                    "Unsupported authentication mode update from API_AND_CONFIG_MAP to API_AND_CONFIG_MAP"
                )
            ),
            Decision::Retryable
        );
    }

    #[test]
    fn access_the_member_role_never_gets_is_terminal() {
        for (service, code, status) in [
            (Service::Eks, Some("AccessDeniedException"), 403),
            (Service::Sts, Some("AccessDenied"), 403),
            (Service::Iam, None, 403),
        ] {
            let key = FailureKey {
                service: Some(service),
                operation: Some("CreateAccessEntry"),
                code,
                http_status: Some(status),
            };
            let d = decide(key, None);
            let Decision::Terminal { what_to_do, .. } = &d else {
                panic!("{service} {code:?}: {d:?}")
            };
            assert!(what_to_do.contains("member-role"), "{what_to_do}");
        }
    }

    #[test]
    fn everything_else_stays_retryable() {
        for (code, status) in [
            ("ThrottlingException", 429),
            ("ResourceInUseException", 409),
            ("ServerException", 500),
            ("ServiceUnavailableException", 503),
            ("InvalidRequestException", 400),
            ("", 0),
        ] {
            assert_eq!(
                decide(eks("UpdateClusterConfig", code, status), Some("x")),
                Decision::Retryable,
                "{code}"
            );
        }
        let no_call = FailureKey {
            service: None,
            operation: None,
            code: None,
            http_status: None,
        };
        assert_eq!(decide(no_call, None), Decision::Retryable);
    }
}
