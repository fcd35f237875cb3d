//! The DynamoDB state store (design.md, "DynamoDB (single table)").
//!
//! One table, partition key `pk` = `CLUSTER#<account>#<region>#<name>`, sort key `sk`:
//!
//! | `sk` | record | module |
//! |---|---|---|
//! | `META` | phase, mode, authentication mode, counts, `version`, lease, undelivered phase changes (`outbox_<version>`) | [`records`], [`lease`], [`outbox`] |
//! | `ENTRY#<principalArn>` | source row, target spec, status, attempts, last error | [`entries`] |
//! | `AUDIT#<time>#<id>` | one mutating call, written before and completed after; TTL | [`audit_trail`] |
//! | `BACKUP#<resourceVersion>` | aws-auth verbatim | [`backup`] |
//! | `INVENTORY#<generation>#<part>` | the latest plan digested for the fleet report (gzip JSON) | [`inventory`] |
//! | `SEEN` | what the last fleet scan saw of the cluster (mode, version, tags) | [`sightings`] |
//! | `FINDING` | whether the cluster's Security Hub finding is active, since when | [`findings`] |
//!
//! Fleet scans keep one record per account and region under `pk` = `SCAN`, `sk` =
//! `ACCOUNT#<account>#<region>` ([`scans`]): when it was last scanned and how that went; and
//! `cluster-events` marks each delivered CloudTrail event ID under `EVENT#<id>` ([`events`]).
//!
//! A sparse GSI [`PHASE_INDEX`] (`phase`, `pk`) lists clusters by phase; [`TTL_ATTRIBUTE`]
//! expires audit records. Every write that must not race is conditional: cluster records carry a
//! `version` (optimistic concurrency), the lease is taken with a conditional update, audit and
//! backup records are created with `attribute_not_exists`. Batch writes, which take no condition,
//! are used only for scan marks (a mark replaces the last one); batch reads for the fleet scan.
//!
//! The store does not read the clock: callers pass `now`, so tests control time.
//!
//! Layout, bottom up: [`schema`] (attribute names and key values), [`key`] ([`ClusterKey`]),
//! `attr` (attribute values, update expressions), [`error`], [`table`] ([`StateStore`] and the
//! request shapes every record uses), then one module per record kind, each adding its own
//! methods to [`StateStore`]; [`fleet`] reads several kinds at once for the fleet report.

pub mod audit_trail;
pub mod backup;
mod create_table;
pub mod entries;
pub mod error;
pub mod events;
pub mod findings;
pub mod fleet;
pub mod inventory;
pub mod key;
pub mod lease;
pub mod outbox;
pub mod records;
pub mod scans;
pub mod schema;
pub mod sightings;
pub mod table;

mod attr;
mod batch;

pub use key::ClusterKey;
pub use schema::{META, PHASE_INDEX, PK, SK, TTL_ATTRIBUTE};
pub use table::StateStore;
