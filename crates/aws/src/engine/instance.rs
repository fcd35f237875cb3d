//! The [`Engine`]: what it holds over a run (the configuration, the store, the settings, the
//! lease, the temporary entry, the update followed, the steps taken…), its constructors, and
//! the bookkeeping every part of a run uses.

use super::interrupt::Interrupt;
use super::outcome::{EventsDelivered, Outcome, Progress, Report};
use super::rbac::RunRbac;
use super::settings::Settings;
use crate::notify::events::EventPublisher;
use crate::sdk_config::eks_client;
use crate::store::ClusterKey;
use crate::store::lease::{HeldLeases, Lease, ProcessId};
use crate::store::records::{ClusterRecord, ClusterState};
use crate::store::table::StateStore;
use eks_auth_core::facts::ExistingEntry;
use eks_auth_core::plan::Plan;
use eks_auth_core::state::{Mode, Phase};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

/// The engine over one account's configuration (credentials of, or assumed into, the
/// cluster's account) and the state store.
pub struct Engine<'a> {
    pub(super) config: &'a aws_config::SdkConfig,
    pub(super) store: &'a StateStore,
    pub(super) settings: &'a Settings,
    pub(super) eks: aws_sdk_eks::Client,
    pub(super) calls: AtomicU32,
    ids: AtomicU32,
    steps: Mutex<Vec<String>>,
    /// The lease while a run holds it (renewed before each step and during long steps).
    pub(super) lease: Mutex<Option<Lease>>,
    /// The principal of the temporary self-granted entry to delete when the run ends.
    temporary: Mutex<Option<String>>,
    /// The EKS update the run is waiting for, when it waits for one.
    following: Mutex<Option<String>>,
    /// This process, recorded in the leases it takes (same-host takeover after a crash).
    pub(super) process: Option<ProcessId>,
    /// Asks the run to stop before its next step.
    pub(super) interrupt: Interrupt,
    /// Where the process keeps the leases it holds (released at shutdown).
    pub(super) held_leases: Option<HeldLeases>,
    /// The cluster's RBAC, read once per run.
    pub(super) rbac: Mutex<Option<RunRbac>>,
    /// Where phase-change events go (`None`: they stay recorded on the cluster for a run that
    /// has a bus, e.g. the CLI's runs are delivered by the next worker run).
    pub(super) publisher: Option<&'a EventPublisher>,
    /// This run's ID (groups the transitions it records into one event).
    pub(super) run_id: Mutex<String>,
    /// Entries the step being saved re-created after they had been verified (drift).
    pub(super) restoring: AtomicU32,
    /// The cluster's record as last read or saved in this run (its outbox is delivered at the
    /// end).
    pub(super) latest: Mutex<Option<ClusterRecord>>,
}

impl<'a> Engine<'a> {
    /// An engine for clusters reachable with `config`.
    pub fn new(
        config: &'a aws_config::SdkConfig,
        store: &'a StateStore,
        settings: &'a Settings,
    ) -> Self {
        Self {
            config,
            store,
            settings,
            eks: eks_client(config),
            calls: AtomicU32::new(0),
            ids: AtomicU32::new(0),
            steps: Mutex::new(Vec::new()),
            lease: Mutex::new(None),
            temporary: Mutex::new(None),
            following: Mutex::new(None),
            process: ProcessId::current(),
            interrupt: Interrupt::default(),
            held_leases: None,
            rbac: Mutex::new(None),
            publisher: None,
            run_id: Mutex::new(String::new()),
            restoring: AtomicU32::new(0),
            latest: Mutex::new(None),
        }
    }

    /// Puts the phase-change events of every run on `publisher`'s bus at the end of the run.
    pub fn with_publisher(mut self, publisher: &'a EventPublisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// Registers every lease this engine takes in `held` until it releases it, so the process
    /// can release them when it is shut down.
    pub fn with_held_leases(mut self, held: HeldLeases) -> Self {
        self.held_leases = Some(held);
        self
    }

    /// Stops runs before their next step once `interrupt` is requested (the call in flight
    /// completes and is audited first); the run reports [`Outcome::Interrupted`].
    pub fn with_interrupt(mut self, interrupt: Interrupt) -> Self {
        self.interrupt = interrupt;
        self
    }
}

impl Engine<'_> {
    /// Counts and step lines are per run.
    pub(super) fn start_run(&self) {
        self.calls.store(0, Ordering::SeqCst);
        self.restoring.store(0, Ordering::SeqCst);
        self.set_following(None);
        if let Ok(mut rbac) = self.rbac.lock() {
            *rbac = None;
        }
        if let Ok(mut run) = self.run_id.lock() {
            *run = self.new_id();
        }
        if let Ok(mut latest) = self.latest.lock() {
            *latest = None;
        }
        if let Ok(mut steps) = self.steps.lock() {
            steps.clear();
        }
    }

    /// Records the EKS update the run waits for (`None`: none).
    pub(super) fn set_following(&self, update: Option<String>) {
        if let Ok(mut f) = self.following.lock() {
            *f = update;
        }
    }

    /// Records the temporary entry to delete when the run ends (`None`: none).
    pub(super) fn set_temporary(&self, principal: Option<String>) {
        if let Ok(mut t) = self.temporary.lock() {
            *t = principal;
        }
    }

    /// The temporary entry to delete when the run ends.
    pub(super) fn temporary(&self) -> Option<String> {
        self.temporary.lock().ok().and_then(|t| t.clone())
    }

    /// Tells the person watching, logs, and keeps the line for the report.
    pub(super) fn note(&self, progress: Progress<'_>, line: String) {
        progress(&line);
        tracing::info!(step = %line, "engine step");
        if let Ok(mut steps) = self.steps.lock() {
            steps.push(line);
        }
    }

    /// A unique ID for an audit record (also the EKS clientRequestToken of its call).
    pub(super) fn new_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::SeqCst);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let worker: String = self
            .settings
            .worker_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        format!("{worker}-{nanos:x}-{n}")
    }

    /// The run's report so far, ending with `outcome`.
    pub(super) fn report(
        &self,
        key: &ClusterKey,
        mode: Mode,
        state: Option<&ClusterState>,
        outcome: Outcome,
        plan: Option<Plan>,
        outside_aws_auth: Vec<ExistingEntry>,
    ) -> Report {
        Report {
            key: key.clone(),
            mode,
            phase: state.map_or(Phase::Discovered, |s| s.phase),
            authentication_mode: state.and_then(|s| s.authentication_mode),
            outcome,
            steps: self.steps.lock().map(|s| s.clone()).unwrap_or_default(),
            mutating_calls: self.calls.load(Ordering::SeqCst),
            plan,
            outside_aws_auth,
            update: self.following.lock().ok().and_then(|f| f.clone()),
            events: EventsDelivered::default(),
        }
    }
}
