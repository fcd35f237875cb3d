//! The per-cluster migration state machine, as pure data.
//!
//! A worker observes a cluster (authentication mode, the update it is tracking, the plan, what
//! it verified, whether aws-auth is backed up and pruned, the soak, a break-glass entry), asks
//! [`next`] for exactly one [`Step`], performs it, and records [`phase_after`]. Nothing here
//! performs I/O; every decision is a function of `(phase, mode, observation)`.
//!
//! # Guarantees
//!
//! - [`Mode::Audit`] and [`Mode::Skip`] never yield a mutating step ([`Step::is_mutating`]).
//! - Only [`Mode::Finalize`] yields a destructive step ([`Step::PruneConfigMap`],
//!   [`Step::SwitchToApi`]), and only when the entries are verified, the soak has elapsed,
//!   nothing blocks API mode, a break-glass entry exists and aws-auth is backed up.
//! - No step is yielded while an authentication-mode update is in progress, except
//!   [`Step::WaitForUpdate`].
//! - A switch is only yielded from the mode it starts from, so a switch already done is never
//!   repeated.
//! - A `FAILED_TERMINAL` cluster stays so until a new scan or an explicit `apply` retries it
//!   ([`run_phase`]); any other run ([`Step::Block`] with [`BlockReason::TerminalFailure`])
//!   keeps the phase and its recorded reason.

use crate::facts::AuthenticationMode;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a cluster's migration stands, as recorded in the state store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Phase {
    /// Found by a scan; nothing planned yet.
    Discovered,
    /// A plan was computed and recorded.
    Planned,
    /// The switch CONFIG_MAP → API_AND_CONFIG_MAP was requested.
    ModeSwitching,
    /// Every planned entry was created.
    EntriesApplied,
    /// Every planned entry was read back and matches its target.
    Verified,
    /// aws-auth was backed up verbatim.
    ConfigMapBackedUp,
    /// Migrated rows were removed from aws-auth.
    ConfigMapPruned,
    /// The switch API_AND_CONFIG_MAP → API was requested.
    ApiSwitching,
    /// The cluster is in API mode with verified entries.
    Complete,
    /// Something stops further progress until a person acts (see [`BlockReason`]).
    Blocked,
    /// A step failed; `retryable` says whether a later run may try again.
    Failed {
        /// Whether a later run may try again.
        retryable: bool,
    },
}

impl Phase {
    /// Every phase, in the order of a full migration (then the side phases).
    pub const ALL: [Phase; 12] = [
        Phase::Discovered,
        Phase::Planned,
        Phase::ModeSwitching,
        Phase::EntriesApplied,
        Phase::Verified,
        Phase::ConfigMapBackedUp,
        Phase::ConfigMapPruned,
        Phase::ApiSwitching,
        Phase::Complete,
        Phase::Blocked,
        Phase::Failed { retryable: true },
        Phase::Failed { retryable: false },
    ];

    /// The stored spelling (`DISCOVERED`, …, `FAILED_RETRYABLE`, `FAILED_TERMINAL`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Discovered => "DISCOVERED",
            Phase::Planned => "PLANNED",
            Phase::ModeSwitching => "MODE_SWITCHING",
            Phase::EntriesApplied => "ENTRIES_APPLIED",
            Phase::Verified => "VERIFIED",
            Phase::ConfigMapBackedUp => "CONFIGMAP_BACKED_UP",
            Phase::ConfigMapPruned => "CONFIGMAP_PRUNED",
            Phase::ApiSwitching => "API_SWITCHING",
            Phase::Complete => "COMPLETE",
            Phase::Blocked => "BLOCKED",
            Phase::Failed { retryable: true } => "FAILED_RETRYABLE",
            Phase::Failed { retryable: false } => "FAILED_TERMINAL",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started a run: whether it may retry a `FAILED_TERMINAL` cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Trigger {
    /// A new fleet scan's job, or an operator's explicit `apply`: someone may have fixed what
    /// made the cluster fail terminally, so the run tries again.
    Retry,
    /// Anything else (a cluster event, the worker's own delayed job, a plan): a terminal
    /// failure stays recorded, and the run changes nothing.
    #[default]
    Continue,
}

/// The phase a run starts from when the cluster's record is in `recorded`: a `FAILED_TERMINAL`
/// cluster is run again as `FAILED_RETRYABLE` (which [`next`] resumes like any failed step)
/// when `trigger` is [`Trigger::Retry`]; every other phase is kept.
pub fn run_phase(recorded: Phase, trigger: Trigger) -> Phase {
    match (recorded, trigger) {
        (Phase::Failed { retryable: false }, Trigger::Retry) => Phase::Failed { retryable: true },
        _ => recorded,
    }
}

/// A string that names no [`Phase`] or [`Mode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownName {
    /// `phase` or `mode`.
    pub kind: &'static str,
    /// The string that was given.
    pub value: String,
}

impl FromStr for Phase {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "phase",
                value: s.to_owned(),
            })
    }
}

impl TryFrom<String> for Phase {
    type Error = UnknownName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Phase> for String {
    fn from(p: Phase) -> String {
        p.as_str().to_owned()
    }
}

/// What the migrator may do to a cluster (default < account/OU config < cluster tag).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Read-only: plan and report. The default.
    #[default]
    Audit,
    /// Switch to API_AND_CONFIG_MAP, create and verify entries; never prune or switch to API.
    Migrate,
    /// Migrate, then (after the soak, when nothing blocks) back up and prune aws-auth and switch
    /// to API.
    Finalize,
    /// Leave the cluster alone entirely.
    Skip,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 4] = [Mode::Audit, Mode::Migrate, Mode::Finalize, Mode::Skip];

    /// The configuration spelling (`audit`, `migrate`, `finalize`, `skip`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Audit => "audit",
            Mode::Migrate => "migrate",
            Mode::Finalize => "finalize",
            Mode::Skip => "skip",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "mode",
                value: s.to_owned(),
            })
    }
}

/// Status of an EKS cluster update, as DescribeUpdate reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpdateStatus {
    /// Still running.
    InProgress,
    /// Finished and applied.
    Successful,
    /// Finished without applying.
    Failed,
    /// Cancelled without applying.
    Cancelled,
}

/// The authentication-mode update the migrator requested and is following.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpdate {
    /// The mode the update switches to.
    pub target: AuthenticationMode,
    /// Its status at observation time.
    pub status: UpdateStatus,
}

/// What the plan says, reduced to what the state machine needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Entries the plan still has to create (zero once every planned entry exists).
    pub to_create: usize,
    /// Blocker findings.
    pub blockers: usize,
    /// Switching to API mode would lose access someone has today.
    pub blocks_api_mode: bool,
}

/// A fresh observation of one cluster, gathered by the adapters before each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The cluster's authentication mode now.
    pub authentication_mode: AuthenticationMode,
    /// The update the migrator is following, if any.
    pub pending_update: Option<PendingUpdate>,
    /// The current plan, or `None` when none was computed yet.
    pub plan: Option<PlanSummary>,
    /// Every planned entry was read back from the API and matches its target.
    pub entries_verified: bool,
    /// A verbatim backup of the current aws-auth exists in the state store.
    pub backup_present: bool,
    /// aws-auth holds no migrated rows any more.
    pub configmap_pruned: bool,
    /// The configured soak since verification has elapsed.
    pub soak_elapsed: bool,
    /// A break-glass cluster-admin access entry exists.
    pub break_glass_present: bool,
    /// The policy says remove the creator's admin entry, and it still exists.
    pub creator_entry_to_remove: bool,
}

/// Why the machine will not go further without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockReason {
    /// The plan has findings that make API mode unsafe.
    PlanBlocksApiMode {
        /// How many blocker findings.
        blockers: usize,
    },
    /// No break-glass admin entry exists; pruning or switching to API is refused.
    BreakGlassMissing,
    /// The migrator's authentication-mode update did not apply.
    UpdateFailed {
        /// The mode it tried to switch to.
        target: AuthenticationMode,
        /// How it ended.
        status: UpdateStatus,
    },
    /// An earlier step failed terminally.
    TerminalFailure,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockReason::PlanBlocksApiMode { blockers } => write!(
                f,
                "the plan has {blockers} blocker finding(s); API mode would remove access"
            ),
            BlockReason::BreakGlassMissing => {
                f.write_str("no break-glass admin access entry exists")
            }
            BlockReason::UpdateFailed { target, status } => {
                let ended = match status {
                    UpdateStatus::InProgress => "InProgress",
                    UpdateStatus::Successful => "Successful",
                    UpdateStatus::Failed => "Failed",
                    UpdateStatus::Cancelled => "Cancelled",
                };
                write!(f, "the update to {} ended {ended}", target.as_str())
            }
            BlockReason::TerminalFailure => f.write_str("an earlier step failed terminally"),
        }
    }
}

/// The one thing to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Compute and record the plan (read-only on the cluster).
    Plan,
    /// UpdateClusterConfig CONFIG_MAP → API_AND_CONFIG_MAP (irreversible).
    SwitchToApiAndConfigMap,
    /// Poll DescribeUpdate later; do nothing now.
    WaitForUpdate,
    /// Create the missing planned entries and associate their policies.
    CreateEntries,
    /// Read every planned entry back and compare it with its target.
    VerifyEntries,
    /// Come back once the soak has elapsed; do nothing now.
    WaitForSoak,
    /// Store aws-auth verbatim with its resourceVersion.
    BackupConfigMap,
    /// Remove migrated rows from aws-auth (conditional on resourceVersion).
    PruneConfigMap,
    /// UpdateClusterConfig API_AND_CONFIG_MAP → API (irreversible; aws-auth stops counting).
    SwitchToApi,
    /// Delete the cluster creator's admin entry (finalize, API mode, break-glass present, and
    /// only when the policy says so).
    RemoveCreatorEntry,
    /// Nothing more to do in this mode.
    Done,
    /// Stop and report.
    Block(BlockReason),
}

impl Step {
    /// Whether the step changes the cluster (an EKS or Kubernetes write).
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Step::SwitchToApiAndConfigMap
                | Step::CreateEntries
                | Step::PruneConfigMap
                | Step::SwitchToApi
                | Step::RemoveCreatorEntry
        )
    }

    /// Whether the step can remove access someone has (only finalize may take it).
    pub fn is_destructive(self) -> bool {
        matches!(
            self,
            Step::PruneConfigMap | Step::SwitchToApi | Step::RemoveCreatorEntry
        )
    }
}

/// Decide the one next step for a cluster.
///
/// # Guarantees
///
/// See the [module documentation](self): audit and skip never mutate, only finalize prunes or
/// switches to API and only when verified, soaked, unblocked, with break-glass and backup, and
/// no switch is requested twice.
pub fn next(phase: Phase, mode: Mode, obs: &Observation) -> Step {
    if mode == Mode::Skip {
        return Step::Done;
    }
    if phase == (Phase::Failed { retryable: false }) {
        return Step::Block(BlockReason::TerminalFailure);
    }
    if let Some(update) = obs.pending_update {
        match update.status {
            UpdateStatus::InProgress => return Step::WaitForUpdate,
            // DescribeCluster can lag behind DescribeUpdate.
            UpdateStatus::Successful if obs.authentication_mode != update.target => {
                return Step::WaitForUpdate;
            }
            UpdateStatus::Failed | UpdateStatus::Cancelled
                if obs.authentication_mode != update.target =>
            {
                return Step::Block(BlockReason::UpdateFailed {
                    target: update.target,
                    status: update.status,
                });
            }
            UpdateStatus::Successful | UpdateStatus::Failed | UpdateStatus::Cancelled => {}
        }
    }
    let Some(plan) = obs.plan else {
        return Step::Plan;
    };
    match (mode, obs.authentication_mode) {
        (Mode::Audit | Mode::Skip, _) => Step::Done,
        // The creator's entry goes only in finalize, with a break-glass entry in place.
        (Mode::Finalize, AuthenticationMode::Api)
            if obs.creator_entry_to_remove && obs.break_glass_present =>
        {
            Step::RemoveCreatorEntry
        }
        // aws-auth grants nothing in API mode: creating entries now would grant access that is
        // not effective today, and there is nothing left to switch.
        (_, AuthenticationMode::Api) => Step::Done,
        (Mode::Migrate | Mode::Finalize, AuthenticationMode::ConfigMap) => {
            Step::SwitchToApiAndConfigMap
        }
        (Mode::Migrate | Mode::Finalize, AuthenticationMode::ApiAndConfigMap) => {
            if plan.to_create > 0 {
                Step::CreateEntries
            } else if !obs.entries_verified {
                Step::VerifyEntries
            } else if mode == Mode::Migrate {
                Step::Done
            } else {
                finalize(&plan, obs)
            }
        }
    }
}

/// Finalize in API_AND_CONFIG_MAP with every entry created and verified.
fn finalize(plan: &PlanSummary, obs: &Observation) -> Step {
    if plan.blocks_api_mode {
        Step::Block(BlockReason::PlanBlocksApiMode {
            blockers: plan.blockers,
        })
    } else if !obs.soak_elapsed {
        Step::WaitForSoak
    } else if !obs.break_glass_present {
        Step::Block(BlockReason::BreakGlassMissing)
    } else if !obs.backup_present {
        Step::BackupConfigMap
    } else if !obs.configmap_pruned {
        Step::PruneConfigMap
    } else {
        Step::SwitchToApi
    }
}

/// The phase to record once `step` (chosen by [`next`] for `phase` and `obs`) has succeeded.
pub fn phase_after(step: Step, phase: Phase, obs: &Observation) -> Phase {
    match step {
        Step::Plan => Phase::Planned,
        Step::SwitchToApiAndConfigMap => Phase::ModeSwitching,
        Step::CreateEntries => Phase::EntriesApplied,
        Step::VerifyEntries => Phase::Verified,
        Step::BackupConfigMap => Phase::ConfigMapBackedUp,
        Step::PruneConfigMap => Phase::ConfigMapPruned,
        Step::SwitchToApi => Phase::ApiSwitching,
        Step::WaitForUpdate | Step::WaitForSoak | Step::RemoveCreatorEntry => phase,
        // A terminal failure keeps its phase (and its reason) until a retry (`run_phase`).
        Step::Block(BlockReason::TerminalFailure) => phase,
        Step::Block(_) => Phase::Blocked,
        Step::Done => match (phase, obs.authentication_mode) {
            // A run killed after a prune or a switch it had not recorded yet leaves an earlier
            // finalize phase behind; the switch it made still completes the migration.
            (
                Phase::ApiSwitching | Phase::ConfigMapPruned | Phase::ConfigMapBackedUp,
                AuthenticationMode::Api,
            ) => Phase::Complete,
            (Phase::Verified, AuthenticationMode::Api) if obs.backup_present => Phase::Complete,
            (Phase::Blocked | Phase::Failed { .. }, _) if obs.plan.is_some() => Phase::Planned,
            _ => phase,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn observed(mode: AuthenticationMode) -> Observation {
        Observation {
            authentication_mode: mode,
            pending_update: None,
            plan: Some(PlanSummary::default()),
            entries_verified: false,
            backup_present: false,
            configmap_pruned: false,
            soak_elapsed: false,
            break_glass_present: false,
            creator_entry_to_remove: false,
        }
    }

    fn ready_to_finalize() -> Observation {
        Observation {
            entries_verified: true,
            soak_elapsed: true,
            break_glass_present: true,
            ..observed(AuthenticationMode::ApiAndConfigMap)
        }
    }

    #[test]
    fn phase_names_round_trip() {
        for p in Phase::ALL {
            assert_eq!(p.as_str().parse::<Phase>(), Ok(p));
            let json = serde_json::to_string(&p).expect("serialize");
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Phase>(&json).expect("parse"), p);
        }
        assert!("COMPLETED".parse::<Phase>().is_err());
    }

    #[test]
    fn mode_defaults_to_audit_and_round_trips() {
        assert_eq!(Mode::default(), Mode::Audit);
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
            let json = serde_json::to_string(&m).expect("serialize");
            assert_eq!(serde_json::from_str::<Mode>(&json).expect("parse"), m);
        }
        assert_eq!(
            "yolo".parse::<Mode>(),
            Err(UnknownName {
                kind: "mode",
                value: "yolo".into()
            })
        );
    }

    #[test]
    fn skip_does_nothing_even_unplanned() {
        let obs = Observation {
            plan: None,
            ..observed(AuthenticationMode::ConfigMap)
        };
        assert_eq!(next(Phase::Discovered, Mode::Skip, &obs), Step::Done);
    }

    #[test]
    fn plans_first_in_every_acting_mode() {
        let obs = Observation {
            plan: None,
            ..observed(AuthenticationMode::ConfigMap)
        };
        for mode in [Mode::Audit, Mode::Migrate, Mode::Finalize] {
            assert_eq!(next(Phase::Discovered, mode, &obs), Step::Plan);
        }
    }

    #[test]
    fn audit_stops_after_the_plan() {
        for auth in [
            AuthenticationMode::ConfigMap,
            AuthenticationMode::ApiAndConfigMap,
            AuthenticationMode::Api,
        ] {
            let obs = Observation {
                plan: Some(PlanSummary {
                    to_create: 3,
                    ..PlanSummary::default()
                }),
                ..observed(auth)
            };
            assert_eq!(next(Phase::Planned, Mode::Audit, &obs), Step::Done);
        }
        assert_eq!(
            next(Phase::Planned, Mode::Audit, &ready_to_finalize()),
            Step::Done
        );
    }

    #[test]
    fn migrate_walks_config_map_to_verified_entries() {
        let mut obs = Observation {
            plan: Some(PlanSummary {
                to_create: 2,
                ..PlanSummary::default()
            }),
            ..observed(AuthenticationMode::ConfigMap)
        };
        assert_eq!(
            next(Phase::Planned, Mode::Migrate, &obs),
            Step::SwitchToApiAndConfigMap
        );
        obs.pending_update = Some(PendingUpdate {
            target: AuthenticationMode::ApiAndConfigMap,
            status: UpdateStatus::InProgress,
        });
        assert_eq!(
            next(Phase::ModeSwitching, Mode::Migrate, &obs),
            Step::WaitForUpdate
        );
        obs.pending_update = Some(PendingUpdate {
            target: AuthenticationMode::ApiAndConfigMap,
            status: UpdateStatus::Successful,
        });
        // DescribeCluster still shows the old mode: wait, never request the switch again.
        assert_eq!(
            next(Phase::ModeSwitching, Mode::Migrate, &obs),
            Step::WaitForUpdate
        );
        obs.authentication_mode = AuthenticationMode::ApiAndConfigMap;
        assert_eq!(
            next(Phase::ModeSwitching, Mode::Migrate, &obs),
            Step::CreateEntries
        );
        obs.plan = Some(PlanSummary::default());
        assert_eq!(
            next(Phase::EntriesApplied, Mode::Migrate, &obs),
            Step::VerifyEntries
        );
        obs.entries_verified = true;
        obs.soak_elapsed = true;
        obs.break_glass_present = true;
        assert_eq!(next(Phase::Verified, Mode::Migrate, &obs), Step::Done);
    }

    #[test]
    fn finalize_walks_verified_to_api() {
        let mut obs = Observation {
            soak_elapsed: false,
            ..ready_to_finalize()
        };
        assert_eq!(
            next(Phase::Verified, Mode::Finalize, &obs),
            Step::WaitForSoak
        );
        obs.soak_elapsed = true;
        assert_eq!(
            next(Phase::Verified, Mode::Finalize, &obs),
            Step::BackupConfigMap
        );
        obs.backup_present = true;
        assert_eq!(
            next(Phase::ConfigMapBackedUp, Mode::Finalize, &obs),
            Step::PruneConfigMap
        );
        obs.configmap_pruned = true;
        assert_eq!(
            next(Phase::ConfigMapPruned, Mode::Finalize, &obs),
            Step::SwitchToApi
        );
        obs.pending_update = Some(PendingUpdate {
            target: AuthenticationMode::Api,
            status: UpdateStatus::InProgress,
        });
        assert_eq!(
            next(Phase::ApiSwitching, Mode::Finalize, &obs),
            Step::WaitForUpdate
        );
        obs.pending_update = Some(PendingUpdate {
            target: AuthenticationMode::Api,
            status: UpdateStatus::Successful,
        });
        obs.authentication_mode = AuthenticationMode::Api;
        let step = next(Phase::ApiSwitching, Mode::Finalize, &obs);
        assert_eq!(step, Step::Done);
        assert_eq!(
            phase_after(step, Phase::ApiSwitching, &obs),
            Phase::Complete
        );
    }

    #[test]
    fn finalize_blocks_on_blocker_findings_and_missing_break_glass() {
        let obs = Observation {
            plan: Some(PlanSummary {
                to_create: 0,
                blockers: 2,
                blocks_api_mode: true,
            }),
            ..ready_to_finalize()
        };
        let step = next(Phase::Verified, Mode::Finalize, &obs);
        assert_eq!(
            step,
            Step::Block(BlockReason::PlanBlocksApiMode { blockers: 2 })
        );
        assert_eq!(phase_after(step, Phase::Verified, &obs), Phase::Blocked);
        let obs = Observation {
            break_glass_present: false,
            backup_present: true,
            ..ready_to_finalize()
        };
        assert_eq!(
            next(Phase::ConfigMapBackedUp, Mode::Finalize, &obs),
            Step::Block(BlockReason::BreakGlassMissing)
        );
    }

    #[test]
    fn blocked_cluster_resumes_once_the_blockers_are_gone() {
        let step = next(Phase::Blocked, Mode::Finalize, &ready_to_finalize());
        assert_eq!(step, Step::BackupConfigMap);
    }

    #[test]
    fn unverified_entries_are_verified_again_before_anything_destructive() {
        let obs = Observation {
            entries_verified: false,
            backup_present: true,
            ..ready_to_finalize()
        };
        assert_eq!(
            next(Phase::ConfigMapBackedUp, Mode::Finalize, &obs),
            Step::VerifyEntries
        );
        let obs = Observation {
            plan: Some(PlanSummary {
                to_create: 1,
                ..PlanSummary::default()
            }),
            ..ready_to_finalize()
        };
        assert_eq!(
            next(Phase::Verified, Mode::Finalize, &obs),
            Step::CreateEntries
        );
    }

    #[test]
    fn failed_update_blocks_instead_of_retrying_blindly() {
        let obs = Observation {
            pending_update: Some(PendingUpdate {
                target: AuthenticationMode::ApiAndConfigMap,
                status: UpdateStatus::Failed,
            }),
            ..observed(AuthenticationMode::ConfigMap)
        };
        assert_eq!(
            next(Phase::ModeSwitching, Mode::Migrate, &obs),
            Step::Block(BlockReason::UpdateFailed {
                target: AuthenticationMode::ApiAndConfigMap,
                status: UpdateStatus::Failed
            })
        );
        // A failed update that someone else's later switch superseded is history.
        let obs = Observation {
            authentication_mode: AuthenticationMode::ApiAndConfigMap,
            ..obs
        };
        assert_eq!(
            next(Phase::ModeSwitching, Mode::Migrate, &obs),
            Step::VerifyEntries
        );
    }

    #[test]
    fn cluster_already_in_api_mode_is_left_alone() {
        let obs = Observation {
            plan: Some(PlanSummary {
                to_create: 4,
                ..PlanSummary::default()
            }),
            ..observed(AuthenticationMode::Api)
        };
        for mode in Mode::ALL {
            assert_eq!(next(Phase::Planned, mode, &obs), Step::Done);
        }
    }

    #[test]
    fn terminal_failure_blocks_retryable_failure_resumes() {
        let obs = observed(AuthenticationMode::ApiAndConfigMap);
        assert_eq!(
            next(Phase::Failed { retryable: false }, Mode::Migrate, &obs),
            Step::Block(BlockReason::TerminalFailure)
        );
        assert_eq!(
            next(Phase::Failed { retryable: true }, Mode::Migrate, &obs),
            Step::VerifyEntries
        );
    }

    #[test]
    fn only_a_scan_or_an_apply_retries_a_terminal_failure() {
        let terminal = Phase::Failed { retryable: false };
        assert_eq!(
            run_phase(terminal, Trigger::Retry),
            Phase::Failed { retryable: true }
        );
        assert_eq!(run_phase(terminal, Trigger::Continue), terminal);
        for phase in Phase::ALL.into_iter().filter(|p| *p != terminal) {
            assert_eq!(run_phase(phase, Trigger::Retry), phase, "{phase:?}");
            assert_eq!(run_phase(phase, Trigger::Continue), phase, "{phase:?}");
        }
        // Retried, the cluster resumes: plans again, or goes on from what it observes.
        let obs = observed(AuthenticationMode::ConfigMap);
        let retried = run_phase(terminal, Trigger::Retry);
        assert_eq!(
            next(retried, Mode::Migrate, &obs),
            Step::SwitchToApiAndConfigMap
        );
        let unplanned = Observation { plan: None, ..obs };
        assert_eq!(next(retried, Mode::Audit, &unplanned), Step::Plan);
        assert_eq!(phase_after(Step::Plan, retried, &unplanned), Phase::Planned);
        // Not retried, it stays FAILED_TERMINAL whatever the run observes.
        let kept = run_phase(terminal, Trigger::Continue);
        let step = next(kept, Mode::Finalize, &ready_to_finalize());
        assert_eq!(step, Step::Block(BlockReason::TerminalFailure));
        assert_eq!(phase_after(step, kept, &ready_to_finalize()), terminal);
    }

    #[test]
    fn phase_after_each_step() {
        let obs = observed(AuthenticationMode::ApiAndConfigMap);
        let cases = [
            (Step::Plan, Phase::Planned),
            (Step::SwitchToApiAndConfigMap, Phase::ModeSwitching),
            (Step::CreateEntries, Phase::EntriesApplied),
            (Step::VerifyEntries, Phase::Verified),
            (Step::BackupConfigMap, Phase::ConfigMapBackedUp),
            (Step::PruneConfigMap, Phase::ConfigMapPruned),
            (Step::SwitchToApi, Phase::ApiSwitching),
            (Step::WaitForUpdate, Phase::Verified),
            (Step::WaitForSoak, Phase::Verified),
            (Step::Done, Phase::Verified),
            (Step::Block(BlockReason::BreakGlassMissing), Phase::Blocked),
        ];
        for (step, want) in cases {
            assert_eq!(phase_after(step, Phase::Verified, &obs), want, "{step:?}");
        }
        assert_eq!(
            phase_after(Step::Done, Phase::Blocked, &obs),
            Phase::Planned
        );
    }

    #[test]
    fn a_switch_to_api_a_killed_run_did_not_record_still_completes() {
        // Killed after the prune (phase still CONFIGMAP_BACKED_UP), or after the backup (still
        // VERIFIED, the backup stored), then after the switch to API: the next run finds API.
        let api = Observation {
            backup_present: true,
            configmap_pruned: true,
            ..ready_to_finalize()
        };
        let api = Observation {
            authentication_mode: AuthenticationMode::Api,
            ..api
        };
        for phase in [
            Phase::Verified,
            Phase::ConfigMapBackedUp,
            Phase::ConfigMapPruned,
            Phase::ApiSwitching,
        ] {
            let step = next(phase, Mode::Finalize, &api);
            assert_eq!(step, Step::Done, "{phase:?}");
            assert_eq!(phase_after(step, phase, &api), Phase::Complete, "{phase:?}");
        }
        // A cluster someone else moved to API without the migrator's backup is not its migration.
        let theirs = Observation {
            backup_present: false,
            ..api
        };
        assert_eq!(
            phase_after(Step::Done, Phase::Verified, &theirs),
            Phase::Verified
        );
        assert_eq!(
            phase_after(Step::Done, Phase::Planned, &api),
            Phase::Planned
        );
    }

    #[test]
    fn mutating_and_destructive_steps() {
        assert!(Step::CreateEntries.is_mutating());
        assert!(!Step::CreateEntries.is_destructive());
        assert!(Step::PruneConfigMap.is_destructive());
        assert!(Step::SwitchToApi.is_destructive());
        for s in [
            Step::Plan,
            Step::WaitForUpdate,
            Step::VerifyEntries,
            Step::WaitForSoak,
            Step::BackupConfigMap,
            Step::Done,
            Step::Block(BlockReason::TerminalFailure),
        ] {
            assert!(!s.is_mutating(), "{s:?}");
        }
    }

    fn auth_mode() -> impl Strategy<Value = AuthenticationMode> {
        prop_oneof![
            Just(AuthenticationMode::ConfigMap),
            Just(AuthenticationMode::ApiAndConfigMap),
            Just(AuthenticationMode::Api),
        ]
    }

    fn update_status() -> impl Strategy<Value = UpdateStatus> {
        prop_oneof![
            Just(UpdateStatus::InProgress),
            Just(UpdateStatus::Successful),
            Just(UpdateStatus::Failed),
            Just(UpdateStatus::Cancelled),
        ]
    }

    #[test]
    fn the_creator_entry_goes_only_in_finalize_api_mode_with_break_glass() {
        let api = Observation {
            creator_entry_to_remove: true,
            break_glass_present: true,
            ..observed(AuthenticationMode::Api)
        };
        assert_eq!(
            next(Phase::Complete, Mode::Finalize, &api),
            Step::RemoveCreatorEntry
        );
        assert_eq!(
            phase_after(Step::RemoveCreatorEntry, Phase::Complete, &api),
            Phase::Complete
        );
        assert_eq!(next(Phase::Complete, Mode::Migrate, &api), Step::Done);
        assert_eq!(next(Phase::Complete, Mode::Audit, &api), Step::Done);
        let without_break_glass = Observation {
            break_glass_present: false,
            ..api
        };
        assert_eq!(
            next(Phase::Complete, Mode::Finalize, &without_break_glass),
            Step::Done
        );
        let not_wanted = Observation {
            creator_entry_to_remove: false,
            ..api
        };
        assert_eq!(
            next(Phase::Complete, Mode::Finalize, &not_wanted),
            Step::Done
        );
        let still_hybrid = Observation {
            authentication_mode: AuthenticationMode::ApiAndConfigMap,
            entries_verified: true,
            soak_elapsed: true,
            ..api
        };
        assert_ne!(
            next(Phase::Verified, Mode::Finalize, &still_hybrid),
            Step::RemoveCreatorEntry
        );
    }

    prop_compose! {
        fn observation()(
            authentication_mode in auth_mode(),
            pending_update in proptest::option::of((auth_mode(), update_status())
                .prop_map(|(target, status)| PendingUpdate { target, status })),
            plan in proptest::option::of((0usize..4, 0usize..3, any::<bool>())
                .prop_map(|(to_create, blockers, blocks_api_mode)| PlanSummary { to_create, blockers, blocks_api_mode })),
            flags in proptest::array::uniform7(any::<bool>()),
        ) -> Observation {
            Observation {
                authentication_mode,
                pending_update,
                plan,
                entries_verified: flags[0],
                backup_present: flags[1],
                configmap_pruned: flags[2],
                soak_elapsed: flags[3],
                break_glass_present: flags[4],
                creator_entry_to_remove: flags[5] && flags[6],
            }
        }
    }

    fn phase() -> impl Strategy<Value = Phase> {
        proptest::sample::select(Phase::ALL.to_vec())
    }

    fn mode() -> impl Strategy<Value = Mode> {
        proptest::sample::select(Mode::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn no_sequence_makes_audit_mutate_or_finalize_prune_unsafely(
            start in phase(),
            modes in proptest::collection::vec(mode(), 1..30),
            observations in proptest::collection::vec(observation(), 1..30),
        ) {
            let mut phase = start;
            for (i, obs) in observations.iter().enumerate() {
                let mode = modes[i % modes.len()];
                let step = next(phase, mode, obs);
                if matches!(mode, Mode::Audit | Mode::Skip) {
                    prop_assert!(!step.is_mutating(), "{mode:?} chose {step:?} for {obs:?}");
                }
                if step == Step::RemoveCreatorEntry {
                    prop_assert_eq!(mode, Mode::Finalize);
                    prop_assert_eq!(obs.authentication_mode, AuthenticationMode::Api);
                    prop_assert!(obs.break_glass_present && obs.creator_entry_to_remove);
                } else if step.is_destructive() {
                    prop_assert_eq!(mode, Mode::Finalize);
                    let plan = obs.plan.unwrap_or_default();
                    prop_assert!(obs.backup_present, "{step:?} before backup: {obs:?}");
                    prop_assert!(obs.entries_verified && obs.soak_elapsed && obs.break_glass_present);
                    prop_assert!(!plan.blocks_api_mode && plan.to_create == 0);
                    prop_assert_eq!(obs.authentication_mode, AuthenticationMode::ApiAndConfigMap);
                }
                if step == Step::SwitchToApi {
                    prop_assert!(obs.configmap_pruned);
                }
                if step == Step::SwitchToApiAndConfigMap {
                    prop_assert_eq!(obs.authentication_mode, AuthenticationMode::ConfigMap);
                }
                if step.is_mutating() || step == Step::BackupConfigMap {
                    prop_assert!(obs.plan.is_some());
                    prop_assert!(obs.pending_update.is_none_or(|u| u.status != UpdateStatus::InProgress));
                }
                phase = phase_after(step, phase, obs);
            }
        }
    }
}
