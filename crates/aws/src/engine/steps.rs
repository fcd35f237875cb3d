//! Performing one step of the state machine. Each step re-derives what to do from the
//! observation it is given, so a step interrupted half-way is completed, never repeated.

use super::audit_trail::op;
use super::eks_write::{self, Fail};
use super::error::EngineError;
use super::instance::Engine;
use super::outcome::Progress;
use super::plan_counts::already_present;
use super::step_failure::StepFailure;
use crate::live::{self, Gathered, WriteError};
use crate::store::ClusterKey;
use crate::store::backup;
use crate::store::entries::{EntryPlan, EntryStatus, EntryUpdate};
use crate::store::error::StoreError;
use crate::store::records::{BackupRef, ClusterState, UpdateRef};
use eks_auth_core::arn::Arn;
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::{AuthenticationMode, ExistingEntry};
use eks_auth_core::plan::{AccessPolicy, Action, MANAGED_TAG, Plan, PlannedEntry};
use eks_auth_core::state::Step;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Instant, SystemTime};

/// What a step works from.
pub(super) struct StepCtx<'c> {
    pub(super) key: &'c ClusterKey,
    pub(super) gathered: &'c Gathered,
    pub(super) auth: &'c AwsAuth,
    pub(super) plan: &'c Plan,
    pub(super) deadline: Instant,
    pub(super) progress: Progress<'c>,
}

/// A step's own failure (recorded on the cluster; a later run retries it, or a new scan or
/// `apply` when it is terminal).
pub(super) type StepResult = Result<(), StepFailure>;

/// The step's name as failpoints and progress lines spell it.
pub(super) fn step_name(step: Step) -> &'static str {
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

impl Engine<'_> {
    /// Performs `step`, updating `state` with what it started (an update to follow, the time of
    /// verification). `Ok(Err(reason))` is a failed step; `Err` is a store failure or failpoint.
    pub(super) async fn execute(
        &self,
        step: Step,
        ctx: &StepCtx<'_>,
        state: &mut ClusterState,
    ) -> Result<StepResult, EngineError> {
        let name = step_name(step);
        match step {
            Step::Plan => {
                self.note(ctx.progress, format!("{name}: {}", plan_line(ctx.plan)));
                self.record_plan(ctx).await?;
                Ok(Ok(()))
            }
            Step::SwitchToApiAndConfigMap => {
                self.switch(ctx, state, AuthenticationMode::ApiAndConfigMap)
                    .await
            }
            Step::SwitchToApi => self.switch(ctx, state, AuthenticationMode::Api).await,
            Step::CreateEntries => self.create_entries(ctx).await,
            Step::VerifyEntries => {
                let verified = self.mark_verified(ctx).await?;
                state.verified_at = Some(SystemTime::now());
                self.note(
                    ctx.progress,
                    format!("{name}: {verified} entries read back from EKS match their targets"),
                );
                Ok(Ok(()))
            }
            Step::BackupConfigMap => {
                let Some(cm) = &ctx.gathered.configmap else {
                    return Ok(Ok(()));
                };
                let text = serde_json::to_string(&cm.data).map_err(|e| {
                    EngineError::Store(StoreError::Serialize {
                        attribute: "text",
                        source: e,
                    })
                })?;
                let stored = self
                    .store
                    .put_backup(ctx.key, &cm.resource_version, &text, SystemTime::now())
                    .await?;
                // Named in the record's next version-guarded save: what rollback may restore.
                state.backup = Some(BackupRef {
                    resource_version: stored.resource_version,
                    digest: backup::digest(&stored.text),
                });
                self.note(
                    ctx.progress,
                    format!(
                        "{name}: aws-auth at resourceVersion {} stored verbatim",
                        cm.resource_version
                    ),
                );
                Ok(Ok(()))
            }
            Step::PruneConfigMap => self.prune(ctx).await,
            Step::RemoveCreatorEntry => self.remove_creator(ctx, state).await,
            Step::WaitForUpdate | Step::WaitForSoak | Step::Done => {
                self.note(ctx.progress, name.to_owned());
                Ok(Ok(()))
            }
            Step::Block(reason) => {
                self.note(ctx.progress, format!("{name}: {reason}"));
                Ok(Ok(()))
            }
        }
    }

    /// Records each principal's plan (its first row; later rows for it are shadowed).
    async fn record_plan(&self, ctx: &StepCtx<'_>) -> Result<(), EngineError> {
        let now = SystemTime::now();
        let mut seen = BTreeSet::new();
        for entry in &ctx.plan.entries {
            let Some(arn) = principal(entry) else {
                continue;
            };
            if !seen.insert(arn.to_string()) {
                continue;
            }
            let plan = EntryPlan {
                principal_arn: arn.clone(),
                source_row: serde_json::to_string(&entry.source).unwrap_or_default(),
                target_spec: serde_json::to_value(entry).unwrap_or_default(),
            };
            self.store.put_entry_plan(ctx.key, &plan, now).await?;
            let status = match entry.action {
                Action::Create => EntryStatus::Planned,
                Action::Skip => EntryStatus::Skipped,
                Action::Blocked => EntryStatus::Blocked,
            };
            let update = EntryUpdate {
                status,
                error: None,
                attempted: false,
            };
            self.store.update_entry(ctx.key, &arn, &update, now).await?;
        }
        self.record_eks_managed(ctx).await
    }

    /// Records the entries EKS manages itself (status `EKS_MANAGED`), so `status` shows them.
    async fn record_eks_managed(&self, ctx: &StepCtx<'_>) -> Result<(), EngineError> {
        let now = SystemTime::now();
        for managed in &ctx.plan.eks_managed_entries {
            let Ok(arn) = managed.principal_arn.parse::<Arn>() else {
                continue;
            };
            let plan = EntryPlan {
                principal_arn: arn.clone(),
                source_row: String::new(),
                target_spec: serde_json::to_value(managed).unwrap_or_default(),
            };
            self.store.put_entry_plan(ctx.key, &plan, now).await?;
            let update = EntryUpdate {
                status: EntryStatus::EksManaged,
                error: None,
                attempted: false,
            };
            self.store.update_entry(ctx.key, &arn, &update, now).await?;
        }
        Ok(())
    }

    async fn switch(
        &self,
        ctx: &StepCtx<'_>,
        state: &mut ClusterState,
        target: AuthenticationMode,
    ) -> Result<StepResult, EngineError> {
        let cluster = ctx.key.name.as_ref();
        let out = self
            .audited(
                ctx.key,
                op::UPDATE_CLUSTER_CONFIG,
                cluster,
                json!({ "authenticationMode": target.as_str() }),
                |token| async move {
                    eks_write::update_mode(&self.eks, cluster, target, &token)
                        .await
                        .map_err(|f| f.step(format!("UpdateClusterConfig to {}", target.as_str())))
                },
                |id: &String| json!({ "updateId": id }),
            )
            .await?;
        Ok(out.map(|id| {
            self.note(
                ctx.progress,
                format!("switch to {}: update {id} requested", target.as_str()),
            );
            state.pending_update = Some(UpdateRef { id, target });
        }))
    }

    async fn create_entries(&self, ctx: &StepCtx<'_>) -> Result<StepResult, EngineError> {
        let mut failures = Vec::new();
        let mut created = 0;
        for entry in ctx
            .plan
            .entries
            .iter()
            .filter(|e| e.action == Action::Create)
        {
            let Some(arn) = principal(entry) else {
                continue;
            };
            if self.interrupt.is_requested() {
                // Stop between writes; the next pass saves and ends the run, and a later run
                // creates the rest (the plan still lists them).
                break;
            }
            // The planner's own lookup, so executor and plan agree on which entry exists.
            let existing = ctx.gathered.facts.existing_entry(&arn.to_string());
            let outcome = self.create_one(ctx, entry, &arn, existing).await?;
            let now = SystemTime::now();
            let update = match &outcome {
                Ok(()) => {
                    created += 1;
                    EntryUpdate {
                        status: EntryStatus::Created,
                        error: None,
                        attempted: true,
                    }
                }
                Err(failure) => {
                    let error = Some(failure.reason.clone());
                    failures.push(StepFailure {
                        reason: format!("{arn}: {}", failure.reason),
                        what_to_do: failure.what_to_do.clone(),
                    });
                    EntryUpdate {
                        status: EntryStatus::Failed,
                        error,
                        attempted: true,
                    }
                }
            };
            self.store.update_entry(ctx.key, &arn, &update, now).await?;
        }
        self.note(
            ctx.progress,
            format!(
                "CreateEntries: {created} entries created or completed, {} failed",
                failures.len()
            ),
        );
        if failures.is_empty() {
            Ok(Ok(()))
        } else {
            let summary = format!(
                "{} of {} entries failed",
                failures.len(),
                failures.len() + created
            );
            Ok(Err(StepFailure::combined(&summary, &failures)))
        }
    }

    /// Creates one entry (unless the migrator's incomplete entry exists) and associates the
    /// policies it lacks; an equivalent entry someone else made is adopted (tagged) instead.
    async fn create_one(
        &self,
        ctx: &StepCtx<'_>,
        entry: &PlannedEntry,
        arn: &Arn,
        existing: Option<&ExistingEntry>,
    ) -> Result<StepResult, EngineError> {
        let principal = arn.to_string();
        if existing.is_none()
            && let Err(reason) = self.create_entry(ctx, entry, &principal).await?
        {
            return Ok(Err(reason));
        }
        if let Some(foreign) = existing.filter(|e| !e.managed_by_migrator) {
            // Adoption (the planner only plans it for an equivalent entry): tag it, nothing else.
            if let Err(reason) = self.adopt(ctx, &principal).await? {
                return Ok(Err(reason));
            }
            debug_assert!(entry.access_policies.iter().all(|p| foreign.has_policy(p)));
            return Ok(Ok(()));
        }
        let missing: Vec<&AccessPolicy> = entry
            .access_policies
            .iter()
            .filter(|p| existing.is_none_or(|e| !e.has_policy(p)))
            .collect();
        for policy in missing {
            if let Err(reason) = self.associate(ctx, &principal, policy).await? {
                return Ok(Err(reason));
            }
        }
        Ok(Ok(()))
    }

    /// CreateAccessEntry for `principal`, tagged as the migrator's; an entry that exists already
    /// (created by an interrupted run, or concurrently) is completed by the association.
    async fn create_entry(
        &self,
        ctx: &StepCtx<'_>,
        entry: &PlannedEntry,
        principal: &str,
    ) -> Result<StepResult, EngineError> {
        let cluster = ctx.key.name.as_ref();
        let request = json!({
            "type": entry.entry_type.map(|t| t.as_str()),
            "username": entry.username,
            "kubernetesGroups": entry.kubernetes_groups,
            "tags": { MANAGED_TAG.0: MANAGED_TAG.1 },
        });
        let out = self
            .audited(
                ctx.key,
                op::CREATE_ACCESS_ENTRY,
                principal,
                request,
                |token| async move {
                    match eks_write::create_entry(&self.eks, cluster, principal, entry, &token)
                        .await
                    {
                        Ok(()) => Ok(false),
                        // Created by an interrupted run whose record was reconciled, or
                        // concurrently: association below completes it.
                        Err(Fail::InUse(_)) => Ok(true),
                        Err(f) => Err(f.step("CreateAccessEntry")),
                    }
                },
                |existed: &bool| json!({ "alreadyExisted": existed }),
            )
            .await?;
        Ok(out.map(|_| ()))
    }

    /// Tags someone else's equivalent entry for `principal` as the migrator's.
    async fn adopt(&self, ctx: &StepCtx<'_>, principal: &str) -> Result<StepResult, EngineError> {
        let cluster = ctx.key.name.as_ref();
        self.audited(
            ctx.key,
            op::TAG_RESOURCE,
            principal,
            json!({ "adopt": true, "tags": { MANAGED_TAG.0: MANAGED_TAG.1 } }),
            |_token| async move {
                eks_write::tag_entry(&self.eks, cluster, principal)
                    .await
                    .map_err(|f| f.step("TagResource (adopt)"))
            },
            |_: &()| json!({}),
        )
        .await
    }

    /// AssociateAccessPolicy of `policy` to `principal`'s entry (retrying EKS's post-create
    /// 404 until the deadline).
    async fn associate(
        &self,
        ctx: &StepCtx<'_>,
        principal: &str,
        policy: &AccessPolicy,
    ) -> Result<StepResult, EngineError> {
        let cluster = ctx.key.name.as_ref();
        let request = json!({
            "policyArn": policy.policy_arn,
            "accessScope": policy.access_scope,
        });
        let out = self
            .audited(
                ctx.key,
                op::ASSOCIATE_ACCESS_POLICY,
                principal,
                request,
                |_token| async move {
                    eks_write::associate(&self.eks, cluster, principal, policy, ctx.deadline)
                        .await
                        .map_err(|f| f.step(format!("AssociateAccessPolicy {}", policy.name())))
                },
                |retries: &u32| json!({ "notFoundRetries": retries }),
            )
            .await?;
        Ok(out.map(|_| ()))
    }

    async fn mark_verified(&self, ctx: &StepCtx<'_>) -> Result<usize, EngineError> {
        let now = SystemTime::now();
        let mut seen = BTreeSet::new();
        for entry in ctx.plan.entries.iter().filter(|e| already_present(e)) {
            let Some(arn) = principal(entry) else {
                continue;
            };
            if !seen.insert(arn.to_string()) {
                continue;
            }
            let update = EntryUpdate {
                status: EntryStatus::Verified,
                error: None,
                attempted: false,
            };
            self.store.update_entry(ctx.key, &arn, &update, now).await?;
        }
        self.record_eks_managed(ctx).await?;
        Ok(seen.len())
    }

    async fn prune(&self, ctx: &StepCtx<'_>) -> Result<StepResult, EngineError> {
        let Some(cm) = &ctx.gathered.configmap else {
            return Ok(Ok(()));
        };
        let rows = eks_auth_core::prune::prunable_rows(ctx.auth, ctx.plan, &ctx.gathered.facts);
        let data = match eks_auth_core::prune::prune(&cm.data, &rows) {
            Ok(data) => data,
            Err(e) => {
                return Ok(Err(StepFailure::retryable(format!(
                    "cannot prune aws-auth: {e}"
                ))));
            }
        };
        let removed: Vec<String> = rows
            .iter()
            .map(|r| format!("{}[{}]", r.section.as_str(), r.index))
            .collect();
        let request = json!({
            "resourceVersion": cm.resource_version,
            "removeRows": removed,
            "route": route_label(ctx.gathered),
        });
        let out = self
            .audited(
                ctx.key,
                op::PATCH_CONFIG_MAP,
                "kube-system/aws-auth",
                request,
                |_token| async {
                    let (name, options) = (ctx.key.name.as_ref(), &self.settings.gather);
                    live::write_aws_auth(self.config, name, options, cm, &data)
                        .await
                        .map_err(|e: WriteError| StepFailure::retryable(e.to_string()))
                },
                |rv: &String| json!({ "resourceVersion": rv }),
            )
            .await?;
        Ok(out.map(|rv| {
            self.note(
                ctx.progress,
                format!(
                    "PruneConfigMap: removed {} migrated rows ({}); aws-auth now at resourceVersion {rv}",
                    removed.len(),
                    removed.join(", ")
                ),
            );
        }))
    }
}

impl Engine<'_> {
    /// Deletes the creator's admin entry (the policy asked; break-glass exists; API mode).
    async fn remove_creator(
        &self,
        ctx: &StepCtx<'_>,
        state: &ClusterState,
    ) -> Result<StepResult, EngineError> {
        let Some(principal) = state.creator_principal.as_deref() else {
            return Ok(Ok(()));
        };
        let cluster = ctx.key.name.as_ref();
        let out = self
            .audited(
                ctx.key,
                op::DELETE_ACCESS_ENTRY,
                principal,
                json!({ "creatorEntry": true }),
                |_token| async move {
                    // The member write role deletes only entries carrying the migrator's tag
                    // (infra/member-role.yaml): EKS made this one untagged, so it is marked first.
                    match eks_write::tag_entry(&self.eks, cluster, principal).await {
                        Ok(()) => {}
                        Err(Fail::NotFound(_)) => return Ok(()),
                        Err(f) => return Err(f.step("TagResource (creator)")),
                    }
                    match eks_write::delete_entry(&self.eks, cluster, principal).await {
                        Ok(()) | Err(Fail::NotFound(_)) => Ok(()),
                        Err(f) => Err(f.step("DeleteAccessEntry (creator)")),
                    }
                },
                |_: &()| json!({}),
            )
            .await?;
        Ok(out.map(|()| {
            self.note(
                ctx.progress,
                format!("RemoveCreatorEntry: the cluster creator's admin entry ({principal}) was removed, as the policy asks"),
            );
        }))
    }
}

/// How the run reached the cluster's Kubernetes API (audit records of aws-auth writes say it).
pub(super) fn route_label(gathered: &Gathered) -> Option<String> {
    gathered.facts.reach.as_ref().map(|r| r.route.label())
}

/// A plan entry's principal as an ARN.
fn principal(entry: &PlannedEntry) -> Option<Arn> {
    entry.principal_arn.as_deref()?.parse().ok()
}

fn plan_line(plan: &Plan) -> String {
    let s = &plan.summary;
    format!(
        "{} to create, {} to skip, {} blocked, {} blocker finding(s)",
        s.create, s.skip, s.blocked, s.blockers
    )
}
