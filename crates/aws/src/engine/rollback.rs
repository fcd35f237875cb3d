//! Rolling a cluster back ([`Engine::rollback`]): `eks_auth_core::rollback` decides what can be
//! undone — aws-auth restored first from the backup the cluster record names, when the stored
//! text still has the recorded digest (a backup written into the table by anyone else is
//! refused), then (only once aws-auth is back,
//! and only in API_AND_CONFIG_MAP) the migrator's entries deleted, so each principal's aws-auth
//! row applies again; what EKS cannot undo is said, not attempted. This module performs the
//! writes it decides, each audited, and records the outcome on the cluster.

use super::audit_trail::op;
use super::eks_write::{self, Fail};
use super::error::EngineError;
use super::instance::Engine;
use super::outcome::{Outcome, Progress};
use super::steps::route_label;
use crate::live::{self, GatherError, Gathered};
use crate::store::ClusterKey;
use crate::store::backup::{self, Backup as StoredItem};
use crate::store::records::{BackupRef, ClusterState};
use eks_auth_core::rollback::{
    self as decide, AwsAuthUndo, Backup, Conclusion, RecordedBackup, StoredBackup, Undo,
};
use eks_auth_core::state::Mode;
use eks_auth_kube::AwsAuthConfigMap;
use eks_auth_kube::token::rfc3339_seconds;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

/// What a rollback did and what it could not undo.
#[derive(Debug, Clone)]
pub struct RollbackReport {
    /// How it ended (`Done` when everything that can be undone was).
    pub outcome: Outcome,
    /// The resourceVersion of the backup aws-auth was restored from, when it was.
    pub restored_from: Option<String>,
    /// Principals whose migrator-created entries were deleted.
    pub deleted: Vec<String>,
    /// What cannot be undone, in words.
    pub not_undone: Vec<String>,
    /// EKS and Kubernetes write calls made.
    pub mutating_calls: u32,
}

impl Engine<'_> {
    /// Rolls cluster `cluster` back to aws-auth, as far as EKS allows, and sets its mode to
    /// audit so no worker migrates it again until someone says so.
    ///
    /// # Errors
    ///
    /// As [`Engine::run`].
    pub async fn rollback(
        &self,
        cluster: &str,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<RollbackReport, EngineError> {
        self.start_run();
        let key = self.identify(cluster).await?;
        self.ensure_record(&key, Mode::Audit).await?;
        let lease = match self.acquire(&key).await? {
            Ok(lease) => lease,
            Err(busy) => return Ok(self.rollback_report(busy, None, Vec::new(), Vec::new())),
        };
        self.hold(lease);
        let result = self.roll_back(&key, deadline, progress).await;
        if matches!(result, Err(EngineError::FailPoint(_))) {
            return result;
        }
        self.release().await;
        result
    }

    fn rollback_report(
        &self,
        outcome: Outcome,
        restored_from: Option<String>,
        deleted: Vec<String>,
        not_undone: Vec<String>,
    ) -> RollbackReport {
        RollbackReport {
            outcome,
            restored_from,
            deleted,
            not_undone,
            mutating_calls: self.calls.load(Ordering::SeqCst),
        }
    }

    /// The rollback under the lease: observe, decide, restore aws-auth, delete the migrator's
    /// entries, record.
    async fn roll_back(
        &self,
        key: &ClusterKey,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<RollbackReport, EngineError> {
        let gathered =
            match live::gather(self.config, key.name.as_ref(), &self.settings.gather).await {
                Ok(g) => g,
                Err(GatherError::ClusterNotActive { status, .. }) => {
                    let outcome = Outcome::Waiting {
                        reason: format!("the cluster is {status}; roll back when it is ACTIVE"),
                        retry_after: self.settings.update_poll,
                    };
                    return Ok(self.rollback_report(outcome, None, Vec::new(), Vec::new()));
                }
                Err(e) => return Err(EngineError::Identify(e)),
            };
        self.reconcile_open_audits(key, &gathered).await?;
        if let Some(refusal) = decide::refused(&gathered.facts) {
            let text = refusal.to_string();
            let outcome = Outcome::Blocked(text.clone());
            return Ok(self.rollback_report(outcome, None, Vec::new(), vec![text]));
        }
        let (recorded, stored) = self.recorded_backup(key).await?;
        let digest = stored.as_ref().map(|b| backup::digest(&b.text));
        let stored = stored
            .as_ref()
            .zip(digest.as_deref())
            .map(|(b, digest)| StoredBackup {
                backup: Backup {
                    resource_version: &b.resource_version,
                    text: &b.text,
                },
                digest,
            });
        let recorded_ref = recorded.as_ref().map(|r| RecordedBackup {
            resource_version: &r.resource_version,
            digest: &r.digest,
        });
        let backup = match decide::trusted(recorded_ref, stored) {
            Ok(backup) => backup,
            Err(untrusted) => {
                let text = untrusted.to_string();
                let outcome = Outcome::Failed(text.clone());
                return Ok(self.rollback_report(outcome, None, Vec::new(), vec![text]));
            }
        };
        let aws_auth = gathered.configmap.as_ref().map(|cm| &cm.data);
        let undo = match decide::plan(&gathered.facts, aws_auth, backup) {
            Ok(undo) => undo,
            Err(unreadable) => {
                let outcome = Outcome::Failed(unreadable.to_string());
                return Ok(self.rollback_report(outcome, None, Vec::new(), Vec::new()));
            }
        };
        let (restored_from, restore_failure) = match (&undo.aws_auth, &gathered.configmap) {
            (AwsAuthUndo::Restore { from, data }, Some(cm)) => {
                if Instant::now() >= deadline {
                    let outcome = Outcome::OutOfTime;
                    return Ok(self.rollback_report(outcome, None, Vec::new(), Vec::new()));
                }
                match self
                    .restore(key, &gathered, cm, from, data, progress)
                    .await?
                {
                    Ok(()) => (Some(from.clone()), None),
                    Err(reason) => (None, Some(reason)),
                }
            }
            _ => (None, None),
        };
        let back = undo.aws_auth_back(restore_failure.as_deref());
        let mut deletions = Vec::new();
        for principal in undo.entries_to_delete(back) {
            let deleted = self.delete_entry(key, principal, progress).await?;
            deletions.push((principal.clone(), deleted));
        }
        let end = undo.conclude(restore_failure.as_deref(), &deletions);
        self.record_rollback(key, &undo, &end).await?;
        let not_undone: Vec<String> = end.not_undone.iter().map(ToString::to_string).collect();
        let outcome = if end.aws_auth_back {
            Outcome::Done
        } else {
            Outcome::Failed(not_undone.join("; "))
        };
        Ok(self.rollback_report(outcome, restored_from, end.deleted, not_undone))
    }

    /// The backup the cluster record names and the stored item of that resourceVersion; without
    /// a recorded one, the newest stored item (which [`decide::trusted`] then refuses).
    async fn recorded_backup(
        &self,
        key: &ClusterKey,
    ) -> Result<(Option<BackupRef>, Option<StoredItem>), EngineError> {
        let recorded = self
            .store
            .get_cluster(key)
            .await?
            .and_then(|r| r.state.backup);
        let stored = match &recorded {
            Some(r) => self.store.get_backup(key, &r.resource_version).await?,
            None => self.store.latest_backup(key).await?,
        };
        Ok((recorded, stored))
    }

    /// Writes the backup of resourceVersion `from` (its `data`) over aws-auth, conditional on
    /// `cm`'s resourceVersion. `Ok(Err(reason))` when the write failed.
    async fn restore(
        &self,
        key: &ClusterKey,
        gathered: &Gathered,
        cm: &AwsAuthConfigMap,
        from: &str,
        data: &BTreeMap<String, String>,
        progress: Progress<'_>,
    ) -> Result<Result<(), String>, EngineError> {
        let request = json!({
            "resourceVersion": cm.resource_version,
            "restoreFrom": from,
            "route": route_label(gathered),
        });
        let out = self
            .audited(
                key,
                op::PATCH_CONFIG_MAP,
                "kube-system/aws-auth",
                request,
                |_token| async {
                    let options = &self.settings.gather;
                    live::write_aws_auth(self.config, key.name.as_ref(), options, cm, data)
                        .await
                        .map_err(|e| e.to_string())
                },
                |rv: &String| json!({ "resourceVersion": rv }),
            )
            .await?;
        Ok(out.map(|rv| {
            progress(&format!(
                "aws-auth restored from the backup of resourceVersion {from} (now {rv})"
            ));
        }))
    }

    /// Deletes the migrator's entry for `principal` (one already gone counts as deleted).
    /// `Ok(Err(reason))` when the delete failed.
    async fn delete_entry(
        &self,
        key: &ClusterKey,
        principal: &str,
        progress: Progress<'_>,
    ) -> Result<Result<(), String>, EngineError> {
        let out = self
            .audited(
                key,
                op::DELETE_ACCESS_ENTRY,
                principal,
                json!({}),
                |_token| async move {
                    match eks_write::delete_entry(&self.eks, key.name.as_ref(), principal).await {
                        Ok(()) | Err(Fail::NotFound(_)) => Ok(()),
                        Err(f) => Err(format!("DeleteAccessEntry: {}", f.reason())),
                    }
                },
                |_: &()| json!({}),
            )
            .await?;
        if out.is_ok() {
            progress(&format!("deleted the migrator's entry for {principal}"));
        }
        Ok(out)
    }

    /// Records the rollback on the cluster (when it has a record): mode audit, the phase the
    /// decision gives, the time in `last_error`.
    async fn record_rollback(
        &self,
        key: &ClusterKey,
        undo: &Undo,
        end: &Conclusion,
    ) -> Result<(), EngineError> {
        let Some(record) = self.store.get_cluster(key).await? else {
            return Ok(());
        };
        let mut state = ClusterState::discovered(Mode::Audit);
        // The backup stays named: a retried rollback restores from it again.
        state.backup = record.state.backup.clone();
        state.authentication_mode = Some(undo.mode);
        state.phase = end.phase;
        state.last_error = Some(format!(
            "rolled back at {}",
            rfc3339_seconds(SystemTime::now())
        ));
        let lease = self.renew(true).await?;
        self.store
            .save_cluster(key, record.version, &state, SystemTime::now(), Some(&lease))
            .await?;
        Ok(())
    }
}
