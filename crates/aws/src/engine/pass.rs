//! One pass of the engine's loop, in named steps: begin (lease, record, interrupt, deadline) →
//! follow the EKS update in progress → observe and plan → decide ([`next`]) → perform and save.

use super::{Engine, EngineError, Forbidden, Outcome, Progress, Report, TEMPORARY_USERNAME};
use super::{block_text, blocker_codes, counts, error, step_name, steps};
use crate::live::{self, GatherError, Gathered};
use crate::store::ClusterKey;
use crate::store::error::StoreError;
use crate::store::records::{ClusterRecord, ClusterState};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::{AuthenticationMode, ExistingEntry};
use eks_auth_core::observation::{
    break_glass, entries_outside_aws_auth, is_cluster_admin, plan_summary,
};
use eks_auth_core::plan::Plan;
use eks_auth_core::policy::CreatorEntry;
use eks_auth_core::state::{
    Mode, Observation, PendingUpdate, Phase, PlanSummary, Step, UpdateStatus, next, phase_after,
};
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

/// What one observation of the cluster found, and the plan made from it.
pub(crate) struct Observed {
    /// The facts and aws-auth as read.
    pub(crate) gathered: Gathered,
    /// aws-auth as the authenticator reads it.
    pub(crate) auth: AwsAuth,
    /// The plan for those facts.
    pub(crate) plan: Plan,
    /// The plan reduced to what the state machine needs.
    pub(crate) summary: PlanSummary,
    /// What the state machine decides from.
    pub(crate) observation: Observation,
    /// STANDARD entries outside aws-auth, the migrator's and EKS's own excepted.
    pub(crate) outside: Vec<ExistingEntry>,
    /// Whether this plan's inventory replaced the stored one (older parts go after the save).
    pub(crate) inventory_changed: bool,
}

/// How a part of the pass ends: go on with its result, start the pass again, or stop the run.
pub(crate) enum Flow<T> {
    /// Go on.
    Go(T),
    /// Observe again (temporary access was just granted).
    Again,
    /// The run ends with this report.
    Stop(Box<Report>),
}

impl Engine<'_> {
    /// Passes until the run has to wait, is done, blocks, fails, is interrupted or runs out of
    /// time.
    pub(crate) async fn drive(
        &self,
        key: &ClusterKey,
        mode: Mode,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Report, EngineError> {
        loop {
            let (record, mut state) = match self.begin_pass(key, mode, deadline).await? {
                Flow::Go(begun) => begun,
                Flow::Again => continue,
                Flow::Stop(report) => return Ok(*report),
            };
            let pending = match self.follow_update(key, &record, &mut state).await? {
                Flow::Go(pending) => pending,
                Flow::Again => continue,
                Flow::Stop(report) => return Ok(*report),
            };
            let observed = match self
                .observe_and_plan(key, &record, &mut state, pending, deadline, progress)
                .await?
            {
                Flow::Go(observed) => observed,
                Flow::Again => continue,
                Flow::Stop(report) => return Ok(*report),
            };
            let step = next(state.phase, mode, &observed.observation);
            if let Some(report) = self
                .perform(step, key, &record, state, observed, deadline, progress)
                .await?
            {
                return Ok(report);
            }
        }
    }

    /// Renews the lease and reads the record; stops on an interrupt or near the deadline.
    async fn begin_pass(
        &self,
        key: &ClusterKey,
        mode: Mode,
        deadline: Instant,
    ) -> Result<Flow<(ClusterRecord, ClusterState)>, EngineError> {
        let _ = self.renew(true).await?;
        let record = self
            .store
            .get_cluster(key)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                key: key.pk(),
                sk: crate::store::META.to_owned(),
            })?;
        self.remember(record.clone());
        let mut state = record.state.clone();
        state.mode = mode;
        if self.interrupt.is_requested() {
            let report = self.stop(key, &record, state, Outcome::Interrupted).await?;
            return Ok(Flow::Stop(Box::new(report)));
        }
        if Instant::now() + self.settings.step_margin >= deadline {
            let report = self.report(
                key,
                mode,
                Some(&state),
                Outcome::OutOfTime,
                None,
                Vec::new(),
            );
            return Ok(Flow::Stop(Box::new(report)));
        }
        Ok(Flow::Go((record, state)))
    }

    /// The update this cluster's record follows (its own switch): its status, or a stop while it
    /// is in progress or cannot be described.
    async fn follow_update(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: &mut ClusterState,
    ) -> Result<Flow<Option<PendingUpdate>>, EngineError> {
        let Some(update) = state.pending_update.clone() else {
            return Ok(Flow::Go(None));
        };
        let status =
            match super::eks_write::update_status(&self.eks, key.name.as_ref(), &update.id).await {
                Ok(status) => status,
                Err(fail) => {
                    let reason = format!("DescribeUpdate {} failed: {}", update.id, fail.reason());
                    let report = self.failed(key, record, state.clone(), reason).await?;
                    return Ok(Flow::Stop(Box::new(report)));
                }
            };
        if status == UpdateStatus::InProgress {
            self.set_following(Some(update.id.clone()));
            let reason = format!(
                "update {} (the switch to {}) is in progress",
                update.id,
                update.target.as_str()
            );
            let report = self.waiting(key, record, state.clone(), reason).await?;
            return Ok(Flow::Stop(Box::new(report)));
        }
        Ok(Flow::Go(Some(PendingUpdate {
            target: update.target,
            status,
        })))
    }

    /// Observes the cluster afresh (a full [`live::gather`]), completes the audit records a
    /// crashed run left open, and plans: the facts, the plan and the observation the state
    /// machine decides from.
    pub(crate) async fn observe_and_plan(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: &mut ClusterState,
        pending: Option<PendingUpdate>,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Flow<Observed>, EngineError> {
        let gathered = match self.gather(key, record, state, deadline, progress).await? {
            Flow::Go(gathered) => gathered,
            Flow::Again => return Ok(Flow::Again),
            Flow::Stop(report) => return Ok(Flow::Stop(report)),
        };
        if self.temporary().is_none()
            && let Some(left) = gathered.facts.existing_entries.iter().find(|e| {
                e.managed_by_migrator && e.username.as_deref() == Some(TEMPORARY_USERNAME)
            })
        {
            // Left behind by an interrupted run: used now, deleted when this run ends.
            self.set_temporary(Some(left.principal_arn.clone()));
        }
        self.reconcile_open_audits(key, &gathered).await?;
        let empty = BTreeMap::new();
        let auth = AwsAuth::parse_data(gathered.configmap.as_ref().map_or(&empty, |c| &c.data));
        let mut plan = eks_auth_core::plan(&auth, Some(&gathered.facts), &self.settings.policy);
        let rbac = self.run_rbac(key).await;
        let rbac_unreadable = super::rbac::analyse(
            &mut plan,
            &auth,
            &gathered.facts,
            &self.settings.policy,
            &rbac,
        );
        let inventory_changed = self
            .record_inventory(key, state, &auth, &plan, &gathered, rbac_unreadable)
            .await?;
        let summary = plan_summary(&plan);
        let auth_mode = gathered
            .facts
            .authentication_mode
            .unwrap_or(AuthenticationMode::ConfigMap);
        state.authentication_mode = Some(auth_mode);
        state.reach = gathered.facts.reach.clone();
        if pending.is_some_and(|p| p.status != UpdateStatus::Successful || auth_mode == p.target) {
            // Finished (applied, failed or cancelled): stop following it. A failed switch
            // blocks this run and is tried again by the next.
            state.pending_update = None;
        }
        let observation = self
            .observation(
                key, record, state, &gathered, &auth, &plan, summary, pending,
            )
            .await?;
        let outside: Vec<ExistingEntry> = entries_outside_aws_auth(&gathered.facts, &plan)
            .into_iter()
            .cloned()
            .collect();
        if record.state.phase == Phase::ModeSwitching
            && auth_mode == AuthenticationMode::ApiAndConfigMap
            && state.creator_principal.is_none()
        {
            // EKS created the creator's entry on the switch the migrator requested: the one
            // cluster-admin entry nobody else made, for a principal aws-auth does not name (EKS's
            // own feature entries are not candidates).
            let admins: Vec<&ExistingEntry> =
                outside.iter().filter(|e| is_cluster_admin(e)).collect();
            if let [creator] = admins.as_slice() {
                state.creator_principal = Some(creator.principal_arn.clone());
            }
        }
        let observation = Observation {
            creator_entry_to_remove: self.settings.policy.creator_entry == CreatorEntry::Remove
                && state.creator_principal.as_deref().is_some_and(|p| {
                    gathered.facts.existing_entries.iter().any(|e| {
                        e.principal_arn == p
                            && !e.managed_by_migrator
                            && eks_auth_core::eks_managed::eks_managed(e, &gathered.facts).is_none()
                    })
                }),
            ..observation
        };
        Ok(Flow::Go(Observed {
            gathered,
            auth,
            plan,
            summary,
            observation,
            outside,
            inventory_changed,
        }))
    }

    /// [`live::gather`], turning a cluster that is not ACTIVE into a wait (following the update
    /// it runs, whoever started it), a Kubernetes API no route reaches into a block that says
    /// what to deploy, and a refusal of the Kubernetes API into what [`Engine::forbidden`]
    /// decides.
    async fn gather(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: &ClusterState,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Flow<Gathered>, EngineError> {
        let stop = |report: Report| Ok(Flow::Stop(Box::new(report)));
        match live::gather(self.config, key.name.as_ref(), &self.settings.gather).await {
            Ok(g) => Ok(Flow::Go(g)),
            Err(GatherError::ClusterNotActive { status, .. }) => {
                let found = live::update_in_progress(self.config, key.name.as_ref())
                    .await
                    .unwrap_or_default();
                let reason = match &found {
                    Some(id) => format!("the cluster is {status}: update {id} is in progress"),
                    None => format!("the cluster is {status}"),
                };
                self.set_following(found);
                stop(self.waiting(key, record, state.clone(), reason).await?)
            }
            Err(GatherError::Unreachable(no)) => {
                let (state, no) = (state.clone(), *no);
                stop(
                    self.unreachable(key, record, state, no.reach, no.reason, progress)
                        .await?,
                )
            }
            Err(GatherError::KubeForbidden(denied)) => {
                match self
                    .forbidden(key, denied.to_string(), deadline, progress)
                    .await?
                {
                    Forbidden::Granted => Ok(Flow::Again),
                    Forbidden::ApiMode => {
                        stop(self.api_mode_unreadable(key, record, state.clone()).await?)
                    }
                    Forbidden::Fail(reason) => {
                        stop(self.failed(key, record, state.clone(), reason).await?)
                    }
                }
            }
            Err(e) => stop(
                self.failed(key, record, state.clone(), e.to_string())
                    .await?,
            ),
        }
    }

    /// What the state machine needs to know besides the plan.
    #[allow(clippy::too_many_arguments)]
    async fn observation(
        &self,
        key: &ClusterKey,
        record: &ClusterRecord,
        state: &ClusterState,
        gathered: &Gathered,
        auth: &AwsAuth,
        plan: &Plan,
        summary: PlanSummary,
        pending: Option<PendingUpdate>,
    ) -> Result<Observation, EngineError> {
        let now = SystemTime::now();
        let prunable = eks_auth_core::prune::prunable_rows(auth, plan, &gathered.facts);
        let configmap_pruned = prunable.is_empty();
        let backup_present = match &gathered.configmap {
            None => true,
            Some(cm) => {
                self.store
                    .get_backup(key, &cm.resource_version)
                    .await?
                    .is_some()
                    || (configmap_pruned && self.store.latest_backup(key).await?.is_some())
            }
        };
        let verified_phase = matches!(
            record.state.phase,
            Phase::Verified
                | Phase::ConfigMapBackedUp
                | Phase::ConfigMapPruned
                | Phase::ApiSwitching
                | Phase::Complete
        );
        Ok(Observation {
            authentication_mode: state
                .authentication_mode
                .unwrap_or(AuthenticationMode::ConfigMap),
            pending_update: pending,
            plan: super::reach::planned_before(&record.state).then_some(summary),
            entries_verified: summary.to_create == 0 && verified_phase,
            backup_present,
            configmap_pruned,
            soak_elapsed: state
                .verified_at
                .is_some_and(|t| t + self.settings.soak <= now),
            break_glass_present: break_glass(
                &gathered.facts,
                self.settings.break_glass_principal.as_deref(),
            )
            .is_some(),
            creator_entry_to_remove: false,
        })
    }

    /// Performs `step`, records its outcome and saves the new phase; the run's report when the
    /// run ends here.
    #[allow(clippy::too_many_arguments)]
    async fn perform(
        &self,
        step: Step,
        key: &ClusterKey,
        record: &ClusterRecord,
        mut state: ClusterState,
        observed: Observed,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Option<Report>, EngineError> {
        let ctx = steps::StepCtx {
            key,
            gathered: &observed.gathered,
            auth: &observed.auth,
            plan: &observed.plan,
            deadline,
            progress,
        };
        let result = self.execute(step, &ctx, &mut state).await?;
        state.counts = counts(&observed.plan, &state, observed.summary.blockers);
        state.blocker_codes = blocker_codes(&observed.plan);
        if step == Step::CreateEntries && result.is_ok() {
            self.note_restored(record, observed.summary.to_create);
        }
        let outcome = match result {
            Err(reason) => {
                state.phase = Phase::Failed { retryable: true };
                state.last_error = Some(reason.clone());
                Some(Outcome::Failed(reason))
            }
            Ok(()) => {
                state.phase = phase_after(step, state.phase, &observed.observation);
                state.last_error = None;
                self.outcome_of(step, &mut state, &observed.plan)
            }
        };
        self.save(key, record, &state).await?;
        if observed.inventory_changed {
            self.forget_old_inventories(key, &state).await;
        }
        error::failpoint(&format!("after-save:{}", step_name(step)))?;
        Ok(outcome.map(|outcome| {
            self.report(
                key,
                state.mode,
                Some(&state),
                outcome,
                Some(observed.plan),
                observed.outside,
            )
        }))
    }

    /// How the run ends after a step that succeeded, if it ends.
    fn outcome_of(&self, step: Step, state: &mut ClusterState, plan: &Plan) -> Option<Outcome> {
        match step {
            Step::WaitForUpdate => Some(Outcome::Waiting {
                reason: "the authentication-mode update has not shown on the cluster yet"
                    .to_owned(),
                retry_after: self.settings.update_poll,
            }),
            Step::WaitForSoak => {
                let now = SystemTime::now();
                let left = state
                    .verified_at
                    .map(|t| {
                        (t + self.settings.soak)
                            .duration_since(now)
                            .unwrap_or_default()
                    })
                    .unwrap_or(self.settings.soak);
                Some(Outcome::Waiting {
                    reason: format!("the soak after verification ({} s left)", left.as_secs()),
                    retry_after: left,
                })
            }
            Step::Done => Some(Outcome::Done),
            Step::Block(reason) => {
                let text = block_text(reason, plan);
                state.last_error = Some(text.clone());
                Some(Outcome::Blocked(text))
            }
            _ => None,
        }
    }
}
