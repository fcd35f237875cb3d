//! Rolling a cluster back to aws-auth, decided over plain data: whether anything can be undone,
//! what to write to aws-auth, which access entries to delete, and — once the writes are done —
//! what could not be undone and which phase the cluster records. The adapter performs only the
//! writes decided here, in the order decided here.
//!
//! The order is the one that never removes access: aws-auth first, restored from the backup the
//! cluster record names — only when the stored backup's digest is the one recorded with it
//! ([`trusted`]: a backup someone else wrote into the table is refused, and nothing is
//! written); the migrator's own entries only once aws-auth is back, and only in
//! API_AND_CONFIG_MAP, where each principal's aws-auth row then applies again. Nothing in API
//! mode, where EKS has no way back. Entries EKS manages itself are never deleted, even when
//! someone tagged them as the migrator's.
//!
//! # Example
//!
//! ```
//! use eks_auth_core::facts::{AuthenticationMode, ClusterFacts};
//! use eks_auth_core::rollback::{AwsAuthUndo, Backup, plan, refused};
//! use std::collections::BTreeMap;
//!
//! let facts = ClusterFacts {
//!     authentication_mode: Some(AuthenticationMode::ApiAndConfigMap),
//!     ..ClusterFacts::default()
//! };
//! assert!(refused(&facts).is_none());
//! let now = BTreeMap::from([("mapRoles".to_owned(), "[]".to_owned())]);
//! let backup = Backup { resource_version: "7", text: r#"{"mapRoles":"- rolearn: x"}"# };
//! let undo = plan(&facts, Some(&now), Some(backup))?;
//! assert!(matches!(undo.aws_auth, AwsAuthUndo::Restore { .. }));
//! let end = undo.conclude(None, &[]);
//! assert!(end.aws_auth_back);
//! # Ok::<(), eks_auth_core::rollback::UnreadableBackup>(())
//! ```

use crate::eks_managed::eks_managed;
use crate::facts::{AuthenticationMode, ClusterFacts};
use crate::state::Phase;
use std::collections::BTreeMap;

/// The newest stored backup of aws-auth: the resourceVersion it was taken at and its `data` as
/// JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backup<'a> {
    /// The resourceVersion aws-auth had when it was backed up.
    pub resource_version: &'a str,
    /// aws-auth's `data`, a JSON object of strings.
    pub text: &'a str,
}

/// The backup a cluster record names: written in the same version-guarded save as the phase
/// that followed the backup, by the migrator's own run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedBackup<'a> {
    /// The resourceVersion the backup was taken at.
    pub resource_version: &'a str,
    /// The SHA-256 (hex) of the backup's text when it was stored.
    pub digest: &'a str,
}

/// A backup as the state table holds it, with the digest of its text as read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBackup<'a> {
    /// The backup.
    pub backup: Backup<'a>,
    /// The SHA-256 (hex) of `backup.text`.
    pub digest: &'a str,
}

/// Why a stored backup is not restored: nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UntrustedBackup {
    /// The record names a backup the table does not hold.
    #[error(
        "the cluster record names the aws-auth backup of resourceVersion {resource_version}, which the state table no longer holds; nothing was changed: restore aws-auth by hand from your own copy"
    )]
    Missing {
        /// The recorded backup's resourceVersion.
        resource_version: String,
    },
    /// The stored backup is not the one recorded: someone wrote or changed it outside the
    /// migrator's run.
    #[error(
        "the stored aws-auth backup of resourceVersion {resource_version} does not match the digest its cluster record holds (it was written or changed outside the migrator); nothing was changed: check who wrote it (the table's audit trail, CloudTrail) and restore aws-auth by hand"
    )]
    DigestMismatch {
        /// The backup's resourceVersion.
        resource_version: String,
    },
    /// A backup exists but the record names none: the migrator's run did not take it (or it
    /// predates recorded digests).
    #[error(
        "an aws-auth backup (resourceVersion {resource_version}) exists but the cluster record names none, so it is not known to be the migrator's; nothing was changed: compare it with aws-auth (`eks-auth-migrator status --cluster … --show-backup`) and restore by hand"
    )]
    Unrecorded {
        /// The stored backup's resourceVersion.
        resource_version: String,
    },
}

/// The backup a rollback may restore: the stored one the record names, when its digest is the
/// recorded one; `None` when there is neither (aws-auth was never backed up, so never edited).
///
/// # Errors
///
/// [`UntrustedBackup`] when the record and the table disagree in any way.
pub fn trusted<'a>(
    recorded: Option<RecordedBackup<'_>>,
    stored: Option<StoredBackup<'a>>,
) -> Result<Option<Backup<'a>>, UntrustedBackup> {
    match (recorded, stored) {
        (None, None) => Ok(None),
        (None, Some(s)) => Err(UntrustedBackup::Unrecorded {
            resource_version: s.backup.resource_version.to_owned(),
        }),
        (Some(r), None) => Err(UntrustedBackup::Missing {
            resource_version: r.resource_version.to_owned(),
        }),
        (Some(r), Some(s))
            if s.backup.resource_version != r.resource_version || s.digest != r.digest =>
        {
            Err(UntrustedBackup::DigestMismatch {
                resource_version: r.resource_version.to_owned(),
            })
        }
        (Some(_), Some(s)) => Ok(Some(s.backup)),
    }
}

/// Why something was not undone; its text is what the rollback report says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotUndone {
    /// The cluster is in API mode: EKS has no way back, so nothing was changed.
    #[error(
        "the cluster is in API mode: EKS has no way back, aws-auth is ignored and the access entries are the only access; nothing was changed"
    )]
    ApiMode,
    /// Restoring aws-auth from its backup failed.
    #[error("aws-auth was not restored: {reason}")]
    AwsAuthNotRestored {
        /// Why the write failed.
        reason: String,
    },
    /// aws-auth no longer exists: a person recreates it from the backup.
    #[error(
        "aws-auth no longer exists; recreate it from the backup of resourceVersion {backup_resource_version} (`eks-auth-migrator status --cluster … --show-backup`)"
    )]
    AwsAuthMissing {
        /// The backup to recreate it from.
        backup_resource_version: String,
    },
    /// Deleting one of the migrator's entries failed.
    #[error("entry for {principal_arn} not deleted: {reason}")]
    EntryNotDeleted {
        /// The entry's principal.
        principal_arn: String,
        /// Why the delete failed.
        reason: String,
    },
    /// The migrator's entries were kept, because aws-auth is not back: deleting them would
    /// remove access.
    #[error(
        "the migrator's access entries were kept because aws-auth could not be restored: deleting them now would remove access"
    )]
    EntriesKept,
    /// EKS cannot switch the cluster back to CONFIG_MAP.
    #[error(
        "the cluster stays in {}: EKS cannot switch back to CONFIG_MAP. With aws-auth restored and the migrator's entries deleted, each principal's access comes from aws-auth again",
        .mode.as_str()
    )]
    ModeStays {
        /// The mode it stays in.
        mode: AuthenticationMode,
    },
    /// Entries the migrator did not create (EKS's own, or someone else's) were left alone.
    #[error(
        "{count} entries the migrator did not create (EKS's node-group, Fargate, capability, Auto Mode, HyperPod and creator entries, or your own) were left as they are"
    )]
    OthersLeft {
        /// How many.
        count: usize,
    },
}

impl NotUndone {
    /// Whether this is a write that failed (the rollback fails and may be retried), rather than
    /// a limit of EKS or something a person must do.
    pub fn is_failed_write(&self) -> bool {
        matches!(
            self,
            NotUndone::AwsAuthNotRestored { .. } | NotUndone::EntryNotDeleted { .. }
        )
    }
}

/// The backup cannot be read: nothing is to be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the backup at resourceVersion {resource_version} is not readable ({reason}); nothing was changed"
)]
pub struct UnreadableBackup {
    /// The backup's resourceVersion.
    pub resource_version: String,
    /// Why it cannot be read.
    pub reason: String,
}

/// What to do about aws-auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsAuthUndo {
    /// Nothing: there is no backup, or aws-auth equals it.
    Unchanged,
    /// Write the backup's data over aws-auth, conditional on the resourceVersion read now.
    Restore {
        /// The backup's resourceVersion.
        from: String,
        /// The backup's data.
        data: BTreeMap<String, String>,
    },
    /// aws-auth no longer exists: it cannot be restored by an update.
    Missing {
        /// The backup to recreate it from.
        backup_resource_version: String,
    },
}

/// What a rollback undoes on a cluster that is not in API mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    /// The cluster's authentication mode (CONFIG_MAP when the facts do not say).
    pub mode: AuthenticationMode,
    /// What to do about aws-auth, first.
    pub aws_auth: AwsAuthUndo,
    /// The principals of the migrator's entries (EKS-managed ones excepted), in the order
    /// the facts list them.
    migrators_entries: Vec<String>,
    /// How many entries the migrator did not create (or EKS manages).
    others: usize,
}

/// How a rollback ended, from how its writes went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conclusion {
    /// Whether aws-auth is back (restored, or never changed).
    pub aws_auth_back: bool,
    /// The principals whose entries were deleted, in order.
    pub deleted: Vec<String>,
    /// What was not undone, in the order the report says it.
    pub not_undone: Vec<NotUndone>,
    /// The phase to record: `FAILED_RETRYABLE` when a write failed, else `DISCOVERED`.
    pub phase: Phase,
}

/// The cluster's authentication mode as a rollback reads it: CONFIG_MAP when the facts do not
/// say.
fn mode_of(facts: &ClusterFacts) -> AuthenticationMode {
    facts
        .authentication_mode
        .unwrap_or(AuthenticationMode::ConfigMap)
}

/// Why nothing at all can be undone (API mode), before anything else is read.
pub fn refused(facts: &ClusterFacts) -> Option<NotUndone> {
    (mode_of(facts) == AuthenticationMode::Api).then_some(NotUndone::ApiMode)
}

/// What to undo on a cluster [`refused`] accepts, from its facts, aws-auth's `data` as read now
/// (`None`: it does not exist) and its newest `backup`.
///
/// # Errors
///
/// [`UnreadableBackup`] when the backup is not a JSON object of strings.
pub fn plan(
    facts: &ClusterFacts,
    aws_auth: Option<&BTreeMap<String, String>>,
    backup: Option<Backup<'_>>,
) -> Result<Undo, UnreadableBackup> {
    let aws_auth = match backup {
        None => AwsAuthUndo::Unchanged,
        Some(backup) => {
            let data: BTreeMap<String, String> =
                serde_json::from_str(backup.text).map_err(|e| UnreadableBackup {
                    resource_version: backup.resource_version.to_owned(),
                    reason: e.to_string(),
                })?;
            match aws_auth {
                Some(now) if *now == data => AwsAuthUndo::Unchanged,
                Some(_) => AwsAuthUndo::Restore {
                    from: backup.resource_version.to_owned(),
                    data,
                },
                None => AwsAuthUndo::Missing {
                    backup_resource_version: backup.resource_version.to_owned(),
                },
            }
        }
    };
    let (migrators, others): (Vec<_>, Vec<_>) = facts
        .existing_entries
        .iter()
        .partition(|e| e.managed_by_migrator && eks_managed(e, facts).is_none());
    Ok(Undo {
        mode: mode_of(facts),
        aws_auth,
        migrators_entries: migrators
            .into_iter()
            .map(|e| e.principal_arn.clone())
            .collect(),
        others: others.len(),
    })
}

impl Undo {
    /// Whether aws-auth is back: unchanged, or restored (`restore_failure` is why the restore
    /// failed, `None` when it succeeded or was not needed); never when it no longer exists.
    pub fn aws_auth_back(&self, restore_failure: Option<&str>) -> bool {
        match &self.aws_auth {
            AwsAuthUndo::Unchanged => true,
            AwsAuthUndo::Restore { .. } => restore_failure.is_none(),
            AwsAuthUndo::Missing { .. } => false,
        }
    }

    /// The principals whose (migrator-created) entries to delete: only in API_AND_CONFIG_MAP,
    /// and only once aws-auth is back; none otherwise.
    pub fn entries_to_delete(&self, aws_auth_back: bool) -> &[String] {
        if self.mode == AuthenticationMode::ApiAndConfigMap && aws_auth_back {
            &self.migrators_entries
        } else {
            &[]
        }
    }

    /// How the rollback ended: `restore_failure` as for [`Undo::aws_auth_back`], `deletions`
    /// each principal of [`Undo::entries_to_delete`] with how its delete went.
    pub fn conclude(
        &self,
        restore_failure: Option<&str>,
        deletions: &[(String, Result<(), String>)],
    ) -> Conclusion {
        let aws_auth_back = self.aws_auth_back(restore_failure);
        let mut not_undone = Vec::new();
        match (&self.aws_auth, restore_failure) {
            (AwsAuthUndo::Restore { .. }, Some(reason)) => {
                not_undone.push(NotUndone::AwsAuthNotRestored {
                    reason: reason.to_owned(),
                });
            }
            (
                AwsAuthUndo::Missing {
                    backup_resource_version,
                },
                _,
            ) => {
                not_undone.push(NotUndone::AwsAuthMissing {
                    backup_resource_version: backup_resource_version.clone(),
                });
            }
            _ => {}
        }
        let mut deleted = Vec::new();
        if self.mode == AuthenticationMode::ApiAndConfigMap {
            if !aws_auth_back {
                not_undone.push(NotUndone::EntriesKept);
            }
            for (principal_arn, result) in deletions {
                match result {
                    Ok(()) => deleted.push(principal_arn.clone()),
                    Err(reason) => not_undone.push(NotUndone::EntryNotDeleted {
                        principal_arn: principal_arn.clone(),
                        reason: reason.clone(),
                    }),
                }
            }
        }
        if self.mode != AuthenticationMode::ConfigMap {
            not_undone.push(NotUndone::ModeStays { mode: self.mode });
            if self.others > 0 {
                not_undone.push(NotUndone::OthersLeft { count: self.others });
            }
        }
        let phase = if not_undone.iter().any(NotUndone::is_failed_write) {
            Phase::Failed { retryable: true }
        } else {
            Phase::Discovered
        };
        Conclusion {
            aws_auth_back,
            deleted,
            not_undone,
            phase,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{CapabilityFact, EksFeatures, ExistingEntry};
    use crate::plan::EntryType;

    fn entry(arn: &str, ours: bool) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.to_owned(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: Vec::new(),
            access_policies: Vec::new(),
            managed_by_migrator: ours,
        }
    }

    fn facts(mode: Option<AuthenticationMode>, entries: Vec<ExistingEntry>) -> ClusterFacts {
        ClusterFacts {
            authentication_mode: mode,
            existing_entries: entries,
            ..ClusterFacts::default()
        }
    }

    fn data(rows: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("mapRoles".to_owned(), rows.to_owned())])
    }

    const BACKED_UP: &str = r#"{"mapRoles":"- rolearn: arn:aws:iam::111122223333:role/a"}"#;

    fn backup() -> Backup<'static> {
        Backup {
            resource_version: "41",
            text: BACKED_UP,
        }
    }

    const OURS: &str = "arn:aws:iam::111122223333:role/ours";
    const THEIRS: &str = "arn:aws:iam::111122223333:role/theirs";

    #[test]
    fn api_mode_is_refused_and_nothing_else_is() {
        let api = facts(Some(AuthenticationMode::Api), Vec::new());
        assert_eq!(refused(&api), Some(NotUndone::ApiMode));
        for mode in [
            None,
            Some(AuthenticationMode::ConfigMap),
            Some(AuthenticationMode::ApiAndConfigMap),
        ] {
            assert_eq!(refused(&facts(mode, Vec::new())), None, "{mode:?}");
        }
        assert!(
            NotUndone::ApiMode
                .to_string()
                .contains("nothing was changed")
        );
    }

    #[test]
    fn aws_auth_is_restored_only_when_it_differs_from_the_backup() {
        let f = facts(Some(AuthenticationMode::ApiAndConfigMap), Vec::new());
        let same = data("- rolearn: arn:aws:iam::111122223333:role/a");
        let undo = plan(&f, Some(&same), Some(backup())).expect("readable");
        assert_eq!(undo.aws_auth, AwsAuthUndo::Unchanged);
        let pruned = data("[]");
        let undo = plan(&f, Some(&pruned), Some(backup())).expect("readable");
        assert_eq!(
            undo.aws_auth,
            AwsAuthUndo::Restore {
                from: "41".to_owned(),
                data: same,
            }
        );
        let undo = plan(&f, Some(&pruned), None).expect("no backup");
        assert_eq!(undo.aws_auth, AwsAuthUndo::Unchanged);
    }

    #[test]
    fn an_unreadable_backup_changes_nothing() {
        let f = facts(Some(AuthenticationMode::ConfigMap), Vec::new());
        let broken = Backup {
            resource_version: "9",
            text: "not json",
        };
        let err = plan(&f, Some(&data("[]")), Some(broken)).expect_err("unreadable");
        assert_eq!(err.resource_version, "9");
        let text = err.to_string();
        assert!(
            text.starts_with("the backup at resourceVersion 9 is not readable ("),
            "{text}"
        );
        assert!(text.ends_with("); nothing was changed"), "{text}");
    }

    #[test]
    fn a_missing_aws_auth_is_not_back_and_keeps_the_entries() {
        let f = facts(
            Some(AuthenticationMode::ApiAndConfigMap),
            vec![entry(OURS, true)],
        );
        let undo = plan(&f, None, Some(backup())).expect("readable");
        assert!(!undo.aws_auth_back(None));
        assert!(undo.entries_to_delete(false).is_empty());
        let end = undo.conclude(None, &[]);
        assert!(!end.aws_auth_back);
        assert_eq!(
            end.not_undone,
            [
                NotUndone::AwsAuthMissing {
                    backup_resource_version: "41".to_owned()
                },
                NotUndone::EntriesKept,
                NotUndone::ModeStays {
                    mode: AuthenticationMode::ApiAndConfigMap
                },
            ]
        );
        // Nothing failed: a person recreates aws-auth from the backup.
        assert_eq!(end.phase, Phase::Discovered);
    }

    #[test]
    fn only_the_migrators_entries_are_deleted_and_only_once_aws_auth_is_back() {
        let mut fargate = entry("arn:aws:iam::111122223333:role/fargate", true);
        fargate.entry_type = EntryType::FargateLinux;
        let capability = entry("arn:aws:iam::111122223333:role/argocd", true);
        let mut f = facts(
            Some(AuthenticationMode::ApiAndConfigMap),
            vec![entry(OURS, true), entry(THEIRS, false), capability],
        );
        f.fargate_profile_roles = vec![fargate.principal_arn.clone()];
        f.existing_entries.push(fargate);
        f.eks_features = EksFeatures {
            capabilities: vec![CapabilityFact {
                name: "argocd".to_owned(),
                capability_type: "ARGOCD".to_owned(),
                role_arn: "arn:aws:iam::111122223333:role/argocd".to_owned(),
            }],
            auto_mode: None,
        };
        let undo = plan(&f, Some(&data("[]")), Some(backup())).expect("readable");
        assert_eq!(undo.entries_to_delete(true), [OURS.to_owned()]);
        assert!(undo.entries_to_delete(false).is_empty());
        let end = undo.conclude(None, &[(OURS.to_owned(), Ok(()))]);
        assert!(end.aws_auth_back);
        assert_eq!(end.deleted, [OURS.to_owned()]);
        assert_eq!(
            end.not_undone,
            [
                NotUndone::ModeStays {
                    mode: AuthenticationMode::ApiAndConfigMap
                },
                NotUndone::OthersLeft { count: 3 },
            ]
        );
        assert_eq!(end.phase, Phase::Discovered);
    }

    #[test]
    fn failed_writes_fail_the_rollback_in_the_order_they_happened() {
        let f = facts(
            Some(AuthenticationMode::ApiAndConfigMap),
            vec![entry(OURS, true)],
        );
        let undo = plan(&f, Some(&data("[]")), Some(backup())).expect("readable");
        let restore_failed = undo.conclude(Some("409 Conflict"), &[]);
        assert!(!restore_failed.aws_auth_back);
        assert_eq!(
            restore_failed.not_undone[..2],
            [
                NotUndone::AwsAuthNotRestored {
                    reason: "409 Conflict".to_owned()
                },
                NotUndone::EntriesKept,
            ]
        );
        assert_eq!(restore_failed.phase, Phase::Failed { retryable: true });
        let delete_failed = undo.conclude(None, &[(OURS.to_owned(), Err("throttled".to_owned()))]);
        assert!(delete_failed.deleted.is_empty());
        assert_eq!(
            delete_failed.not_undone[0].to_string(),
            format!("entry for {OURS} not deleted: throttled")
        );
        assert_eq!(delete_failed.phase, Phase::Failed { retryable: true });
    }

    /// Issue 18 item 7: a backup planted in the table (or changed there) is never restored.
    #[test]
    fn only_the_recorded_backup_with_its_digest_is_trusted() {
        let backup = backup();
        let recorded = RecordedBackup {
            resource_version: "41",
            digest: "d41",
        };
        let stored = |digest| StoredBackup { backup, digest };
        assert_eq!(
            trusted(Some(recorded), Some(stored("d41"))),
            Ok(Some(backup))
        );
        assert_eq!(trusted(None, None), Ok(None));
        let changed = trusted(Some(recorded), Some(stored("other"))).expect_err("changed");
        assert!(
            changed.to_string().contains("does not match the digest"),
            "{changed}"
        );
        let planted = Backup {
            resource_version: "99",
            text: r#"{"mapRoles":"- rolearn: intruder"}"#,
        };
        assert!(matches!(
            trusted(
                Some(recorded),
                Some(StoredBackup {
                    backup: planted,
                    digest: "d41"
                })
            ),
            Err(UntrustedBackup::DigestMismatch { .. })
        ));
        assert_eq!(
            trusted(None, Some(stored("d41"))),
            Err(UntrustedBackup::Unrecorded {
                resource_version: "41".to_owned()
            })
        );
        let missing = trusted(Some(recorded), None).expect_err("missing");
        assert!(
            missing
                .to_string()
                .ends_with("restore aws-auth by hand from your own copy")
        );
    }

    #[test]
    fn a_config_map_cluster_only_gets_aws_auth_back() {
        let f = facts(None, vec![entry(OURS, true)]);
        let undo = plan(&f, Some(&data("[]")), Some(backup())).expect("readable");
        assert_eq!(undo.mode, AuthenticationMode::ConfigMap);
        assert!(undo.entries_to_delete(true).is_empty());
        let end = undo.conclude(None, &[]);
        assert!(end.not_undone.is_empty());
        assert_eq!(end.phase, Phase::Discovered);
    }

    #[test]
    fn the_reasons_read_as_the_report_says_them() {
        let cases = [
            (
                NotUndone::AwsAuthMissing {
                    backup_resource_version: "41".to_owned(),
                },
                "aws-auth no longer exists; recreate it from the backup of resourceVersion 41 (`eks-auth-migrator status --cluster … --show-backup`)",
            ),
            (
                NotUndone::ModeStays {
                    mode: AuthenticationMode::Api,
                },
                "the cluster stays in API: EKS cannot switch back to CONFIG_MAP. With aws-auth restored and the migrator's entries deleted, each principal's access comes from aws-auth again",
            ),
            (
                NotUndone::OthersLeft { count: 2 },
                "2 entries the migrator did not create (EKS's node-group, Fargate, capability, Auto Mode, HyperPod and creator entries, or your own) were left as they are",
            ),
        ];
        for (reason, text) in cases {
            assert_eq!(reason.to_string(), text);
            assert!(!reason.is_failed_write());
        }
    }
}
