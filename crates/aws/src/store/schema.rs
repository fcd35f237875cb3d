//! The table's attribute names and key values that every record kind shares (design.md,
//! "DynamoDB (single table)"); template.yaml declares the same keys and index.

/// Partition-key attribute.
pub const PK: &str = "pk";
/// Sort-key attribute.
pub const SK: &str = "sk";
/// The GSI listing cluster records by phase (hash [`PHASE`], range [`PK`]).
pub const PHASE_INDEX: &str = "phase-index";
/// The phase attribute (the [`PHASE_INDEX`] hash key; only cluster records carry it).
pub const PHASE: &str = "phase";
/// The TTL attribute (epoch seconds), set on audit records.
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// Sort key of the cluster record.
pub const META: &str = "META";
