//! The fleet's outward signals, at the edge: EMF metric lines on standard output
//! ([`metrics`]), phase-change events on the central bus ([`events`]), Security Hub findings in
//! the clusters' accounts ([`security_hub`]), and the SDK call counters the metrics report
//! ([`call_stats`]). What they say is decided in `eks_auth_core::notify`.

pub mod call_stats;
pub mod events;
pub mod metrics;
pub mod security_hub;
