//! BatchGetItem and BatchWriteItem with DynamoDB's limits (100 keys, 25 puts per call) and its
//! unprocessed keys and items retried with exponential backoff. Only for reads, and for writes
//! that may replace what is there (batch writes take no condition).

use super::attr::Item;
use super::error::StoreError;
use super::table::StateStore;
use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use std::time::Duration;

/// Keys per BatchGetItem.
const GET_LIMIT: usize = 100;
/// Requests per BatchWriteItem.
const WRITE_LIMIT: usize = 25;
/// Calls per chunk while DynamoDB leaves keys or items unprocessed (throttling).
const ATTEMPTS: u32 = 8;

/// The wait before retrying the unprocessed part of a chunk: 50 ms, doubling, at most 2 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(2))
}

fn build_error(operation: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::local(operation, None, false, e.to_string())
}

impl StateStore {
    /// The items at `keys` that exist (strongly consistent reads), and the keys DynamoDB still
    /// left unprocessed after retrying.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when a BatchGetItem call fails.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<Item>,
    ) -> Result<(Vec<Item>, Vec<Item>), StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        let mut unread = Vec::new();
        for chunk in keys.chunks(GET_LIMIT) {
            let mut pending = chunk.to_vec();
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| build_error("BatchGetItem", e))?;
                let mut out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| self.failed("BatchGetItem", e))?;
                if let Some(items) = out.responses.as_mut().and_then(|r| r.remove(&self.table)) {
                    found.extend(items);
                }
                pending = out
                    .unprocessed_keys
                    .as_mut()
                    .and_then(|u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
            }
            unread.extend(pending);
        }
        Ok((found, unread))
    }

    /// Puts `items` (each replacing any item with its key).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when a BatchWriteItem call fails or items are still unprocessed
    /// after retrying.
    pub(crate) async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for chunk in items.chunks(WRITE_LIMIT) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, _>>()
                .map_err(|e| build_error("BatchWriteItem", e))?;
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                let mut out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| self.failed("BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .as_mut()
                    .and_then(|u| u.remove(&self.table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::local(
                    "BatchWriteItem",
                    Some("UnprocessedItems"),
                    true,
                    format!(
                        "{} item(s) still unprocessed after {ATTEMPTS} attempts (throttled): run again later",
                        pending.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}
