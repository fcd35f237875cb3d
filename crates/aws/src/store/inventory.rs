//! Cluster inventories (`INVENTORY#<generation>#<part>`): each cluster's latest plan digested for
//! the fleet report ([`ClusterInventory`]), stored as gzip-compressed JSON.
//!
//! DynamoDB items are limited to 400 KB. A typical inventory (tens of rows) compresses to a few
//! KB and fits one item; a 5,000-row aws-auth is ≈ 2 MB of JSON and ≈ 100–200 KB compressed;
//! anything larger is split into parts of [`PART_BYTES`]. Compression is chosen over splitting
//! alone because DynamoDB charges writes and reads by the KB: the repetitive JSON of an
//! inventory shrinks 10–20×, and a part is rewritten only when the inventory changes.
//!
//! Consistency without transactions: a new inventory is written under a new *generation* (a
//! hash of its content) before the cluster record is saved pointing at it ([`InventoryRef`] on
//! the `META` record, under the lease); parts of other generations are deleted after that save.
//! A reader follows the record's reference, so it never mixes parts of two inventories, and an
//! interrupted writer leaves at most unreferenced parts that the next change deletes.

use super::attr::{Item, millis, n, s};
use super::error::StoreError;
use super::key::ClusterKey;
use super::schema::{PK, SK};
use super::table::StateStore;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use eks_auth_core::inventory::{ClusterInventory, INVENTORY_FORMAT_VERSION};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::time::SystemTime;

/// Bytes of compressed inventory per item (DynamoDB's limit is 400 KB per item, keys and
/// attribute names included).
pub const PART_BYTES: usize = 350 * 1024;
/// The largest inventory a reader inflates (a guard against a corrupt or hostile item).
const MAX_INFLATED: u64 = 512 * 1024 * 1024;

const PREFIX: &str = "INVENTORY#";
const DATA: &str = "data";
const PARTS: &str = "parts";
const FORMAT: &str = "format_version";
const CREATED_AT: &str = "created_at";

/// Which stored inventory a cluster record points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRef {
    /// Content hash of the inventory (16 hex digits).
    pub generation: String,
    /// Number of parts.
    pub parts: u32,
    /// When it was computed.
    pub at: SystemTime,
}

/// An inventory encoded for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Its generation (content hash).
    pub generation: String,
    /// The compressed bytes, split into parts of at most [`PART_BYTES`].
    pub parts: Vec<Vec<u8>>,
}

/// Why a stored inventory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A part is missing (the inventory is being replaced, or a part was lost).
    #[error("inventory {generation}: part {part} of {parts} is missing")]
    MissingPart {
        /// The generation.
        generation: String,
        /// The missing part.
        part: u32,
        /// Parts expected.
        parts: u32,
    },
    /// The bytes do not inflate or do not decode.
    #[error("inventory {generation} cannot be decoded: {reason}")]
    Undecodable {
        /// The generation.
        generation: String,
        /// Why.
        reason: String,
    },
    /// Written by a newer version of the migrator.
    #[error(
        "inventory {generation} has format version {found}; this version reads {INVENTORY_FORMAT_VERSION}: upgrade eks-auth-migrator"
    )]
    NewerFormat {
        /// The generation.
        generation: String,
        /// The format it has.
        found: u32,
    },
}

/// Encodes `inventory`: JSON, gzip, split into parts.
///
/// # Errors
///
/// [`StoreError::Serialize`] when it does not serialize.
pub fn encode(inventory: &ClusterInventory) -> Result<Encoded, StoreError> {
    let json = serde_json::to_vec(inventory).map_err(|source| StoreError::Serialize {
        attribute: DATA,
        source,
    })?;
    let generation = hex::encode(&Sha256::digest(&json)[..8]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let compressed = gz
        .write_all(&json)
        .and_then(|()| gz.finish())
        .unwrap_or_default();
    let parts = compressed
        .chunks(PART_BYTES)
        .map(<[u8]>::to_vec)
        .collect::<Vec<_>>();
    Ok(Encoded {
        generation,
        parts: if parts.is_empty() {
            vec![Vec::new()]
        } else {
            parts
        },
    })
}

/// Decodes the parts of generation `generation`, in order.
///
/// # Errors
///
/// [`InventoryError`] when the bytes do not inflate or decode, or were written in a newer format.
pub fn decode(generation: &str, parts: &[&[u8]]) -> Result<ClusterInventory, InventoryError> {
    let undecodable = |reason: String| InventoryError::Undecodable {
        generation: generation.to_owned(),
        reason,
    };
    let compressed: Vec<u8> = parts.concat();
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(MAX_INFLATED)
        .read_to_end(&mut json)
        .map_err(|e| undecodable(format!("gzip: {e}")))?;
    // The format version first, so a newer format is named rather than misread.
    #[derive(serde::Deserialize)]
    struct Version {
        format_version: u32,
    }
    let version: Version =
        serde_json::from_slice(&json).map_err(|e| undecodable(format!("JSON: {e}")))?;
    if version.format_version > INVENTORY_FORMAT_VERSION {
        return Err(InventoryError::NewerFormat {
            generation: generation.to_owned(),
            found: version.format_version,
        });
    }
    serde_json::from_slice(&json).map_err(|e| undecodable(format!("JSON: {e}")))
}

fn part_sk(generation: &str, part: u32) -> String {
    format!("{PREFIX}{generation}#{part:04}")
}

/// The generation and part number of an inventory part's sort key.
pub(crate) fn parse_part_sk(sk: &str) -> Option<(&str, u32)> {
    let (generation, part) = sk.strip_prefix(PREFIX)?.split_once('#')?;
    Some((generation, part.parse().ok()?))
}

/// The compressed bytes of a stored part (`None` when the attribute is not binary).
pub(crate) fn part_data(item: &Item) -> Option<&[u8]> {
    match item.get(DATA) {
        Some(AttributeValue::B(blob)) => Some(blob.as_ref()),
        _ => None,
    }
}

impl StateStore {
    /// Stores `encoded` as the parts of its generation (each part replaces an identical one:
    /// the generation is the content's hash). The cluster record is not touched: the caller
    /// saves an [`InventoryRef`] to it, then calls [`StateStore::delete_other_inventories`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`].
    pub async fn put_inventory(
        &self,
        key: &ClusterKey,
        encoded: &Encoded,
        now: SystemTime,
    ) -> Result<InventoryRef, StoreError> {
        let parts = u32::try_from(encoded.parts.len()).unwrap_or(u32::MAX);
        for (i, data) in (0u32..).zip(&encoded.parts) {
            self.client
                .put_item()
                .table_name(&self.table)
                .item(PK, s(key.pk()))
                .item(SK, s(part_sk(&encoded.generation, i)))
                .item(DATA, AttributeValue::B(Blob::new(data.clone())))
                .item(PARTS, n(parts))
                .item(FORMAT, n(INVENTORY_FORMAT_VERSION))
                .item(CREATED_AT, n(millis(now)))
                .send()
                .await
                .map_err(|e| self.failed("PutItem", e))?;
        }
        Ok(InventoryRef {
            generation: encoded.generation.clone(),
            parts,
            at: now,
        })
    }

    /// Deletes the inventory parts of every generation but `keep` (left by earlier inventories
    /// or an interrupted writer).
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`].
    pub async fn delete_other_inventories(
        &self,
        key: &ClusterKey,
        keep: &str,
    ) -> Result<usize, StoreError> {
        let stale: Vec<String> = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(key.pk()))
            .expression_attribute_values(":prefix", s(PREFIX))
            .projection_expression("#sk")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.failed("Query", e))?
            .iter()
            .filter_map(|item| item.get(SK).and_then(|v| v.as_s().ok()).cloned())
            .filter(|sk| parse_part_sk(sk).is_some_and(|(generation, _)| generation != keep))
            .collect();
        for sk in &stale {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(PK, s(key.pk()))
                .key(SK, s(sk))
                .send()
                .await
                .map_err(|e| self.failed("DeleteItem", e))?;
        }
        Ok(stale.len())
    }

    /// The inventory `reference` points at.
    ///
    /// # Errors
    ///
    /// [`StoreError::Service`]; the inner [`InventoryError`] when it is incomplete or undecodable.
    pub async fn get_inventory(
        &self,
        key: &ClusterKey,
        reference: &InventoryRef,
    ) -> Result<Result<ClusterInventory, InventoryError>, StoreError> {
        let prefix = format!("{PREFIX}{}#", reference.generation);
        let items = self.query_prefix(key, &prefix).await?;
        Ok(assemble(reference, &items))
    }
}

/// The inventory `reference` names, from its parts among `items` (any order, other items
/// ignored).
pub(crate) fn assemble(
    reference: &InventoryRef,
    items: &[Item],
) -> Result<ClusterInventory, InventoryError> {
    let generation = reference.generation.as_str();
    let mut parts: Vec<Option<&[u8]>> = vec![None; reference.parts as usize];
    for item in items {
        let Some((g, i)) = item
            .get(SK)
            .and_then(|v| v.as_s().ok())
            .and_then(|sk| parse_part_sk(sk))
        else {
            continue;
        };
        if g != generation {
            continue;
        }
        let data = part_data(item).ok_or_else(|| InventoryError::Undecodable {
            generation: generation.to_owned(),
            reason: format!("part {i} holds no binary `{DATA}` attribute"),
        })?;
        if let Some(slot) = parts.get_mut(i as usize) {
            *slot = Some(data);
        }
    }
    let mut ordered = Vec::with_capacity(parts.len());
    for (i, part) in (0u32..).zip(parts) {
        ordered.push(part.ok_or_else(|| InventoryError::MissingPart {
            generation: generation.to_owned(),
            part: i,
            parts: reference.parts,
        })?);
    }
    decode(generation, &ordered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_auth_core::aws_auth::AwsAuth;
    use eks_auth_core::policy::MigrationPolicy;

    fn example() -> ClusterInventory {
        let auth = AwsAuth::parse_configmap(include_str!("../../../../examples/aws-auth.yaml"))
            .expect("example");
        let facts =
            serde_json::from_str(include_str!("../../../../examples/facts.json")).expect("facts");
        let plan = eks_auth_core::plan(&auth, Some(&facts), &MigrationPolicy::default());
        ClusterInventory::from_plan(&auth, &plan, Some(&facts))
    }

    fn item(generation: &str, part: u32, data: &[u8]) -> Item {
        Item::from([
            (SK.to_owned(), s(part_sk(generation, part))),
            (DATA.to_owned(), AttributeValue::B(Blob::new(data.to_vec()))),
        ])
    }

    #[test]
    fn an_inventory_round_trips_and_its_generation_is_its_content() {
        let inv = example();
        let encoded = encode(&inv).expect("encodes");
        assert_eq!(encoded.generation.len(), 16);
        assert_eq!(encode(&inv).expect("encodes"), encoded, "deterministic");
        let parts: Vec<&[u8]> = encoded.parts.iter().map(Vec::as_slice).collect();
        assert_eq!(decode(&encoded.generation, &parts).expect("decodes"), inv);
        let mut other = inv.clone();
        other.principals.pop();
        assert_ne!(
            encode(&other).expect("encodes").generation,
            encoded.generation
        );
    }

    #[test]
    fn a_large_inventory_is_split_and_reassembled_from_unordered_parts() {
        let mut inv = example();
        let template = inv.principals[0].clone();
        // Distinct ARNs (little to compress) so that the result needs several parts.
        inv.principals = (0..40_000u64)
            .map(|i| {
                let mut p = template.clone();
                p.principal_arn = format!("arn:aws:iam::111122223333:role/r{i:x}{}", i * 7919);
                p.username = Some(format!("user-{}", i * 104_729));
                p
            })
            .collect();
        let encoded = encode(&inv).expect("encodes");
        assert!(encoded.parts.len() > 1, "{} part(s)", encoded.parts.len());
        assert!(encoded.parts.iter().all(|p| p.len() <= PART_BYTES));
        let reference = InventoryRef {
            generation: encoded.generation.clone(),
            parts: u32::try_from(encoded.parts.len()).expect("parts"),
            at: SystemTime::UNIX_EPOCH,
        };
        let mut items: Vec<Item> = (0u32..)
            .zip(&encoded.parts)
            .map(|(i, d)| item(&encoded.generation, i, d))
            .collect();
        items.reverse();
        items.push(item("0123456789abcdef", 0, b"another generation"));
        assert_eq!(assemble(&reference, &items).expect("assembles"), inv);
        items.remove(1);
        assert!(matches!(
            assemble(&reference, &items),
            Err(InventoryError::MissingPart { .. })
        ));
    }

    #[test]
    fn garbage_and_newer_formats_are_named_not_misread() {
        assert!(matches!(
            decode("g", &[b"not gzip"]),
            Err(InventoryError::Undecodable { .. })
        ));
        let mut inv = example();
        inv.format_version = INVENTORY_FORMAT_VERSION + 1;
        let encoded = encode(&inv).expect("encodes");
        let parts: Vec<&[u8]> = encoded.parts.iter().map(Vec::as_slice).collect();
        let err = decode(&encoded.generation, &parts).expect_err("newer");
        assert!(
            err.to_string().contains("upgrade eks-auth-migrator"),
            "{err}"
        );
    }

    #[test]
    fn part_keys_parse_back() {
        assert_eq!(parse_part_sk(&part_sk("abc", 3)), Some(("abc", 3)));
        assert_eq!(parse_part_sk("INVENTORY#abc"), None);
        assert_eq!(parse_part_sk("AUDIT#1#x"), None);
    }
}
