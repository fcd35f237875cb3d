//! The owner section as plain text for the human formats (table, Markdown, HTML): one heading
//! and one table per owner group. Each renderer lays them out and escapes them.

use super::csv::snake;
use super::summary::Lines;
use crate::report::owner_model::{OwnedPart, OwnerGroup};

/// The section's title.
pub(super) const TITLE: &str = "Owners: which repositories and tools must change";

/// What the section says when no cluster is in the report.
pub(super) const EMPTY: &str = "No clusters.";

/// The headers of a group's table.
pub(super) const HEADERS: [&str; 3] = ["cluster", "owner (as detected)", "finalize"];

/// A group's heading: owner, what it owns, counts.
pub(super) fn heading(group: &OwnerGroup) -> String {
    let counts = format!(
        "{} cluster(s), {} blocked",
        group.clusters.len(),
        group.blocked
    );
    match group.part {
        OwnedPart::AwsAuth => format!(
            "{} (owns aws-auth; --owner {}): {counts}",
            group.label, group.owner
        ),
        OwnedPart::Cluster => format!(
            "{} (owns the cluster; --owner {}): {counts}",
            group.label, group.owner
        ),
        OwnedPart::Nothing => format!("{} (--owner {}): {counts}", group.label, group.owner),
    }
}

/// A group's rows.
pub(super) fn rows(group: &OwnerGroup) -> Vec<Vec<Lines>> {
    group
        .clusters
        .iter()
        .map(|c| {
            vec![
                Lines::code(&format!("{}/{}/{}", c.account, c.region, c.name)),
                Lines::text(c.owner.as_deref().unwrap_or("-")),
                Lines::code(&snake(&c.status)),
            ]
        })
        .collect()
}
