//! Putting phase-change events on the central event bus (EventBridge PutEvents, at most ten
//! entries a call, in the order given).

use crate::sdk_error::failure;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use eks_auth_core::notify::transition::{OutgoingEvent, SOURCE};
use std::time::{Duration, UNIX_EPOCH};

/// Entries PutEvents takes per call.
const PER_CALL: usize = 10;

/// Puts events on one bus.
#[derive(Debug, Clone)]
pub struct EventPublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventPublisher {
    /// A publisher on `bus` (name or ARN) with a client from `config` (the function's own
    /// credentials; its role may put events on that bus only).
    pub fn new(config: &aws_config::SdkConfig, bus: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(config),
            bus: bus.into(),
        }
    }

    /// The bus.
    pub fn bus(&self) -> &str {
        &self.bus
    }

    /// Puts `events`; per event, whether EventBridge accepted it (or why not). A call that
    /// fails (throttled after the SDK's retries, refused, unreachable) fails its entries.
    pub async fn put(&self, events: &[OutgoingEvent]) -> Vec<Result<(), String>> {
        let mut results = Vec::with_capacity(events.len());
        for chunk in events.chunks(PER_CALL) {
            let entries: Vec<PutEventsRequestEntry> = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(e.detail_type)
                        .detail(e.detail.to_string())
                        .resources(&e.resource)
                        .time(aws_smithy_types::DateTime::from(
                            UNIX_EPOCH + Duration::from_millis(e.time_ms),
                        ))
                        .build()
                })
                .collect();
            match self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => {
                    let answers = out.entries();
                    for i in 0..chunk.len() {
                        let answer = answers.get(i);
                        results.push(match answer.and_then(|a| a.error_code()) {
                            None if answer.is_some() => Ok(()),
                            None => Err("PutEvents returned no result for the entry".to_owned()),
                            Some(code) => Err(format!(
                                "{code}: {}",
                                answer.and_then(|a| a.error_message()).unwrap_or_default()
                            )),
                        });
                    }
                }
                Err(e) => {
                    let reason = failure(&self.client, "PutEvents", &e).to_string();
                    results.extend(chunk.iter().map(|_| Err(reason.clone())));
                }
            }
        }
        results
    }
}
