//! Cluster records (`META`): phase, mode, authentication mode, counts, the update being
//! followed, and `version` for optimistic concurrency.

use super::attr::{Item, Reader, Update, millis, n, s};
use super::error::StoreError;
use super::inventory::InventoryRef;
use super::key::ClusterKey;
use super::lease::record::{self as lease_record, Lease, LeaseInfo};
use super::outbox;
use super::schema::{META, PHASE, PHASE_INDEX, PK, SK};
use super::table::StateStore;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::notify::transition::Transition;
use eks_auth_core::owner::ownership::Owners;
use eks_auth_core::reach::ClusterReach;
use eks_auth_core::state::{Mode, Phase};
use std::collections::HashMap;
use std::time::SystemTime;

const MODE: &str = "mode";
const AUTH_MODE: &str = "authentication_mode";
const ENTRIES_PLANNED: &str = "entries_planned";
const ENTRIES_APPLIED: &str = "entries_applied";
const ENTRIES_VERIFIED: &str = "entries_verified";
const BLOCKERS: &str = "blockers";
const BLOCKER_CODES: &str = "blocker_codes";
const AWS_AUTH_ROWS: &str = "aws_auth_rows";
const UPDATE_ID: &str = "pending_update_id";
const UPDATE_TARGET: &str = "pending_update_target";
pub(crate) const LAST_ERROR: &str = "last_error";
const WHAT_TO_DO: &str = "what_to_do";
const VERIFIED_AT: &str = "verified_at";
const CREATOR: &str = "creator_principal";
const INVENTORY_GENERATION: &str = "inventory_generation";
const INVENTORY_PARTS: &str = "inventory_parts";
const INVENTORY_AT: &str = "inventory_at";
const REACH: &str = "reach";
const BACKUP_RESOURCE_VERSION: &str = "backup_resource_version";
const BACKUP_DIGEST: &str = "backup_digest";
const OWNERS: &str = "owners";
const VERSION: &str = "version";
pub(crate) const UPDATED_AT: &str = "updated_at";

/// Per-cluster counts shown by `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Entries in the plan.
    pub entries_planned: u32,
    /// Entries created.
    pub entries_applied: u32,
    /// Entries read back and verified.
    pub entries_verified: u32,
    /// Blocker findings.
    pub blockers: u32,
    /// Rows aws-auth held at the last plan (`None` before the first plan).
    pub aws_auth_rows: Option<u32>,
}

/// An authentication-mode update the worker follows across invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRef {
    /// The EKS update ID (for DescribeUpdate).
    pub id: String,
    /// The mode it switches to.
    pub target: AuthenticationMode,
}

/// The aws-auth backup a cluster record names: which one the migrator's run stored, and the
/// SHA-256 of its text ([`crate::store::backup::digest`]). Rollback restores only this backup, and
/// only when the stored text still has this digest (`eks_auth_core::rollback::trusted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRef {
    /// The resourceVersion aws-auth had when it was backed up.
    pub resource_version: String,
    /// The SHA-256 (hex) of the stored text.
    pub digest: String,
}

/// The mutable part of a cluster record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterState {
    /// Migration phase.
    pub phase: Phase,
    /// Effective mode.
    pub mode: Mode,
    /// Authentication mode last observed.
    pub authentication_mode: Option<AuthenticationMode>,
    /// Counts.
    pub counts: Counts,
    /// The update being followed.
    pub pending_update: Option<UpdateRef>,
    /// The last error, for `status`.
    pub last_error: Option<String>,
    /// What a person does about a `FAILED_TERMINAL` cluster's failure (`None` in every other
    /// phase), for `status`, the report and the phase-change event.
    pub what_to_do: Option<String>,
    /// When every planned entry was last verified (the soak counts from here).
    pub verified_at: Option<SystemTime>,
    /// The principal of the admin entry EKS created for the cluster creator, as first seen
    /// right after the migrator's switch to API_AND_CONFIG_MAP.
    pub creator_principal: Option<String>,
    /// The stored inventory of the latest plan (for the fleet report).
    pub inventory: Option<InventoryRef>,
    /// The reachability of the cluster's Kubernetes API and the route the last run took (or why
    /// it had none), for `status` and the report.
    pub reach: Option<ClusterReach>,
    /// The blocker finding codes of the latest plan, sorted and distinct.
    pub blocker_codes: Vec<String>,
    /// The aws-auth backup the migrator took, recorded in the same version-guarded save.
    pub backup: Option<BackupRef>,
    /// Who owns aws-auth and the cluster, as the latest plan detected them (docs/owners.md),
    /// for `status` and the report.
    pub owners: Option<Owners>,
}

impl ClusterState {
    /// A newly discovered cluster in `mode`.
    pub fn discovered(mode: Mode) -> Self {
        Self {
            phase: Phase::Discovered,
            mode,
            authentication_mode: None,
            counts: Counts::default(),
            pending_update: None,
            last_error: None,
            what_to_do: None,
            verified_at: None,
            creator_principal: None,
            inventory: None,
            reach: None,
            blocker_codes: Vec::new(),
            backup: None,
            owners: None,
        }
    }
}

/// A stored cluster record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRecord {
    /// Which cluster.
    pub key: ClusterKey,
    /// Its state.
    pub state: ClusterState,
    /// Optimistic-concurrency version (1 on creation, +1 per save).
    pub version: u64,
    /// Last save.
    pub updated_at: SystemTime,
    /// The lease, when one is recorded (possibly expired).
    pub lease: Option<LeaseInfo>,
    /// Phase changes recorded and not yet delivered as events ([`super::outbox`]).
    pub outbox: Vec<Transition>,
}

/// What [`StateStore::get_clusters`] read.
#[derive(Debug, Clone, Default)]
pub struct ClusterReads {
    /// The records that exist.
    pub found: HashMap<ClusterKey, ClusterRecord>,
    /// Keys whose record could not be read, with why.
    pub unread: Vec<(ClusterKey, String)>,
}

fn auth_mode(s: &str) -> Option<AuthenticationMode> {
    [
        AuthenticationMode::ConfigMap,
        AuthenticationMode::ApiAndConfigMap,
        AuthenticationMode::Api,
    ]
    .into_iter()
    .find(|m| m.as_str() == s)
}

/// The update that creates a cluster record at version 1 with `state`, only where none exists.
fn new_record(state: &ClusterState, now: SystemTime) -> Update {
    let mut u = Update::default();
    set_state(&mut u, state);
    u.set(VERSION, n(1)).set(UPDATED_AT, n(millis(now)));
    let pk = u.name(PK);
    u.condition(format!("attribute_not_exists({pk})"));
    u
}

/// Add the state attributes of `state` to an update.
fn set_state(u: &mut Update, state: &ClusterState) {
    let c = state.counts;
    u.set(PHASE, s(state.phase.as_str()))
        .set(MODE, s(state.mode.as_str()))
        .set_opt(AUTH_MODE, state.authentication_mode.map(|m| s(m.as_str())))
        .set(ENTRIES_PLANNED, n(c.entries_planned))
        .set(ENTRIES_APPLIED, n(c.entries_applied))
        .set(ENTRIES_VERIFIED, n(c.entries_verified))
        .set(BLOCKERS, n(c.blockers))
        .set_opt(AWS_AUTH_ROWS, c.aws_auth_rows.map(n))
        .set_opt(
            BLOCKER_CODES,
            (!state.blocker_codes.is_empty()).then(|| s(state.blocker_codes.join(","))),
        )
        .set_opt(UPDATE_ID, state.pending_update.as_ref().map(|p| s(&p.id)))
        .set_opt(
            UPDATE_TARGET,
            state.pending_update.as_ref().map(|p| s(p.target.as_str())),
        )
        .set_opt(LAST_ERROR, state.last_error.as_deref().map(s))
        .set_opt(WHAT_TO_DO, state.what_to_do.as_deref().map(s))
        .set_opt(VERIFIED_AT, state.verified_at.map(|t| n(millis(t))))
        .set_opt(CREATOR, state.creator_principal.as_deref().map(s))
        .set_opt(
            INVENTORY_GENERATION,
            state.inventory.as_ref().map(|i| s(&i.generation)),
        )
        .set_opt(
            INVENTORY_PARTS,
            state.inventory.as_ref().map(|i| n(i.parts)),
        )
        .set_opt(
            INVENTORY_AT,
            state.inventory.as_ref().map(|i| n(millis(i.at))),
        )
        .set_opt(
            REACH,
            state
                .reach
                .as_ref()
                .and_then(|r| serde_json::to_string(r).ok())
                .map(s),
        )
        .set_opt(
            BACKUP_RESOURCE_VERSION,
            state.backup.as_ref().map(|b| s(&b.resource_version)),
        )
        .set_opt(BACKUP_DIGEST, state.backup.as_ref().map(|b| s(&b.digest)))
        .set_opt(
            OWNERS,
            state
                .owners
                .as_ref()
                .and_then(|o| serde_json::to_string(o).ok())
                .map(s),
        );
}

/// A cluster record as stored.
///
/// # Errors
///
/// [`StoreError::Corrupt`] naming the first attribute that is missing or malformed.
pub(crate) fn cluster_from_item(item: &Item) -> Result<ClusterRecord, StoreError> {
    let r = Reader::new(item);
    let pk = r.str(PK)?;
    let key = ClusterKey::from_pk(pk).ok_or_else(|| corrupt(pk, PK))?;
    let pending_update = pending_update(&r, pk)?;
    let inventory = inventory(&r, pk)?;
    let backup = backup_ref(&r, pk)?;
    let lease = lease_record::read(&r)?;
    Ok(ClusterRecord {
        state: ClusterState {
            phase: r.parse(PHASE)?,
            mode: r.parse(MODE)?,
            authentication_mode: auth_mode_of(&r, pk, AUTH_MODE)?,
            counts: Counts {
                entries_planned: r.num(ENTRIES_PLANNED)?,
                entries_applied: r.num(ENTRIES_APPLIED)?,
                entries_verified: r.num(ENTRIES_VERIFIED)?,
                blockers: r.num(BLOCKERS)?,
                aws_auth_rows: r.opt_num(AWS_AUTH_ROWS)?,
            },
            pending_update,
            last_error: r.opt_str(LAST_ERROR)?.map(str::to_owned),
            what_to_do: r.opt_str(WHAT_TO_DO)?.map(str::to_owned),
            verified_at: r.opt_time(VERIFIED_AT)?,
            creator_principal: r.opt_str(CREATOR)?.map(str::to_owned),
            inventory,
            reach: r
                .opt_str(REACH)?
                .map(|json| serde_json::from_str(json).map_err(|_| corrupt(pk, REACH)))
                .transpose()?,
            blocker_codes: r
                .opt_str(BLOCKER_CODES)?
                .map(|codes| codes.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            backup,
            owners: r
                .opt_str(OWNERS)?
                .map(|json| serde_json::from_str(json).map_err(|_| corrupt(pk, OWNERS)))
                .transpose()?,
        },
        outbox: outbox::read(item),
        version: r.num(VERSION)?,
        updated_at: r.time(UPDATED_AT)?,
        lease,
        key,
    })
}

/// [`StoreError::Corrupt`] for `attribute` of the cluster record `pk`.
fn corrupt(pk: &str, attribute: &'static str) -> StoreError {
    StoreError::Corrupt {
        key: pk.to_owned(),
        sk: META.to_owned(),
        attribute,
    }
}

/// An authentication-mode attribute, when recorded.
fn auth_mode_of(
    r: &Reader<'_>,
    pk: &str,
    name: &'static str,
) -> Result<Option<AuthenticationMode>, StoreError> {
    r.opt_str(name)?
        .map(|v| auth_mode(v).ok_or_else(|| corrupt(pk, name)))
        .transpose()
}

/// The update being followed: ID and target together, or neither.
fn pending_update(r: &Reader<'_>, pk: &str) -> Result<Option<UpdateRef>, StoreError> {
    match (r.opt_str(UPDATE_ID)?, auth_mode_of(r, pk, UPDATE_TARGET)?) {
        (Some(id), Some(target)) => Ok(Some(UpdateRef {
            id: id.to_owned(),
            target,
        })),
        (None, None) => Ok(None),
        _ => Err(corrupt(pk, UPDATE_TARGET)),
    }
}

/// The recorded backup: resourceVersion and digest together, or neither.
fn backup_ref(r: &Reader<'_>, pk: &str) -> Result<Option<BackupRef>, StoreError> {
    match (
        r.opt_str(BACKUP_RESOURCE_VERSION)?,
        r.opt_str(BACKUP_DIGEST)?,
    ) {
        (Some(resource_version), Some(digest)) => Ok(Some(BackupRef {
            resource_version: resource_version.to_owned(),
            digest: digest.to_owned(),
        })),
        (None, None) => Ok(None),
        _ => Err(corrupt(pk, BACKUP_DIGEST)),
    }
}

/// The stored inventory's reference: generation, parts and time together, or none of them.
fn inventory(r: &Reader<'_>, pk: &str) -> Result<Option<InventoryRef>, StoreError> {
    match (
        r.opt_str(INVENTORY_GENERATION)?,
        r.opt_num(INVENTORY_PARTS)?,
        r.opt_time(INVENTORY_AT)?,
    ) {
        (Some(generation), Some(parts), Some(at)) => Ok(Some(InventoryRef {
            generation: generation.to_owned(),
            parts,
            at,
        })),
        (None, None, None) => Ok(None),
        _ => Err(corrupt(pk, INVENTORY_GENERATION)),
    }
}

impl StateStore {
    /// Create the record of a newly discovered cluster at version 1.
    ///
    /// # Errors
    ///
    /// [`StoreError::AlreadyExists`] when the cluster has a record; [`StoreError::Service`].
    pub async fn create_cluster(
        &self,
        key: &ClusterKey,
        state: &ClusterState,
        now: SystemTime,
    ) -> Result<ClusterRecord, StoreError> {
        let out = self
            .update_item(key.pk(), META, new_record(state, now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => cluster_from_item(out.attributes().unwrap_or(&Item::new())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::AlreadyExists {
                    key: key.pk(),
                    sk: META.to_owned(),
                })
            }
            Err(e) => Err(self.failed("UpdateItem", e)),
        }
    }

    /// The cluster's record: created at version 1 with `state` when there is none (`true`), or
    /// the existing one unchanged (`false`) — one conditional write either way.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn create_or_get_cluster(
        &self,
        key: &ClusterKey,
        state: &ClusterState,
        now: SystemTime,
    ) -> Result<(ClusterRecord, bool), StoreError> {
        let out = self
            .update_item(key.pk(), META, new_record(state, now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match out {
            Ok(out) => Ok((
                cluster_from_item(out.attributes().unwrap_or(&Item::new()))?,
                true,
            )),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c)) => {
                    match c.item() {
                        Some(item) => Ok((cluster_from_item(item)?, false)),
                        // Without the old item (a store that does not return it), read it.
                        None => self
                            .get_cluster(key)
                            .await?
                            .map(|r| (r, false))
                            .ok_or_else(|| StoreError::NotFound {
                                key: key.pk(),
                                sk: META.to_owned(),
                            }),
                    }
                }
                _ => Err(self.failed("UpdateItem", e)),
            },
        }
    }

    /// Read a cluster record (strongly consistent).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn get_cluster(&self, key: &ClusterKey) -> Result<Option<ClusterRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(key.pk()))
            .key(SK, s(META))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failed("GetItem", e))?;
        out.item().map(cluster_from_item).transpose()
    }

    /// The records of `keys`, read 100 at a time (BatchGetItem, strongly consistent): those
    /// that exist, and the keys whose record could not be read, with why (still unprocessed
    /// after retries, or corrupt). A key in neither has no record.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when a BatchGetItem call fails.
    pub async fn get_clusters(&self, keys: &[ClusterKey]) -> Result<ClusterReads, StoreError> {
        let items = keys
            .iter()
            .map(|k| Item::from([(PK.to_owned(), s(k.pk())), (SK.to_owned(), s(META))]))
            .collect();
        let (items, unprocessed) = self.batch_get(items).await?;
        let mut reads = ClusterReads::default();
        for item in &items {
            match cluster_from_item(item) {
                Ok(record) => {
                    reads.found.insert(record.key.clone(), record);
                }
                Err(e) => {
                    let key = Reader::new(item).str(PK).ok().and_then(ClusterKey::from_pk);
                    if let Some(key) = key {
                        reads.unread.push((key, e.to_string()));
                    }
                }
            }
        }
        for item in &unprocessed {
            let key = Reader::new(item).str(PK).ok().and_then(ClusterKey::from_pk);
            if let Some(key) = key {
                reads
                    .unread
                    .push((key, "throttled: still unprocessed after retries".to_owned()));
            }
        }
        Ok(reads)
    }

    /// Save `state` if the record is still at `expected_version` (and, with `lease`, only while
    /// that lease is held at `now`). Lease attributes are left untouched.
    ///
    /// # Errors
    ///
    /// [`StoreError::LeaseLost`] when `lease` is no longer held, [`StoreError::Conflict`] when
    /// the record moved past `expected_version`, [`StoreError::NotFound`], [`StoreError::Service`].
    ///
    /// # Guarantees
    ///
    /// A save from a stale read, or from a worker whose lease expired or was taken over, never
    /// reaches the table.
    pub async fn save_cluster(
        &self,
        key: &ClusterKey,
        expected_version: u64,
        state: &ClusterState,
        now: SystemTime,
        lease: Option<&Lease>,
    ) -> Result<ClusterRecord, StoreError> {
        self.save_cluster_recording(key, expected_version, state, now, lease, None)
            .await
    }

    /// [`StateStore::save_cluster`], recording `transition` (at version `expected_version + 1`)
    /// in the record's outbox in the same conditional write: the phase change and its record
    /// reach the table together or not at all.
    ///
    /// # Errors
    ///
    /// As [`StateStore::save_cluster`].
    pub async fn save_cluster_recording(
        &self,
        key: &ClusterKey,
        expected_version: u64,
        state: &ClusterState,
        now: SystemTime,
        lease: Option<&Lease>,
        transition: Option<&Transition>,
    ) -> Result<ClusterRecord, StoreError> {
        let mut u = Update::default();
        set_state(&mut u, state);
        if let Some(t) = transition {
            outbox::append(&mut u, t);
        }
        u.set(VERSION, n(expected_version.saturating_add(1)))
            .set(UPDATED_AT, n(millis(now)));
        let version = u.name(VERSION);
        let expected = u.value(n(expected_version));
        u.condition(format!("{version} = {expected}"));
        if let Some(lease) = lease {
            lease_record::require_held(&mut u, lease, now);
        }
        let out = self
            .update_item(key.pk(), META, u)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match out {
            Ok(out) => return cluster_from_item(out.attributes().unwrap_or(&Item::new())),
            Err(e) => e,
        };
        let old = match err.as_service_error() {
            Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c)) => {
                c.item().cloned()
            }
            _ => return Err(self.failed("UpdateItem", err)),
        };
        let Some(old) = old.filter(|i| !i.is_empty()) else {
            return Err(StoreError::NotFound {
                key: key.pk(),
                sk: META.to_owned(),
            });
        };
        let current = cluster_from_item(&old)?;
        if let Some(lease) = lease
            && !lease.is_held_in(current.lease.as_ref(), now)
        {
            return Err(StoreError::LeaseLost {
                key: key.pk(),
                owner: lease.owner().to_owned(),
            });
        }
        Err(StoreError::Conflict {
            key: key.pk(),
            expected: expected_version,
            found: current.version,
        })
    }

    /// Cluster records in `phase` (through the phase GSI, eventually consistent).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn clusters_in_phase(&self, phase: Phase) -> Result<Vec<ClusterRecord>, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PHASE_INDEX)
            .key_condition_expression("#p = :p")
            .expression_attribute_names("#p", PHASE)
            .expression_attribute_values(":p", s(phase.as_str()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.failed("Query", e))?;
        items.iter().map(cluster_from_item).collect()
    }
}
