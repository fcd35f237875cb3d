//! What every owner format says about a [`Handoff`] besides its declarations: the review header
//! (the plan's verdict and the rows left out, with why), what already exists on the cluster (it
//! is imported, not created), and the authentication mode the owner's configuration must say.

use super::common::{self, Review};
use super::handoff::{Handoff, HandoffEntry};
use crate::facts::AuthenticationMode;

/// The review header of an owner format: the plan's verdict, the rows left out, what exists.
pub(super) fn review(handoff: &Handoff, format: &str) -> Vec<String> {
    let mut lines = common::review_lines(&Review {
        format,
        cluster_name: handoff.cluster.name.as_deref(),
        plan_format_version: handoff.plan_format_version,
        blocks_api_mode: handoff.blocks_api_mode,
        summary: &handoff.summary,
        cluster_codes: handoff.cluster_codes.iter().map(|c| c.as_str()).collect(),
        not_rendered: handoff
            .left_out
            .iter()
            .map(|row| {
                common::not_rendered_line(&row.source, &row.reason, &common::code_list(&row.codes))
            })
            .collect(),
    });
    lines.push(existing_line(handoff));
    lines
}

/// How much of the declared access is on the cluster already.
fn existing_line(handoff: &Handoff) -> String {
    let entries = handoff.entries.len();
    let existing = handoff
        .entries
        .iter()
        .filter(|e| e.existing.is_some())
        .count();
    let policies: usize = handoff.entries.iter().map(|e| e.policies.len()).sum();
    let existing_policies = handoff
        .entries
        .iter()
        .flat_map(|e| &e.policies)
        .filter(|p| p.exists)
        .count();
    format!(
        "declared: {entries} entr{} and {policies} policy association(s); already on the cluster (imported, not created): {existing} entr{} and {existing_policies} association(s).",
        if entries == 1 { "y" } else { "ies" },
        if existing == 1 { "y" } else { "ies" },
    )
}

/// What to write as the cluster's authentication mode, and why, without comment markers.
pub(super) fn mode_lines(handoff: &Handoff, setting: &str) -> Vec<String> {
    let target = handoff.authentication_mode();
    let now = handoff.cluster.authentication_mode.map_or(
        "not known (plan with the cluster's facts to know it)",
        |m| m.as_str(),
    );
    let mut lines = vec![format!(
        "Authentication mode: set {setting} = {} (the cluster is {now}). EKS's switch is one-way: a configuration that still says an earlier mode makes the owner's next run try to set it back, which EKS refuses.",
        target.as_str()
    )];
    if target != AuthenticationMode::Api {
        lines.push(format!(
            "Write API only once the migrator's finalize has switched the cluster to API{}: an owner that switches first bypasses its backup and verification.",
            if handoff.blocks_api_mode {
                " (it will not while rows are blocked)"
            } else {
                ""
            }
        ));
    }
    lines
}

/// The account most declared principals belong to: the account a provider without an alias
/// looks roles up in.
pub(super) fn home_account(handoff: &Handoff) -> Option<String> {
    let accounts: Vec<String> = handoff
        .entries
        .iter()
        .map(|e| common::account_of(&e.principal_arn))
        .collect();
    common::home_account(accounts.iter().map(String::as_str))
}

/// `# mapRoles[4] line 23 (arn…)` and `# findings: …` (without the `# `), and what the entry's
/// existence means for the owner.
pub(super) fn entry_comment(entry: &HandoffEntry) -> Vec<String> {
    let mut lines = vec![
        common::source_text(&entry.source),
        format!("findings: {}", common::code_list(&entry.codes)),
    ];
    if let Some(existing) = &entry.existing {
        lines.push(if existing.by_migrator {
            "exists: the migrator created (or adopts) this entry; it is imported, not created.".to_owned()
        } else {
            "exists: an equivalent entry someone else made; it is imported, not created. If your configuration declares it already, leave this one out; its tags are not known here (copy them, or the next plan removes them).".to_owned()
        });
    }
    lines
}

/// Whether the rendering tags the entry `managed-by=eks-auth-migrator`: entries the owner will
/// create, and entries the migrator made or adopts (they carry the tag). An entry someone else
/// made keeps its own tags, which the handoff does not know.
pub(super) fn tagged(entry: &HandoffEntry) -> bool {
    entry.existing.as_ref().is_none_or(|e| e.by_migrator)
}
