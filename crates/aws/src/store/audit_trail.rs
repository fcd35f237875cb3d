//! Audit records (`AUDIT#<time>#<id>`): every mutating call is recorded as `STARTED` before it
//! is made and completed with its result after, so a crash between the two leaves a visible
//! open record for the resumed run to reconcile. Records expire through the table's TTL.

use super::attr::{Item, Reader, Update, millis, n, s};
use super::error::StoreError;
use super::key::ClusterKey;
use super::schema::{PK, SK, TTL_ATTRIBUTE};
use super::table::StateStore;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use eks_auth_kube::token::rfc3339_seconds;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const AUDIT_ID: &str = "audit_id";
const OPERATION: &str = "operation";
const TARGET: &str = "target";
const REQUEST: &str = "request";
const STATUS: &str = "status";
const RESULT: &str = "result";
const ERROR: &str = "error";
const STARTED_AT: &str = "started_at";
const COMPLETED_AT: &str = "completed_at";

/// Where an audited call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditStatus {
    /// Recorded before the call; no outcome yet.
    Started,
    /// The call succeeded.
    Succeeded,
    /// The call failed.
    Failed,
}

impl AuditStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditStatus::Started => "STARTED",
            AuditStatus::Succeeded => "SUCCEEDED",
            AuditStatus::Failed => "FAILED",
        }
    }
}

impl std::str::FromStr for AuditStatus {
    type Err = ();
    fn from_str(v: &str) -> Result<Self, ()> {
        [
            AuditStatus::Started,
            AuditStatus::Succeeded,
            AuditStatus::Failed,
        ]
        .into_iter()
        .find(|x| x.as_str() == v)
        .ok_or(())
    }
}

/// A mutating call about to be made.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditStart {
    /// Unique ID of the call (also usable as its `clientRequestToken`).
    pub id: String,
    /// The API operation (`CreateAccessEntry`, `UpdateClusterConfig`, …).
    pub operation: String,
    /// What it acts on (principal ARN, ConfigMap, …).
    pub target: String,
    /// The request parameters that matter (never credentials).
    pub request: serde_json::Value,
}

/// How an audited call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditOutcome {
    /// Succeeded, with the response details that matter.
    Succeeded(serde_json::Value),
    /// Failed, with the error.
    Failed(String),
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// The cluster.
    pub key: ClusterKey,
    /// Its sort key, `AUDIT#<time>#<id>`.
    pub sk: String,
    /// The call ID.
    pub id: String,
    /// The API operation.
    pub operation: String,
    /// What it acts on.
    pub target: String,
    /// The request parameters.
    pub request: serde_json::Value,
    /// Status.
    pub status: AuditStatus,
    /// The response details, when it succeeded.
    pub result: Option<serde_json::Value>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// When it was recorded as started.
    pub started_at: SystemTime,
    /// When it was completed.
    pub completed_at: Option<SystemTime>,
    /// When the table's TTL removes it (whole seconds).
    pub expires_at: SystemTime,
}

/// `2026-01-02T03:04:05.123Z`: fixed width, so sort keys sort by time.
fn rfc3339_millis(t: SystemTime) -> String {
    let secs = rfc3339_seconds(t);
    let ms = millis(t) % 1000;
    format!("{}.{ms:03}Z", secs.trim_end_matches('Z'))
}

fn json_text(attribute: &'static str, v: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|source| StoreError::Serialize { attribute, source })
}

fn audit_from_item(item: &Item) -> Result<AuditRecord, StoreError> {
    let r = Reader::new(item);
    let pk = r.str(PK)?;
    let key = ClusterKey::from_pk(pk).ok_or_else(|| StoreError::Corrupt {
        key: pk.to_owned(),
        sk: r.str(SK).unwrap_or_default().to_owned(),
        attribute: PK,
    })?;
    let result = match r.opt_str(RESULT)? {
        Some(_) => Some(r.json(RESULT)?),
        None => None,
    };
    Ok(AuditRecord {
        key,
        sk: r.str(SK)?.to_owned(),
        id: r.str(AUDIT_ID)?.to_owned(),
        operation: r.str(OPERATION)?.to_owned(),
        target: r.str(TARGET)?.to_owned(),
        request: r.json(REQUEST)?,
        status: r.parse(STATUS)?,
        result,
        error: r.opt_str(ERROR)?.map(str::to_owned),
        started_at: r.time(STARTED_AT)?,
        completed_at: r.opt_time(COMPLETED_AT)?,
        expires_at: UNIX_EPOCH + Duration::from_secs(r.num(TTL_ATTRIBUTE)?),
    })
}

impl StateStore {
    /// Record a mutating call as `STARTED`, before making it. The record expires `retention`
    /// after `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError::AlreadyExists`] when the same call ID was recorded at the same
    /// millisecond; [`StoreError::Serialize`], [`StoreError::Service`].
    pub async fn begin_audit(
        &self,
        key: &ClusterKey,
        start: &AuditStart,
        now: SystemTime,
        retention: Duration,
    ) -> Result<AuditRecord, StoreError> {
        let sk = format!("AUDIT#{}#{}", rfc3339_millis(now), start.id);
        let expires = (now + retention)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let request = json_text(REQUEST, &start.request)?;
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(key.pk()))
            .item(SK, s(&sk))
            .item(AUDIT_ID, s(&start.id))
            .item(OPERATION, s(&start.operation))
            .item(TARGET, s(&start.target))
            .item(REQUEST, s(request))
            .item(STATUS, s(AuditStatus::Started.as_str()))
            .item(STARTED_AT, n(millis(now)))
            .item(TTL_ATTRIBUTE, n(expires))
            .condition_expression("attribute_not_exists(#sk)")
            .expression_attribute_names("#sk", SK)
            .send()
            .await;
        match out {
            Ok(_) => Ok(AuditRecord {
                key: key.clone(),
                sk,
                id: start.id.clone(),
                operation: start.operation.clone(),
                target: start.target.clone(),
                request: start.request.clone(),
                status: AuditStatus::Started,
                result: None,
                error: None,
                started_at: super::attr::from_millis(millis(now)),
                completed_at: None,
                expires_at: UNIX_EPOCH + Duration::from_secs(expires),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists { key: key.pk(), sk })
            }
            Err(e) => Err(self.failed("PutItem", e)),
        }
    }

    /// Complete a `STARTED` record with the call's outcome.
    ///
    /// # Errors
    ///
    /// [`StoreError::AuditCompleted`] when it was already completed (its outcome is never
    /// overwritten); [`StoreError::NotFound`]; [`StoreError::Serialize`],
    /// [`StoreError::Service`].
    pub async fn complete_audit(
        &self,
        record: &AuditRecord,
        outcome: &AuditOutcome,
        now: SystemTime,
    ) -> Result<AuditRecord, StoreError> {
        let mut u = Update::default();
        u.set(COMPLETED_AT, n(millis(now)));
        match outcome {
            AuditOutcome::Succeeded(result) => {
                u.set(STATUS, s(AuditStatus::Succeeded.as_str()))
                    .set(RESULT, s(json_text(RESULT, result)?));
            }
            AuditOutcome::Failed(error) => {
                u.set(STATUS, s(AuditStatus::Failed.as_str()))
                    .set(ERROR, s(error));
            }
        }
        let status = u.name(STATUS);
        let started = u.value(s(AuditStatus::Started.as_str()));
        u.condition(format!("{status} = {started}"));
        let out = self
            .update_item(record.key.pk(), &record.sk, u)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match out {
            Ok(out) => return audit_from_item(out.attributes().unwrap_or(&Item::new())),
            Err(e) => e,
        };
        let (key, sk) = (record.key.pk(), record.sk.clone());
        match err.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                if c.item().is_some_and(|i| !i.is_empty()) {
                    Err(StoreError::AuditCompleted { key, sk })
                } else {
                    Err(StoreError::NotFound { key, sk })
                }
            }
            _ => Err(self.failed("UpdateItem", err)),
        }
    }

    /// Every audit record of a cluster, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn list_audit(&self, key: &ClusterKey) -> Result<Vec<AuditRecord>, StoreError> {
        self.query_prefix(key, "AUDIT#")
            .await?
            .iter()
            .map(audit_from_item)
            .collect()
    }

    /// Audit records still `STARTED`: calls whose outcome a crash may have lost.
    ///
    /// # Errors
    ///
    /// As [`StateStore::list_audit`].
    pub async fn open_audits(&self, key: &ClusterKey) -> Result<Vec<AuditRecord>, StoreError> {
        let mut all = self.list_audit(key).await?;
        all.retain(|r| r.status == AuditStatus::Started);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_key_time_is_fixed_width() {
        let t = UNIX_EPOCH + Duration::from_millis(1_767_323_045_007);
        assert_eq!(rfc3339_millis(t), "2026-01-02T03:04:05.007Z");
        let whole = UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        assert_eq!(rfc3339_millis(whole), "2026-01-02T03:04:05.000Z");
    }
}
