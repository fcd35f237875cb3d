//! Phase-change events, exactly once per transition.
//!
//! The engine records every phase change of a cluster — and every repair of drifted access
//! entries — as a [`Transition`] on the cluster's record, in the same conditional save that
//! changes the phase, so it can be lost neither by a crash nor by a failed delivery (an
//! outbox). At the end of a run the pending transitions become events ([`run_events`]): one
//! `Cluster Migration Phase Changed` event per run that changed the phase (old → new, the phases
//! passed on the way in `passed`), and one `Cluster Access Drift Restored` event per run that
//! re-created entries a cluster had already verified. Events are put on the central bus in one
//! PutEvents call; the transitions they carry are cleared once EventBridge accepted them.
//!
//! One window remains, and it is the only one: a crash after PutEvents succeeded and before the
//! record was cleared sends the same events again on the next run. Each event carries a stable
//! `transition_id` (cluster + record version of its last save) for consumers to de-duplicate.
//! docs/events.md is the schema.

use super::{cluster_arn, plain_text};
use crate::facts::AuthenticationMode;
use crate::report::time::rfc3339;
use crate::state::{Mode, Phase};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The `source` of every event the migrator puts on the bus.
pub const SOURCE: &str = "eks-auth-migrator";
/// `detail-type` of a phase change.
pub const PHASE_CHANGED: &str = "Cluster Migration Phase Changed";
/// `detail-type` of a drift repair.
pub const DRIFT_RESTORED: &str = "Cluster Access Drift Restored";
/// Version of the `detail` schema (docs/events.md).
pub const DETAIL_SCHEMA_VERSION: u32 = 1;
/// Transitions kept on a record at most; past this (deliveries failing for a long time) new
/// ones are not recorded and a warning says so.
pub const MAX_PENDING: usize = 50;
/// Characters of the recorded reason (the record's last error) an event carries.
const MAX_REASON: usize = 400;

/// Counts carried by a transition (the cluster record's, at the save that recorded it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionCounts {
    /// Rows in aws-auth (mapRoles and mapUsers) when the plan was made.
    pub aws_auth_rows: u32,
    /// Entries in the plan.
    pub entries_planned: u32,
    /// Entries that exist.
    pub entries_applied: u32,
    /// Entries read back and verified.
    pub entries_verified: u32,
    /// Blocker findings.
    pub blockers: u32,
}

/// One recorded phase change or drift repair, pending delivery on the cluster's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The engine run that made it (events are built per run).
    pub run: String,
    /// The record version its save wrote (unique per cluster).
    pub version: u64,
    /// The phase before.
    pub from: Phase,
    /// The phase after.
    pub to: Phase,
    /// When (epoch milliseconds).
    pub at_ms: u64,
    /// The migration mode of the run.
    pub mode: Mode,
    /// The authentication mode last observed.
    #[serde(default)]
    pub authentication_mode: Option<AuthenticationMode>,
    /// Counts after the save.
    #[serde(default)]
    pub counts: TransitionCounts,
    /// The plan's blocker finding codes.
    #[serde(default)]
    pub blocker_codes: Vec<String>,
    /// Why the cluster is blocked or failed (the record's last error).
    #[serde(default)]
    pub reason: Option<String>,
    /// What a person does about a terminal failure (`FAILED_TERMINAL` only).
    #[serde(default)]
    pub what_to_do: Option<String>,
    /// Entries re-created although the cluster had verified its entries before (drift).
    #[serde(default)]
    pub restored: u32,
}

impl Transition {
    /// Whether a save from `from` to `to` that re-created `restored` entries needs recording.
    pub fn worth_recording(from: Phase, to: Phase, restored: u32) -> bool {
        from != to || restored > 0
    }
}

/// The cluster events are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterRef<'a> {
    /// Its account.
    pub account: &'a str,
    /// Its region.
    pub region: &'a str,
    /// Its name.
    pub name: &'a str,
}

/// One event to put on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEvent {
    /// [`PHASE_CHANGED`] or [`DRIFT_RESTORED`].
    pub detail_type: &'static str,
    /// The `detail` object (docs/events.md).
    pub detail: Value,
    /// The cluster's ARN (the event's `resources`).
    pub resource: String,
    /// When the change happened (epoch milliseconds; the event's `time`).
    pub time_ms: u64,
}

/// The events of one run's transitions, and the record versions to clear once all of them were
/// accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvents {
    /// Versions of the transitions these events carry.
    pub versions: Vec<u64>,
    /// The events (none when the run came back to the phase it started from).
    pub events: Vec<OutgoingEvent>,
}

/// The events of `pending` (any order), one group per run in the order the runs saved.
pub fn run_events(cluster: ClusterRef<'_>, pending: &[Transition]) -> Vec<RunEvents> {
    let mut sorted: Vec<&Transition> = pending.iter().collect();
    sorted.sort_by_key(|t| t.version);
    let mut groups: Vec<Vec<&Transition>> = Vec::new();
    for t in sorted {
        match groups.last_mut() {
            Some(group) if group.last().is_some_and(|last| last.run == t.run) => group.push(t),
            _ => groups.push(vec![t]),
        }
    }
    groups
        .into_iter()
        .map(|group| RunEvents {
            versions: group.iter().map(|t| t.version).collect(),
            events: group_events(cluster, &group),
        })
        .collect()
}

/// The events of one run's transitions: a phase change when the run moved the cluster, and a
/// drift repair when it re-created entries.
fn group_events(cluster: ClusterRef<'_>, group: &[&Transition]) -> Vec<OutgoingEvent> {
    let (Some(first), Some(last)) = (group.first(), group.last()) else {
        return Vec::new();
    };
    let arn = cluster_arn(cluster.account, cluster.region, cluster.name);
    let mut events = Vec::new();
    if first.from != last.to {
        events.push(phase_changed(cluster, group, (first, last), &arn));
    }
    events.extend(drift_restored(cluster, group, &arn));
    events
}

/// The fields every event's detail starts with; `id_suffix` and `version` make its
/// `transition_id`.
fn base_detail(cluster: ClusterRef<'_>, arn: &str, id_suffix: &str, version: u64) -> Value {
    json!({
        "schema_version": DETAIL_SCHEMA_VERSION,
        "transition_id": format!(
            "{}/{}/{}/{version}{id_suffix}",
            cluster.account, cluster.region, cluster.name
        ),
        "account": cluster.account,
        "region": cluster.region,
        "cluster": cluster.name,
        "cluster_arn": arn,
    })
}

/// The phase change from the run's first phase to its last, with the phases passed on the way.
fn phase_changed(
    cluster: ClusterRef<'_>,
    group: &[&Transition],
    (first, last): (&Transition, &Transition),
    arn: &str,
) -> OutgoingEvent {
    let passed: Vec<&str> = group[..group.len() - 1]
        .iter()
        .map(|t| t.to.as_str())
        .filter(|p| *p != first.from.as_str() && *p != last.to.as_str())
        .collect();
    let reason = last.reason.as_deref().map(|r| plain_text(r, MAX_REASON));
    let what_to_do = last
        .what_to_do
        .as_deref()
        .map(|w| plain_text(w, MAX_REASON));
    let summary = phase_summary(
        cluster,
        first.from,
        last,
        (reason.as_deref(), what_to_do.as_deref()),
    );
    let mut detail = base_detail(cluster, arn, "", last.version);
    if let Some(d) = detail.as_object_mut() {
        d.insert("old_phase".into(), json!(first.from.as_str()));
        d.insert("new_phase".into(), json!(last.to.as_str()));
        d.insert("passed".into(), json!(passed));
        d.insert("mode".into(), json!(last.mode.as_str()));
        d.insert(
            "authentication_mode".into(),
            json!(last.authentication_mode.map(AuthenticationMode::as_str)),
        );
        d.insert("counts".into(), json!(last.counts));
        d.insert("blocker_codes".into(), json!(last.blocker_codes));
        d.insert(
            "blockers_text".into(),
            json!(codes_text(&last.blocker_codes)),
        );
        d.insert("reason".into(), json!(reason));
        d.insert("what_to_do".into(), json!(what_to_do));
        d.insert("changed_at".into(), json!(rfc3339(last.at_ms)));
        d.insert("summary".into(), json!(summary));
    }
    OutgoingEvent {
        detail_type: PHASE_CHANGED,
        detail,
        resource: arn.to_owned(),
        time_ms: last.at_ms,
    }
}

/// The drift repair of the run, when it re-created entries: how many, at its last repair.
fn drift_restored(
    cluster: ClusterRef<'_>,
    group: &[&Transition],
    arn: &str,
) -> Option<OutgoingEvent> {
    let last = group.last()?;
    let restored: u32 = group.iter().map(|t| t.restored).sum();
    let repair = group.iter().rev().find(|t| t.restored > 0)?;
    let mut detail = base_detail(cluster, arn, "/drift", repair.version);
    if let Some(d) = detail.as_object_mut() {
        d.insert("phase".into(), json!(last.to.as_str()));
        d.insert("mode".into(), json!(last.mode.as_str()));
        d.insert(
            "authentication_mode".into(),
            json!(last.authentication_mode.map(AuthenticationMode::as_str)),
        );
        d.insert("entries_restored".into(), json!(restored));
        d.insert("counts".into(), json!(last.counts));
        d.insert("restored_at".into(), json!(rfc3339(repair.at_ms)));
        d.insert(
            "summary".into(),
            json!(format!(
                "Cluster {} (account {}, {}): {restored} access entr{} re-created to match aws-auth again (changed or deleted outside the migrator, or new aws-auth rows); phase {}.",
                cluster.name,
                cluster.account,
                cluster.region,
                if restored == 1 { "y" } else { "ies" },
                last.to.as_str()
            )),
        );
    }
    Some(OutgoingEvent {
        detail_type: DRIFT_RESTORED,
        detail,
        resource: arn.to_owned(),
        time_ms: repair.at_ms,
    })
}

/// `A, B` or `none`.
fn codes_text(codes: &[String]) -> String {
    if codes.is_empty() {
        "none".to_owned()
    } else {
        plain_text(&codes.join(", "), 300)
    }
}

/// One readable line for people (the notification's body; no quotes or backslashes).
fn phase_summary(
    cluster: ClusterRef<'_>,
    from: Phase,
    last: &Transition,
    (reason, what_to_do): (Option<&str>, Option<&str>),
) -> String {
    let mut text = format!(
        "Cluster {} (account {}, {}) moved from {} to {} in mode {}",
        cluster.name,
        cluster.account,
        cluster.region,
        from.as_str(),
        last.to.as_str(),
        last.mode.as_str()
    );
    if let Some(mode) = last.authentication_mode {
        text.push_str(&format!(", authentication mode {}", mode.as_str()));
    }
    text.push('.');
    match last.to {
        Phase::Blocked => text.push_str(&format!(
            " Blockers: {}. {}",
            codes_text(&last.blocker_codes),
            reason.unwrap_or("")
        )),
        Phase::Failed { retryable: false } => text.push_str(&format!(
            " No retry can heal it: {}. What to do: {}",
            reason.unwrap_or("unknown").trim_end_matches('.'),
            what_to_do.unwrap_or("read the cluster's last error (`status`)")
        )),
        Phase::Failed { .. } => text.push_str(&format!(" Error: {}", reason.unwrap_or("unknown"))),
        Phase::Complete => text.push_str(&format!(
            " aws-auth no longer grants access; {} entries verified.",
            last.counts.entries_verified
        )),
        _ => {}
    }
    plain_text(text.trim_end(), 900)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: ClusterRef<'static> = ClusterRef {
        account: "111122223333",
        region: "eu-west-1",
        name: "pay-legacy",
    };

    fn t(run: &str, version: u64, from: Phase, to: Phase) -> Transition {
        Transition {
            run: run.to_owned(),
            version,
            from,
            to,
            at_ms: 1_764_500_000_000 + version * 1000,
            mode: Mode::Finalize,
            authentication_mode: Some(AuthenticationMode::ApiAndConfigMap),
            counts: TransitionCounts::default(),
            blocker_codes: Vec::new(),
            reason: None,
            what_to_do: None,
            restored: 0,
        }
    }

    #[test]
    fn one_event_per_run_from_its_first_phase_to_its_last() {
        let mut blocked = t("r2", 7, Phase::Verified, Phase::Blocked);
        blocked.blocker_codes = vec!["UNMAPPED_GROUP".to_owned()];
        blocked.reason = Some("the plan has 1 \"blocker\"".to_owned());
        let pending = vec![
            blocked,
            t("r1", 3, Phase::Discovered, Phase::Planned),
            t("r1", 4, Phase::Planned, Phase::ModeSwitching),
            t("r2", 5, Phase::ModeSwitching, Phase::EntriesApplied),
            t("r2", 6, Phase::EntriesApplied, Phase::Verified),
        ];
        let runs = run_events(CLUSTER, &pending);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].versions, vec![3, 4]);
        assert_eq!(runs[1].versions, vec![5, 6, 7]);
        let first = &runs[0].events[0].detail;
        assert_eq!(first["old_phase"], "DISCOVERED");
        assert_eq!(first["new_phase"], "MODE_SWITCHING");
        assert_eq!(first["passed"], json!(["PLANNED"]));
        assert_eq!(
            first["transition_id"],
            "111122223333/eu-west-1/pay-legacy/4"
        );
        let second = &runs[1].events[0];
        assert_eq!(second.detail_type, PHASE_CHANGED);
        assert_eq!(second.detail["new_phase"], "BLOCKED");
        assert_eq!(
            second.detail["passed"],
            json!(["ENTRIES_APPLIED", "VERIFIED"])
        );
        assert_eq!(second.detail["blocker_codes"], json!(["UNMAPPED_GROUP"]));
        assert_eq!(second.detail["changed_at"], "2025-11-30T10:53:27Z");
        assert_eq!(
            second.resource,
            "arn:aws:eks:eu-west-1:111122223333:cluster/pay-legacy"
        );
        let summary = second.detail["summary"].as_str().expect("summary");
        assert!(
            summary.contains("moved from MODE_SWITCHING to BLOCKED"),
            "{summary}"
        );
        assert!(summary.contains("Blockers: UNMAPPED_GROUP"), "{summary}");
        assert!(!summary.contains('"'), "{summary}");
    }

    /// Issue 18 item 8: a reason carrying markup (a link for a chat client, an HTML tag for a
    /// mail client, a quote to break the notification's JSON string) reaches the summary as
    /// plain text.
    #[test]
    fn a_summary_with_markup_is_escaped() {
        let mut failed = t("r1", 3, Phase::Verified, Phase::Failed { retryable: false });
        failed.reason =
            Some("<https://evil.example|click to fix> <b>now</b>\", \"x\": \"y\\ \n".to_owned());
        failed.what_to_do = failed.reason.clone();
        let runs = run_events(CLUSTER, &[failed]);
        let detail = &runs[0].events[0].detail;
        for field in ["summary", "reason", "what_to_do"] {
            let text = detail[field].as_str().expect(field);
            for c in ['<', '>', '"', '\\', '\n'] {
                assert!(!text.contains(c), "{field} keeps {c:?}: {text}");
            }
            assert!(
                text.contains("‹https://evil.example|click to fix›"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_terminal_failure_says_what_to_do() {
        let mut failed = t("r1", 3, Phase::Planned, Phase::Failed { retryable: false });
        failed.reason = Some("EKS refuses CreateAccessEntry permanently".to_owned());
        failed.what_to_do = Some("Fix the aws-auth row".to_owned());
        let runs = run_events(CLUSTER, &[failed]);
        let detail = &runs[0].events[0].detail;
        assert_eq!(detail["new_phase"], "FAILED_TERMINAL");
        assert_eq!(detail["what_to_do"], "Fix the aws-auth row");
        let summary = detail["summary"].as_str().expect("summary");
        assert!(
            summary.ends_with(
                "No retry can heal it: EKS refuses CreateAccessEntry permanently. What to do: Fix the aws-auth row"
            ),
            "{summary}"
        );
        let retryable = t("r2", 4, Phase::Planned, Phase::Failed { retryable: true });
        let runs = run_events(CLUSTER, &[retryable]);
        assert_eq!(runs[0].events[0].detail["what_to_do"], Value::Null);
    }

    #[test]
    fn a_run_that_comes_back_to_its_phase_sends_nothing_but_a_repair_is_told() {
        let flap = vec![
            t("r1", 8, Phase::Blocked, Phase::Verified),
            t("r1", 9, Phase::Verified, Phase::Blocked),
        ];
        let runs = run_events(CLUSTER, &flap);
        assert_eq!(runs.len(), 1);
        assert!(runs[0].events.is_empty(), "{:?}", runs[0].events);
        assert_eq!(runs[0].versions, vec![8, 9], "still cleared");

        let mut created = t("r3", 10, Phase::Verified, Phase::EntriesApplied);
        created.restored = 1;
        let repair = vec![created, t("r3", 11, Phase::EntriesApplied, Phase::Verified)];
        let runs = run_events(CLUSTER, &repair);
        assert_eq!(runs[0].events.len(), 1);
        let drift = &runs[0].events[0];
        assert_eq!(drift.detail_type, DRIFT_RESTORED);
        assert_eq!(drift.detail["entries_restored"], 1);
        assert_eq!(
            drift.detail["transition_id"],
            "111122223333/eu-west-1/pay-legacy/10/drift"
        );
    }

    #[test]
    fn transitions_round_trip_through_json_and_tolerate_missing_optional_fields() {
        let one = t("r1", 3, Phase::Discovered, Phase::Planned);
        let text = serde_json::to_string(&one).expect("json");
        assert_eq!(
            serde_json::from_str::<Transition>(&text).expect("back"),
            one
        );
        let minimal =
            r#"{"run":"r","version":2,"from":"PLANNED","to":"BLOCKED","at_ms":0,"mode":"audit"}"#;
        let parsed: Transition = serde_json::from_str(minimal).expect("minimal");
        assert_eq!(parsed.to, Phase::Blocked);
        assert!(Transition::worth_recording(
            Phase::Planned,
            Phase::Blocked,
            0
        ));
        assert!(Transition::worth_recording(
            Phase::Verified,
            Phase::Verified,
            2
        ));
        assert!(!Transition::worth_recording(
            Phase::Verified,
            Phase::Verified,
            0
        ));
    }
}
