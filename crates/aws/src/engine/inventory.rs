//! Keeping the cluster's stored inventory (the fleet report's view of its latest plan) current:
//! written only when it changed, referenced from the cluster record by the run's next save.

use super::error::EngineError;
use super::instance::Engine;
use crate::live::Gathered;
use crate::store::ClusterKey;
use crate::store::inventory::encode;
use crate::store::records::ClusterState;
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::inventory::{ClusterInventory, RbacDigest};
use eks_auth_core::plan::Plan;
use std::time::SystemTime;

impl Engine<'_> {
    /// Stores the inventory of `plan` (with why RBAC was not readable, when it was not) when it
    /// differs from the one `state` references, and points `state` at it (saved by the caller).
    /// Returns whether it changed.
    pub(super) async fn record_inventory(
        &self,
        key: &ClusterKey,
        state: &mut ClusterState,
        auth: &AwsAuth,
        plan: &Plan,
        gathered: &Gathered,
        rbac_unreadable: Option<&str>,
    ) -> Result<bool, EngineError> {
        let mut inventory = ClusterInventory::from_plan(auth, plan, Some(&gathered.facts));
        if let Some(reason) = rbac_unreadable {
            inventory.rbac = Some(RbacDigest::Unreadable {
                reason: reason.to_owned(),
            });
        }
        let encoded = encode(&inventory)?;
        if state
            .inventory
            .as_ref()
            .is_some_and(|i| i.generation == encoded.generation)
        {
            return Ok(false);
        }
        let reference = self
            .store
            .put_inventory(key, &encoded, SystemTime::now())
            .await?;
        state.inventory = Some(reference);
        Ok(true)
    }

    /// After the record points at the new inventory: deletes the parts of older ones. A failure
    /// only leaves unreferenced parts behind, which the next change deletes.
    pub(super) async fn forget_old_inventories(&self, key: &ClusterKey, state: &ClusterState) {
        let Some(current) = &state.inventory else {
            return;
        };
        if let Err(e) = self
            .store
            .delete_other_inventories(key, &current.generation)
            .await
        {
            tracing::warn!(cluster = %key, error = %e, "old inventory parts not deleted; the next change retries");
        }
    }
}
