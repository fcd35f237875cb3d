//! The migration state table: [`StateStore`], its client, and the request shapes every record
//! kind uses (a conditional UpdateItem, a query by sort-key prefix).

use super::attr::{Item, Update, s};
use super::error::{StoreError, service};
use super::key::ClusterKey;
use super::schema::{PK, SK};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

/// The migration state table.
#[derive(Debug, Clone)]
pub struct StateStore {
    pub(super) client: Client,
    pub(super) table: String,
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

    /// Checks that the table exists and can be reached with the configured credentials
    /// (DescribeTable): a missing table is [`StoreError::Service`] whose failure says so, with
    /// its name and region and how to create or name it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when DynamoDB cannot be reached or refuses, or the table does not
    /// exist.
    pub async fn check_table(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.failed("DescribeTable", e))
    }

    /// The [`StoreError::Service`] of DynamoDB `operation` on this table.
    pub(crate) fn failed<E>(
        &self,
        operation: &'static str,
        err: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> StoreError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        service(&self.client, &self.table, operation, err)
    }

    /// An UpdateItem request for one item, carrying `u`'s update and condition expressions.
    pub(crate) fn update_item(
        &self,
        pk: impl Into<String>,
        sk: impl Into<String>,
        u: Update,
    ) -> UpdateItemFluentBuilder {
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

    /// Every item of `key` whose sort key starts with `prefix`, in sort-key order (strongly
    /// consistent, all pages).
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
            .map_err(|e| self.failed("Query", e))
    }
}
