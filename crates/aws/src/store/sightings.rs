//! Cluster sightings (`SEEN`): what the last fleet scan's DescribeCluster said about each cluster
//! — authentication mode, Kubernetes version, status, tags, creation time, reachability of its
//! Kubernetes API — for the fleet
//! report. Written by the scan in batches (an item replaces the last one; no condition is
//! needed, the scan is the only writer), read back with the records.

use super::attr::{Item, Reader, millis, n, s};
use super::error::StoreError;
use super::key::ClusterKey;
use super::schema::{PK, SK};
use super::table::StateStore;
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::reach::Reachability;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The sort key of a sighting.
pub(crate) const SEEN: &str = "SEEN";
const AUTH_MODE: &str = "authentication_mode";
const VERSION: &str = "kubernetes_version";
const STATUS: &str = "status";
const TAGS: &str = "tags";
const CREATED_AT: &str = "created_at";
const SEEN_AT: &str = "seen_at";
const REACHABILITY: &str = "reachability";

/// What DescribeCluster said about a cluster when a scan last looked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sighting {
    /// Its authentication mode.
    pub authentication_mode: Option<AuthenticationMode>,
    /// Its Kubernetes version (`1.33`).
    pub kubernetes_version: Option<String>,
    /// Its status (`ACTIVE`, `UPDATING`, …).
    pub status: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: Option<SystemTime>,
    /// Where its Kubernetes API can be reached from (`resourcesVpcConfig`, classified).
    pub reachability: Option<Reachability>,
}

/// A sighting as stored, with its cluster and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSighting {
    /// The cluster.
    pub key: ClusterKey,
    /// What was seen.
    pub sighting: Sighting,
    /// When.
    pub seen_at: SystemTime,
}

pub(crate) fn sighting_item(key: &ClusterKey, sighting: &Sighting, seen_at: SystemTime) -> Item {
    let mut item = Item::from([
        (PK.to_owned(), s(key.pk())),
        (SK.to_owned(), s(SEEN)),
        (SEEN_AT.to_owned(), n(millis(seen_at))),
    ]);
    let mut put = |name: &str, value| {
        item.insert(name.to_owned(), value);
    };
    if let Some(mode) = sighting.authentication_mode {
        put(AUTH_MODE, s(mode.as_str()));
    }
    if let Some(version) = &sighting.kubernetes_version {
        put(VERSION, s(version));
    }
    if let Some(status) = &sighting.status {
        put(STATUS, s(status));
    }
    if !sighting.tags.is_empty() {
        put(
            TAGS,
            s(serde_json::to_string(&sighting.tags).unwrap_or_default()),
        );
    }
    if let Some(created) = sighting.created_at {
        put(CREATED_AT, n(millis(created)));
    }
    if let Some(reachability) = &sighting.reachability {
        put(
            REACHABILITY,
            s(serde_json::to_string(reachability).unwrap_or_default()),
        );
    }
    item
}

pub(crate) fn sighting_from_item(item: &Item) -> Result<StoredSighting, StoreError> {
    let r = Reader::new(item);
    let pk = r.str(PK)?;
    let corrupt = |attribute| StoreError::Corrupt {
        key: pk.to_owned(),
        sk: SEEN.to_owned(),
        attribute,
    };
    let key = ClusterKey::from_pk(pk).ok_or_else(|| corrupt(PK))?;
    let authentication_mode = r
        .opt_str(AUTH_MODE)?
        .map(|m| {
            [
                AuthenticationMode::ConfigMap,
                AuthenticationMode::ApiAndConfigMap,
                AuthenticationMode::Api,
            ]
            .into_iter()
            .find(|v| v.as_str() == m)
            .ok_or_else(|| corrupt(AUTH_MODE))
        })
        .transpose()?;
    let tags = match r.opt_str(TAGS)? {
        Some(json) => serde_json::from_str(json).map_err(|_| corrupt(TAGS))?,
        None => BTreeMap::new(),
    };
    let reachability = match r.opt_str(REACHABILITY)? {
        Some(json) => Some(serde_json::from_str(json).map_err(|_| corrupt(REACHABILITY))?),
        None => None,
    };
    Ok(StoredSighting {
        key,
        sighting: Sighting {
            authentication_mode,
            kubernetes_version: r.opt_str(VERSION)?.map(str::to_owned),
            status: r.opt_str(STATUS)?.map(str::to_owned),
            tags,
            created_at: r.opt_time(CREATED_AT)?,
            reachability,
        },
        seen_at: r.time(SEEN_AT)?,
    })
}

impl StateStore {
    /// Records what a scan saw of each cluster (BatchWriteItem, 25 a call).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`] when a call fails or items stay unprocessed after retries.
    pub async fn record_sightings(
        &self,
        sightings: &[(ClusterKey, Sighting)],
        seen_at: SystemTime,
    ) -> Result<(), StoreError> {
        let items = sightings
            .iter()
            .map(|(key, sighting)| sighting_item(key, sighting, seen_at))
            .collect();
        self.batch_put(items).await
    }

    /// The last sighting of one cluster.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`], [`StoreError::Corrupt`].
    pub async fn get_sighting(
        &self,
        key: &ClusterKey,
    ) -> Result<Option<StoredSighting>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(key.pk()))
            .key(SK, s(SEEN))
            .send()
            .await
            .map_err(|e| self.failed("GetItem", e))?;
        out.item().map(sighting_from_item).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sighting_round_trips() {
        let key = ClusterKey {
            account: "111122223333".parse().expect("account"),
            region: "eu-west-1".parse().expect("region"),
            name: "prod".parse().expect("name"),
        };
        let sighting = Sighting {
            authentication_mode: Some(AuthenticationMode::ConfigMap),
            kubernetes_version: Some("1.33".to_owned()),
            status: Some("ACTIVE".to_owned()),
            tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
            created_at: Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(9)),
            reachability: Some(eks_auth_core::reach::classify(
                &eks_auth_core::reach::EndpointAccess {
                    public_access: false,
                    private_access: true,
                    vpc_id: Some("vpc-1".to_owned()),
                    ..Default::default()
                },
                &[],
            )),
        };
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1234);
        let back = sighting_from_item(&sighting_item(&key, &sighting, at)).expect("reads");
        assert_eq!(back.key, key);
        assert_eq!(back.sighting, sighting);
        assert_eq!(back.seen_at, at);
        let bare =
            sighting_from_item(&sighting_item(&key, &Sighting::default(), at)).expect("bare");
        assert_eq!(bare.sighting, Sighting::default());
    }
}
