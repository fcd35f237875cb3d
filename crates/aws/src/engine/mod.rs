//! The live migration engine: advances one cluster through the state machine of
//! `eks_auth_core::state`, one step at a time, under the cluster's lease.
//!
//! Each iteration observes the cluster afresh (the update being followed, then a full
//! [`crate::live::gather`]), plans, asks [`next`] for one step, performs it with every mutating
//! call recorded in the audit log before and after, and saves the new phase conditionally on
//! the record's version and the lease. A run stops when the step is to wait (an EKS update in
//! progress, the soak), when nothing is left to do, when something blocks, when a step fails
//! (recorded as `FAILED_RETRYABLE` with its error) or when the deadline is near. It never
//! blocks for minutes: the caller comes back later ([`Outcome::Waiting`]).
//!
//! Resuming after a crash at any point is safe: the next run reconciles the crashed run's open
//! audit records against what it observes, and every decision is re-derived from the cluster
//! itself, so a switch already requested, an entry already created or a prune already written is
//! never repeated.

mod audit;
mod eks_write;
mod error;
mod interrupt;
mod inventory;
mod outbox;
mod pass;
mod rbac;
mod reach;
mod rollback;
mod self_grant;
mod steps;

pub use error::EngineError;
pub use interrupt::Interrupt;
pub use rollback::RollbackReport;
pub use self_grant::TEMPORARY_USERNAME;

use crate::ids::{AccountId, ClusterName, Region};
use crate::live::{self, GatherError, GatherOptions};
use crate::process::ProcessId;
use crate::store::error::StoreError;
use crate::store::records::{ClusterRecord, ClusterState, Counts};
use crate::store::{
    ClusterKey, StateStore,
    lease::{HeldLeases, Lease},
};
use eks_auth_core::facts::{AuthenticationMode, ExistingEntry};
use eks_auth_core::finding::{FindingCode, Severity};
use eks_auth_core::plan::{Action, Plan};
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::state::{BlockReason, Mode, Phase, Step};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// How the engine behaves; the same for every cluster of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This worker's ID (lease owner, audit IDs).
    pub worker_id: String,
    /// How long a lease lasts without renewal (renewed before every step).
    pub lease_ttl: Duration,
    /// How long finalize waits after verification before pruning aws-auth.
    pub soak: Duration,
    /// How long audit records are kept (the table's TTL removes them after).
    pub audit_retention: Duration,
    /// When to look again at an EKS update in progress.
    pub update_poll: Duration,
    /// Stop starting steps when less than this is left before the deadline.
    pub step_margin: Duration,
    /// Gather options (the member role for cross-account IAM lookups).
    pub gather: GatherOptions,
    /// The migration policy (group → policy maps, usernames).
    pub policy: MigrationPolicy,
    /// The principal whose cluster-admin entry is the break-glass entry; `None`: any
    /// cluster-admin entry the migrator created from a `system:masters` row.
    pub break_glass_principal: Option<String>,
    /// When the Kubernetes API refuses the migrator on an API_AND_CONFIG_MAP cluster, grant its
    /// own principal a temporary entry (edit in kube-system) for the run, deleted at its end.
    pub self_grant: bool,
}

impl Settings {
    /// Defaults: 5-minute lease, 7-day soak, 90-day audit retention, polls every 30 s.
    pub fn new(worker_id: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            lease_ttl: Duration::from_secs(300),
            soak: Duration::from_secs(7 * 24 * 3600),
            audit_retention: Duration::from_secs(90 * 24 * 3600),
            update_poll: Duration::from_secs(30),
            step_margin: Duration::from_secs(20),
            gather: GatherOptions::default(),
            policy: MigrationPolicy::default(),
            break_glass_principal: None,
            self_grant: false,
        }
    }
}

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
    /// The deadline came before the work was done; a later run continues.
    OutOfTime,
    /// Stopped on request ([`Interrupt`], e.g. SIGINT or SIGTERM) after the call in flight
    /// completed and was audited; the phase is saved and the lease released, so a new run
    /// continues at once.
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

/// The engine over one account's configuration (credentials of, or assumed into, the
/// cluster's account) and the state store.
pub struct Engine<'a> {
    config: &'a aws_config::SdkConfig,
    store: &'a StateStore,
    settings: &'a Settings,
    eks: aws_sdk_eks::Client,
    calls: AtomicU32,
    ids: AtomicU32,
    steps: Mutex<Vec<String>>,
    /// The lease while a run holds it (renewed before each step and during long steps).
    lease: Mutex<Option<Lease>>,
    /// The principal of the temporary self-granted entry to delete when the run ends.
    temporary: Mutex<Option<String>>,
    /// The EKS update the run is waiting for, when it waits for one.
    following: Mutex<Option<String>>,
    /// This process, recorded in the leases it takes (same-host takeover after a crash).
    process: Option<ProcessId>,
    /// Asks the run to stop before its next step.
    interrupt: Interrupt,
    /// Where the process keeps the leases it holds (released at shutdown).
    held_leases: Option<HeldLeases>,
    /// The cluster's RBAC, read once per run.
    rbac: Mutex<Option<rbac::RunRbac>>,
    /// Where phase-change events go (`None`: they stay recorded on the cluster for a run that
    /// has a bus, e.g. the CLI's runs are delivered by the next worker run).
    publisher: Option<&'a crate::notify::events::EventPublisher>,
    /// This run's ID (groups the transitions it records into one event).
    run_id: Mutex<String>,
    /// Entries the step being saved re-created after they had been verified (drift).
    restoring: AtomicU32,
    /// The cluster's record as last read or saved in this run (its outbox is delivered at the
    /// end).
    latest: Mutex<Option<ClusterRecord>>,
}

/// Progress lines for a person watching (the CLI prints them; Lambdas log them).
pub type Progress<'p> = &'p (dyn Fn(&str) + Sync);

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
            eks: live::eks_client(config),
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
    pub fn with_publisher(mut self, publisher: &'a crate::notify::events::EventPublisher) -> Self {
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

    fn set_following(&self, update: Option<String>) {
        if let Ok(mut f) = self.following.lock() {
            *f = update;
        }
    }

    /// Advances cluster `cluster` (in the configuration's region) in `mode` until it has to
    /// wait, is done, blocks, fails a step, or `deadline` is near.
    ///
    /// # Errors
    ///
    /// [`EngineError::Identify`] when the cluster cannot be described, [`EngineError::Store`]
    /// when the state store fails or the lease is lost mid-run (nothing further is done),
    /// [`EngineError::FailPoint`] in tests.
    pub async fn run(
        &self,
        cluster: &str,
        mode: Mode,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Report, EngineError> {
        self.start_run();
        let key = self.identify(cluster).await?;
        self.ensure_record(&key, mode).await?;
        let lease = match self.acquire(&key).await? {
            Ok(lease) => lease,
            Err(busy) => return Ok(self.report(&key, mode, None, busy, None, Vec::new())),
        };
        self.hold(lease);
        let result = self.drive(&key, mode, deadline, progress).await;
        if matches!(result, Err(EngineError::FailPoint(_))) {
            return result;
        }
        let delivered = match self.deliver_events(&key).await {
            Err(EngineError::FailPoint(p)) => return Err(EngineError::FailPoint(p)),
            Err(e) => {
                tracing::warn!(error = %e, "phase-change events not delivered; the next run sends them");
                EventsDelivered::default()
            }
            Ok(delivered) => delivered,
        };
        match self.revoke_self(&key, progress).await {
            Err(EngineError::FailPoint(p)) => return Err(EngineError::FailPoint(p)),
            Err(e) => {
                tracing::error!(error = %e, "could not record the removal of the temporary entry")
            }
            Ok(()) => {}
        }
        self.release().await;
        result.map(|mut report| {
            report.mutating_calls = self.calls.load(Ordering::SeqCst);
            report.events = delivered;
            report
        })
    }

    fn set_temporary(&self, principal: Option<String>) {
        if let Ok(mut t) = self.temporary.lock() {
            *t = principal;
        }
    }

    fn temporary(&self) -> Option<String> {
        self.temporary.lock().ok().and_then(|t| t.clone())
    }

    /// The Kubernetes API refused the migrator: in API mode aws-auth does not matter; in
    /// API_AND_CONFIG_MAP it may grant itself temporary access; otherwise the run fails with
    /// what to grant.
    async fn forbidden(
        &self,
        key: &ClusterKey,
        denial: String,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Forbidden, EngineError> {
        let described = match self
            .eks
            .describe_cluster()
            .name(key.name.as_ref())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return Ok(Forbidden::Fail(format!(
                    "{denial} (DescribeCluster: {})",
                    live::sdk_reason(&e)
                )));
            }
        };
        let cluster = described.cluster();
        let mode = cluster
            .and_then(|c| c.access_config())
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        let partition = cluster
            .and_then(|c| c.arn())
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or("aws")
            .to_owned();
        match mode.as_str() {
            "API" => Ok(Forbidden::ApiMode),
            "API_AND_CONFIG_MAP" if self.settings.self_grant && self.temporary().is_none() => {
                match self.grant_self(key, &partition, deadline, progress).await? {
                    Ok(()) => Ok(Forbidden::Granted),
                    Err(reason) => Ok(Forbidden::Fail(format!(
                        "{denial}; granting temporary access failed: {reason}"
                    ))),
                }
            }
            "API_AND_CONFIG_MAP" if !self.settings.self_grant => Ok(Forbidden::Fail(format!(
                "{denial}; or let the migrator grant itself temporary access (--self-grant)"
            ))),
            _ => Ok(Forbidden::Fail(denial)),
        }
    }

    /// Counts and step lines are per run.
    fn start_run(&self) {
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

    async fn identify(&self, cluster: &str) -> Result<ClusterKey, EngineError> {
        let name = ClusterName::parse(cluster).map_err(GatherError::from)?;
        let region = self
            .config
            .region()
            .ok_or_else(|| GatherError::NoRegion {
                cluster: cluster.to_owned(),
            })
            .and_then(|r| Region::parse(r.as_ref()).map_err(GatherError::from))?;
        let account = live::cluster_account(self.config, cluster).await?;
        let account = AccountId::parse(account).map_err(GatherError::from)?;
        Ok(ClusterKey {
            account,
            region,
            name,
        })
    }

    async fn ensure_record(&self, key: &ClusterKey, mode: Mode) -> Result<(), EngineError> {
        if self.store.get_cluster(key).await?.is_some() {
            return Ok(());
        }
        match self
            .store
            .create_cluster(key, &ClusterState::discovered(mode), SystemTime::now())
            .await
        {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The lease, or the outcome `Busy` when another worker holds it.
    async fn acquire(&self, key: &ClusterKey) -> Result<Result<Lease, Outcome>, EngineError> {
        match self
            .store
            .acquire_lease_for(
                key,
                &self.settings.worker_id,
                self.process.as_ref(),
                self.settings.lease_ttl,
                SystemTime::now(),
            )
            .await
        {
            Ok(lease) => Ok(Ok(lease)),
            Err(StoreError::LeaseHeld {
                owner,
                until,
                process,
                ..
            }) => Ok(Err(Outcome::Busy {
                holder: match process {
                    Some(p) => format!("{owner} ({p})"),
                    None => owner,
                },
                until,
            })),
            Err(e) => Err(e.into()),
        }
    }

    fn hold(&self, lease: Lease) {
        if let Some(registry) = &self.held_leases {
            registry.insert(&lease);
        }
        if let Ok(mut held) = self.lease.lock() {
            *held = Some(lease);
        }
    }

    /// The lease this run holds.
    fn held(&self) -> Result<Lease, EngineError> {
        self.lease
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .ok_or_else(|| {
                EngineError::Store(StoreError::LeaseLost {
                    key: String::from("(no lease held)"),
                    owner: self.settings.worker_id.clone(),
                })
            })
    }

    /// Renews the lease when a third of its time has passed (always when `force`).
    pub(crate) async fn renew(&self, force: bool) -> Result<Lease, EngineError> {
        let lease = self.held()?;
        let now = SystemTime::now();
        let left = lease.until().duration_since(now).unwrap_or_default();
        if !force && left > self.settings.lease_ttl * 2 / 3 {
            return Ok(lease);
        }
        let renewed = self
            .store
            .renew_lease(&lease, self.settings.lease_ttl, now)
            .await?;
        self.hold(renewed.clone());
        Ok(renewed)
    }

    async fn release(&self) {
        let lease = self.lease.lock().ok().and_then(|mut l| l.take());
        if let (Some(registry), Some(lease)) = (&self.held_leases, &lease) {
            registry.remove(lease.key());
        }
        if let Some(lease) = lease
            && let Err(e) = self.store.release_lease(lease).await
        {
            tracing::warn!(error = %e, "could not release the lease; it expires by itself");
        }
    }

    fn report(
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

    fn note(&self, progress: Progress<'_>, line: String) {
        progress(&line);
        tracing::info!(step = %line, "engine step");
        if let Ok(mut steps) = self.steps.lock() {
            steps.push(line);
        }
    }

    /// A unique ID for an audit record (also the EKS clientRequestToken of its call).
    fn new_id(&self) -> String {
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

    /// Saves `state` over `record` under the lease, recording the phase change (if any) in the
    /// record's outbox in the same conditional write.
    async fn save(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: &ClusterState,
    ) -> Result<(), EngineError> {
        let lease = self.renew(false).await?;
        let now = SystemTime::now();
        let restored = self.restoring.swap(0, Ordering::SeqCst);
        let transition = self.transition(record, state, restored, now);
        let saved = self
            .store
            .save_cluster_recording(
                key,
                record.version,
                state,
                now,
                Some(&lease),
                transition.as_ref(),
            )
            .await?;
        self.remember(saved);
        Ok(())
    }

    /// Ends the run before a step: saves `state` and reports `outcome`.
    async fn stop(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: ClusterState,
        outcome: Outcome,
    ) -> Result<Report, EngineError> {
        self.save(key, record, &state).await?;
        Ok(self.report(key, state.mode, Some(&state), outcome, None, Vec::new()))
    }

    async fn waiting(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: ClusterState,
        reason: String,
    ) -> Result<Report, EngineError> {
        let retry_after = self.settings.update_poll;
        self.stop(
            key,
            record,
            state,
            Outcome::Waiting {
                reason,
                retry_after,
            },
        )
        .await
    }

    /// In API mode aws-auth is ignored, so not being able to read it changes nothing: the
    /// migration is complete if the migrator made the switch, and there is nothing to do.
    async fn api_mode_unreadable(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        mut state: ClusterState,
    ) -> Result<Report, EngineError> {
        state.authentication_mode = Some(AuthenticationMode::Api);
        state.pending_update = None;
        state.last_error = None;
        if matches!(state.phase, Phase::ApiSwitching | Phase::ConfigMapPruned) {
            state.phase = Phase::Complete;
        }
        self.stop(key, record, state, Outcome::Done).await
    }

    async fn failed(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        mut state: ClusterState,
        reason: String,
    ) -> Result<Report, EngineError> {
        // A failed observation is not a failed step: the phase (what was done) stays.
        state.last_error = Some(reason.clone());
        self.stop(key, record, state, Outcome::Failed(reason)).await
    }
}

/// What to do after the Kubernetes API refused the migrator.
enum Forbidden {
    /// Temporary access was granted: observe again.
    Granted,
    /// The cluster is in API mode, where aws-auth is ignored.
    ApiMode,
    /// Fail the run with this reason.
    Fail(String),
}

/// The step's name as failpoints and progress lines spell it.
pub(crate) fn step_name(step: Step) -> &'static str {
    match step {
        Step::Plan => "Plan",
        Step::SwitchToApiAndConfigMap => "SwitchToApiAndConfigMap",
        Step::WaitForUpdate => "WaitForUpdate",
        Step::CreateEntries => "CreateEntries",
        Step::VerifyEntries => "VerifyEntries",
        Step::WaitForSoak => "WaitForSoak",
        Step::BackupConfigMap => "BackupConfigMap",
        Step::PruneConfigMap => "PruneConfigMap",
        Step::SwitchToApi => "SwitchToApi",
        Step::RemoveCreatorEntry => "RemoveCreatorEntry",
        Step::Done => "Done",
        Step::Block(_) => "Block",
    }
}

/// Whether a planned entry is already carried by an equivalent access entry.
pub(crate) fn already_present(entry: &eks_auth_core::plan::PlannedEntry) -> bool {
    entry.action == Action::Skip
        && entry.principal_arn.is_some()
        && entry
            .findings
            .iter()
            .any(|f| f.code == FindingCode::EntryExists)
}

fn counts(plan: &Plan, state: &ClusterState, blockers: usize) -> Counts {
    let to_create = plan
        .entries
        .iter()
        .filter(|e| e.action == Action::Create)
        .count();
    let present = plan.entries.iter().filter(|e| already_present(e)).count();
    let verified = matches!(
        state.phase,
        Phase::Verified
            | Phase::ConfigMapBackedUp
            | Phase::ConfigMapPruned
            | Phase::ApiSwitching
            | Phase::Complete
    );
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Counts {
        entries_planned: n(to_create + present),
        entries_applied: n(present),
        entries_verified: if verified && to_create == 0 {
            n(present)
        } else {
            0
        },
        blockers: n(blockers),
        aws_auth_rows: Some(n(plan.entries.len())),
    }
}

/// The plan's blocker finding codes, sorted and distinct.
fn blocker_codes(plan: &Plan) -> Vec<String> {
    let codes: std::collections::BTreeSet<&'static str> = plan
        .all_findings()
        .filter(|f| f.severity == Severity::Blocker)
        .map(|f| f.code.as_str())
        .collect();
    codes.into_iter().map(str::to_owned).collect()
}

/// The recorded text of a block: the reason and the first blocker findings.
fn block_text(reason: BlockReason, plan: &Plan) -> String {
    let mut text = reason.to_string();
    if let BlockReason::PlanBlocksApiMode { .. } = reason {
        let blockers: Vec<String> = plan
            .all_findings()
            .filter(|f| f.severity == Severity::Blocker)
            .take(5)
            .map(|f| match &f.location {
                Some(at) => format!("{} at {at}: {}", f.code.as_str(), f.message),
                None => format!("{}: {}", f.code.as_str(), f.message),
            })
            .collect();
        if !blockers.is_empty() {
            text.push_str(": ");
            text.push_str(&blockers.join("; "));
        }
    }
    if let BlockReason::BreakGlassMissing = reason {
        text.push_str(". Keep at least one system:masters row for a role the platform team controls (it becomes a cluster-admin entry), or name the break-glass principal in the configuration");
    }
    text
}
