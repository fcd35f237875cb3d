//! Reconciling a planned entry with the access entry that may already exist for its principal.
//! In API_AND_CONFIG_MAP an existing entry overrides the aws-auth row for that principal, so the
//! entry, not the row, decides the principal's access: the migrator never changes entries it did
//! not create (invariant 5).

use crate::access_entry::{AccessPolicy, Action, EntryType};
use crate::facts::{ClusterFacts, ExistingEntry};
use crate::finding::{Finding, FindingCode, Location, Severity};
use crate::plan::PlannedEntry;
use crate::policy::{ExistingEntries, MigrationPolicy};
use std::collections::BTreeSet;

/// Adjusts `entry` for an existing access entry of the same principal, if there is one.
pub(super) fn reconcile(
    entry: &mut PlannedEntry,
    facts: &ClusterFacts,
    policy: &MigrationPolicy,
    loc: &Location,
) {
    let Some(principal) = entry.principal_arn.as_deref() else {
        return;
    };
    let Some(existing) = facts.existing_entry(principal) else {
        return;
    };
    if entry.action == Action::Skip {
        // EKS-managed node and Fargate entries are already accounted for by the translation.
        return;
    }
    let managed = crate::eks_managed::eks_managed(existing, facts);
    let missing = missing_policies(entry, existing);
    let same_identity = Some(existing.entry_type) == entry.entry_type
        && entry
            .username
            .as_ref()
            .is_none_or(|u| existing.username.as_ref() == Some(u))
        && comparable_groups(existing) == group_set(&entry.kubernetes_groups);
    let extra = existing.access_policies.len() + missing.len() != entry.access_policies.len();
    let say = |entry: &mut PlannedEntry, code, severity, message: String| {
        entry
            .findings
            .push(Finding::at(loc.clone(), code, severity, message));
    };
    if entry.action == Action::Blocked {
        for finding in &mut entry.findings {
            if finding.severity == Severity::Blocker {
                finding.severity = Severity::Warning;
            }
        }
        entry.action = Action::Skip;
        say(
            entry,
            FindingCode::EntryConflict,
            Severity::Warning,
            format!(
                "an access entry already exists for `{principal}` and overrides this row, so the row's blocked access does not apply today and switching to API mode changes nothing for this principal. The migrator leaves the entry alone; review it by hand."
            ),
        );
        return;
    }
    if same_identity
        && missing.is_empty()
        && !extra
        && !existing.managed_by_migrator
        && managed.is_none()
        && policy.existing_entries == ExistingEntries::Adopt
    {
        // Stays a create: the executor only tags the entry (nothing about access changes).
        say(
            entry,
            FindingCode::EntryAdopted,
            Severity::Info,
            "an equivalent access entry exists that the migrator did not create; the policy says adopt, so it will be tagged as the migrator's (its access does not change).".to_owned(),
        );
    } else if same_identity && missing.is_empty() && !extra {
        entry.action = Action::Skip;
        say(
            entry,
            FindingCode::EntryExists,
            Severity::Info,
            "an equivalent access entry already exists; nothing to do.".to_owned(),
        );
    } else if let Some(managed) = &managed {
        entry.action = Action::Skip;
        say(
            entry,
            FindingCode::EntryConflict,
            Severity::Warning,
            format!(
                "EKS manages the access entry for `{principal}` ({managed}); it overrides this row in API_AND_CONFIG_MAP and the migrator never adopts, changes or deletes it. Review the row by hand: the entry, not the row, decides this principal's access."
            ),
        );
    } else if same_identity && existing.managed_by_migrator && !extra {
        let names: Vec<&str> = missing.iter().map(|p| p.name()).collect();
        say(
            entry,
            FindingCode::EntryIncomplete,
            Severity::Info,
            format!(
                "the migrator's entry exists but lacks {}; they will be associated.",
                names.join(", ")
            ),
        );
    } else {
        entry.action = Action::Skip;
        say(
            entry,
            FindingCode::EntryConflict,
            Severity::Warning,
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
            ),
        );
    }
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
