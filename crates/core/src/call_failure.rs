//! Why a call to an AWS service failed, as plain data a person can act on: the service and
//! operation, a [`Cause`] sorted from the SDK's error (crates/aws `sdk_error` does the sorting),
//! the service's own code, message, HTTP status and request id, and the rendered error chain for
//! `--verbose` and the functions' logs.
//!
//! [`CallFailure`]'s `Display` is one line — what failed, why, what to do — with no SDK
//! internals: no request, no headers, no `Debug` rendering. [`CallFailure::key`] gives the
//! fields a retry decision needs (service, operation, error code, HTTP status).

use std::fmt;

/// The longest service message repeated in a line, in characters.
const MESSAGE_LIMIT: usize = 160;

/// An AWS service the migrator calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Amazon EKS.
    Eks,
    /// AWS IAM.
    Iam,
    /// AWS STS.
    Sts,
    /// Amazon DynamoDB (the state table).
    DynamoDb,
    /// Amazon SQS (the job queue).
    Sqs,
    /// AWS Organizations.
    Organizations,
    /// AWS Systems Manager (the configuration parameter).
    Ssm,
    /// AWS Lambda (the in-VPC agents).
    Lambda,
    /// Amazon EventBridge (phase-change events).
    EventBridge,
    /// AWS Security Hub (findings).
    SecurityHub,
}

impl Service {
    /// The name people know it by (`EKS`, `DynamoDB`).
    pub fn name(self) -> &'static str {
        match self {
            Service::Eks => "EKS",
            Service::Iam => "IAM",
            Service::Sts => "STS",
            Service::DynamoDb => "DynamoDB",
            Service::Sqs => "SQS",
            Service::Organizations => "Organizations",
            Service::Ssm => "SSM",
            Service::Lambda => "Lambda",
            Service::EventBridge => "EventBridge",
            Service::SecurityHub => "Security Hub",
        }
    }

    /// The prefix of its IAM actions (`eks`, `dynamodb`, `events`).
    pub fn action_prefix(self) -> &'static str {
        match self {
            Service::Eks => "eks",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::DynamoDb => "dynamodb",
            Service::Sqs => "sqs",
            Service::Organizations => "organizations",
            Service::Ssm => "ssm",
            Service::Lambda => "lambda",
            Service::EventBridge => "events",
            Service::SecurityHub => "securityhub",
        }
    }

    /// The environment variable that overrides its endpoint (`AWS_ENDPOINT_URL_EKS`).
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Service::Eks => "AWS_ENDPOINT_URL_EKS",
            Service::Iam => "AWS_ENDPOINT_URL_IAM",
            Service::Sts => "AWS_ENDPOINT_URL_STS",
            Service::DynamoDb => "AWS_ENDPOINT_URL_DYNAMODB",
            Service::Sqs => "AWS_ENDPOINT_URL_SQS",
            Service::Organizations => "AWS_ENDPOINT_URL_ORGANIZATIONS",
            Service::Ssm => "AWS_ENDPOINT_URL_SSM",
            Service::Lambda => "AWS_ENDPOINT_URL_LAMBDA",
            Service::EventBridge => "AWS_ENDPOINT_URL_EVENTBRIDGE",
            Service::SecurityHub => "AWS_ENDPOINT_URL_SECURITYHUB",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the way to a service failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Nothing listens there (connection refused).
    Refused,
    /// The host name does not resolve.
    Dns,
    /// No answer within the timeout.
    Timeout,
    /// The TLS handshake failed (an untrusted certificate, a proxy in the way).
    Tls,
    /// The connection was reset or closed before an answer.
    Closed,
    /// Another transport failure.
    Other,
}

impl Network {
    /// What happened, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Network::Refused => "the connection was refused",
            Network::Dns => "the host name does not resolve",
            Network::Timeout => "no answer in time",
            Network::Tls => "the TLS handshake failed",
            Network::Closed => "the connection was closed before an answer",
            Network::Other => "the connection failed",
        }
    }
}

/// Where a service's endpoint comes from, when it is not AWS's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    /// The endpoint URL, when an override is set.
    pub url: Option<String>,
    /// What sets it (`AWS_ENDPOINT_URL_EKS`, `AWS_ENDPOINT_URL`, the AWS profile's
    /// `endpoint_url`).
    pub set_by: Option<String>,
}

/// Why the call failed, sorted by what a person does about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// No region is configured.
    NoRegion,
    /// No credentials source provided credentials (the default chain ran out, its last source
    /// being the EC2 instance metadata service).
    NoCredentials {
        /// The AWS profile the chain read (`AWS_PROFILE`, or `default`).
        profile: String,
    },
    /// A configured credentials source failed (an expired SSO session, a broken profile, a
    /// `credential_process` that failed).
    CredentialsFailed {
        /// The AWS profile the chain read.
        profile: String,
    },
    /// The service says the credentials have expired (`ExpiredToken`, `ExpiredTokenException`).
    ExpiredCredentials,
    /// The service does not know the access key (`InvalidClientTokenId`,
    /// `UnrecognizedClientException`).
    UnknownAccessKey,
    /// The signature does not match: the secret key is wrong (`SignatureDoesNotMatch`,
    /// `InvalidSignatureException`).
    WrongSecret,
    /// The principal may not call the operation.
    AccessDenied {
        /// Who was refused: the ARN in the service's message, or the caller's identity.
        principal: Option<String>,
        /// The IAM action refused (`dynamodb:Query`).
        action: String,
    },
    /// The state table does not exist.
    TableMissing {
        /// The table's name.
        table: String,
    },
    /// The service could not be reached.
    Unreachable {
        /// How the way to it failed.
        network: Network,
        /// The endpoint override in effect, if any.
        endpoint: Endpoint,
    },
    /// The service throttled the call beyond the SDK's retries.
    Throttled,
    /// The service refused the call for another reason (its code and message say which).
    Rejected,
    /// An answer came that could not be read as the service's.
    Unreadable,
    /// Anything else (the request could not be built or sent).
    Other,
}

/// One failed call to an AWS service (or a failure to get as far as one: no region, no
/// credentials), classified. `Display` is one line that names what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    /// The service called, when the failure is about a call.
    pub service: Option<Service>,
    /// The operation (`DescribeCluster`), when the failure is about a call.
    pub operation: Option<String>,
    /// The region of the call, when known.
    pub region: Option<String>,
    /// Why, sorted.
    pub cause: Cause,
    /// The service's error code, when it answered with one.
    pub code: Option<String>,
    /// The service's message, when it answered with one.
    pub message: Option<String>,
    /// The HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
    /// The request id of the answer, when there was one.
    pub request_id: Option<String>,
    /// The innermost reason the error chain gives (for causes without a service answer).
    pub detail: String,
    /// Every error of the chain, `: `-joined, each as its `Display` renders it.
    pub chain: String,
}

/// The fields a retry decision needs, borrowed from a [`CallFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureKey<'a> {
    /// The service (`None` when no call was made).
    pub service: Option<Service>,
    /// The operation.
    pub operation: Option<&'a str>,
    /// The service's error code.
    pub code: Option<&'a str>,
    /// The HTTP status.
    pub http_status: Option<u16>,
}

impl CallFailure {
    /// A failure of `cause` with nothing else known yet.
    pub fn new(cause: Cause) -> Self {
        Self {
            service: None,
            operation: None,
            region: None,
            cause,
            code: None,
            message: None,
            http_status: None,
            request_id: None,
            detail: String::new(),
            chain: String::new(),
        }
    }

    /// Service, operation, error code and HTTP status: what decides whether a retry can help.
    pub fn key(&self) -> FailureKey<'_> {
        FailureKey {
            service: self.service,
            operation: self.operation.as_deref(),
            code: self.code.as_deref(),
            http_status: self.http_status,
        }
    }

    /// The same failure with the principal an access denial refused, when the service's message
    /// did not name it.
    pub fn with_principal(mut self, arn: &str) -> Self {
        if let Cause::AccessDenied { principal, .. } = &mut self.cause
            && principal.is_none()
        {
            *principal = Some(arn.to_owned());
        }
        self
    }

    /// The same failure with the endpoint override that was in effect, when it was not known
    /// where it was sorted.
    pub fn with_endpoint(mut self, known: Endpoint) -> Self {
        if let Cause::Unreachable { endpoint, .. } = &mut self.cause
            && endpoint.url.is_none()
        {
            *endpoint = known;
        }
        self
    }

    /// What `--verbose` adds below the line: the error chain, the request id and the fields.
    pub fn details(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.chain.is_empty() {
            lines.push(format!("error chain: {}", one_line(&self.chain)));
        }
        if let Some(id) = &self.request_id {
            lines.push(format!("request id: {id}"));
        }
        let mut fields = Vec::new();
        if let Some(service) = self.service {
            fields.push(format!("service {service}"));
        }
        if let Some(operation) = &self.operation {
            fields.push(format!("operation {operation}"));
        }
        if let Some(region) = &self.region {
            fields.push(format!("region {region}"));
        }
        if let Some(code) = &self.code {
            fields.push(format!("error code {code}"));
        }
        if let Some(status) = self.http_status {
            fields.push(format!("HTTP status {status}"));
        }
        if !fields.is_empty() {
            lines.push(fields.join(", "));
        }
        lines
    }

    /// `EKS DescribeCluster: ` when the failure is about a call.
    fn prefix(&self) -> String {
        match (self.service, &self.operation) {
            (Some(service), Some(operation)) => format!("{service} {operation}: "),
            (Some(service), None) => format!("{service}: "),
            _ => String::new(),
        }
    }

    /// ` (Code)` when the service answered with a code.
    fn code_note(&self) -> String {
        self.code
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default()
    }

    /// The service's region, or words for it.
    fn region_words(&self) -> &str {
        self.region.as_deref().unwrap_or("the configured region")
    }

    /// The sentence of a cause without a service answer of its own.
    fn write_cause(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code_note();
        match &self.cause {
            Cause::NoRegion => f.write_str(
                "no AWS region is set: set AWS_REGION or `region` in the AWS profile (or pass --region where the command takes it)",
            ),
            Cause::NoCredentials { profile } => write!(
                f,
                "no AWS credentials found (tried the environment, profile `{profile}` in ~/.aws, web identity, container and instance roles): set AWS_PROFILE (and run `aws sso login` for SSO) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ),
            Cause::CredentialsFailed { profile } => write!(
                f,
                "cannot load the AWS credentials of profile `{profile}`: {}: run `aws sso login --profile {profile}` if it uses SSO, or fix the profile (or set AWS_PROFILE to another)",
                clip(&self.detail)
            ),
            Cause::ExpiredCredentials => write!(
                f,
                "the AWS credentials have expired{code}: get new ones (`aws sso login`, or fresh AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN) and run again"
            ),
            Cause::UnknownAccessKey => write!(
                f,
                "AWS does not recognise the access key{code}: check AWS_ACCESS_KEY_ID (or the profile's key) and, for temporary credentials, AWS_SESSION_TOKEN"
            ),
            Cause::WrongSecret => write!(
                f,
                "the request signature does not match{code}: the secret key is not the access key's; check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key)"
            ),
            Cause::AccessDenied { principal, action } => match principal {
                Some(arn) => write!(
                    f,
                    "access denied{code}: {arn} may not call {action}; grant it {action} in an IAM policy"
                ),
                None => write!(
                    f,
                    "access denied{code}: the migrator's principal (`aws sts get-caller-identity` names it) may not call {action}; grant it {action} in an IAM policy"
                ),
            },
            Cause::TableMissing { table } => write!(
                f,
                "the state table `{table}` does not exist in {}: create it (--create-table, on a local stack) or name the deployed stack's TableName output (--table or EAM_TABLE)",
                self.region_words()
            ),
            Cause::Unreachable { network, endpoint } => self.write_unreachable(f, *network, endpoint),
            Cause::Throttled => {
                write!(f, "throttled{code} beyond the SDK's retries: run again later")
            }
            Cause::Rejected => match (&self.code, &self.message) {
                (Some(code), Some(message)) => write!(f, "{code}: {}", clip(message)),
                (Some(code), None) => f.write_str(code),
                (None, Some(message)) => f.write_str(&clip(message)),
                (None, None) => write!(f, "refused: {}", clip(&self.detail)),
            },
            Cause::Unreadable => write!(
                f,
                "the answer could not be read ({}): check that the endpoint is the service's",
                clip(&self.detail)
            ),
            Cause::Other => f.write_str(&clip(&self.detail)),
        }
    }

    /// An unreachable service: where it was looked for and what to check.
    fn write_unreachable(
        &self,
        f: &mut fmt::Formatter<'_>,
        network: Network,
        endpoint: &Endpoint,
    ) -> fmt::Result {
        let what = network.describe();
        let detail = match network {
            Network::Tls | Network::Timeout | Network::Other if !self.detail.is_empty() => {
                format!(" ({})", clip(&self.detail))
            }
            _ => String::new(),
        };
        match (&endpoint.url, &endpoint.set_by) {
            (Some(url), Some(by)) => write!(
                f,
                "cannot reach {url} (set by {by}): {what}{detail}; check that it is right and answering, or unset it to use AWS's endpoint"
            ),
            (Some(url), None) => write!(
                f,
                "cannot reach {url}: {what}{detail}; check that it is right and answering"
            ),
            _ => {
                let service = self.service.map_or("the service", Service::name);
                write!(
                    f,
                    "cannot reach the {service} endpoint of {}: {what}{detail} (no AWS_ENDPOINT_URL* override is set); check the network, DNS and proxy (HTTPS_PROXY)",
                    self.region_words()
                )
            }
        }
    }
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cause {
            // Configuration problems come before any call: the call adds nothing.
            Cause::NoRegion | Cause::NoCredentials { .. } | Cause::CredentialsFailed { .. } => {}
            _ => f.write_str(&self.prefix())?,
        }
        self.write_cause(f)
    }
}

impl std::error::Error for CallFailure {}

/// `text` on one line (line breaks become spaces).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` on one line, cut at [`MESSAGE_LIMIT`] characters.
fn clip(text: &str) -> String {
    let line = one_line(text);
    if line.chars().count() <= MESSAGE_LIMIT {
        return line;
    }
    let cut: String = line.chars().take(MESSAGE_LIMIT).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings that only a `Debug` rendering of an SDK error produces.
    const DEBUG_MARKERS: [&str; 5] = [
        "{ source:",
        "DispatchFailure(",
        "SdkBody",
        "Response {",
        "Some(",
    ];

    fn call(service: Service, operation: &str, cause: Cause) -> CallFailure {
        CallFailure {
            service: Some(service),
            operation: Some(operation.to_owned()),
            region: Some("eu-west-1".to_owned()),
            ..CallFailure::new(cause)
        }
    }

    fn every_cause() -> Vec<CallFailure> {
        let long = "x".repeat(2_000);
        let mut rejected = call(Service::Eks, "CreateAccessEntry", Cause::Rejected);
        rejected.code = Some("InvalidParameterException".to_owned());
        rejected.message = Some(format!("The username must not begin with system:\n{long}"));
        let mut denied = call(
            Service::DynamoDb,
            "Query",
            Cause::AccessDenied {
                principal: Some("arn:aws:iam::123456789012:user/alice".to_owned()),
                action: "dynamodb:Query".to_owned(),
            },
        );
        denied.code = Some("AccessDeniedException".to_owned());
        let mut other = call(Service::Sqs, "SendMessage", Cause::Other);
        other.detail = long.clone();
        vec![
            CallFailure::new(Cause::NoRegion),
            CallFailure::new(Cause::NoCredentials {
                profile: "default".to_owned(),
            }),
            CallFailure {
                detail: "the SSO session has expired".to_owned(),
                ..CallFailure::new(Cause::CredentialsFailed {
                    profile: "dev".to_owned(),
                })
            },
            call(Service::Sts, "GetCallerIdentity", Cause::ExpiredCredentials),
            call(Service::Eks, "DescribeCluster", Cause::UnknownAccessKey),
            call(Service::Eks, "DescribeCluster", Cause::WrongSecret),
            denied,
            call(
                Service::DynamoDb,
                "Scan",
                Cause::TableMissing {
                    table: "nope".to_owned(),
                },
            ),
            call(
                Service::Eks,
                "DescribeCluster",
                Cause::Unreachable {
                    network: Network::Refused,
                    endpoint: Endpoint {
                        url: Some("http://127.0.0.1:9".to_owned()),
                        set_by: Some("AWS_ENDPOINT_URL_EKS".to_owned()),
                    },
                },
            ),
            call(
                Service::Eks,
                "DescribeCluster",
                Cause::Unreachable {
                    network: Network::Timeout,
                    endpoint: Endpoint::default(),
                },
            ),
            call(Service::Organizations, "ListAccounts", Cause::Throttled),
            rejected,
            call(Service::Ssm, "GetParameter", Cause::Unreadable),
            other,
        ]
    }

    #[test]
    fn every_cause_is_one_short_line_without_debug_markers() {
        for failure in every_cause() {
            let line = failure.to_string();
            assert!(!line.contains('\n'), "{line}");
            assert!(line.chars().count() < 260, "{} chars: {line}", line.len());
            for marker in DEBUG_MARKERS {
                assert!(!line.contains(marker), "{marker} in {line}");
            }
        }
    }

    #[test]
    fn each_line_says_what_to_do() {
        let expected = [
            "set AWS_REGION",
            "aws sso login",
            "aws sso login --profile dev",
            "aws sso login",
            "check AWS_ACCESS_KEY_ID",
            "check AWS_SECRET_ACCESS_KEY",
            "grant it dynamodb:Query",
            "--create-table",
            "or unset it",
            "check the network",
            "run again later",
            "InvalidParameterException: The username must not begin with system:",
            "check that the endpoint",
            "xxx",
        ];
        for (failure, words) in every_cause().iter().zip(expected) {
            let line = failure.to_string();
            assert!(line.contains(words), "`{words}` not in {line}");
        }
    }

    #[test]
    fn calls_are_named_and_configuration_problems_are_not() {
        let lines: Vec<String> = every_cause().iter().map(ToString::to_string).collect();
        assert!(lines[0].starts_with("no AWS region is set"));
        assert!(lines[1].starts_with("no AWS credentials found"));
        assert!(lines[1].contains("profile `default`"));
        assert!(!lines[1].contains("IMDS"), "{}", lines[1]);
        assert!(lines[3].starts_with("STS GetCallerIdentity: the AWS credentials have expired"));
        assert!(lines[6].contains("arn:aws:iam::123456789012:user/alice may not call"));
        assert!(lines[7].contains("`nope` does not exist in eu-west-1"));
        assert!(lines[8].starts_with(
            "EKS DescribeCluster: cannot reach http://127.0.0.1:9 (set by AWS_ENDPOINT_URL_EKS): the connection was refused"
        ));
        assert!(lines[9].contains("EKS endpoint of eu-west-1: no answer in time"));
        assert!(lines[9].contains("no AWS_ENDPOINT_URL* override is set"));
    }

    #[test]
    fn a_principal_or_endpoint_learnt_later_fills_only_what_is_missing() {
        let denied = call(
            Service::Sqs,
            "SendMessage",
            Cause::AccessDenied {
                principal: None,
                action: "sqs:SendMessage".to_owned(),
            },
        );
        assert!(denied.to_string().contains("aws sts get-caller-identity"));
        let named = denied.with_principal("arn:aws:iam::1:role/r");
        assert!(
            named
                .to_string()
                .contains("arn:aws:iam::1:role/r may not call sqs:SendMessage")
        );
        assert_eq!(
            named.clone().with_principal("arn:aws:iam::1:role/other"),
            named
        );
        let unreachable = call(
            Service::Eks,
            "ListClusters",
            Cause::Unreachable {
                network: Network::Dns,
                endpoint: Endpoint::default(),
            },
        )
        .with_endpoint(Endpoint {
            url: Some("https://eks.internal".to_owned()),
            set_by: Some("the AWS profile's endpoint_url".to_owned()),
        });
        assert!(unreachable.to_string().contains(
            "cannot reach https://eks.internal (set by the AWS profile's endpoint_url): the host name does not resolve"
        ));
    }

    #[test]
    fn the_key_and_details_carry_the_structured_fields() {
        let mut failure = call(Service::Eks, "UpdateClusterConfig", Cause::Throttled);
        failure.code = Some("ThrottlingException".to_owned());
        failure.http_status = Some(429);
        failure.request_id = Some("req-1".to_owned());
        failure.chain = "service error: ThrottlingException:\nRate exceeded".to_owned();
        assert_eq!(
            failure.key(),
            FailureKey {
                service: Some(Service::Eks),
                operation: Some("UpdateClusterConfig"),
                code: Some("ThrottlingException"),
                http_status: Some(429),
            }
        );
        assert_eq!(
            failure.details(),
            vec![
                "error chain: service error: ThrottlingException: Rate exceeded".to_owned(),
                "request id: req-1".to_owned(),
                "service EKS, operation UpdateClusterConfig, region eu-west-1, error code ThrottlingException, HTTP status 429".to_owned(),
            ]
        );
    }

    #[test]
    fn every_service_has_its_variable_and_action_prefix() {
        let all = [
            Service::Eks,
            Service::Iam,
            Service::Sts,
            Service::DynamoDb,
            Service::Sqs,
            Service::Organizations,
            Service::Ssm,
            Service::Lambda,
            Service::EventBridge,
            Service::SecurityHub,
        ];
        for service in all {
            assert!(service.endpoint_variable().starts_with("AWS_ENDPOINT_URL_"));
            assert!(!service.action_prefix().contains(':'));
        }
        assert_eq!(Service::EventBridge.action_prefix(), "events");
    }
}
