//! How a lease is kept on the cluster record (`META`): its attributes, its holder as read back,
//! the lease a worker holds, and the conditions that keep one writer per cluster. Every write of
//! the record that must respect the lease (taking, renewing, releasing it, saving the cluster's
//! state under it) takes its condition from here.

use super::process::ProcessId;
use crate::store::attr::{Reader, Update, millis, n, s};
use crate::store::error::StoreError;
use crate::store::key::ClusterKey;
use crate::store::schema::PK;
use std::time::SystemTime;

/// The holder's ID.
const LEASE_OWNER: &str = "lease_owner";
/// The expiry, epoch milliseconds.
const LEASE_UNTIL: &str = "lease_until";
/// The holder process (JSON of [`ProcessId`]), when it has one.
const LEASE_PROCESS: &str = "lease_process";

/// A lease as recorded on a cluster record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseInfo {
    /// The worker holding (or last holding) it.
    pub owner: String,
    /// Its expiry.
    pub until: SystemTime,
    /// The holder process, when recorded (see [`super::process`]).
    pub process: Option<ProcessId>,
}

impl LeaseInfo {
    /// `owner` and, when recorded, the process (`cli-… (pid 42 on host …)`).
    pub fn holder(&self) -> String {
        match &self.process {
            Some(p) => format!("{} ({p})", self.owner),
            None => self.owner.clone(),
        }
    }
}

/// A lease this worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a lease should be renewed or released"]
pub struct Lease {
    pub(super) key: ClusterKey,
    pub(super) owner: String,
    pub(super) until: SystemTime,
}

impl Lease {
    /// The cluster.
    pub fn key(&self) -> &ClusterKey {
        &self.key
    }
    /// This worker's ID.
    pub fn owner(&self) -> &str {
        &self.owner
    }
    /// Expiry (millisecond precision, as stored).
    pub fn until(&self) -> SystemTime {
        self.until
    }

    /// Whether `recorded` (a cluster record's lease) is this lease, unexpired at `now`.
    pub(crate) fn is_held_in(&self, recorded: Option<&LeaseInfo>, now: SystemTime) -> bool {
        recorded.is_some_and(|l| l.owner == self.owner && l.until > now)
    }
}

/// The lease recorded on a cluster record's item, if any (possibly expired).
///
/// # Errors
///
/// [`StoreError::Corrupt`] when only one of owner and expiry is recorded, or either is
/// malformed. An unreadable holder process names no process (the lease then simply expires).
pub(crate) fn read(r: &Reader<'_>) -> Result<Option<LeaseInfo>, StoreError> {
    match (r.opt_str(LEASE_OWNER)?, r.opt_time(LEASE_UNTIL)?) {
        (Some(owner), Some(until)) => Ok(Some(LeaseInfo {
            owner: owner.to_owned(),
            until,
            process: r
                .opt_str(LEASE_PROCESS)?
                .and_then(|p| serde_json::from_str(p).ok()),
        })),
        (None, None) => Ok(None),
        _ => Err(r.corrupt(LEASE_UNTIL)),
    }
}

/// Records `owner` (and `process`, when known) as the holder until `until`.
pub(super) fn set_holder(
    u: &mut Update,
    owner: &str,
    until: SystemTime,
    process: Option<&ProcessId>,
) {
    u.set(LEASE_OWNER, s(owner))
        .set(LEASE_UNTIL, n(millis(until)))
        .set_opt(
            LEASE_PROCESS,
            process.and_then(|p| serde_json::to_string(p).ok()).map(s),
        );
}

/// Extends the recorded lease to `until`.
pub(super) fn set_until(u: &mut Update, until: SystemTime) {
    u.set(LEASE_UNTIL, n(millis(until)));
}

/// Removes the lease from the record.
pub(super) fn remove(u: &mut Update) {
    u.set_opt(LEASE_OWNER, None)
        .set_opt(LEASE_UNTIL, None)
        .set_opt(LEASE_PROCESS, None);
}

/// Condition: the record exists and its lease is free, expired at `now`, or `owner`'s.
pub(super) fn require_takeable(u: &mut Update, owner: &str, now: SystemTime) {
    let (pk, lo, lu) = (u.name(PK), u.name(LEASE_OWNER), u.name(LEASE_UNTIL));
    let (me, now_v) = (u.value(s(owner)), u.value(n(millis(now))));
    u.condition(format!("attribute_exists({pk})"));
    u.condition(format!(
        "attribute_not_exists({lo}) OR {lo} = {me} OR {lu} <= {now_v}"
    ));
}

/// Condition: the record exists and its lease is exactly `found` (same owner, same expiry).
pub(super) fn require_exactly(u: &mut Update, found: &LeaseInfo) {
    let (pk, lo, lu) = (u.name(PK), u.name(LEASE_OWNER), u.name(LEASE_UNTIL));
    let (old, old_until) = (u.value(s(&found.owner)), u.value(n(millis(found.until))));
    u.condition(format!("attribute_exists({pk})"));
    u.condition(format!("{lo} = {old} AND {lu} = {old_until}"));
}

/// Condition: `owner` holds the lease (expired or not).
pub(super) fn require_owner(u: &mut Update, owner: &str) {
    let lo = u.name(LEASE_OWNER);
    let me = u.value(s(owner));
    u.condition(format!("{lo} = {me}"));
}

/// Condition: `lease` is held and unexpired at `now` (a save of the cluster's state under it).
pub(crate) fn require_held(u: &mut Update, lease: &Lease, now: SystemTime) {
    let owner = u.name(LEASE_OWNER);
    let until = u.name(LEASE_UNTIL);
    let me = u.value(s(lease.owner()));
    let now_v = u.value(n(millis(now)));
    u.condition(format!("{owner} = {me} AND {until} > {now_v}"));
}
