//! The per-cluster lease: one writer per cluster, with expiry so a crashed worker's cluster is
//! taken over (design.md invariant 4).
//!
//! The lease lives on the cluster record (`lease_owner`, `lease_until` in epoch milliseconds)
//! and is taken with one conditional UpdateItem, so of any number of racing workers exactly one
//! wins. Lease changes do not bump the record's `version`.

use super::attr::{Update, from_millis, millis, n, s};
use super::error::{StoreError, service};
use super::records::cluster_from_item;
use super::{ClusterKey, META, PK, StateStore};
use crate::process::ProcessId;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use std::time::{Duration, SystemTime};

pub(crate) const LEASE_OWNER: &str = "lease_owner";
pub(crate) const LEASE_UNTIL: &str = "lease_until";
/// The holder process (JSON of [`ProcessId`]), when it has one.
pub(crate) const LEASE_PROCESS: &str = "lease_process";

/// A lease as recorded on a cluster record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseInfo {
    /// The worker holding (or last holding) it.
    pub owner: String,
    /// Its expiry.
    pub until: SystemTime,
    /// The holder process, when recorded (see [`crate::process`]).
    pub process: Option<ProcessId>,
}

impl LeaseInfo {
    /// `owner` and, when recorded, the process (`cli-… (pid 42 on host …)`).
    pub fn holder(&self) -> String {
        match &self.process {
            Some(p) => format!("{} ({p})", self.owner),
            None => self.owner.clone(),
        }
    }
}

/// A lease this worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a lease should be renewed or released"]
pub struct Lease {
    key: ClusterKey,
    owner: String,
    until: SystemTime,
}

impl Lease {
    /// The cluster.
    pub fn key(&self) -> &ClusterKey {
        &self.key
    }
    /// This worker's ID.
    pub fn owner(&self) -> &str {
        &self.owner
    }
    /// Expiry (millisecond precision, as stored).
    pub fn until(&self) -> SystemTime {
        self.until
    }
}

/// The leases a process holds right now, so that it can give them up when it is told to shut
/// down (the Lambda worker on SIGTERM) instead of leaving them to expire. Engines register a
/// lease when they take it and remove it when they release it.
#[derive(Debug, Clone, Default)]
pub struct HeldLeases(std::sync::Arc<std::sync::Mutex<Vec<Lease>>>);

impl HeldLeases {
    /// No lease held.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `lease` as held (replacing an older copy of the same cluster's lease).
    pub fn insert(&self, lease: &Lease) {
        if let Ok(mut held) = self.0.lock() {
            held.retain(|l| l.key != lease.key);
            held.push(lease.clone());
        }
    }

    /// Forgets the lease of `key`.
    pub fn remove(&self, key: &ClusterKey) {
        if let Ok(mut held) = self.0.lock() {
            held.retain(|l| &l.key != key);
        }
    }

    /// How many leases are held.
    pub fn len(&self) -> usize {
        self.0.lock().map(|h| h.len()).unwrap_or_default()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Releases every lease still held; returns how many were released (a lease already
    /// taken over or released elsewhere is skipped).
    pub async fn release_all(&self, store: &StateStore) -> usize {
        let leases: Vec<Lease> = self
            .0
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        let mut released = 0;
        for lease in leases {
            match store.release_lease(lease).await {
                Ok(()) => released += 1,
                Err(e) => tracing::warn!(error = %e, "lease not released at shutdown"),
            }
        }
        released
    }
}

/// What went wrong with a conditional lease update.
enum Failed {
    Missing,
    Holder(Option<LeaseInfo>),
}

impl StateStore {
    /// Take the cluster's lease for `owner` until `now + ttl`. Succeeds when nobody holds it,
    /// it has expired, or `owner` already holds it (then it is extended).
    ///
    /// # Errors
    ///
    /// [`StoreError::LeaseHeld`] with the holder and expiry when another worker holds an
    /// unexpired lease; [`StoreError::NotFound`] without a cluster record;
    /// [`StoreError::Service`].
    ///
    /// # Guarantees
    ///
    /// Among concurrent callers for one cluster, at most one holds an unexpired lease at a time.
    pub async fn acquire_lease(
        &self,
        key: &ClusterKey,
        owner: &str,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<Lease, StoreError> {
        self.acquire_lease_for(key, owner, None, ttl, now).await
    }

    /// [`StateStore::acquire_lease`], recording `process` as the holder; and when the lease is
    /// held by a process of this host that has ended (a `kill -9`, a crash), taking it over at
    /// once instead of waiting for it to expire.
    ///
    /// # Errors
    ///
    /// As [`StateStore::acquire_lease`]; [`StoreError::LeaseHeld`] too when the holder runs on
    /// another host (or cannot be told to have ended), whatever its process.
    ///
    /// # Guarantees
    ///
    /// The takeover is conditional on the lease being exactly the one found (same owner, same
    /// expiry): a holder that renewed meanwhile, or another taker, wins instead. A holder on
    /// another host is never taken over before its lease expires.
    pub async fn acquire_lease_for(
        &self,
        key: &ClusterKey,
        owner: &str,
        process: Option<&ProcessId>,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<Lease, StoreError> {
        match self.take_lease(key, owner, process, ttl, now, None).await {
            Err(StoreError::LeaseHeld {
                owner: holder,
                until,
                process: Some(ended),
                ..
            }) if ended.has_ended() => {
                tracing::info!(%holder, process = %ended, "the lease holder's process has ended: taking its lease over");
                let found = LeaseInfo {
                    owner: holder,
                    until,
                    process: Some(ended),
                };
                self.take_lease(key, owner, process, ttl, now, Some(&found))
                    .await
            }
            other => other,
        }
    }

    /// The conditional lease write: free, expired or ours; or, with `ended`, exactly that lease.
    async fn take_lease(
        &self,
        key: &ClusterKey,
        owner: &str,
        process: Option<&ProcessId>,
        ttl: Duration,
        now: SystemTime,
        ended: Option<&LeaseInfo>,
    ) -> Result<Lease, StoreError> {
        let until = from_millis(millis(now + ttl));
        let mut u = Update::default();
        u.set(LEASE_OWNER, s(owner))
            .set(LEASE_UNTIL, n(millis(until)))
            .set_opt(
                LEASE_PROCESS,
                process.and_then(|p| serde_json::to_string(p).ok()).map(s),
            );
        if let Some(found) = ended {
            let (pk, lo, lu) = (u.name(PK), u.name(LEASE_OWNER), u.name(LEASE_UNTIL));
            let (old, old_until) = (u.value(s(&found.owner)), u.value(n(millis(found.until))));
            u.condition(format!("attribute_exists({pk})"));
            u.condition(format!("{lo} = {old} AND {lu} = {old_until}"));
            return self.lease_outcome(key, owner, until, now, u).await;
        }
        let (pk, lo, lu) = (u.name(PK), u.name(LEASE_OWNER), u.name(LEASE_UNTIL));
        let (me, now_v) = (u.value(s(owner)), u.value(n(millis(now))));
        u.condition(format!("attribute_exists({pk})"));
        u.condition(format!(
            "attribute_not_exists({lo}) OR {lo} = {me} OR {lu} <= {now_v}"
        ));
        self.lease_outcome(key, owner, until, now, u).await
    }

    async fn lease_outcome(
        &self,
        key: &ClusterKey,
        owner: &str,
        until: SystemTime,
        now: SystemTime,
        u: Update,
    ) -> Result<Lease, StoreError> {
        match self.conditional(key, u).await? {
            Ok(()) => Ok(Lease {
                key: key.clone(),
                owner: owner.to_owned(),
                until,
            }),
            Err(Failed::Missing) => Err(StoreError::NotFound {
                key: key.pk(),
                sk: META.to_owned(),
            }),
            Err(Failed::Holder(holder)) => {
                // No holder left means it was released between the check and now: the caller
                // may retry at once (`until == now`).
                let holder = holder.unwrap_or(LeaseInfo {
                    owner: String::from("(released concurrently)"),
                    until: now,
                    process: None,
                });
                Err(StoreError::LeaseHeld {
                    key: key.pk(),
                    owner: holder.owner,
                    until: holder.until,
                    process: holder.process,
                })
            }
        }
    }

    /// Extend a held lease to `now + ttl`.
    ///
    /// # Errors
    ///
    /// [`StoreError::LeaseLost`] when another worker took the lease over or it was released;
    /// [`StoreError::Service`].
    pub async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<Lease, StoreError> {
        let until = from_millis(millis(now + ttl));
        let mut u = Update::default();
        u.set(LEASE_UNTIL, n(millis(until)));
        let lo = u.name(LEASE_OWNER);
        let me = u.value(s(&lease.owner));
        u.condition(format!("{lo} = {me}"));
        match self.conditional(&lease.key, u).await? {
            Ok(()) => Ok(Lease {
                until,
                ..lease.clone()
            }),
            Err(_) => Err(self.lost(lease)),
        }
    }

    /// Give the lease up so another worker can start at once.
    ///
    /// # Errors
    ///
    /// [`StoreError::LeaseLost`] when the lease had already been taken over;
    /// [`StoreError::Service`].
    pub async fn release_lease(&self, lease: Lease) -> Result<(), StoreError> {
        let mut u = Update::default();
        u.set_opt(LEASE_OWNER, None)
            .set_opt(LEASE_UNTIL, None)
            .set_opt(LEASE_PROCESS, None);
        let lo = u.name(LEASE_OWNER);
        let me = u.value(s(&lease.owner));
        u.condition(format!("{lo} = {me}"));
        match self.conditional(&lease.key, u).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(self.lost(&lease)),
        }
    }

    fn lost(&self, lease: &Lease) -> StoreError {
        StoreError::LeaseLost {
            key: lease.key.pk(),
            owner: lease.owner.clone(),
        }
    }

    /// Run a conditional update of the cluster record; a failed condition comes back as the
    /// record's lease holder (or its absence).
    async fn conditional(
        &self,
        key: &ClusterKey,
        u: Update,
    ) -> Result<Result<(), Failed>, StoreError> {
        let out = self
            .update_item(key.pk(), META, u)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match out {
            Ok(_) => return Ok(Ok(())),
            Err(e) => e,
        };
        match err.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                match c.item().filter(|i| !i.is_empty()) {
                    None => Ok(Err(Failed::Missing)),
                    Some(item) => Ok(Err(Failed::Holder(cluster_from_item(item)?.lease))),
                }
            }
            _ => Err(service("UpdateItem", err)),
        }
    }
}
