//! Per-principal records (`ENTRY#<principalArn>`): source row, target spec, status, attempts,
//! last error.

use super::attr::{Item, Reader, Update, millis, n, s};
use super::error::StoreError;
use super::key::ClusterKey;
use super::records::{LAST_ERROR, UPDATED_AT};
use super::schema::SK;
use super::table::StateStore;
use aws_sdk_dynamodb::types::ReturnValue;
use eks_auth_core::arn::Arn;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

const PRINCIPAL_ARN: &str = "principal_arn";
const SOURCE_ROW: &str = "source_row";
const TARGET_SPEC: &str = "target_spec";
const STATUS: &str = "status";
const ATTEMPTS: &str = "attempts";

/// Status of one principal's migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    /// Planned, not created yet.
    Planned,
    /// Created (and policies associated).
    Created,
    /// Read back from the API and equal to the target.
    Verified,
    /// Nothing to do (EKS-managed or already equivalent).
    Skipped,
    /// Cannot be migrated (a finding blocks it).
    Blocked,
    /// The last attempt failed.
    Failed,
    /// An entry EKS manages itself (capability, Auto Mode, HyperPod, node group, Fargate):
    /// never adopted, changed or deleted.
    EksManaged,
}

impl EntryStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Planned => "PLANNED",
            EntryStatus::Created => "CREATED",
            EntryStatus::Verified => "VERIFIED",
            EntryStatus::Skipped => "SKIPPED",
            EntryStatus::Blocked => "BLOCKED",
            EntryStatus::Failed => "FAILED",
            EntryStatus::EksManaged => "EKS_MANAGED",
        }
    }
}

impl fmt::Display for EntryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntryStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            EntryStatus::Planned,
            EntryStatus::Created,
            EntryStatus::Verified,
            EntryStatus::Skipped,
            EntryStatus::Blocked,
            EntryStatus::Failed,
            EntryStatus::EksManaged,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or(())
    }
}

/// What the planner decided for one principal.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryPlan {
    /// The principal (full ARN, with path).
    pub principal_arn: Arn,
    /// The aws-auth row it came from, verbatim.
    pub source_row: String,
    /// The target access entry (JSON).
    pub target_spec: serde_json::Value,
}

/// A change to one principal's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryUpdate {
    /// The new status.
    pub status: EntryStatus,
    /// The error of this attempt (`None` clears the last error).
    pub error: Option<String>,
    /// Whether this update records a (mutating) attempt: increments `attempts`.
    pub attempted: bool,
}

/// A stored per-principal record.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRecord {
    /// The principal.
    pub principal_arn: Arn,
    /// The aws-auth row.
    pub source_row: String,
    /// The target access entry.
    pub target_spec: serde_json::Value,
    /// Status.
    pub status: EntryStatus,
    /// Mutating attempts so far.
    pub attempts: u32,
    /// The last error.
    pub last_error: Option<String>,
    /// Last change.
    pub updated_at: SystemTime,
}

fn entry_sk(arn: &Arn) -> String {
    format!("ENTRY#{arn}")
}

fn entry_from_item(item: &Item) -> Result<EntryRecord, StoreError> {
    let r = Reader::new(item);
    Ok(EntryRecord {
        principal_arn: r.parse(PRINCIPAL_ARN)?,
        source_row: r.str(SOURCE_ROW)?.to_owned(),
        target_spec: r.json(TARGET_SPEC)?,
        status: r.parse(STATUS)?,
        attempts: r.num(ATTEMPTS)?,
        last_error: r.opt_str(LAST_ERROR)?.map(str::to_owned),
        updated_at: r.time(UPDATED_AT)?,
    })
}

impl StateStore {
    /// Record the plan for one principal. The plan fields are replaced; status (initially
    /// `PLANNED`) and attempts are kept when the record exists.
    ///
    /// # Errors
    ///
    /// [`StoreError::Serialize`], [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn put_entry_plan(
        &self,
        key: &ClusterKey,
        plan: &EntryPlan,
        now: SystemTime,
    ) -> Result<EntryRecord, StoreError> {
        let target =
            serde_json::to_string(&plan.target_spec).map_err(|source| StoreError::Serialize {
                attribute: TARGET_SPEC,
                source,
            })?;
        let mut u = Update::default();
        u.set(PRINCIPAL_ARN, s(plan.principal_arn.to_string()))
            .set(SOURCE_ROW, s(&plan.source_row))
            .set(TARGET_SPEC, s(target))
            .set(UPDATED_AT, n(millis(now)))
            .set_default(STATUS, s(EntryStatus::Planned.as_str()))
            .set_default(ATTEMPTS, n(0));
        let out = self
            .update_item(key.pk(), entry_sk(&plan.principal_arn), u)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| self.failed("UpdateItem", e))?;
        entry_from_item(out.attributes().unwrap_or(&Item::new()))
    }

    /// Change one principal's status (and count an attempt when `update.attempted`).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when no plan was recorded for the principal;
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn update_entry(
        &self,
        key: &ClusterKey,
        principal_arn: &Arn,
        update: &EntryUpdate,
        now: SystemTime,
    ) -> Result<EntryRecord, StoreError> {
        let mut u = Update::default();
        u.set(STATUS, s(update.status.as_str()))
            .set(UPDATED_AT, n(millis(now)))
            .set_opt(LAST_ERROR, update.error.as_deref().map(s));
        if update.attempted {
            u.add(ATTEMPTS, n(1));
        }
        let sk = u.name(SK);
        u.condition(format!("attribute_exists({sk})"));
        let out = self
            .update_item(key.pk(), entry_sk(principal_arn), u)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => entry_from_item(out.attributes().unwrap_or(&Item::new())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::NotFound {
                    key: key.pk(),
                    sk: entry_sk(principal_arn),
                })
            }
            Err(e) => Err(self.failed("UpdateItem", e)),
        }
    }

    /// Every per-principal record of a cluster, ordered by principal ARN.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn list_entries(&self, key: &ClusterKey) -> Result<Vec<EntryRecord>, StoreError> {
        self.query_prefix(key, "ENTRY#")
            .await?
            .iter()
            .map(entry_from_item)
            .collect()
    }
}
