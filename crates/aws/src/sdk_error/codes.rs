//! What a service's error code means for the person: expired or unknown credentials, a wrong
//! secret, a refusal of the caller's permissions, throttling — or the service's own reason.

use eks_auth_core::call_failure::Cause;

/// Codes of expired credentials.
const EXPIRED: [&str; 4] = [
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "TokenRefreshRequired",
];

/// Codes of an access key the service does not know.
const UNKNOWN_KEY: [&str; 5] = [
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "AuthFailure",
    "MissingAuthenticationTokenException",
];

/// Codes of a signature that does not match (a wrong secret).
const WRONG_SECRET: [&str; 2] = ["SignatureDoesNotMatch", "InvalidSignatureException"];

/// Codes of a permission refusal.
const DENIED: [&str; 5] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
];

/// Codes of throttling.
const THROTTLED: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
];

/// The cause a service's `code` names; `action` is the IAM action of the call
/// (`dynamodb:Query`), `message` the service's message.
pub(crate) fn cause(code: &str, message: Option<&str>, action: String) -> Cause {
    if EXPIRED.contains(&code) {
        Cause::ExpiredCredentials
    } else if UNKNOWN_KEY.contains(&code) {
        Cause::UnknownAccessKey
    } else if WRONG_SECRET.contains(&code) {
        Cause::WrongSecret
    } else if DENIED.contains(&code) {
        let (principal, named) = message.map(refused).unwrap_or_default();
        Cause::AccessDenied {
            principal,
            action: named.unwrap_or(action),
        }
    } else if THROTTLED.contains(&code) {
        Cause::Throttled
    } else {
        Cause::Rejected
    }
}

/// The principal and action of an AWS access-denied message: `User: <arn> is not authorized to
/// perform: <action> on resource: …`.
fn refused(message: &str) -> (Option<String>, Option<String>) {
    let principal = message
        .split_once("User: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .filter(|arn| arn.starts_with("arn:"))
        .map(str::to_owned);
    let action = message
        .split_once("to perform: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .filter(|a| a.contains(':'))
        .map(|a| a.trim_end_matches(['.', ',']).to_owned());
    (principal, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_codes_are_sorted() {
        let c = |code| cause(code, None, "eks:DescribeCluster".to_owned());
        assert_eq!(c("ExpiredTokenException"), Cause::ExpiredCredentials);
        assert_eq!(c("ExpiredToken"), Cause::ExpiredCredentials);
        assert_eq!(c("InvalidClientTokenId"), Cause::UnknownAccessKey);
        assert_eq!(c("UnrecognizedClientException"), Cause::UnknownAccessKey);
        assert_eq!(c("SignatureDoesNotMatch"), Cause::WrongSecret);
        assert_eq!(c("InvalidSignatureException"), Cause::WrongSecret);
        assert_eq!(c("ThrottlingException"), Cause::Throttled);
        assert_eq!(c("ResourceInUseException"), Cause::Rejected);
    }

    #[test]
    fn an_access_denial_names_the_principal_and_action_its_message_gives() {
        let moto = "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: dynamodb:Query";
        assert_eq!(
            cause("AccessDenied", Some(moto), "dynamodb:Query".to_owned()),
            Cause::AccessDenied {
                principal: Some("arn:aws:iam::123456789012:user/reader".to_owned()),
                action: "dynamodb:Query".to_owned(),
            }
        );
        let eks = "User: arn:aws:sts::1:assumed-role/ops/me is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:us-east-1:1:cluster/prod because no identity-based policy allows the eks:DescribeCluster action";
        assert_eq!(
            cause("AccessDeniedException", Some(eks), "eks:X".to_owned()),
            Cause::AccessDenied {
                principal: Some("arn:aws:sts::1:assumed-role/ops/me".to_owned()),
                action: "eks:DescribeCluster".to_owned(),
            }
        );
        assert_eq!(
            cause(
                "AccessDenied",
                Some("Access to the resource is denied."),
                "sqs:SendMessage".to_owned()
            ),
            Cause::AccessDenied {
                principal: None,
                action: "sqs:SendMessage".to_owned(),
            }
        );
    }
}
