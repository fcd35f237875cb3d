//! The live migration engine: advances one cluster through the state machine of
//! `eks_auth_core::state`, one step at a time, under the cluster's lease.
//!
//! Each iteration observes the cluster afresh (the update being followed, then a full
//! [`crate::live::gather`]), plans, asks `eks_auth_core::state::next` for one step, performs it
//! with every mutating call recorded in the audit trail before and after, and saves the new
//! phase conditionally on the record's version and the lease. A run stops when the step is to
//! wait (an EKS update in progress, the soak), when nothing is left to do, when something
//! blocks, when a step fails (recorded as `FAILED_RETRYABLE` with its error, or as
//! `FAILED_TERMINAL` with what to do when `eks_auth_core::failure_decision::decide` says no
//! retry can heal it) or when the deadline is near. It never blocks for minutes: the caller comes back later
//! ([`Outcome::Waiting`]).
//!
//! Resuming after a crash at any point is safe: the next run reconciles the crashed run's open
//! audit records against what it observes, and every decision is re-derived from the cluster
//! itself, so a switch already requested, an entry already created or a prune already written is
//! never repeated.
//!
//! Layout, bottom up: the vocabulary (`settings`, `outcome`, `error`, `interrupt`, `rbac`,
//! `plan_counts`, `step_failure`), the [`Engine`] itself (`instance`), then the parts of a run, each an
//! `impl Engine` block: `lease`, `save`, `audit_trail`, `eks_write`, `steps`, `self_grant`,
//! `forbidden`, `reach`, `inventory`, `outbox`, `observe`, `pass`, and the entry points `run`
//! and `rollback`.

mod audit_trail;
mod eks_write;
mod error;
mod forbidden;
mod instance;
mod interrupt;
mod inventory;
mod lease;
mod observe;
mod outbox;
mod outcome;
mod pass;
mod plan_counts;
mod rbac;
mod reach;
mod rollback;
mod run;
mod save;
mod self_grant;
mod settings;
mod step_failure;
mod steps;

pub use error::EngineError;
pub use instance::Engine;
pub use interrupt::Interrupt;
pub use outcome::{EventsDelivered, Outcome, Progress, Report};
pub use rollback::RollbackReport;
pub use self_grant::TEMPORARY_USERNAME;
pub use settings::Settings;
