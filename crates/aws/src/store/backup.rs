//! aws-auth backups (`BACKUP#<resourceVersion>`): the ConfigMap text verbatim, written once
//! before any edit (design.md invariant 6). The cluster record names the backup the migrator
//! took and its [`digest`] (`records::BackupRef`), so that rollback restores only that one.

use super::attr::{Item, Reader, from_millis, millis, n, s};
use super::error::StoreError;
use super::key::ClusterKey;
use super::schema::{PK, SK};
use super::table::StateStore;
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

const RESOURCE_VERSION: &str = "resource_version";
const TEXT: &str = "text";
const CREATED_AT: &str = "created_at";

/// A stored aws-auth backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The ConfigMap's resourceVersion when it was read.
    pub resource_version: String,
    /// The ConfigMap exactly as read.
    pub text: String,
    /// When the backup was taken.
    pub created_at: SystemTime,
}

/// The SHA-256 (hex) of a backup's text: what the cluster record holds of it.
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn backup_sk(resource_version: &str) -> String {
    format!("BACKUP#{resource_version}")
}

fn backup_from_item(item: &Item) -> Result<Backup, StoreError> {
    let r = Reader::new(item);
    Ok(Backup {
        resource_version: r.str(RESOURCE_VERSION)?.to_owned(),
        text: r.str(TEXT)?.to_owned(),
        created_at: r.time(CREATED_AT)?,
    })
}

impl StateStore {
    /// Store aws-auth at `resource_version` verbatim. Idempotent: storing the same text again
    /// returns the existing backup unchanged.
    ///
    /// # Errors
    ///
    /// [`StoreError::BackupMismatch`] when a different text is stored for this resourceVersion
    /// (a backup is never overwritten); [`StoreError::Service`].
    pub async fn put_backup(
        &self,
        key: &ClusterKey,
        resource_version: &str,
        text: &str,
        now: SystemTime,
    ) -> Result<Backup, StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(key.pk()))
            .item(SK, s(backup_sk(resource_version)))
            .item(RESOURCE_VERSION, s(resource_version))
            .item(TEXT, s(text))
            .item(CREATED_AT, n(millis(now)))
            .condition_expression("attribute_not_exists(#sk)")
            .expression_attribute_names("#sk", SK)
            .send()
            .await;
        match out {
            Ok(_) => Ok(Backup {
                resource_version: resource_version.to_owned(),
                text: text.to_owned(),
                created_at: from_millis(millis(now)),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                match self.get_backup(key, resource_version).await? {
                    Some(existing) if existing.text == text => Ok(existing),
                    _ => Err(StoreError::BackupMismatch {
                        key: key.pk(),
                        resource_version: resource_version.to_owned(),
                    }),
                }
            }
            Err(e) => Err(self.failed("PutItem", e)),
        }
    }

    /// The backup taken at `resource_version`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn get_backup(
        &self,
        key: &ClusterKey,
        resource_version: &str,
    ) -> Result<Option<Backup>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(key.pk()))
            .key(SK, s(backup_sk(resource_version)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("GetItem", e))?;
        out.item().map(backup_from_item).transpose()
    }

    /// The most recently taken backup (resourceVersions are opaque, so by time taken).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn latest_backup(&self, key: &ClusterKey) -> Result<Option<Backup>, StoreError> {
        let backups = self
            .query_prefix(key, "BACKUP#")
            .await?
            .iter()
            .map(backup_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(backups.into_iter().max_by_key(|b| b.created_at))
    }
}
