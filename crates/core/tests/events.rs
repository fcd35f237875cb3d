//! Every sample under events/ does what events/README.md says it does. Adding a sample without
//! an expectation here fails `every_sample_has_an_expectation`.

use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::jobs::{Decision, EventError, Job, JobReason, ScheduleInput, decode_cloudtrail};
use eks_auth_core::notify::transition::{
    ClusterRef, SOURCE, Transition, TransitionCounts, run_events,
};
use eks_auth_core::state::{Mode, Phase};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `MEMBER_WRITE_ROLE_NAME` as template.yaml sets it: the role whose calls are the migrator's own.
const MIGRATOR_ROLE: &str = "eks-auth-migrator-member-write";

enum Cloudtrail {
    /// Enqueue a job with this reason for the README's cluster, and `detail` containing these.
    Enqueue(JobReason, &'static [&'static str]),
    /// Ignore, with a reason containing this.
    Ignore(&'static str),
    /// Drop, with a reason containing this.
    Drop(&'static str),
}

/// What one SQS record's body must parse to.
enum Body {
    Job(&'static str, &'static str, &'static str, JobReason),
    Error(&'static str),
}

const CLUSTER_EVENTS: &[(&str, Cloudtrail)] = &[
    (
        "cluster-events/create-cluster.json",
        Cloudtrail::Enqueue(JobReason::NewCluster, &["CreateCluster"]),
    ),
    (
        "cluster-events/update-cluster-config-auth-mode.json",
        Cloudtrail::Enqueue(
            JobReason::ModeChange,
            &["authenticationMode=API_AND_CONFIG_MAP"],
        ),
    ),
    (
        "cluster-events/delete-cluster.json",
        Cloudtrail::Enqueue(JobReason::Drift, &["DeleteCluster"]),
    ),
    (
        "cluster-events/create-access-entry.json",
        Cloudtrail::Enqueue(
            JobReason::Drift,
            &[
                "principalArn=arn:aws:iam::111122223333:role/team-a",
                "by arn:aws:sts::111122223333:assumed-role/platform-admin/",
            ],
        ),
    ),
    (
        "cluster-events/delete-access-entry-out-of-band.json",
        Cloudtrail::Enqueue(
            JobReason::Drift,
            &["DeleteAccessEntry principalArn=arn:aws:iam::111122223333:role/team-a "],
        ),
    ),
    (
        "cluster-events/associate-access-policy.json",
        Cloudtrail::Enqueue(
            JobReason::Drift,
            &[
                "principalArn=arn:aws:iam::111122223333:role/team-a",
                "policyArn=arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            ],
        ),
    ),
    (
        "cluster-events/disassociate-access-policy.json",
        Cloudtrail::Enqueue(
            JobReason::Drift,
            &[
                "principalArn=arn:aws:iam::111122223333:role/team-a ",
                "policyArn=arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy ",
            ],
        ),
    ),
    (
        "cluster-events/tag-mode.json",
        Cloudtrail::Enqueue(
            JobReason::ModeChange,
            &["TagResource eks-auth-migrator/mode=finalize"],
        ),
    ),
    (
        "cluster-events/failed-call.json",
        Cloudtrail::Ignore("errorCode AccessDeniedException"),
    ),
    (
        "cluster-events/own-call.json",
        Cloudtrail::Ignore("migrator itself"),
    ),
    (
        "cluster-events/unknown-event.json",
        Cloudtrail::Ignore("unexpected eventName ListClusters"),
    ),
    (
        "cluster-events/malformed.json",
        Cloudtrail::Drop("missing detail.requestParameters.name"),
    ),
];

const CLUSTER_WORKER: &[(&str, &[Body])] = &[
    (
        "cluster-worker/one-job.json",
        &[Body::Job(
            "111122223333",
            "us-east-1",
            "prod-payments",
            JobReason::Scan,
        )],
    ),
    (
        "cluster-worker/batch.json",
        &[
            Body::Job(
                "111122223333",
                "us-east-1",
                "prod-payments",
                JobReason::NewCluster,
            ),
            Body::Error("job body is not a JSON object: EOF while parsing"),
            Body::Job(
                "111122223333",
                "eu-west-1",
                "prod-ledger",
                JobReason::UpdateInProgress,
            ),
        ],
    ),
    (
        "cluster-worker/poison.json",
        &[Body::Job(
            "111122223333",
            "us-east-1",
            "staging-search",
            JobReason::Drift,
        )],
    ),
];

const FLEET_SCAN: &[&str] = &["fleet-scan/schedule.json"];

/// Events the migrator puts on the central bus, as a rule's target receives them: each file's
/// `detail` is exactly what `run_events` builds from these transitions (EAM_UPDATE_FIXTURES=1
/// rewrites the files).
const NOTIFICATIONS: &[&str] = &[
    "notifications/phase-changed-blocked.json",
    "notifications/phase-changed-complete.json",
    "notifications/phase-changed-failed-terminal.json",
    "notifications/drift-restored.json",
];

fn transitions(file: &str) -> Vec<Transition> {
    let t = |version: u64, from: Phase, to: Phase, mode: Mode| Transition {
        run: format!("run-{}", version / 10),
        version,
        from,
        to,
        at_ms: 1_764_590_400_000 + version * 60_000,
        mode,
        authentication_mode: Some(AuthenticationMode::ApiAndConfigMap),
        counts: TransitionCounts {
            aws_auth_rows: 6,
            entries_planned: 5,
            entries_applied: 5,
            entries_verified: 5,
            blockers: 0,
        },
        blocker_codes: Vec::new(),
        reason: None,
        what_to_do: None,
        restored: 0,
    };
    match file {
        "notifications/phase-changed-blocked.json" => {
            let mut blocked = t(7, Phase::Verified, Phase::Blocked, Mode::Finalize);
            blocked.counts.blockers = 1;
            blocked.blocker_codes = vec!["SYSTEM_GROUP".to_owned()];
            blocked.reason = Some("the plan has 1 blocker finding(s); API mode would remove access: SYSTEM_GROUP at mapRoles[5]: group system:monitoring is not a Kubernetes system group".to_owned());
            vec![
                t(
                    5,
                    Phase::ModeSwitching,
                    Phase::EntriesApplied,
                    Mode::Finalize,
                ),
                t(6, Phase::EntriesApplied, Phase::Verified, Mode::Finalize),
                blocked,
            ]
        }
        "notifications/phase-changed-failed-terminal.json" => {
            let mut failed = t(
                41,
                Phase::Planned,
                Phase::Failed { retryable: false },
                Mode::Migrate,
            );
            failed.reason = Some("1 of 5 entries failed: arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef: CreateAccessEntry: EKS refuses CreateAccessEntry permanently: The specified principalArn is invalid: invalid principal.".to_owned());
            failed.what_to_do = Some("Fix the aws-auth row's ARN (the principal's full ARN with its IAM path), or leave the principal out of the migration in the policy file; then start a new scan or run `apply`.".to_owned());
            vec![failed]
        }
        "notifications/phase-changed-complete.json" => {
            let mut done = t(21, Phase::ApiSwitching, Phase::Complete, Mode::Finalize);
            done.authentication_mode = Some(AuthenticationMode::Api);
            vec![done]
        }
        _ => {
            let mut created = t(32, Phase::Verified, Phase::EntriesApplied, Mode::Migrate);
            created.restored = 1;
            vec![
                created,
                t(33, Phase::EntriesApplied, Phase::Verified, Mode::Migrate),
            ]
        }
    }
}

#[test]
fn notification_samples_are_what_the_engine_sends() {
    let cluster = ClusterRef {
        account: "111122223333",
        region: "us-east-1",
        name: "prod-payments",
    };
    for file in NOTIFICATIONS {
        let runs = run_events(cluster, &transitions(file));
        let [run] = runs.as_slice() else {
            panic!("{file}: one run")
        };
        let [event] = run.events.as_slice() else {
            panic!("{file}: one event, got {:?}", run.events)
        };
        let envelope = serde_json::json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": event.detail_type,
            "source": SOURCE,
            "account": "444455556666",
            "time": eks_auth_core::report::time::rfc3339(event.time_ms),
            "region": "us-east-1",
            "resources": [event.resource],
            "detail": event.detail,
        });
        let path = events_dir().join(file);
        if std::env::var("EAM_UPDATE_FIXTURES").as_deref() == Ok("1") {
            let text = serde_json::to_string_pretty(&envelope).expect("json") + "\n";
            std::fs::write(&path, text).expect("write sample");
        }
        assert_eq!(
            load(file),
            envelope,
            "{file} (EAM_UPDATE_FIXTURES=1 rewrites it)"
        );
    }
}

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn load(relative: &str) -> Value {
    let path = events_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn json_files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if path.is_dir() {
            json_files(&path, &relative, out);
        } else if relative.ends_with(".json") {
            out.push(relative);
        }
    }
}

#[test]
fn every_sample_has_an_expectation() {
    let mut found = Vec::new();
    json_files(&events_dir(), "", &mut found);
    let mut expected: Vec<String> = CLUSTER_EVENTS
        .iter()
        .map(|(f, _)| (*f).to_owned())
        .chain(CLUSTER_WORKER.iter().map(|(f, _)| (*f).to_owned()))
        .chain(FLEET_SCAN.iter().map(|f| (*f).to_owned()))
        .chain(NOTIFICATIONS.iter().map(|f| (*f).to_owned()))
        .collect();
    expected.sort();
    found.sort();
    assert_eq!(
        found, expected,
        "every file under events/ needs an expectation in crates/core/tests/events.rs (and a row in events/README.md)"
    );
}

#[test]
fn readme_documents_every_sample() {
    let readme = std::fs::read_to_string(events_dir().join("README.md")).expect("README");
    for (file, _) in CLUSTER_EVENTS {
        let name = file.trim_start_matches("cluster-events/");
        assert!(readme.contains(&format!("`{name}`")), "README lacks {name}");
    }
    for file in CLUSTER_WORKER
        .iter()
        .map(|(f, _)| *f)
        .chain(FLEET_SCAN.iter().copied())
        .chain(NOTIFICATIONS.iter().copied())
    {
        assert!(readme.contains(&format!("`{file}`")), "README lacks {file}");
    }
}

#[test]
fn cluster_events_samples_decode_as_documented() {
    for (file, expected) in CLUSTER_EVENTS {
        let decision = decode_cloudtrail(&load(file), MIGRATOR_ROLE);
        match (expected, &decision) {
            (Cloudtrail::Enqueue(reason, needles), Decision::Enqueue(job)) => {
                assert_eq!(job.version, 1, "{file}");
                assert_eq!(
                    (
                        job.account.as_str(),
                        job.region.as_str(),
                        job.cluster.as_str(),
                        job.reason
                    ),
                    ("111122223333", "us-east-1", "prod-payments", *reason),
                    "{file}"
                );
                let detail = job.detail.as_deref().unwrap_or_default();
                for needle in *needles {
                    assert!(
                        detail.contains(needle),
                        "{file}: `{detail}` lacks `{needle}`"
                    );
                }
                assert!(
                    !detail.contains('%'),
                    "{file}: `{detail}` still percent-encoded"
                );
                // What the handler sends is what the worker accepts.
                assert_eq!(Job::parse(&job.to_body()).as_ref(), Ok(job), "{file}");
            }
            (Cloudtrail::Ignore(needle), Decision::Ignore { reason })
            | (Cloudtrail::Drop(needle), Decision::Drop { reason }) => {
                assert!(
                    reason.contains(needle),
                    "{file}: `{reason}` lacks `{needle}`"
                );
            }
            _ => panic!("{file}: unexpected {decision:?}"),
        }
    }
}

#[test]
fn own_call_sample_is_a_job_for_any_other_role_name() {
    let decision = decode_cloudtrail(&load("cluster-events/own-call.json"), "another-role");
    assert!(matches!(decision, Decision::Enqueue(_)), "{decision:?}");
    // The read role never writes: its name does not make a call the migrator's own.
    let decision = decode_cloudtrail(
        &load("cluster-events/own-call.json"),
        "eks-auth-migrator-member",
    );
    assert!(matches!(decision, Decision::Enqueue(_)), "{decision:?}");
}

#[test]
fn cluster_worker_record_bodies_parse_as_documented() {
    for (file, bodies) in CLUSTER_WORKER {
        let event = load(file);
        let records = event["Records"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: Records"));
        assert_eq!(records.len(), bodies.len(), "{file}");
        for (i, (record, expected)) in records.iter().zip(bodies.iter()).enumerate() {
            let body = record["body"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}[{i}]: body"));
            match (expected, Job::parse(body)) {
                (Body::Job(account, region, cluster, reason), Ok(job)) => {
                    assert_eq!(
                        job,
                        Job::new(*account, *region, *cluster, *reason),
                        "{file}[{i}]"
                    );
                    assert_eq!(
                        job.to_body(),
                        body,
                        "{file}[{i}]: the body is the canonical form"
                    );
                }
                (Body::Error(needle), Err(e @ EventError::Syntax { .. })) => {
                    assert!(
                        e.to_string().contains(needle),
                        "{file}[{i}]: `{e}` lacks `{needle}`"
                    );
                }
                (_, got) => panic!("{file}[{i}]: unexpected {got:?}"),
            }
        }
    }
}

#[test]
fn fleet_scan_schedule_is_the_documented_constant() {
    for file in FLEET_SCAN {
        assert_eq!(
            ScheduleInput::parse(&load(file)),
            Ok(ScheduleInput::default()),
            "{file}"
        );
    }
}
