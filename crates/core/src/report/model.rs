//! The fleet report as data: what [`super::build()`] computes and every renderer shows. Its JSON
//! form is the versioned contract of docs/report-format.md and docs/report.schema.json.

use super::access::AccessInventory;
use super::cluster_ref::ClusterRef;
use super::filter::Filter;
use super::input::{RecordCounts, Unreadable};
use super::owner_model::OwnerGroup;
use crate::access_entry::AccessScope;
use crate::facts::AuthenticationMode;
use crate::finding::{FindingCode, Location};
use crate::plan::Summary;
use crate::policy::CreatorEntry;
use crate::rbac::SubjectKind;
use crate::reach::{EgressFit, ReachClass};
use crate::state::{Mode, Phase};
use crate::suggest::SuggestionCounts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the report format; bumped on any incompatible change.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The EKS features that refuse a cluster in CONFIG_MAP mode.
pub const CONFIG_MAP_REFUSED_FEATURES: [&str; 4] = [
    "EKS Auto Mode",
    "EKS Hybrid Nodes",
    "EKS Capabilities",
    "Amazon SageMaker HyperPod",
];

/// The organisation's aws-auth estate, as the state table describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    /// [`REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// When the report was built (RFC 3339, UTC).
    pub generated_at: String,
    /// The filter the report was built with (empty: the whole fleet).
    pub filter: Filter,
    /// The totals.
    pub headline: Headline,
    /// Every cluster the filter keeps, ordered by account, region and name.
    pub clusters: Vec<ClusterSummary>,
    /// Blocker findings grouped by code, the code holding back the most clusters first.
    pub blockers: Vec<BlockerGroup>,
    /// Clusters whose migration failed in a way no retry can heal (`FAILED_TERMINAL`), ordered
    /// like `clusters`; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_terminal: Vec<TerminalFailure>,
    /// Clusters grouped by who owns their aws-auth or the cluster, the owner blocking the most
    /// clusters first (absent from reports written before owner detection).
    #[serde(default)]
    pub owners: Vec<OwnerGroup>,
    /// Who has access where.
    pub access: AccessInventory,
    /// The RBAC suggestions summed across the clusters (docs/rbac-suggestions.md).
    pub suggestions: Suggestions,
    /// How fresh the scans are.
    pub scans: ScanFreshness,
    /// Table items that could not be read, each named with why (never filtered out).
    pub unreadable: Vec<Unreadable>,
}

/// The totals of the clusters the filter keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// Clusters in the report.
    pub clusters: usize,
    /// Clusters by authentication mode.
    pub authentication_modes: AuthModeCounts,
    /// The share of clusters already on access entries.
    pub on_access_entries: EntryShare,
    /// Clusters in each phase, every phase listed (zeros included) in migration order.
    pub phases: Vec<PhaseCount>,
    /// Clusters per migrator mode.
    pub modes: ModeCounts,
    /// Clusters kept from the EKS features that refuse CONFIG_MAP.
    pub locked_out: LockedOut,
    /// Clusters by where their Kubernetes API can be reached from.
    #[serde(default)]
    pub reachability: ReachCounts,
    /// Clusters with at least one blocker finding.
    pub blocked_clusters: usize,
    /// Clusters no run has planned yet (no inventory: no principals, no findings).
    pub without_inventory: usize,
    /// Counts of the access inventory.
    pub principals: PrincipalCounts,
    /// Clusters their account-region's latest scan did not see (possibly deleted).
    pub not_seen_by_latest_scan: usize,
    /// Account-regions whose latest scan failed.
    pub failed_scans: usize,
    /// The oldest latest-scan of an account-region (RFC 3339), when any scan is recorded.
    pub oldest_scan_at: Option<String>,
    /// Table items that could not be read.
    pub unreadable: usize,
}

/// Clusters by authentication mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthModeCounts {
    /// aws-auth only.
    pub config_map: usize,
    /// Access entries and aws-auth.
    pub api_and_config_map: usize,
    /// Access entries only.
    pub api: usize,
    /// Not observed yet.
    pub unknown: usize,
}

/// Clusters by the reachability of their Kubernetes API (docs/networking.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachCounts {
    /// A public endpoint open to every address.
    pub public: usize,
    /// A public endpoint restricted to CIDR blocks.
    pub public_restricted: usize,
    /// Only a private endpoint.
    pub private_only: usize,
    /// Not described yet (no scan or run since the table holds reachability).
    pub unknown: usize,
    /// Of all these, the clusters whose last run found no route (an agent or a hub VPC to
    /// deploy).
    pub unreachable: usize,
}

/// The share of clusters on access entries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EntryShare {
    /// In API mode: aws-auth no longer matters.
    pub api: Share,
    /// In API_AND_CONFIG_MAP: entries work, aws-auth still does too.
    pub api_and_config_map: Share,
}

/// A number of clusters and its percentage of the report's clusters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// Clusters.
    pub clusters: usize,
    /// Percentage of all clusters in the report, one decimal (0 when there are none).
    pub percent: f64,
}

/// Clusters in one phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseCount {
    /// The phase.
    pub phase: Phase,
    /// Clusters in it.
    pub clusters: usize,
}

/// Clusters per migrator mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeCounts {
    /// Read-only.
    pub audit: usize,
    /// Entries created, aws-auth kept.
    pub migrate: usize,
    /// Taken to API mode.
    pub finalize: usize,
    /// Left alone.
    pub skip: usize,
}

/// Clusters still on CONFIG_MAP, kept from the features that refuse it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedOut {
    /// Clusters in CONFIG_MAP mode.
    pub clusters: usize,
    /// The features ([`CONFIG_MAP_REFUSED_FEATURES`]).
    pub features: Vec<String>,
}

/// Counts of the access inventory (after the principal filter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalCounts {
    /// Principals with access to at least one cluster.
    pub with_access: usize,
    /// (principal, cluster) pairs with access.
    pub grants: usize,
    /// Principals that are cluster administrators somewhere.
    pub cluster_admins: usize,
    /// Principals with access to a cluster of another account.
    pub other_account: usize,
    /// Principals IAM says no longer exist.
    pub iam_not_found: usize,
    /// Principals aws-auth names that reach no cluster.
    pub named_without_access: usize,
}

/// One cluster's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSummary {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// Migration phase.
    pub phase: Phase,
    /// Migrator mode.
    pub mode: Mode,
    /// Authentication mode last observed.
    pub authentication_mode: Option<AuthenticationMode>,
    /// Kubernetes version, when seen.
    pub kubernetes_version: Option<String>,
    /// Tags, when seen.
    pub tags: BTreeMap<String, String>,
    /// The latest plan's counts; absent until a run has planned the cluster.
    pub plan: Option<Summary>,
    /// Whether switching to API mode would lose access (absent without a plan).
    pub blocks_api_mode: Option<bool>,
    /// Blocker findings (the plan's, else the record's count).
    pub blockers: usize,
    /// The codes of its blocker findings, sorted.
    pub blocker_codes: Vec<FindingCode>,
    /// Principals that reach it today.
    pub principals_with_access: usize,
    /// Of which cluster administrators.
    pub cluster_admins: usize,
    /// Of which principals of another account.
    pub other_account_principals: usize,
    /// Entry counts of the record.
    pub counts: RecordCounts,
    /// The creator's implicit admin.
    pub creator: CreatorAdmin,
    /// The last error or block reason recorded.
    pub last_error: Option<String>,
    /// When the record was last saved (RFC 3339).
    pub updated_at: String,
    /// When a scan last saw it (RFC 3339).
    pub last_seen_at: Option<String>,
    /// When its inventory was computed (RFC 3339).
    pub inventory_at: Option<String>,
    /// Whether its account-region's latest scan saw it.
    pub sighting: Sighting,
    /// Where its Kubernetes API can be reached from and how the migrator reached it; absent
    /// until a scan or run described it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reachability: Option<ClusterReachability>,
    /// What its RBAC analysis found, when a run read (or tried to read) its RBAC.
    pub rbac: ClusterRbac,
}

/// Where one cluster's Kubernetes API can be reached from, and how the migrator reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterReachability {
    /// The class.
    pub class: ReachClass,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Whether the private endpoint is on.
    pub private_access: bool,
    /// The allowed blocks of a restricted public endpoint.
    pub public_access_cidrs: Vec<String>,
    /// For a restricted endpoint: whether the migrator's egress addresses are inside
    /// (`inside`, `outside`, `unknown`).
    pub egress: Option<EgressFit>,
    /// How the last run reached the API (`direct`, `direct (hub VPC)`, `agent NAME`,
    /// `unreachable`); absent before a run.
    pub route: Option<String>,
    /// What to deploy so that the migrator reaches it, when the last run could not.
    pub what_to_deploy: Option<String>,
}

/// A cluster's RBAC analysis in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ClusterRbac {
    /// No run has read its RBAC (no inventory, or one written before runs did).
    NotAnalysed,
    /// Analysed: its subjects by verdict.
    Analysed {
        /// Subjects by verdict.
        counts: SuggestionCounts,
    },
    /// Its RBAC could not be read, with why.
    Unreadable {
        /// Why (what to grant).
        reason: String,
    },
}

/// The RBAC suggestions of the report's clusters, summed: which aws-auth groups (and usernames
/// with User bindings) an EKS access policy could replace exactly, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestions {
    /// Clusters whose RBAC was analysed.
    pub clusters_analysed: usize,
    /// Clusters whose RBAC could not be read (no suggestion is made for them), with why.
    pub unreadable: Vec<UnreadableRbac>,
    /// Subjects by verdict, summed over the analysed clusters.
    pub totals: SuggestionCounts,
    /// Per subject (kind and name), over the clusters where it appears: ordered by the number
    /// of clusters with an exact suggestion, then by clusters, then by name.
    pub subjects: Vec<SubjectSuggestions>,
}

/// A cluster whose RBAC could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableRbac {
    /// The cluster.
    pub cluster: ClusterRef,
    /// Why.
    pub reason: String,
}

/// One subject across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectSuggestions {
    /// Group or user.
    pub kind: SubjectKind,
    /// Its name.
    pub name: String,
    /// Clusters where it was analysed.
    pub clusters: usize,
    /// Clusters where a policy grants exactly what it gets.
    pub exact: usize,
    /// Clusters where the closest policy would lose permissions.
    pub lossy: usize,
    /// Clusters where the closest policy would add permissions.
    pub broader: usize,
    /// Clusters where no policy comes close.
    pub none: usize,
    /// Clusters where nothing binds it.
    pub unbound: usize,
    /// Clusters where an object it depends on could not be read.
    pub unreadable: usize,
    /// The exact suggestions, each with the clusters where it holds.
    pub exact_policies: Vec<PolicySuggestion>,
}

/// An access policy (and scope) that replaces a subject exactly on some clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySuggestion {
    /// The policy's name.
    pub policy: String,
    /// Its scope.
    pub access_scope: AccessScope,
    /// Where it holds.
    pub clusters: Vec<ClusterRef>,
}

/// Whether a cluster's account-region's latest scan saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sighting {
    /// Seen by the latest successful scan.
    Seen,
    /// The latest scan succeeded and did not list it: possibly deleted.
    NotSeen,
    /// No successful latest scan, or no sighting recorded: cannot tell.
    Unknown,
}

/// The cluster creator's implicit cluster-admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatorAdmin {
    /// What is known.
    pub status: CreatorStatus,
    /// The creator's principal, when EKS showed it.
    pub principal: Option<String>,
    /// Whether its entry still exists (absent when there is no inventory to tell).
    pub entry_present: Option<bool>,
    /// The migration policy's choice.
    pub policy: CreatorEntry,
    /// Whether the creator keeps its admin under the policy and the cluster's mode (removal
    /// happens only in finalize).
    pub kept: bool,
    /// One sentence for a person.
    pub note: String,
}

/// What is known of the creator's admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatorStatus {
    /// EKS showed the creator's entry and the migrator recorded its principal.
    Visible,
    /// CONFIG_MAP mode: the creator's admin is implicit and shows nowhere.
    NotVisibleInConfigMap,
    /// The cluster left CONFIG_MAP without the migrator recording the creator's entry.
    NotRecorded,
    /// The authentication mode was not observed yet.
    Unknown,
}

/// The blocker findings of one code across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerGroup {
    /// The code.
    pub code: FindingCode,
    /// What to do, in one line (each finding's message says it for its row).
    pub remedy: String,
    /// Clusters it holds back.
    pub clusters: usize,
    /// Findings of this code.
    pub findings: usize,
    /// The clusters, ordered by account, region and name, with their findings.
    pub affected: Vec<BlockedCluster>,
}

/// A cluster whose migration failed in a way no retry can heal: why, and what a person does
/// (a new scan or an explicit `apply` then retries it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalFailure {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// What cannot heal (the record's last error).
    pub reason: String,
    /// What a person does about it.
    pub what_to_do: String,
}

/// One cluster held back by one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedCluster {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// Its findings of this code, in plan order.
    pub findings: Vec<BlockerFinding>,
}

/// One blocker finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerFinding {
    /// Where in aws-auth (absent for a cluster-level finding).
    pub location: Option<Location>,
    /// The finding's message: where, what, why and what to do.
    pub message: String,
}

/// How fresh the scans are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFreshness {
    /// The latest scan of every account-region (after the account and region filters), the
    /// least recently scanned first.
    pub account_regions: Vec<AccountRegionScan>,
    /// Account-regions that hold cluster records but no scan mark.
    pub never_scanned: Vec<AccountRegion>,
    /// Clusters their account-region's latest scan did not see.
    pub not_seen: Vec<ClusterRef>,
}

/// The latest scan of one account-region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRegionScan {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// When it ended (RFC 3339).
    pub scanned_at: String,
    /// Seconds between then and the report.
    pub age_seconds: u64,
    /// `scanned`, `skipped` or `failed`.
    pub status: ScanStatus,
    /// Clusters the scan found (scanned only).
    pub clusters_found: Option<u32>,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
}

/// How an account-region's latest scan went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Scanned.
    Scanned,
    /// Skipped on purpose.
    Skipped,
    /// Failed.
    Failed,
}

/// An account and a region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountRegion {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
}
