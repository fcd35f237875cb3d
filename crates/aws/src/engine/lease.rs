//! The run's hold on the cluster's lease: taken at the start (or the run reports
//! [`Outcome::Busy`]), renewed before every step and during long ones, released at the end,
//! and registered with the process's [`crate::store::lease::HeldLeases`] meanwhile.

use super::error::EngineError;
use super::instance::Engine;
use super::outcome::Outcome;
use crate::store::ClusterKey;
use crate::store::error::StoreError;
use crate::store::lease::Lease;
use std::time::SystemTime;

impl Engine<'_> {
    /// The lease, or the outcome `Busy` when another worker holds it.
    pub(super) async fn acquire(
        &self,
        key: &ClusterKey,
    ) -> Result<Result<Lease, Outcome>, EngineError> {
        match self
            .store
            .acquire_lease_for(
                key,
                &self.settings.worker_id,
                self.process.as_ref(),
                self.settings.lease_ttl,
                SystemTime::now(),
            )
            .await
        {
            Ok(lease) => Ok(Ok(lease)),
            Err(StoreError::LeaseHeld {
                owner,
                until,
                process,
                ..
            }) => Ok(Err(Outcome::Busy {
                holder: match process {
                    Some(p) => format!("{owner} ({p})"),
                    None => owner,
                },
                until,
            })),
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps `lease` as the run's (and the process's) until it is released.
    pub(super) fn hold(&self, lease: Lease) {
        if let Some(registry) = &self.held_leases {
            registry.insert(&lease);
        }
        if let Ok(mut held) = self.lease.lock() {
            *held = Some(lease);
        }
    }

    /// The lease this run holds.
    fn held(&self) -> Result<Lease, EngineError> {
        self.lease
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .ok_or_else(|| {
                EngineError::Store(StoreError::LeaseLost {
                    key: String::from("(no lease held)"),
                    owner: self.settings.worker_id.clone(),
                })
            })
    }

    /// Renews the lease when a third of its time has passed (always when `force`).
    pub(super) async fn renew(&self, force: bool) -> Result<Lease, EngineError> {
        let lease = self.held()?;
        let now = SystemTime::now();
        let left = lease.until().duration_since(now).unwrap_or_default();
        if !force && left > self.settings.lease_ttl * 2 / 3 {
            return Ok(lease);
        }
        let renewed = self
            .store
            .renew_lease(&lease, self.settings.lease_ttl, now)
            .await?;
        self.hold(renewed.clone());
        Ok(renewed)
    }

    /// Gives the lease up (a failure only leaves it to expire).
    pub(super) async fn release(&self) {
        let lease = self.lease.lock().ok().and_then(|mut l| l.take());
        if let (Some(registry), Some(lease)) = (&self.held_leases, &lease) {
            registry.remove(lease.key());
        }
        if let Some(lease) = lease
            && let Err(e) = self.store.release_lease(lease).await
        {
            tracing::warn!(error = %e, "could not release the lease; it expires by itself");
        }
    }
}
