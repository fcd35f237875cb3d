//! Reconciling a planned entry with the access entry that may already exist for its principal.
//! In API_AND_CONFIG_MAP an existing entry overrides the aws-auth row for that principal, so the
//! entry, not the row, decides the principal's access: the migrator never changes entries it did
//! not create (invariant 5).

use crate::access_entry::{AccessPolicy, Action, EntryType};
use crate::eks_managed::EksManaged;
use crate::facts::{ClusterFacts, ExistingEntry};
use crate::finding::{Finding, FindingCode, Location, Severity};
use crate::plan::PlannedEntry;
use crate::policy::{ExistingEntries, MigrationPolicy};
use std::collections::BTreeSet;

/// Adjusts `entry` for an existing access entry of the same principal, if there is one: a
/// blocked row is overridden by the entry; otherwise the entry's standing decides.
pub(super) fn reconcile(
    entry: &mut PlannedEntry,
    facts: &ClusterFacts,
    policy: &MigrationPolicy,
    loc: &Location,
) {
    let Some(principal) = entry.principal_arn.clone() else {
        return;
    };
    let Some(existing) = facts.existing_entry(&principal) else {
        return;
    };
    if entry.action == Action::Skip {
        // EKS-managed node and Fargate entries are already accounted for by the translation.
        return;
    }
    let say = |entry: &mut PlannedEntry, code, severity, message: String| {
        entry
            .findings
            .push(Finding::at(loc.clone(), code, severity, message));
    };
    if entry.action == Action::Blocked {
        overridden_block(entry, &principal, loc);
        return;
    }
    match standing(entry, existing, facts, policy) {
        Standing::Adopt => {
            // Stays a create: the executor only tags the entry (nothing about access changes).
            say(
                entry,
                FindingCode::EntryAdopted,
                Severity::Info,
                "an equivalent access entry exists that the migrator did not create; the policy says adopt, so it will be tagged as the migrator's (its access does not change).".to_owned(),
            );
        }
        Standing::Exists => {
            entry.action = Action::Skip;
            say(
                entry,
                FindingCode::EntryExists,
                Severity::Info,
                "an equivalent access entry already exists; nothing to do.".to_owned(),
            );
        }
        Standing::EksManaged(managed) => {
            entry.action = Action::Skip;
            say(
                entry,
                FindingCode::EntryConflict,
                Severity::Warning,
                format!(
                    "EKS manages the access entry for `{principal}` ({managed}); it overrides this row in API_AND_CONFIG_MAP and the migrator never adopts, changes or deletes it. Review the row by hand: the entry, not the row, decides this principal's access."
                ),
            );
        }
        Standing::Incomplete(names) => say(
            entry,
            FindingCode::EntryIncomplete,
            Severity::Info,
            format!(
                "the migrator's entry exists but lacks {}; they will be associated.",
                names.join(", ")
            ),
        ),
        Standing::Conflict => {
            entry.action = Action::Skip;
            say(
                entry,
                FindingCode::EntryConflict,
                Severity::Warning,
                conflict(&principal, existing),
            );
        }
    }
}

/// A blocked row whose principal has an entry: the entry overrides the row today, so its
/// blockers become warnings and nothing is done.
fn overridden_block(entry: &mut PlannedEntry, principal: &str, loc: &Location) {
    for finding in &mut entry.findings {
        if finding.severity == Severity::Blocker {
            finding.severity = Severity::Warning;
        }
    }
    entry.action = Action::Skip;
    entry.findings.push(Finding::at(
        loc.clone(),
        FindingCode::EntryConflict,
        Severity::Warning,
        format!(
            "an access entry already exists for `{principal}` and overrides this row, so the row's blocked access does not apply today and switching to API mode changes nothing for this principal. The migrator leaves the entry alone; review it by hand."
        ),
    ));
}

/// How a planned create stands against the existing entry of its principal.
enum Standing {
    /// Equivalent, not the migrator's, and the policy says adopt: it stays a create (the
    /// executor only tags the entry).
    Adopt,
    /// Equivalent: nothing to do.
    Exists,
    /// EKS manages it: never adopted, changed or deleted.
    EksManaged(EksManaged),
    /// The migrator's own entry, lacking these policies (by name).
    Incomplete(Vec<String>),
    /// It differs: the entry, not the row, decides the principal's access.
    Conflict,
}

/// Compares the planned entry with the existing one: identity (type, username, groups) and
/// policies, who made it, and what the policy says about entries the migrator did not make.
fn standing(
    entry: &PlannedEntry,
    existing: &ExistingEntry,
    facts: &ClusterFacts,
    policy: &MigrationPolicy,
) -> Standing {
    let managed = crate::eks_managed::eks_managed(existing, facts);
    let missing = missing_policies(entry, existing);
    let same_identity = Some(existing.entry_type) == entry.entry_type
        && entry
            .username
            .as_ref()
            .is_none_or(|u| existing.username.as_ref() == Some(u))
        && comparable_groups(existing) == group_set(&entry.kubernetes_groups);
    let extra = existing.access_policies.len() + missing.len() != entry.access_policies.len();
    let equivalent = same_identity && missing.is_empty() && !extra;
    if equivalent
        && !existing.managed_by_migrator
        && managed.is_none()
        && policy.existing_entries == ExistingEntries::Adopt
    {
        Standing::Adopt
    } else if equivalent {
        Standing::Exists
    } else if let Some(managed) = managed {
        Standing::EksManaged(managed)
    } else if same_identity && existing.managed_by_migrator && !extra {
        Standing::Incomplete(missing.iter().map(|p| p.name().to_owned()).collect())
    } else {
        Standing::Conflict
    }
}

/// Why an existing entry that differs from the row is left alone, with what it has.
fn conflict(principal: &str, existing: &ExistingEntry) -> String {
    format!(
        "an access entry already exists for `{principal}` and differs from this row (it has type {}, username {}, groups [{}], policies [{}]). It overrides the row in API_AND_CONFIG_MAP, so the migrator leaves it alone{}; reconcile by hand if the row's access was intended.",
        existing.entry_type,
        existing.username.as_deref().unwrap_or("(default)"),
        existing.kubernetes_groups.join(", "),
        existing
            .access_policies
            .iter()
            .map(|p| format!("{} ({})", p.name(), p.access_scope))
            .collect::<Vec<_>>()
            .join(", "),
        if existing.managed_by_migrator {
            " (it carries the migrator's tag: someone changed it, or aws-auth changed since)"
        } else {
            ""
        }
    )
}

/// The existing entry's groups as a plan states them: node and Fargate types carry their
/// `system:` groups implicitly (DescribeAccessEntry lists them; a plan never does).
fn comparable_groups(existing: &ExistingEntry) -> BTreeSet<&str> {
    existing
        .kubernetes_groups
        .iter()
        .map(String::as_str)
        .filter(|g| existing.entry_type == EntryType::Standard || !g.starts_with("system:"))
        .collect()
}

fn group_set(groups: &[String]) -> BTreeSet<&str> {
    groups.iter().map(String::as_str).collect()
}

/// Planned policy associations the existing entry lacks (same ARN and same scope).
fn missing_policies<'a>(
    entry: &'a PlannedEntry,
    existing: &ExistingEntry,
) -> Vec<&'a AccessPolicy> {
    entry
        .access_policies
        .iter()
        .filter(|planned| !existing.has_policy(planned))
        .collect()
}
