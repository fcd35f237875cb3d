//! Reading the whole fleet for a report: every cluster record, its last sighting and its stored
//! inventory, and every account-region scan mark, in one parallel Scan of the table.
//!
//! A report needs every cluster, so it reads the table rather than querying it cluster by
//! cluster: `segments` Scan requests run at once (DynamoDB's parallel scan), each over its
//! share of the table, with a filter that returns only the items a report uses (records,
//! sightings, inventories, scan marks; not audit records, backups or per-principal records).
//! The filter saves transfer and decoding, not read capacity: DynamoDB charges a Scan for every
//! item it reads. Reading is bounded by the table's size and the table's throughput
//! (docs/benchmarks.md has the figures).

use super::attr::{Item, millis};
use super::error::StoreError;
use super::inventory::{assemble, parse_part_sk};
use super::key::ClusterKey;
use super::records::{ClusterRecord, cluster_from_item};
use super::scans::{ScanStatus, mark_from_item};
use super::schema::{META, PK, SK};
use super::sightings::{SEEN, StoredSighting, sighting_from_item};
use super::table::StateStore;
use aws_sdk_dynamodb::types::AttributeValue;
use eks_auth_core::report::input::{
    ClusterView, FleetInput, RecordCounts, ScanOutcome, ScanView, Unreadable,
};
use futures::StreamExt as _;
use std::collections::HashMap;

/// What a fleet read found, besides the report's input.
#[derive(Debug, Clone, Default)]
pub struct FleetRead {
    /// The report's input (its `creator_entry` left at the default for the caller to set).
    pub input: FleetInput,
    /// Items read (after the filter).
    pub items: usize,
    /// Scan requests made (pages over all segments).
    pub requests: usize,
}

/// The items of one cluster partition a report uses.
#[derive(Default)]
struct ClusterItems {
    meta: Option<Item>,
    seen: Option<Item>,
    parts: Vec<Item>,
}

impl StateStore {
    /// Reads every cluster and scan mark the table holds, `segments` Scan requests at a time.
    /// Items that cannot be decoded are named in [`FleetInput::unreadable`]; a cluster whose
    /// inventory cannot be decoded is still reported, without it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when a Scan request fails (e.g. the table does not exist).
    pub async fn read_fleet(&self, segments: u32) -> Result<FleetRead, StoreError> {
        let segments = segments.clamp(1, 1_000_000);
        let pages: Vec<Result<(Vec<Item>, usize), StoreError>> = futures::stream::iter(0..segments)
            .map(|segment| self.scan_segment(segment, segments))
            .buffer_unordered(segments as usize)
            .collect()
            .await;
        let mut clusters: HashMap<String, ClusterItems> = HashMap::new();
        let mut read = FleetRead::default();
        for page in pages {
            let (items, requests) = page?;
            read.requests += requests;
            read.items += items.len();
            for item in items {
                let (pk, sk) = keys(&item);
                if pk == "SCAN" {
                    if sk.starts_with("ACCOUNT#") {
                        match mark_from_item(&item) {
                            Ok(mark) => read.input.scans.push(scan_view(mark)),
                            Err(e) => read.input.unreadable.push(unreadable(&pk, &sk, &e)),
                        }
                    }
                    continue;
                }
                let entry = clusters.entry(pk).or_default();
                if sk == META {
                    entry.meta = Some(item);
                } else if sk == SEEN {
                    entry.seen = Some(item);
                } else if parse_part_sk(&sk).is_some() {
                    entry.parts.push(item);
                }
            }
        }
        let mut pks: Vec<String> = clusters.keys().cloned().collect();
        pks.sort();
        for pk in pks {
            let Some(items) = clusters.remove(&pk) else {
                continue;
            };
            assemble_cluster(&pk, items, &mut read.input);
        }
        read.input.clusters.sort_by(|a, b| {
            (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name))
        });
        read.input
            .scans
            .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        Ok(read)
    }

    /// Every item of one segment that passes the report's filter, and the requests it took.
    async fn scan_segment(
        &self,
        segment: u32,
        total: u32,
    ) -> Result<(Vec<Item>, usize), StoreError> {
        let signed = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let pages: Vec<_> = self
            .client
            .scan()
            .table_name(&self.table)
            .segment(signed(segment))
            .total_segments(signed(total))
            .filter_expression(
                "#sk = :meta OR #sk = :seen OR begins_with(#sk, :inventory) OR (#pk = :scan AND begins_with(#sk, :account))",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":meta", AttributeValue::S(META.to_owned()))
            .expression_attribute_values(":seen", AttributeValue::S(SEEN.to_owned()))
            .expression_attribute_values(":inventory", AttributeValue::S("INVENTORY#".to_owned()))
            .expression_attribute_values(":scan", AttributeValue::S("SCAN".to_owned()))
            .expression_attribute_values(":account", AttributeValue::S("ACCOUNT#".to_owned()))
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let requests = pages.len();
        let mut items = Vec::new();
        for page in pages {
            let page = page.map_err(|e| self.failed("Scan", e))?;
            items.extend(page.items.unwrap_or_default());
        }
        Ok((items, requests))
    }
}

fn keys(item: &Item) -> (String, String) {
    let get = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    (get(PK), get(SK))
}

fn unreadable(pk: &str, sk: &str, reason: &dyn std::fmt::Display) -> Unreadable {
    Unreadable {
        item: format!("{pk} {sk}"),
        reason: reason.to_string(),
    }
}

fn scan_view(mark: super::scans::ScanMark) -> ScanView {
    ScanView {
        account: mark.account,
        region: mark.region,
        scanned_at_ms: millis(mark.scanned_at),
        started_at_ms: mark.started_at.map(millis),
        outcome: match mark.status {
            ScanStatus::Scanned { clusters } => ScanOutcome::Scanned { clusters },
            ScanStatus::Skipped(reason) => ScanOutcome::Skipped { reason },
            ScanStatus::Failed(reason) => ScanOutcome::Failed { reason },
        },
    }
}

/// Adds one cluster partition to `input`: its record (required), sighting and inventory.
fn assemble_cluster(pk: &str, items: ClusterItems, input: &mut FleetInput) {
    let sighting = match items.seen.as_ref().map(sighting_from_item).transpose() {
        Ok(s) => s,
        Err(e) => {
            input.unreadable.push(unreadable(pk, SEEN, &e));
            None
        }
    };
    let Some(meta) = items.meta else {
        // Seen by a scan whose record creation did not happen yet (the worker creates it).
        if let Some(seen) = sighting {
            input.clusters.push(unrecorded_view(&seen));
        }
        return;
    };
    let record = match cluster_from_item(&meta) {
        Ok(record) => record,
        Err(e) => {
            input.unreadable.push(unreadable(pk, META, &e));
            return;
        }
    };
    let inventory = match &record.state.inventory {
        Some(reference) => match assemble(reference, &items.parts) {
            Ok(inventory) => Some(inventory),
            Err(e) => {
                input.unreadable.push(unreadable(
                    pk,
                    &format!("INVENTORY#{}", reference.generation),
                    &e,
                ));
                None
            }
        },
        None => None,
    };
    input
        .clusters
        .push(cluster_view(&record, sighting.as_ref(), inventory));
}

/// A cluster the scan saw before any record exists for it.
fn unrecorded_view(seen: &StoredSighting) -> ClusterView {
    let record = ClusterRecord {
        key: seen.key.clone(),
        state: super::records::ClusterState::discovered(eks_auth_core::state::Mode::Audit),
        version: 0,
        updated_at: seen.seen_at,
        lease: None,
        outbox: Vec::new(),
    };
    cluster_view(&record, Some(seen), None)
}

/// The report's view of one cluster.
pub fn cluster_view(
    record: &ClusterRecord,
    sighting: Option<&StoredSighting>,
    inventory: Option<eks_auth_core::inventory::ClusterInventory>,
) -> ClusterView {
    let ClusterKey {
        account,
        region,
        name,
    } = &record.key;
    let state = &record.state;
    // The newer of the record's and the sighting's observation of the mode.
    let seen_mode = sighting
        .filter(|s| s.seen_at >= record.updated_at || state.authentication_mode.is_none())
        .and_then(|s| s.sighting.authentication_mode);
    ClusterView {
        account: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
        phase: state.phase,
        mode: state.mode,
        authentication_mode: seen_mode.or(state.authentication_mode),
        kubernetes_version: sighting.and_then(|s| s.sighting.kubernetes_version.clone()),
        tags: sighting
            .map(|s| s.sighting.tags.clone())
            .unwrap_or_default(),
        creator_principal: state.creator_principal.clone(),
        last_error: state.last_error.clone(),
        what_to_do: state.what_to_do.clone(),
        counts: RecordCounts {
            entries_planned: state.counts.entries_planned,
            entries_applied: state.counts.entries_applied,
            entries_verified: state.counts.entries_verified,
            blockers: state.counts.blockers,
        },
        updated_at_ms: millis(record.updated_at),
        last_seen_ms: sighting.map(|s| millis(s.seen_at)),
        inventory_at_ms: state.inventory.as_ref().map(|i| millis(i.at)),
        inventory,
        // The newer of the scan's and the last run's description of the endpoint.
        reachability: match (sighting, &state.reach) {
            (Some(s), Some(r)) if s.seen_at < record.updated_at => Some(r.reachability.clone()),
            (Some(s), r) => s
                .sighting
                .reachability
                .clone()
                .or_else(|| r.as_ref().map(|r| r.reachability.clone())),
            (None, r) => r.as_ref().map(|r| r.reachability.clone()),
        },
        route: state.reach.as_ref().map(|r| r.route.clone()),
        owners: state.owners.clone(),
    }
}
