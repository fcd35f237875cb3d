//! Observing the cluster and planning, the part of a pass before the decision: a full
//! [`live::gather`] (a cluster that is not ACTIVE, unreachable or refusing the migrator ends the
//! run here), the audit records a crashed run left open completed, the plan with the cluster's
//! RBAC and its inventory, and the [`Observation`] the state machine decides from.

use super::error::EngineError;
use super::forbidden::Forbidden;
use super::instance::Engine;
use super::outcome::{Flow, Progress, Report};
use super::plan_counts::has_verified;
use super::rbac::{RunRbac, analyse};
use super::reach::planned_before;
use super::self_grant::TEMPORARY_USERNAME;
use super::step_failure::StepFailure;
use crate::live::{self, GatherError, Gathered};
use crate::sdk_error::log::HasCallFailure;
use crate::store::ClusterKey;
use crate::store::records::{ClusterRecord, ClusterState};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::eks_managed::eks_managed;
use eks_auth_core::facts::{AuthenticationMode, ClusterFacts, ExistingEntry};
use eks_auth_core::observation::{
    break_glass, entries_outside_aws_auth, is_cluster_admin, plan_summary,
};
use eks_auth_core::plan::Plan;
use eks_auth_core::policy::CreatorEntry;
use eks_auth_core::state::{Observation, PendingUpdate, Phase, PlanSummary, UpdateStatus};
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

/// What one observation of the cluster found, and the plan made from it.
pub(super) struct Observed {
    /// The facts and aws-auth as read.
    pub(super) gathered: Gathered,
    /// aws-auth as the authenticator reads it.
    pub(super) auth: AwsAuth,
    /// The plan for those facts.
    pub(super) plan: Plan,
    /// The plan reduced to what the state machine needs.
    pub(super) summary: PlanSummary,
    /// What the state machine decides from.
    pub(super) observation: Observation,
    /// STANDARD entries outside aws-auth, the migrator's and EKS's own excepted.
    pub(super) outside: Vec<ExistingEntry>,
    /// Whether this plan's inventory replaced the stored one (older parts go after the save).
    pub(super) inventory_changed: bool,
}

/// aws-auth read and planned.
struct Planned {
    auth: AwsAuth,
    plan: Plan,
    inventory_changed: bool,
}

impl Engine<'_> {
    /// Observes the cluster afresh (a full [`live::gather`]), completes the audit records a
    /// crashed run left open, and plans: the facts, the plan and the observation the state
    /// machine decides from.
    pub(super) async fn observe_and_plan(
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
        self.adopt_leftover_temporary(&gathered.facts);
        self.reconcile_open_audits(key, &gathered).await?;
        let Planned {
            auth,
            plan,
            inventory_changed,
        } = self.plan(key, state, &gathered).await?;
        let summary = plan_summary(&plan);
        let auth_mode = gathered
            .facts
            .authentication_mode
            .unwrap_or(AuthenticationMode::ConfigMap);
        state.authentication_mode = Some(auth_mode);
        state.reach = gathered.facts.reach.clone();
        state.owners = Some(plan.owners.clone());
        if pending.is_some_and(|p| p.status != UpdateStatus::Successful || auth_mode == p.target) {
            // Finished (applied, failed or cancelled): stop following it. A failed switch
            // blocks this run and is tried again by the next.
            state.pending_update = None;
        }
        let observation = self
            .observation(record, state, &gathered, &auth, &plan, summary, pending)
            .await?;
        let outside: Vec<ExistingEntry> = entries_outside_aws_auth(&gathered.facts, &plan)
            .into_iter()
            .cloned()
            .collect();
        remember_creator(record, state, auth_mode, &outside);
        let observation = Observation {
            creator_entry_to_remove: self.creator_entry_to_remove(state, &gathered.facts),
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
                        let failure = StepFailure::retryable(reason);
                        stop(self.failed(key, record, state.clone(), failure).await?)
                    }
                }
            }
            Err(e) => {
                let failure = StepFailure::of_call(&e.to_string(), e.call_failure());
                stop(self.failed(key, record, state.clone(), failure).await?)
            }
        }
    }

    /// A temporary entry left behind by an interrupted run: used now, deleted when this run
    /// ends.
    fn adopt_leftover_temporary(&self, facts: &ClusterFacts) {
        if self.temporary().is_none()
            && let Some(left) = facts.existing_entries.iter().find(|e| {
                e.managed_by_migrator && e.username.as_deref() == Some(TEMPORARY_USERNAME)
            })
        {
            self.set_temporary(Some(left.principal_arn.clone()));
        }
    }

    /// aws-auth as the authenticator reads it, the plan with the cluster's RBAC analysis, and
    /// the plan's inventory stored (when it changed) and referenced from `state`.
    async fn plan(
        &self,
        key: &ClusterKey,
        state: &mut ClusterState,
        gathered: &Gathered,
    ) -> Result<Planned, EngineError> {
        let empty = BTreeMap::new();
        let auth = AwsAuth::parse_data(gathered.configmap.as_ref().map_or(&empty, |c| &c.data));
        let mut accepted = self.settings.owners.acceptance_for(
            key.account.as_ref(),
            key.region.as_ref(),
            key.name.as_ref(),
        );
        accepted.extend(&self.settings.accept_owners);
        let mut plan = eks_auth_core::plan_with_owners(
            &auth,
            Some(&gathered.facts),
            &self.settings.policy,
            &accepted,
        );
        let rbac = self.run_rbac(key).await;
        let policy = &self.settings.policy;
        let rbac_unreadable = analyse(&mut plan, &auth, &gathered.facts, policy, &rbac);
        let inventory_changed = self
            .record_inventory(key, state, &auth, &plan, gathered, rbac_unreadable)
            .await?;
        Ok(Planned {
            auth,
            plan,
            inventory_changed,
        })
    }

    /// The cluster's RBAC for this run: read at its first pass, then reused.
    async fn run_rbac(&self, key: &ClusterKey) -> RunRbac {
        if let Some(known) = self.rbac.lock().ok().and_then(|r| r.clone()) {
            return known;
        }
        let read = match live::gather_rbac_with(
            self.config,
            key.name.as_ref(),
            &self.settings.gather,
        )
        .await
        {
            Ok(gathered) => RunRbac::Read {
                rbac: Box::new(gathered.rbac()),
                listed: gathered.access_policies,
            },
            Err(e) => {
                let reason = e.to_string();
                tracing::info!(cluster = %key, %reason, "RBAC not readable; no suggestions for this cluster");
                RunRbac::Unreadable(reason)
            }
        };
        if let Ok(mut slot) = self.rbac.lock() {
            *slot = Some(read.clone());
        }
        read
    }

    /// What the state machine needs to know besides the plan.
    #[allow(clippy::too_many_arguments)]
    async fn observation(
        &self,
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
        // The backup the record names (the migrator's own, recorded with its digest), never just
        // any backup item in the table: one planted there does not stand for the migrator's.
        let backup_present = match (&gathered.configmap, &state.backup) {
            (None, _) => true,
            (Some(cm), Some(recorded)) => {
                recorded.resource_version == cm.resource_version || configmap_pruned
            }
            (Some(_), None) => false,
        };
        let verified_phase = has_verified(record.state.phase);
        Ok(Observation {
            authentication_mode: state
                .authentication_mode
                .unwrap_or(AuthenticationMode::ConfigMap),
            pending_update: pending,
            plan: planned_before(&record.state).then_some(summary),
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

    /// Whether the policy asks to remove the creator's admin entry and it is still there (not
    /// the migrator's, not EKS-managed).
    fn creator_entry_to_remove(&self, state: &ClusterState, facts: &ClusterFacts) -> bool {
        self.settings.policy.creator_entry == CreatorEntry::Remove
            && state.creator_principal.as_deref().is_some_and(|p| {
                facts.existing_entries.iter().any(|e| {
                    e.principal_arn == p
                        && !e.managed_by_migrator
                        && eks_managed(e, facts).is_none()
                })
            })
    }
}

/// Right after the migrator's own switch to API_AND_CONFIG_MAP, records the entry EKS created
/// for the cluster creator: the one cluster-admin entry nobody else made, for a principal
/// aws-auth does not name (EKS's own feature entries are not candidates).
fn remember_creator(
    record: &ClusterRecord,
    state: &mut ClusterState,
    auth_mode: AuthenticationMode,
    outside: &[ExistingEntry],
) {
    if record.state.phase == Phase::ModeSwitching
        && auth_mode == AuthenticationMode::ApiAndConfigMap
        && state.creator_principal.is_none()
    {
        let admins: Vec<&ExistingEntry> = outside.iter().filter(|e| is_cluster_admin(e)).collect();
        if let [creator] = admins.as_slice() {
            state.creator_principal = Some(creator.principal_arn.clone());
        }
    }
}
