//! Fleet-scan marks (`pk` = `SCAN`, `sk` = `ACCOUNT#<account>#<region>`): when each account and
//! region was last scanned and how it went, so a scan cut short by its time limit is continued
//! by the next one (least recently scanned first) and failures are visible with their reason.

use super::attr::{Item, Reader, millis, n, s};
use super::error::{StoreError, service};
use super::{PK, SK, StateStore};
use std::time::SystemTime;

const SCAN_PK: &str = "SCAN";
const ACCOUNT: &str = "account";
const REGION: &str = "region";
const STATUS: &str = "status";
const REASON: &str = "reason";
const CLUSTERS: &str = "clusters";
const SCANNED_AT: &str = "scanned_at";

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
    /// When.
    pub scanned_at: SystemTime,
}

fn mark_from_item(item: &Item) -> Result<ScanMark, StoreError> {
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
    })
}

impl StateStore {
    /// Records how the scan of `account` in `region` went at `now` (replacing the last mark).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`].
    pub async fn record_scan(
        &self,
        account: &str,
        region: &str,
        status: &ScanStatus,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let (word, reason, clusters) = match status {
            ScanStatus::Scanned { clusters } => ("SCANNED", None, Some(*clusters)),
            ScanStatus::Skipped(r) => ("SKIPPED", Some(r.as_str()), None),
            ScanStatus::Failed(r) => ("FAILED", Some(r.as_str()), None),
        };
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(SCAN_PK))
            .item(SK, s(format!("ACCOUNT#{account}#{region}")))
            .item(ACCOUNT, s(account))
            .item(REGION, s(region))
            .item(STATUS, s(word))
            .item(SCANNED_AT, n(millis(now)));
        if let Some(reason) = reason {
            put = put.item(REASON, s(reason));
        }
        if let Some(clusters) = clusters {
            put = put.item(CLUSTERS, n(clusters));
        }
        put.send().await.map_err(|e| service("PutItem", e))?;
        Ok(())
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
