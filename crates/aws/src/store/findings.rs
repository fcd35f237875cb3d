//! Security Hub finding marks (`FINDING`): whether the cluster's finding is active and since
//! when, so that a scan resolves exactly the findings it created (and keeps their `CreatedAt`).
//! Written by the fleet scan only (batch writes; a mark replaces the last one), and only when
//! Security Hub findings are enabled.

use super::attr::{Item, Reader, millis, n, s};
use super::error::StoreError;
use super::key::ClusterKey;
use super::schema::{PK, SK};
use super::table::StateStore;
use std::collections::HashMap;
use std::time::SystemTime;

const FINDING: &str = "FINDING";
const ACTIVE: &str = "active";
const CREATED_AT: &str = "created_at";
const UPDATED_AT: &str = "updated_at";

/// What the last import of a cluster's finding left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingMark {
    /// Active (`true`) or resolved.
    pub active: bool,
    /// When the finding was first imported.
    pub created_at: SystemTime,
}

fn key_item(key: &ClusterKey) -> Item {
    Item::from([(PK.to_owned(), s(key.pk())), (SK.to_owned(), s(FINDING))])
}

impl StateStore {
    /// The marks of `keys` that exist (BatchGetItem, 100 keys a call). A mark that cannot be read
    /// counts as absent.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when a BatchGetItem call fails.
    pub async fn finding_marks(
        &self,
        keys: &[ClusterKey],
    ) -> Result<HashMap<ClusterKey, FindingMark>, StoreError> {
        let (items, _unprocessed) = self.batch_get(keys.iter().map(key_item).collect()).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let r = Reader::new(item);
                let key = ClusterKey::from_pk(r.str(PK).ok()?)?;
                let mark = FindingMark {
                    active: r.str(ACTIVE).ok()? == "true",
                    created_at: r.time(CREATED_AT).ok()?,
                };
                Some((key, mark))
            })
            .collect())
    }

    /// Writes `marks` (BatchWriteItem, 25 a call).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], or unprocessed items after retries.
    pub async fn record_finding_marks(
        &self,
        marks: &[(ClusterKey, FindingMark)],
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let items = marks
            .iter()
            .map(|(key, mark)| {
                let mut item = key_item(key);
                item.insert(ACTIVE.to_owned(), s(mark.active.to_string()));
                item.insert(CREATED_AT.to_owned(), n(millis(mark.created_at)));
                item.insert(UPDATED_AT.to_owned(), n(millis(now)));
                item
            })
            .collect();
        self.batch_put(items).await
    }
}
