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

/// Connect and read within 10 and 30 s, an attempt within 30 s, an operation (retries
/// included) within 2 minutes.
pub(crate) fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(30))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(120))
        .build()
}

/// An EKS client from the shared configuration with adaptive retry and timeouts.
pub(crate) fn eks_client(config: &aws_config::SdkConfig) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(config)
            .retry_config(retry())
            .timeout_config(timeouts())
            .interceptor(crate::notify::call_stats::CountCalls)
            .build(),
    )
}

/// An IAM client's configuration, before credentials of another account may replace the shared
/// ones.
pub(crate) fn iam_config(config: &aws_config::SdkConfig) -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::from(config)
        .retry_config(retry())
        .timeout_config(timeouts())
        .interceptor(crate::notify::call_stats::CountCalls)
}

/// An STS client's configuration.
pub(crate) fn sts_config(config: &aws_config::SdkConfig) -> aws_sdk_sts::config::Builder {
    aws_sdk_sts::config::Builder::from(config)
        .retry_config(retry())
        .timeout_config(timeouts())
}
