//! The DynamoDB state store (design.md, "DynamoDB (single table)").
//!
//! One table, partition key `pk` = `CLUSTER#<account>#<region>#<name>`, sort key `sk`:
//!
//! | `sk` | record | module |
//! |---|---|---|
//! | `META` | phase, mode, authentication mode, counts, `version`, lease, undelivered phase changes (`outbox_<version>`) | [`records`], [`lease`], [`outbox`] |
//! | `ENTRY#<principalArn>` | source row, target spec, status, attempts, last error | [`entries`] |
//! | `AUDIT#<time>#<id>` | one mutating call, written before and completed after; TTL | [`audit`] |
//! | `BACKUP#<resourceVersion>` | aws-auth verbatim | [`backup`] |
//! | `INVENTORY#<generation>#<part>` | the latest plan digested for the fleet report (gzip JSON) | [`inventory`] |
//! | `SEEN` | what the last fleet scan saw of the cluster (mode, version, tags) | [`sightings`] |
//! | `FINDING` | whether the cluster's Security Hub finding is active, since when | [`findings`] |
//!
//! Fleet scans keep one record per account and region under `pk` = `SCAN`, `sk` =
//! `ACCOUNT#<account>#<region>` ([`scans`]): when it was last scanned and how that went; and
//! `cluster-events` marks each delivered CloudTrail event ID under `EVENT#<id>` ([`events`]).
//!
//! A sparse GSI [`PHASE_INDEX`] (`phase`, `pk`) lists clusters by phase; [`TTL_ATTRIBUTE`]
//! expires audit records. Every write that must not race is conditional: cluster records carry a
//! `version` (optimistic concurrency), the lease is taken with a conditional update, audit and
//! backup records are created with `attribute_not_exists`. Batch writes, which take no condition,
//! are used only for scan marks (a mark replaces the last one); batch reads for the fleet scan.
//!
//! The store does not read the clock: callers pass `now`, so tests control time.

pub mod audit;
pub mod backup;
pub mod entries;
pub mod error;
pub mod events;
pub mod findings;
pub mod fleet;
pub mod inventory;
pub mod lease;
pub mod outbox;
pub mod records;
pub mod scans;
pub mod sightings;

mod attr;
mod batch;

use crate::ids::{AccountId, ClusterName, Region};
use attr::{Item, s};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use error::{StoreError, service};
use std::fmt;
use std::time::Duration;

/// Partition-key attribute.
pub const PK: &str = "pk";
/// Sort-key attribute.
pub const SK: &str = "sk";
/// The GSI listing cluster records by phase (hash `phase`, range `pk`).
pub const PHASE_INDEX: &str = "phase-index";
/// The TTL attribute (epoch seconds), set on audit records.
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// Sort key of the cluster record.
pub const META: &str = "META";

/// Identifies one cluster: account, region, name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterKey {
    /// The cluster's account.
    pub account: AccountId,
    /// The cluster's region.
    pub region: Region,
    /// The cluster's name.
    pub name: ClusterName,
}

impl ClusterKey {
    /// The partition key, `CLUSTER#<account>#<region>#<name>`.
    pub fn pk(&self) -> String {
        self.to_string()
    }

    /// Parse a partition key written by [`ClusterKey::pk`].
    pub fn from_pk(pk: &str) -> Option<Self> {
        let mut parts = pk.strip_prefix("CLUSTER#")?.splitn(3, '#');
        Some(Self {
            account: parts.next()?.parse().ok()?,
            region: parts.next()?.parse().ok()?,
            name: parts.next()?.parse().ok()?,
        })
    }
}

impl fmt::Display for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CLUSTER#{}#{}#{}", self.account, self.region, self.name)
    }
}

/// The migration state table.
#[derive(Debug, Clone)]
pub struct StateStore {
    client: Client,
    table: String,
}

impl StateStore {
    /// A store over `table` using `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A store over `table` with a client from shared configuration (endpoint, region and
    /// credentials as aws-config resolved them, e.g. `AWS_ENDPOINT_URL`).
    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Create the table for local use (the production table comes from template.yaml): keys,
    /// the phase GSI, on-demand billing, TTL on [`TTL_ATTRIBUTE`]. Idempotent: an existing
    /// table is accepted, TTL is enabled only when it is not already.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when DynamoDB refuses, [`StoreError::TableNotReady`] when the
    /// table is not ACTIVE within `max_wait`.
    pub async fn create_table(&self, max_wait: Duration) -> Result<(), StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Service {
            operation: "CreateTable",
            code: None,
            retryable: false,
            detail: e.to_string(),
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(build)
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(PHASE_INDEX)
            .key_schema(key(records::PHASE, KeyType::Hash)?)
            .key_schema(key(PK, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(build)?;
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attr(PK)?)
            .attribute_definitions(attr(SK)?)
            .attribute_definitions(attr(records::PHASE)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_in_use_exception()) => {}
            Err(e) => return Err(service("CreateTable", e)),
        }
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(max_wait)
            .await
            .map_err(|e| StoreError::TableNotReady {
                table: self.table.clone(),
                detail: aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
            })?;
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| service("DescribeTimeToLive", e))?;
        let enabled = ttl
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
        if !enabled {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(build)?;
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| service("UpdateTimeToLive", e))?;
        }
        Ok(())
    }
}

impl StateStore {
    /// Every item of `key` whose sort key starts with `prefix`, in sort-key order (strongly
    /// consistent, all pages).
    /// An UpdateItem request for one item, carrying `u`'s update and condition expressions.
    pub(crate) fn update_item(
        &self,
        pk: impl Into<String>,
        sk: impl Into<String>,
        u: attr::Update,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .update_expression(u.expression())
            .set_condition_expression(u.condition_expression())
            .set_expression_attribute_names(Some(u.names))
            // DynamoDB rejects an empty map (an update that only removes attributes).
            .set_expression_attribute_values((!u.values.is_empty()).then_some(u.values))
    }

    pub(crate) async fn query_prefix(
        &self,
        key: &ClusterKey,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_pk_prefix(&key.pk(), prefix).await
    }

    /// Every item of partition `pk` whose sort key starts with `prefix` (all pages).
    pub(crate) async fn query_pk_prefix(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| service("Query", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_key_round_trips_through_pk() {
        let key = ClusterKey {
            account: "012345678901".parse().expect("account"),
            region: "eu-west-1".parse().expect("region"),
            name: "prod_eu-1".parse().expect("name"),
        };
        assert_eq!(key.pk(), "CLUSTER#012345678901#eu-west-1#prod_eu-1");
        assert_eq!(ClusterKey::from_pk(&key.pk()), Some(key));
        assert_eq!(ClusterKey::from_pk("CLUSTER#0123#eu-west-1#x"), None);
        assert_eq!(ClusterKey::from_pk("ENTRY#x"), None);
    }
}
