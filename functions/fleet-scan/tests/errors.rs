//! The fleet-scan handler's failures through the real SDK: no region, a refused connection, an
//! endpoint that never answers, expired credentials, a wrong secret and an access denial each
//! end the invocation with one line under 300 characters that names what to do, and the log
//! carries the reason with its structured fields (service, operation, error code, request id),
//! never a `Debug` dump.

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use eks_auth_aws::fleet::environment::FunctionEnv;
use eks_sim::canned::{self, ErrorAnswer};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The function's environment (its table, queue, parameter and member role).
fn env() -> FunctionEnv {
    FunctionEnv::from_lookup(|name| {
        match name {
            "TABLE_NAME" => Some("eam"),
            "QUEUE_URL" => Some("http://127.0.0.1:9/000000000000/eam-jobs"),
            "CONFIG_PARAMETER" => Some("/eks-auth-migrator/config"),
            "MEMBER_ROLE_NAME" => Some("eks-auth-migrator-member"),
            _ => None,
        }
        .map(str::to_owned)
    })
    .expect("environment")
}

/// The function's configuration: `endpoint` for every service, `region` when given, static
/// credentials, and a call timeout of `timeout_secs`.
fn timed_config(endpoint: &str, region: Option<&str>, timeout_secs: u64) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIAEXAMPLEKEY000001",
            "example-secret",
            None,
            None,
            "test",
        )))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(timeout_secs))
                .build(),
        );
    if let Some(region) = region {
        builder = builder.region(Region::new(region.to_owned()));
    }
    builder.build()
}

/// [`timed_config`] with a one-second call timeout.
fn config(endpoint: &str, region: Option<&str>) -> SdkConfig {
    timed_config(endpoint, region, 1)
}

/// A log writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the handler against `config`; its error's text and what it logged.
async fn failed_scan(config: SdkConfig) -> (String, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let deps = fleet_scan::Deps::new(config, env());
    let input =
        json!({ "version": 1, "source": "eks-auth-migrator.schedule", "kind": "fleet-scan" });
    let result = {
        let _guard = tracing::subscriber::set_default(subscriber);
        fleet_scan::handle(&deps, &input, Instant::now() + Duration::from_secs(60)).await
    };
    let error = result.expect_err("the scan fails").to_string();
    let log = String::from_utf8_lossy(&captured.0.lock().expect("log buffer")).into_owned();
    (error, log)
}

/// Asserts `error` is one short line with every one of `words` and no Debug marker.
fn assert_one_line(error: &str, words: &[&str]) {
    eks_sim::one_line::assert_one_line("the scan's error", error, words);
}

/// Asserts the log holds the failure's structured fields and no Debug marker.
fn assert_logged(log: &str, fields: &[&str]) {
    if let Some(marker) = eks_sim::one_line::debug_marker(log) {
        panic!("`{marker}` in the log:\n{log}");
    }
    for field in fields {
        assert!(log.contains(field), "`{field}` not in the log:\n{log}");
    }
}

#[tokio::test]
async fn no_region_is_one_line_naming_the_variable() {
    let (error, log) = failed_scan(config("http://127.0.0.1:9", None)).await;
    assert_one_line(&error, &["no AWS region is set", "AWS_REGION"]);
    assert_logged(&log, &["cannot read the configuration document"]);
}

#[tokio::test]
async fn a_refused_connection_and_a_silent_endpoint_are_named() {
    let refused = canned::refusing().await;
    // Time for the SDK's retries of the refused connection.
    let (error, log) = failed_scan(timed_config(&refused, Some("us-east-1"), 60)).await;
    assert_one_line(
        &error,
        &[
            "SSM GetParameter: cannot reach",
            "the connection was refused",
        ],
    );
    assert_logged(&log, &["service=\"SSM\"", "operation=\"GetParameter\""]);
    let silent = canned::silent().await;
    let (error, _) = failed_scan(config(&silent.url(), Some("us-east-1"))).await;
    assert_one_line(
        &error,
        &["SSM GetParameter: cannot reach", "no answer in time"],
    );
}

#[tokio::test]
async fn refusals_by_the_service_name_what_to_do_and_log_their_fields() {
    let cases = [
        (
            "ExpiredTokenException",
            "The security token included in the request is expired",
            "the AWS credentials have expired",
        ),
        (
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
            "check AWS_SECRET_ACCESS_KEY",
        ),
        (
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/eam-fleet-scan/fn is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/eks-auth-migrator/config",
            "arn:aws:sts::123456789012:assumed-role/eam-fleet-scan/fn may not call ssm:GetParameter; grant it ssm:GetParameter",
        ),
    ];
    for (code, message, words) in cases {
        let endpoint = canned::answering(ErrorAnswer {
            status: 400,
            code: code.to_owned(),
            message: message.to_owned(),
            request_id: format!("req-{code}"),
        })
        .await;
        let (error, log) = failed_scan(config(&endpoint.url(), Some("us-east-1"))).await;
        assert_one_line(&error, &["/eks-auth-migrator/config", words]);
        assert!(
            !error.contains("req-"),
            "the request id is a log field: {error}"
        );
        assert_logged(
            &log,
            &[
                &format!("error_code=\"{code}\""),
                &format!("request_id=\"req-{code}\""),
                "service=\"SSM\"",
                "http_status=400",
            ],
        );
    }
}
