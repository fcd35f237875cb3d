//! The outbox of phase changes on a cluster's record (`META`): one attribute
//! `outbox_<version>` per recorded [`Transition`] (JSON), written by the same conditional save
//! that changed the phase ([`StateStore::save_cluster_recording`]) and removed once the events
//! carrying it were put on the bus ([`StateStore::clear_outbox`]). Attributes rather than a list
//! so that removing delivered ones never shifts or races with ones recorded meanwhile, and so
//! that saves of the cluster's state never touch them.

use super::attr::{Item, Update, s};
use super::error::StoreError;
use super::key::ClusterKey;
use super::schema::{META, PK};
use super::table::StateStore;
use eks_auth_core::notify::transition::Transition;

const PREFIX: &str = "outbox_";

fn attribute(version: u64) -> String {
    format!("{PREFIX}{version}")
}

/// Adds `transition` to the outbox in `u`.
pub(crate) fn append(u: &mut Update, transition: &Transition) {
    // A Transition always serialises (plain strings, numbers and enums).
    let json = serde_json::to_string(transition).unwrap_or_default();
    u.set(&attribute(transition.version), s(json));
}

/// The transitions recorded on `item`, oldest first. One that cannot be read (written by a
/// newer version) is logged and left in place.
pub(crate) fn read(item: &Item) -> Vec<Transition> {
    let mut found: Vec<Transition> = item
        .iter()
        .filter(|(name, _)| name.starts_with(PREFIX))
        .filter_map(|(name, value)| {
            let parsed = value
                .as_s()
                .ok()
                .and_then(|text| serde_json::from_str::<Transition>(text).ok());
            if parsed.is_none() {
                tracing::warn!(attribute = %name, "unreadable outbox entry left in place");
            }
            parsed
        })
        .collect();
    found.sort_by_key(|t| t.version);
    found
}

impl StateStore {
    /// Removes the outbox entries of `versions` (delivered). Removing one that is already gone
    /// is not an error.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`]; [`StoreError::NotFound`] when the record does not exist.
    pub async fn clear_outbox(&self, key: &ClusterKey, versions: &[u64]) -> Result<(), StoreError> {
        if versions.is_empty() {
            return Ok(());
        }
        let mut u = Update::default();
        for v in versions {
            u.set_opt(&attribute(*v), None);
        }
        let pk = u.name(PK);
        u.condition(format!("attribute_exists({pk})"));
        match self.update_item(key.pk(), META, u).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::NotFound {
                    key: key.pk(),
                    sk: META.to_owned(),
                })
            }
            Err(e) => Err(self.failed("UpdateItem", e)),
        }
    }
}
