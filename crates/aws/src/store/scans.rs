//! Fleet-scan marks (`pk` = `SCAN`, `sk` = `ACCOUNT#<account>#<region>`): when each account and
//! region was last scanned and how it went, so a scan cut short by its time limit is continued
//! by the next one (least recently scanned first) and failures are visible with their reason.
//! Beside them, `sk` = `WATCHING_SINCE`: when the migrator first recorded anything about the
//! fleet; clusters created from then on are new clusters (`new_cluster_mode`).

use super::attr::{Item, Reader, millis, n, s};
use super::error::StoreError;
use super::schema::{PK, SK};
use super::table::StateStore;
use std::time::SystemTime;

const SCAN_PK: &str = "SCAN";
const ACCOUNT: &str = "account";
const REGION: &str = "region";
const STATUS: &str = "status";
const REASON: &str = "reason";
const CLUSTERS: &str = "clusters";
const SCANNED_AT: &str = "scanned_at";
const STARTED_AT: &str = "started_at";
const WATCHING_SINCE: &str = "WATCHING_SINCE";
const SINCE: &str = "since";

/// How one account and region's scan went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanStatus {
    /// Listed and recorded, with this many clusters.
    Scanned {
        /// Clusters found.
        clusters: u32,
    },
    /// Not scanned on purpose (out of scope, opted out), with why.
    Skipped(String),
    /// The scan failed (AssumeRole refused, region disabled, throttled out), with why.
    Failed(String),
}

/// The last scan of one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanMark {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// How it went.
    pub status: ScanStatus,
    /// When it ended.
    pub scanned_at: SystemTime,
    /// When the scan that made it started (absent on marks older versions wrote): a cluster
    /// whose last sighting is older was not listed by this scan.
    pub started_at: Option<SystemTime>,
}

pub(crate) fn mark_from_item(item: &Item) -> Result<ScanMark, StoreError> {
    let r = Reader::new(item);
    let reason = || r.opt_str(REASON).map(|v| v.unwrap_or_default().to_owned());
    let status = match r.str(STATUS)? {
        "SCANNED" => ScanStatus::Scanned {
            clusters: r.num(CLUSTERS)?,
        },
        "SKIPPED" => ScanStatus::Skipped(reason()?),
        _ => ScanStatus::Failed(reason()?),
    };
    Ok(ScanMark {
        account: r.str(ACCOUNT)?.to_owned(),
        region: r.str(REGION)?.to_owned(),
        status,
        scanned_at: r.time(SCANNED_AT)?,
        started_at: r.opt_time(STARTED_AT)?,
    })
}

fn mark_item(mark: &ScanMark) -> Item {
    let (word, reason, clusters) = match &mark.status {
        ScanStatus::Scanned { clusters } => ("SCANNED", None, Some(*clusters)),
        ScanStatus::Skipped(r) => ("SKIPPED", Some(r.as_str()), None),
        ScanStatus::Failed(r) => ("FAILED", Some(r.as_str()), None),
    };
    let mut item = Item::from([
        (PK.to_owned(), s(SCAN_PK)),
        (
            SK.to_owned(),
            s(format!("ACCOUNT#{}#{}", mark.account, mark.region)),
        ),
        (ACCOUNT.to_owned(), s(&mark.account)),
        (REGION.to_owned(), s(&mark.region)),
        (STATUS.to_owned(), s(word)),
        (SCANNED_AT.to_owned(), n(millis(mark.scanned_at))),
    ]);
    if let Some(reason) = reason {
        item.insert(REASON.to_owned(), s(reason));
    }
    if let Some(clusters) = clusters {
        item.insert(CLUSTERS.to_owned(), n(clusters));
    }
    if let Some(started) = mark.started_at {
        item.insert(STARTED_AT.to_owned(), n(millis(started)));
    }
    item
}

impl StateStore {
    /// Records `marks` (each replacing the last mark of its account and region), 25 per
    /// BatchWriteItem.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`].
    pub async fn record_scans(&self, marks: &[ScanMark]) -> Result<(), StoreError> {
        let items = marks.iter().map(mark_item).collect();
        self.batch_put(items).await
    }

    /// Since when the migrator has been watching the fleet: `at` when nothing was recorded
    /// before (it is recorded now), else the time first recorded — one conditional write.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn watching_since(&self, at: SystemTime) -> Result<SystemTime, StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(SCAN_PK))
            .item(SK, s(WATCHING_SINCE))
            .item(SINCE, n(millis(at)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match out {
            Ok(_) => Ok(super::attr::from_millis(millis(at))),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => {
                    match c.item() {
                        Some(item) => Reader::new(item).time(SINCE),
                        None => self.recorded_since().await,
                    }
                }
                _ => Err(self.failed("PutItem", e)),
            },
        }
    }

    /// The recorded `WATCHING_SINCE` time (for a store that returns no old item).
    async fn recorded_since(&self) -> Result<SystemTime, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(SCAN_PK))
            .key(SK, s(WATCHING_SINCE))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("GetItem", e))?;
        let item = out.item().ok_or_else(|| StoreError::NotFound {
            key: SCAN_PK.to_owned(),
            sk: WATCHING_SINCE.to_owned(),
        })?;
        Reader::new(item).time(SINCE)
    }

    /// Every scan mark.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn scan_marks(&self) -> Result<Vec<ScanMark>, StoreError> {
        self.query_pk_prefix(SCAN_PK, "ACCOUNT#")
            .await?
            .iter()
            .map(mark_from_item)
            .collect()
    }
}
