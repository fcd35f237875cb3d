//! What a fleet report is built from: plain data read from the state table by the adapters
//! (crates/aws `store::fleet`), one [`ClusterView`] per cluster record and one [`ScanView`] per
//! account-region scan mark. Times are epoch milliseconds (the core has no clock).

use crate::facts::AuthenticationMode;
use crate::inventory::ClusterInventory;
use crate::owner::ownership::Owners;
use crate::policy::CreatorEntry;
use crate::reach::{Reachability, Route};
use crate::state::{Mode, Phase};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the state table holds that a report uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetInput {
    /// Every cluster record, in any order.
    pub clusters: Vec<ClusterView>,
    /// Every account-region scan mark, in any order.
    pub scans: Vec<ScanView>,
    /// Items of the table that could not be decoded, each named with why (a record written by
    /// another version, a corrupt attribute): reported, never fatal.
    pub unreadable: Vec<Unreadable>,
    /// The migration policy's choice for the cluster creator's admin entry (the configuration
    /// document's, or the CLI's policy file), for "whether the policy keeps it".
    pub creator_entry: CreatorEntry,
}

/// One cluster, as its record, its last scan sighting and its latest inventory describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    /// The cluster's account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Migration phase.
    pub phase: Phase,
    /// The mode it last ran in (or was recorded with by the scan).
    pub mode: Mode,
    /// Authentication mode last observed (by the engine or the scan).
    pub authentication_mode: Option<AuthenticationMode>,
    /// Kubernetes version (DescribeCluster's `version`), when a scan or run saw it.
    pub kubernetes_version: Option<String>,
    /// The cluster's tags, when a scan or run saw them.
    pub tags: BTreeMap<String, String>,
    /// The principal of the creator's admin entry, once EKS showed it.
    pub creator_principal: Option<String>,
    /// The last error or block reason recorded.
    pub last_error: Option<String>,
    /// What a person does about a `FAILED_TERMINAL` cluster's failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_to_do: Option<String>,
    /// Entry counts recorded on the cluster record.
    pub counts: RecordCounts,
    /// When the record was last saved.
    pub updated_at_ms: u64,
    /// When a scan last saw the cluster (absent: no scan has since the table holds sightings).
    pub last_seen_ms: Option<u64>,
    /// When the inventory was computed.
    pub inventory_at_ms: Option<u64>,
    /// The latest plan, digested; absent until a run has planned the cluster.
    pub inventory: Option<ClusterInventory>,
    /// Where its Kubernetes API can be reached from (the newer of the scan's and the last
    /// run's DescribeCluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachability: Option<Reachability>,
    /// How the last run reached that API, or why it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// Who owns aws-auth and the cluster, as the latest plan detected them; absent for records
    /// written before owner detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Owners>,
}

/// The counts of a cluster record (what `status` shows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCounts {
    /// Entries in the plan.
    pub entries_planned: u32,
    /// Entries created.
    pub entries_applied: u32,
    /// Entries verified.
    pub entries_verified: u32,
    /// Blocker findings.
    pub blockers: u32,
}

/// How the last scan of one account and region went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanView {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// When the scan of this account-region ended (the mark's time).
    pub scanned_at_ms: u64,
    /// When it started, when recorded: a cluster whose `last_seen_ms` is earlier was not seen by
    /// this scan (without it, `scanned_at_ms` is the bound, so sightings must not be later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<u64>,
    /// How it went.
    pub outcome: ScanOutcome,
}

/// The outcome of one account-region scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ScanOutcome {
    /// Scanned, with this many clusters.
    Scanned {
        /// Clusters found.
        clusters: u32,
    },
    /// Not scanned on purpose, with why.
    Skipped {
        /// Why.
        reason: String,
    },
    /// The scan failed, with why.
    Failed {
        /// Why.
        reason: String,
    },
}

/// A table item the report could not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    /// The item's keys (`pk` / `sk`).
    pub item: String,
    /// Why it could not be used.
    pub reason: String,
}
