//! How a run ends and what it reports: [`Outcome`], [`Report`], [`EventsDelivered`], the
//! [`Progress`] lines a person watches, and how each part of a pass hands over to the next
//! (`Flow`).

use crate::store::ClusterKey;
use eks_auth_core::facts::{AuthenticationMode, ExistingEntry};
use eks_auth_core::plan::Plan;
use eks_auth_core::state::{Mode, Phase};
use std::time::{Duration, SystemTime};

/// Progress lines for a person watching (the CLI prints them; Lambdas log them).
pub type Progress<'p> = &'p (dyn Fn(&str) + Sync);

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing more to do in this mode.
    Done,
    /// Come back after `retry_after` (an EKS update in progress, the soak, a cluster that is
    /// not ACTIVE).
    Waiting {
        /// What it waits for.
        reason: String,
        /// When to look again.
        retry_after: Duration,
    },
    /// Stopped until a person acts; the reason is recorded on the cluster.
    Blocked(String),
    /// Another worker holds the cluster's lease.
    Busy {
        /// The holder.
        holder: String,
        /// Until when.
        until: SystemTime,
    },
    /// A step failed; recorded as `FAILED_RETRYABLE` with this error; a later run retries.
    Failed(String),
    /// A failure no retry can heal (`eks_auth_core::failure_decision::decide`): recorded as
    /// `FAILED_TERMINAL` with its reason and what to do, and notified; a new scan or an
    /// explicit `apply` retries once a person acted. A run that may not retry it
    /// ([`eks_auth_core::state::Trigger::Continue`]) ends here too, changing nothing.
    FailedTerminal {
        /// What cannot heal.
        reason: String,
        /// What a person does about it.
        what_to_do: String,
    },
    /// The deadline came before the work was done; a later run continues.
    OutOfTime,
    /// Stopped on request ([`super::Interrupt`], e.g. SIGINT or SIGTERM) after the call in
    /// flight completed and was audited; the phase is saved and the lease released, so a new
    /// run continues at once.
    Interrupted,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The cluster.
    pub key: ClusterKey,
    /// The mode it ran in.
    pub mode: Mode,
    /// The phase recorded at the end.
    pub phase: Phase,
    /// The authentication mode last observed.
    pub authentication_mode: Option<AuthenticationMode>,
    /// How it ended.
    pub outcome: Outcome,
    /// One line per step taken.
    pub steps: Vec<String>,
    /// EKS and Kubernetes write calls made (each one audited).
    pub mutating_calls: u32,
    /// The last plan computed.
    pub plan: Option<Plan>,
    /// STANDARD entries for principals aws-auth does not name, not created by the migrator
    /// (the cluster creator's admin entry shows up here after the first switch). Never changed.
    pub outside_aws_auth: Vec<ExistingEntry>,
    /// The EKS update the run found in progress when it stopped to wait (its own switch, or an
    /// update someone else started).
    pub update: Option<String>,
    /// What became of the cluster's phase-change events at the end of the run.
    pub events: EventsDelivered,
}

/// Phase-change and drift events at the end of a run ([`crate::notify::events`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventsDelivered {
    /// Events EventBridge accepted.
    pub published: usize,
    /// Events it did not accept (or could not be asked): their transitions stay on the record
    /// and a later run sends them.
    pub not_delivered: usize,
}

/// How a part of the pass ends: go on with its result, start the pass again, or stop the run.
pub(super) enum Flow<T> {
    /// Go on.
    Go(T),
    /// Observe again (temporary access was just granted).
    Again,
    /// The run ends with this report.
    Stop(Box<Report>),
}
