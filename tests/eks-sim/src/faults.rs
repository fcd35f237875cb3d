//! Fault injection for the EKS API and the per-cluster Kubernetes APIs: latency, throttling
//! (probability or token bucket), 5xx and connection resets, per operation or for all (`"*"`
//! for EKS, `"Kubernetes:*"` for Kubernetes), optionally for the next N calls.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A token bucket: `rate_per_sec` tokens refill per second up to `burst`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBucket {
    /// Refill rate.
    pub rate_per_sec: f64,
    /// Capacity (and initial fill).
    pub burst: f64,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    /// Operation name (e.g. `AssociateAccessPolicy`, `Kubernetes:update`), `*` for every EKS
    /// operation or `Kubernetes:*` for every Kubernetes API call.
    pub operation: String,
    /// Added latency before the response.
    pub latency_ms: u64,
    /// Probability (0–1) of a 429 ThrottlingException.
    pub throttle_probability: f64,
    /// Throttle calls above this rate.
    pub token_bucket: Option<TokenBucket>,
    /// Probability (0–1) of a 5xx error.
    pub error_probability: f64,
    /// Status of injected 5xx errors (500 ServerException, 503 ServiceUnavailableException).
    pub error_status: u16,
    /// Probability (0–1) of closing the connection without a response.
    pub reset_probability: f64,
    /// Apply only to this many more matching calls (unlimited when absent).
    pub remaining: Option<u64>,
}

impl Default for FaultRule {
    fn default() -> Self {
        Self {
            operation: "*".to_owned(),
            latency_ms: 0,
            throttle_probability: 0.0,
            token_bucket: None,
            error_probability: 0.0,
            error_status: 500,
            reset_probability: 0.0,
            remaining: None,
        }
    }
}

/// The fault configuration the admin API reads and writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the pseudo-random generator behind the probabilities (reproducible runs).
    pub seed: u64,
    /// Rules, all of which apply to a matching call.
    pub rules: Vec<FaultRule>,
}

/// What to do with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Serve it.
    Serve,
    /// 429 ThrottlingException.
    Throttle,
    /// A 5xx error with this status.
    ServerError(u16),
    /// Close the connection without answering.
    Reset,
}

/// A decision: an outcome after a delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Delay before acting.
    pub latency: Duration,
    /// What to do.
    pub outcome: Outcome,
}

#[derive(Debug)]
struct RuleState {
    rule: FaultRule,
    tokens: f64,
    refilled: Instant,
}

/// Live fault state.
#[derive(Debug)]
pub struct Faults {
    config: FaultConfig,
    rules: Vec<RuleState>,
    rng: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new(FaultConfig::default())
    }
}

impl Faults {
    /// Installs `config`, resetting buckets and the random sequence.
    pub fn new(config: FaultConfig) -> Self {
        let now = Instant::now();
        let rules = config
            .rules
            .iter()
            .map(|r| RuleState {
                rule: r.clone(),
                tokens: r.token_bucket.as_ref().map_or(0.0, |b| b.burst),
                refilled: now,
            })
            .collect();
        Self {
            rng: config.seed ^ 0x2545_f491_4f6c_dd1d,
            config,
            rules,
        }
    }

    /// The configuration as installed (with `remaining` counts as they are now).
    pub fn config(&self) -> FaultConfig {
        FaultConfig {
            seed: self.config.seed,
            rules: self.rules.iter().map(|r| r.rule.clone()).collect(),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        (x as f64) / ((1u64 << 53) as f64) < p
    }

    /// Decides the fate of one call to `operation` at `now`.
    pub fn decide(&mut self, operation: &str, now: Instant) -> Decision {
        let mut decision = Decision {
            latency: Duration::ZERO,
            outcome: Outcome::Serve,
        };
        for i in 0..self.rules.len() {
            let state = &mut self.rules[i];
            if !matches(&state.rule.operation, operation) {
                continue;
            }
            match &mut state.rule.remaining {
                Some(0) => continue,
                Some(n) => *n -= 1,
                None => {}
            }
            let rule = state.rule.clone();
            decision.latency += Duration::from_millis(rule.latency_ms);
            let over_rate = match &rule.token_bucket {
                Some(bucket) => {
                    let elapsed = now.saturating_duration_since(state.refilled).as_secs_f64();
                    state.tokens = (state.tokens + elapsed * bucket.rate_per_sec).min(bucket.burst);
                    state.refilled = now;
                    if state.tokens >= 1.0 {
                        state.tokens -= 1.0;
                        false
                    } else {
                        true
                    }
                }
                None => false,
            };
            if decision.outcome != Outcome::Serve {
                continue;
            }
            decision.outcome = if self.chance(rule.reset_probability) {
                Outcome::Reset
            } else if over_rate || self.chance(rule.throttle_probability) {
                Outcome::Throttle
            } else if self.chance(rule.error_probability) {
                Outcome::ServerError(rule.error_status)
            } else {
                Outcome::Serve
            };
        }
        decision
    }
}

/// Does a rule for `rule_operation` apply to `operation`? `*` means every EKS operation,
/// `Kubernetes:*` every Kubernetes API call (`Kubernetes:get`, `Kubernetes:update`, ...).
fn matches(rule_operation: &str, operation: &str) -> bool {
    match rule_operation {
        "*" => !operation.starts_with("Kubernetes:"),
        "Kubernetes:*" => operation.starts_with("Kubernetes:"),
        exact => exact == operation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_limits_a_certain_fault() {
        let mut f = Faults::new(FaultConfig {
            seed: 1,
            rules: vec![FaultRule {
                operation: "ListClusters".to_owned(),
                throttle_probability: 1.0,
                remaining: Some(2),
                ..FaultRule::default()
            }],
        });
        let now = Instant::now();
        assert_eq!(f.decide("DescribeCluster", now).outcome, Outcome::Serve);
        assert_eq!(f.decide("ListClusters", now).outcome, Outcome::Throttle);
        assert_eq!(f.decide("ListClusters", now).outcome, Outcome::Throttle);
        assert_eq!(f.decide("ListClusters", now).outcome, Outcome::Serve);
    }

    #[test]
    fn star_means_eks_and_kubernetes_star_means_kubernetes() {
        assert!(matches("*", "DescribeCluster"));
        assert!(!matches("*", "Kubernetes:get"));
        assert!(matches("Kubernetes:*", "Kubernetes:update"));
        assert!(!matches("Kubernetes:*", "DescribeCluster"));
        assert!(matches("Kubernetes:get", "Kubernetes:get"));
        assert!(!matches("Kubernetes:get", "Kubernetes:list"));
    }

    #[test]
    fn token_bucket_throttles_above_the_rate() {
        let mut f = Faults::new(FaultConfig {
            seed: 1,
            rules: vec![FaultRule {
                token_bucket: Some(TokenBucket {
                    rate_per_sec: 1.0,
                    burst: 2.0,
                }),
                ..FaultRule::default()
            }],
        });
        let now = Instant::now();
        assert_eq!(f.decide("X", now).outcome, Outcome::Serve);
        assert_eq!(f.decide("X", now).outcome, Outcome::Serve);
        assert_eq!(f.decide("X", now).outcome, Outcome::Throttle);
        let later = now + Duration::from_millis(1_100);
        assert_eq!(f.decide("X", later).outcome, Outcome::Serve);
    }

    #[test]
    fn probabilities_are_roughly_honoured() {
        let mut f = Faults::new(FaultConfig {
            seed: 7,
            rules: vec![FaultRule {
                error_probability: 0.25,
                ..FaultRule::default()
            }],
        });
        let now = Instant::now();
        let errors = (0..4000)
            .filter(|_| f.decide("X", now).outcome != Outcome::Serve)
            .count();
        assert!((800..1200).contains(&errors), "{errors}");
    }
}
