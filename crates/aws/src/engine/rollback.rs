//! Rolling a cluster back: restore aws-auth from the newest backup, then (only once aws-auth is
//! back, and only in API_AND_CONFIG_MAP) delete the entries the migrator created, so each
//! principal's aws-auth row applies again. What EKS cannot undo is said, not attempted.

use super::audit::op;
use super::eks_write;
use super::{Engine, EngineError, Outcome, Progress};
use crate::live::{self, GatherError};
use crate::store::records::ClusterState;
use eks_auth_core::eks_managed::eks_managed;
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::state::{Mode, Phase};
use serde_json::json;
use std::collections::BTreeMap;
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
            mutating_calls: self.calls.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    async fn roll_back(
        &self,
        key: &crate::store::ClusterKey,
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
        let mode = gathered
            .facts
            .authentication_mode
            .unwrap_or(AuthenticationMode::ConfigMap);
        let mut not_undone = Vec::new();
        let mut restored_from = None;
        let mut deleted = Vec::new();
        if mode == AuthenticationMode::Api {
            not_undone.push("the cluster is in API mode: EKS has no way back, aws-auth is ignored and the access entries are the only access; nothing was changed".to_owned());
            let outcome = Outcome::Blocked(not_undone[0].clone());
            return Ok(self.rollback_report(outcome, None, deleted, not_undone));
        }
        let backup = self.store.latest_backup(key).await?;
        let mut aws_auth_restored = true;
        if let Some(backup) = &backup {
            let data: BTreeMap<String, String> = match serde_json::from_str(&backup.text) {
                Ok(d) => d,
                Err(e) => {
                    let reason = format!(
                        "the backup at resourceVersion {} is not readable ({e}); nothing was changed",
                        backup.resource_version
                    );
                    return Ok(self.rollback_report(
                        Outcome::Failed(reason),
                        None,
                        deleted,
                        not_undone,
                    ));
                }
            };
            match &gathered.configmap {
                Some(cm) if cm.data == data => {}
                Some(cm) => {
                    if Instant::now() >= deadline {
                        return Ok(self.rollback_report(
                            Outcome::OutOfTime,
                            None,
                            deleted,
                            not_undone,
                        ));
                    }
                    let request = json!({
                        "resourceVersion": cm.resource_version,
                        "restoreFrom": backup.resource_version,
                        "route": super::steps::route_label(&gathered),
                    });
                    let out = self
                        .audited(
                            key,
                            op::PATCH_CONFIG_MAP,
                            "kube-system/aws-auth",
                            request,
                            |_token| async {
                                let options = &self.settings.gather;
                                live::write_aws_auth(
                                    self.config,
                                    key.name.as_ref(),
                                    options,
                                    cm,
                                    &data,
                                )
                                .await
                                .map_err(|e| e.to_string())
                            },
                            |rv: &String| json!({ "resourceVersion": rv }),
                        )
                        .await?;
                    match out {
                        Ok(rv) => {
                            progress(&format!(
                                "aws-auth restored from the backup of resourceVersion {} (now {rv})",
                                backup.resource_version
                            ));
                            restored_from = Some(backup.resource_version.clone());
                        }
                        Err(reason) => {
                            aws_auth_restored = false;
                            not_undone.push(format!("aws-auth was not restored: {reason}"));
                        }
                    }
                }
                None => {
                    aws_auth_restored = false;
                    not_undone.push(format!("aws-auth no longer exists; recreate it from the backup of resourceVersion {} (`eks-auth-migrator status --cluster … --show-backup`)", backup.resource_version));
                }
            }
        }
        if mode == AuthenticationMode::ApiAndConfigMap && aws_auth_restored {
            for entry in gathered
                .facts
                .existing_entries
                .iter()
                .filter(|e| e.managed_by_migrator)
                // An EKS-managed entry is never deleted, even if someone tagged it as ours.
                .filter(|e| eks_managed(e, &gathered.facts).is_none())
            {
                let p = entry.principal_arn.as_str();
                let out = self
                    .audited(
                        key,
                        op::DELETE_ACCESS_ENTRY,
                        p,
                        json!({}),
                        |_token| async move {
                            match eks_write::delete_entry(&self.eks, key.name.as_ref(), p).await {
                                Ok(()) | Err(eks_write::Fail::NotFound(_)) => Ok(()),
                                Err(f) => Err(format!("DeleteAccessEntry: {}", f.reason())),
                            }
                        },
                        |_: &()| json!({}),
                    )
                    .await?;
                match out {
                    Ok(()) => {
                        progress(&format!("deleted the migrator's entry for {p}"));
                        deleted.push(p.to_owned());
                    }
                    Err(reason) => not_undone.push(format!("entry for {p} not deleted: {reason}")),
                }
            }
        } else if mode == AuthenticationMode::ApiAndConfigMap {
            not_undone.push("the migrator's access entries were kept because aws-auth could not be restored: deleting them now would remove access".to_owned());
        }
        if mode != AuthenticationMode::ConfigMap {
            not_undone.push(format!("the cluster stays in {}: EKS cannot switch back to CONFIG_MAP. With aws-auth restored and the migrator's entries deleted, each principal's access comes from aws-auth again", mode.as_str()));
            let eks_made = gathered
                .facts
                .existing_entries
                .iter()
                .filter(|e| !e.managed_by_migrator || eks_managed(e, &gathered.facts).is_some())
                .count();
            if eks_made > 0 {
                not_undone.push(format!("{eks_made} entries the migrator did not create (EKS's node-group, Fargate, capability, Auto Mode, HyperPod and creator entries, or your own) were left as they are"));
            }
        }
        let record = self.store.get_cluster(key).await?;
        if let Some(record) = record {
            let mut state = ClusterState::discovered(Mode::Audit);
            state.authentication_mode = Some(mode);
            state.phase = if not_undone
                .iter()
                .any(|n| n.starts_with("aws-auth was not") || n.starts_with("entry for"))
            {
                Phase::Failed { retryable: true }
            } else {
                Phase::Discovered
            };
            state.last_error = Some(format!(
                "rolled back at {}",
                crate::token::rfc3339_seconds(SystemTime::now())
            ));
            let lease = self.renew(true).await?;
            self.store
                .save_cluster(key, record.version, &state, SystemTime::now(), Some(&lease))
                .await?;
        }
        let outcome = if aws_auth_restored {
            Outcome::Done
        } else {
            Outcome::Failed(not_undone.join("; "))
        };
        Ok(self.rollback_report(outcome, restored_from, deleted, not_undone))
    }
}
