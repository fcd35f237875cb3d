//! Counts of AWS calls for the worker's metrics: operations, attempts (so retries) and
//! throttling answers, counted by an SDK interceptor on the EKS and IAM clients the engine
//! builds. Process-wide counters: a function reads them before and after each run (the worker
//! runs one cluster at a time).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicU64, Ordering};

static OPERATIONS: AtomicU64 = AtomicU64::new(0);
static ATTEMPTS: AtomicU64 = AtomicU64::new(0);
static THROTTLES: AtomicU64 = AtomicU64::new(0);

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Operations started.
    pub operations: u64,
    /// Attempts made (the first of each operation included).
    pub attempts: u64,
    /// Answers that were throttling errors.
    pub throttles: u64,
}

impl CallStats {
    /// The counters now.
    pub fn now() -> Self {
        Self {
            operations: OPERATIONS.load(Ordering::Relaxed),
            attempts: ATTEMPTS.load(Ordering::Relaxed),
            throttles: THROTTLES.load(Ordering::Relaxed),
        }
    }

    /// Retries (attempts beyond the first of their operation) since `earlier`.
    pub fn retries_since(&self, earlier: &CallStats) -> u64 {
        let attempts = self.attempts.saturating_sub(earlier.attempts);
        let operations = self.operations.saturating_sub(earlier.operations);
        attempts.saturating_sub(operations)
    }

    /// Throttling answers since `earlier`.
    pub fn throttles_since(&self, earlier: &CallStats) -> u64 {
        self.throttles.saturating_sub(earlier.throttles)
    }
}

/// The interceptor that feeds [`CallStats`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CountCalls;

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "eks-auth-migrator call counter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        OPERATIONS.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        ATTEMPTS.fetch_add(1, Ordering::Relaxed);
        if let Some(response) = context.response() {
            // 429 (EKS, most REST services) or a throttling error type (JSON protocols).
            let kind = response
                .headers()
                .get("x-amzn-errortype")
                .unwrap_or_default();
            if response.status().as_u16() == 429
                || kind.starts_with("Throttling")
                || kind.starts_with("TooManyRequests")
            {
                THROTTLES.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}
