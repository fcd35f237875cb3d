//! The leases a process holds right now, so that it can give them up when it is told to shut
//! down (the Lambda worker on SIGTERM) instead of leaving them to expire.

use super::record::Lease;
use crate::store::key::ClusterKey;
use crate::store::table::StateStore;

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
