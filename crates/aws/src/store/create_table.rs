//! Creating the table for local use (the production table comes from template.yaml): the keys,
//! the phase GSI, on-demand billing, TTL on [`TTL_ATTRIBUTE`], in named steps.

use super::error::StoreError;
use super::schema::{PHASE, PHASE_INDEX, PK, SK, TTL_ATTRIBUTE};
use super::table::StateStore;
use crate::sdk_error::error_chain;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use std::time::Duration;

impl StateStore {
    /// Create the table for local use (the production table comes from template.yaml): keys,
    /// the phase GSI, on-demand billing, TTL on [`TTL_ATTRIBUTE`]. Idempotent: an existing
    /// table is accepted, TTL is enabled only when it is not already.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when DynamoDB refuses, [`StoreError::TableNotReady`] when the
    /// table is not ACTIVE within `max_wait`.
    pub async fn create_table(&self, max_wait: Duration) -> Result<(), StoreError> {
        self.create_keys_and_index().await?;
        self.wait_until_active(max_wait).await?;
        self.enable_ttl().await
    }

    /// CreateTable with the keys and the phase GSI; an existing table is accepted as it is.
    async fn create_keys_and_index(&self) -> Result<(), StoreError> {
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(string_attribute(PK)?)
            .attribute_definitions(string_attribute(SK)?)
            .attribute_definitions(string_attribute(PHASE)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .global_secondary_indexes(phase_index()?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.failed("CreateTable", e)),
        }
    }

    /// Waits (at most `max_wait`) until the table is ACTIVE.
    async fn wait_until_active(&self, max_wait: Duration) -> Result<(), StoreError> {
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(max_wait)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::TableNotReady {
                table: self.table.clone(),
                detail: error_chain(&e),
            })
    }

    /// Enables TTL on [`TTL_ATTRIBUTE`] unless it is enabled (or being enabled) already.
    async fn enable_ttl(&self) -> Result<(), StoreError> {
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| self.failed("DescribeTimeToLive", e))?;
        let enabled = ttl
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
        if enabled {
            return Ok(());
        }
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
            .map_err(|e| self.failed("UpdateTimeToLive", e))?;
        Ok(())
    }
}

/// A request that could not be built (a required field missing: a bug, reported as such).
fn build(e: BuildError) -> StoreError {
    StoreError::local("CreateTable", None, false, e.to_string())
}

/// A string attribute of the key schema.
fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build)
}

/// One element of a key schema.
fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(build)
}

/// The sparse GSI listing cluster records by phase, every attribute projected.
fn phase_index() -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(PHASE_INDEX)
        .key_schema(key(PHASE, KeyType::Hash)?)
        .key_schema(key(PK, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(build)
}
