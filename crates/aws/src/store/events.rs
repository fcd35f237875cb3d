//! Delivered-event marks (`pk` = `EVENT#<eventID>`, `sk` = `EVENT`, TTL): EventBridge delivers
//! at least once, so `cluster-events` records each CloudTrail event ID before acting on it and
//! ignores a second delivery.

use super::attr::{n, s};
use super::error::StoreError;
use super::schema::{PK, SK, TTL_ATTRIBUTE};
use super::table::StateStore;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl StateStore {
    /// Records event `id`; `false` when it was already recorded (a duplicate delivery). The
    /// mark expires `retention` after `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`].
    pub async fn first_delivery(
        &self,
        id: &str,
        now: SystemTime,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        let expires = (now + retention)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(format!("EVENT#{id}")))
            .item(SK, s("EVENT"))
            .item(TTL_ATTRIBUTE, n(expires))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.failed("PutItem", e)),
        }
    }
}
