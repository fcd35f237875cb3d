//! A run from start to end ([`Engine::run`]): identify the cluster, make sure it has a record,
//! take its lease, drive the passes, deliver the phase-change events, remove the temporary
//! entry, release the lease.

use super::error::EngineError;
use super::instance::Engine;
use super::outcome::{EventsDelivered, Progress, Report};
use crate::live::{self, GatherError};
use crate::store::ClusterKey;
use crate::store::error::StoreError;
use crate::store::records::ClusterState;
use eks_auth_core::state::Mode;
use eks_auth_kube::ids::{AccountId, ClusterName, Region};
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

impl Engine<'_> {
    /// Advances cluster `cluster` (in the configuration's region) in `mode` until it has to
    /// wait, is done, blocks, fails a step, or `deadline` is near.
    ///
    /// # Errors
    ///
    /// [`EngineError::Identify`] when the cluster cannot be described, [`EngineError::Store`]
    /// when the state store fails or the lease is lost mid-run (nothing further is done),
    /// [`EngineError::FailPoint`] in tests.
    pub async fn run(
        &self,
        cluster: &str,
        mode: Mode,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Report, EngineError> {
        self.start_run();
        let key = self.identify(cluster).await?;
        self.ensure_record(&key, mode).await?;
        let lease = match self.acquire(&key).await? {
            Ok(lease) => lease,
            Err(busy) => return Ok(self.report(&key, mode, None, busy, None, Vec::new())),
        };
        self.hold(lease);
        let result = self.drive(&key, mode, deadline, progress).await;
        if matches!(result, Err(EngineError::FailPoint(_))) {
            return result;
        }
        let delivered = match self.deliver_events(&key).await {
            Err(EngineError::FailPoint(p)) => return Err(EngineError::FailPoint(p)),
            Err(e) => {
                tracing::warn!(error = %e, "phase-change events not delivered; the next run sends them");
                EventsDelivered::default()
            }
            Ok(delivered) => delivered,
        };
        match self.revoke_self(&key, progress).await {
            Err(EngineError::FailPoint(p)) => return Err(EngineError::FailPoint(p)),
            Err(e) => {
                tracing::error!(error = %e, "could not record the removal of the temporary entry")
            }
            Ok(()) => {}
        }
        self.release().await;
        result.map(|mut report| {
            report.mutating_calls = self.calls.load(Ordering::SeqCst);
            report.events = delivered;
            report
        })
    }

    /// The cluster's key: its account (DescribeCluster), the configuration's region, its name.
    pub(super) async fn identify(&self, cluster: &str) -> Result<ClusterKey, EngineError> {
        let name = ClusterName::parse(cluster).map_err(GatherError::from)?;
        let region = self
            .config
            .region()
            .ok_or_else(|| GatherError::NoRegion {
                cluster: cluster.to_owned(),
            })
            .and_then(|r| Region::parse(r.as_ref()).map_err(GatherError::from))?;
        let account = live::cluster_account(self.config, cluster).await?;
        let account = AccountId::parse(account).map_err(GatherError::from)?;
        Ok(ClusterKey {
            account,
            region,
            name,
        })
    }

    /// Creates the cluster's record in `mode` when it has none.
    pub(super) async fn ensure_record(
        &self,
        key: &ClusterKey,
        mode: Mode,
    ) -> Result<(), EngineError> {
        if self.store.get_cluster(key).await?.is_some() {
            return Ok(());
        }
        match self
            .store
            .create_cluster(key, &ClusterState::discovered(mode), SystemTime::now())
            .await
        {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
