//! How this crate builds its AWS SDK clients from the shared configuration (region, credentials
//! and endpoints as aws-config resolved them): adaptive retry, timeouts on every attempt and
//! operation, and the call counters behind the throttle and retry metrics.

use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::Duration;

/// Adaptive retry: 6 attempts, backing off from 200 ms up to 20 s.
pub(crate) fn retry() -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

/// Connect within 10 s.
const CONNECT: Duration = Duration::from_secs(10);
/// Read, and finish an attempt, within 30 s.
const ATTEMPT: Duration = Duration::from_secs(30);
/// Finish an operation (retries included) within 2 minutes.
const OPERATION: Duration = Duration::from_secs(120);

/// Connect and read within 10 and 30 s, an attempt within 30 s, an operation (retries
/// included) within 2 minutes.
pub(crate) fn timeouts() -> TimeoutConfig {
    within(OPERATION)
}

/// [`timeouts`], shortened to the shared configuration's operation timeout when it sets a
/// shorter one (the CLI's `--call-timeout`): no client waits longer than the caller asked.
pub(crate) fn timeouts_for(config: &aws_config::SdkConfig) -> TimeoutConfig {
    let asked = config
        .timeout_config()
        .and_then(|t| t.operation_timeout())
        .unwrap_or(OPERATION);
    within(asked.min(OPERATION))
}

/// The timeouts of an operation that must end within `limit`.
fn within(limit: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT.min(limit))
        .read_timeout(ATTEMPT.min(limit))
        .operation_attempt_timeout(ATTEMPT.min(limit))
        .operation_timeout(limit)
        .build()
}

/// An EKS client from the shared configuration with adaptive retry and timeouts.
pub(crate) fn eks_client(config: &aws_config::SdkConfig) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(config)
            .retry_config(retry())
            .timeout_config(timeouts_for(config))
            .interceptor(crate::notify::call_stats::CountCalls)
            .build(),
    )
}

/// An IAM client's configuration, before credentials of another account may replace the shared
/// ones.
pub(crate) fn iam_config(config: &aws_config::SdkConfig) -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::from(config)
        .retry_config(retry())
        .timeout_config(timeouts_for(config))
        .interceptor(crate::notify::call_stats::CountCalls)
}

/// An STS client's configuration.
pub(crate) fn sts_config(config: &aws_config::SdkConfig) -> aws_sdk_sts::config::Builder {
    aws_sdk_sts::config::Builder::from(config)
        .retry_config(retry())
        .timeout_config(timeouts_for(config))
}
