//! The per-cluster lease: one writer per cluster, with expiry so a crashed worker's cluster is
//! taken over (design.md invariant 4).
//!
//! The lease lives on the cluster record (`lease_owner`, `lease_until` in epoch milliseconds,
//! `lease_process`: [`record`]) and is taken with one conditional UpdateItem, so of any number of
//! racing workers exactly one wins. Lease changes do not bump the record's `version`. The holder
//! names its process ([`process`]), so a run on the same host takes over at once from one that
//! has ended; the leases a process holds are kept in [`HeldLeases`] for its shutdown.

pub mod held;
pub mod process;
pub mod record;

pub use held::HeldLeases;
pub use process::ProcessId;
pub use record::{Lease, LeaseInfo};

use super::attr::{Reader, Update, from_millis, millis};
use super::error::StoreError;
use super::key::ClusterKey;
use super::schema::META;
use super::table::StateStore;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use std::time::{Duration, SystemTime};

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
        record::set_holder(&mut u, owner, until, process);
        match ended {
            Some(found) => record::require_exactly(&mut u, found),
            None => record::require_takeable(&mut u, owner, now),
        }
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
        record::set_until(&mut u, until);
        record::require_owner(&mut u, &lease.owner);
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
        record::remove(&mut u);
        record::require_owner(&mut u, &lease.owner);
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
    /// record's lease holder (or its absence), read from the record as it was.
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
                    Some(item) => Ok(Err(Failed::Holder(record::read(&Reader::new(item))?))),
                }
            }
            _ => Err(self.failed("UpdateItem", err)),
        }
    }
}
