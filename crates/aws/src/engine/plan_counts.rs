//! What a plan comes to on the cluster record, computed from data: the counts `status` shows,
//! the blocker codes, the text a block records, and which planned entries are already carried
//! by an existing entry.

use crate::store::records::{ClusterState, Counts};
use eks_auth_core::finding::{FindingCode, Severity};
use eks_auth_core::plan::{Action, Plan, PlannedEntry};
use eks_auth_core::state::{BlockReason, Phase};

/// Whether a planned entry is already carried by an equivalent access entry.
pub(super) fn already_present(entry: &PlannedEntry) -> bool {
    entry.action == Action::Skip
        && entry.principal_arn.is_some()
        && entry
            .findings
            .iter()
            .any(|f| f.code == FindingCode::EntryExists)
}

/// Whether a cluster in `phase` has had every planned entry verified (the phases from
/// `VERIFIED` on, up to `COMPLETE`).
pub(super) fn has_verified(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Verified
            | Phase::ConfigMapBackedUp
            | Phase::ConfigMapPruned
            | Phase::ApiSwitching
            | Phase::Complete
    )
}

/// The record's counts for `plan` in `state`'s phase, with `blockers` blocker findings.
pub(super) fn counts(plan: &Plan, state: &ClusterState, blockers: usize) -> Counts {
    let to_create = plan
        .entries
        .iter()
        .filter(|e| e.action == Action::Create)
        .count();
    let present = plan.entries.iter().filter(|e| already_present(e)).count();
    let verified = has_verified(state.phase);
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Counts {
        entries_planned: n(to_create + present),
        entries_applied: n(present),
        entries_verified: if verified && to_create == 0 {
            n(present)
        } else {
            0
        },
        blockers: n(blockers),
        aws_auth_rows: Some(n(plan.entries.len())),
    }
}

/// The plan's blocker finding codes, sorted and distinct.
pub(super) fn blocker_codes(plan: &Plan) -> Vec<String> {
    let codes: std::collections::BTreeSet<&'static str> = plan
        .all_findings()
        .filter(|f| f.severity == Severity::Blocker)
        .map(|f| f.code.as_str())
        .collect();
    codes.into_iter().map(str::to_owned).collect()
}

/// The recorded text of a block: the reason and the first blocker findings.
pub(super) fn block_text(reason: BlockReason, plan: &Plan) -> String {
    let mut text = reason.to_string();
    if let BlockReason::PlanBlocksApiMode { .. } = reason {
        let blockers: Vec<String> = plan
            .all_findings()
            .filter(|f| f.severity == Severity::Blocker)
            .take(5)
            // A finding's message already starts with its location (`Finding::at`).
            .map(|f| format!("{}: {}", f.code.as_str(), f.message))
            .collect();
        if !blockers.is_empty() {
            text.push_str(": ");
            text.push_str(&blockers.join("; "));
        }
    }
    if let BlockReason::BreakGlassMissing = reason {
        text.push_str(". Keep at least one system:masters row for a role the platform team controls (it becomes a cluster-admin entry), or name the break-glass principal in the configuration");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_auth_core::finding::{Finding, Location};

    #[test]
    fn block_text_names_each_row_location_once() {
        let at = Location {
            key: "mapRoles".to_owned(),
            index: Some(5),
            line: Some(16),
        };
        let plan = Plan {
            findings: vec![Finding::at(
                at,
                FindingCode::SystemGroup,
                Severity::Blocker,
                "the group system:x is reserved",
            )],
            format_version: eks_auth_core::plan::PLAN_FORMAT_VERSION,
            cluster_name: None,
            partition: "aws".to_owned(),
            principals_resolved: true,
            entries: Vec::new(),
            blocks_api_mode: true,
            summary: Default::default(),
            rbac: None,
            eks_managed_entries: Vec::new(),
            reach: None,
            owners: Default::default(),
        };
        let text = block_text(BlockReason::PlanBlocksApiMode { blockers: 1 }, &plan);
        assert_eq!(
            text.matches("mapRoles[5] (line 16 of mapRoles)").count(),
            1,
            "{text}"
        );
        assert!(
            text.ends_with(
                ": SYSTEM_GROUP: mapRoles[5] (line 16 of mapRoles): the group system:x is reserved"
            ),
            "{text}"
        );
    }
}
