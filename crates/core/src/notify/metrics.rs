//! The metric model: which metrics each function publishes, with which dimensions, from which
//! figures. Dimensions are bounded by construction: a function name, an authentication mode, a
//! phase, a migration mode, a run outcome, an event decision and a reason code — never a
//! cluster, account, region or principal (a fleet of 10,000 clusters publishes as many metric
//! series as a fleet of one). docs/operations.md says what each one means.

use super::emf::{Metric, MetricSet};
use crate::facts::AuthenticationMode;
use crate::jobs::Decision;
use crate::state::{Mode, Phase};

/// The function names, as the `Function` dimension spells them.
pub const FLEET_SCAN: &str = "fleet-scan";
/// See [`FLEET_SCAN`].
pub const CLUSTER_WORKER: &str = "cluster-worker";
/// See [`FLEET_SCAN`].
pub const CLUSTER_EVENTS: &str = "cluster-events";

/// One cluster as a scan saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterTally {
    /// Its authentication mode (DescribeCluster), when EKS reported one.
    pub authentication_mode: Option<AuthenticationMode>,
    /// The phase its record holds (`None`: no record yet, counted as DISCOVERED).
    pub phase: Option<Phase>,
    /// The migration mode the configuration gives it.
    pub mode: Mode,
}

/// What one scan did, for its metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanFigures {
    /// Account-regions scanned.
    pub scanned: usize,
    /// Account-regions that failed.
    pub failed: usize,
    /// Account-regions not reached before the deadline.
    pub unfinished: usize,
    /// Jobs queued.
    pub queued: usize,
    /// Records created for clusters seen for the first time.
    pub recorded: usize,
    /// Every cluster found.
    pub clusters: Vec<ClusterTally>,
    /// Security Hub findings created or updated.
    pub findings_imported: usize,
    /// Security Hub findings resolved.
    pub findings_resolved: usize,
    /// Security Hub findings (or resolutions) that could not be delivered.
    pub findings_not_delivered: usize,
    /// Milliseconds per scan phase: discover, read state, enqueue, mark, record, findings.
    pub durations_ms: [u64; 6],
}

/// The metric sets of one scan.
pub fn scan_metrics(f: &ScanFigures) -> Vec<MetricSet> {
    let [discover, read_state, enqueue, mark, record, findings] = f.durations_ms;
    let blocked = f
        .clusters
        .iter()
        .filter(|c| c.phase == Some(Phase::Blocked))
        .count();
    let mut sets = vec![MetricSet {
        dimensions: vec![("Function", FLEET_SCAN.to_owned())],
        metrics: vec![
            Metric::count("AccountRegionsScanned", f.scanned),
            Metric::count("AccountRegionsFailed", f.failed),
            Metric::count("AccountRegionsUnfinished", f.unfinished),
            Metric::count("ClustersFound", f.clusters.len()),
            Metric::count("JobsQueued", f.queued),
            Metric::count("RecordsCreated", f.recorded),
            Metric::count("ClustersBlocked", blocked),
            Metric::count("FindingsImported", f.findings_imported),
            Metric::count("FindingsResolved", f.findings_resolved),
            Metric::count("FindingsNotDelivered", f.findings_not_delivered),
            Metric::millis(
                "ScanDuration",
                discover + read_state + enqueue + mark + record + findings,
            ),
            Metric::millis("DiscoverDuration", discover),
            Metric::millis("ReadStateDuration", read_state),
            Metric::millis("EnqueueDuration", enqueue),
            Metric::millis("MarkDuration", mark),
            Metric::millis("RecordDuration", record),
            Metric::millis("FindingsDuration", findings),
        ],
    }];
    // Every value of each dimension, zeros included, so that a graph drops to 0 instead of
    // keeping its last point.
    let auth_modes = [
        Some(AuthenticationMode::ConfigMap),
        Some(AuthenticationMode::ApiAndConfigMap),
        Some(AuthenticationMode::Api),
        None,
    ];
    for mode in auth_modes {
        let n = f
            .clusters
            .iter()
            .filter(|c| c.authentication_mode == mode)
            .count();
        let name = mode.map_or("UNKNOWN", AuthenticationMode::as_str);
        sets.push(count_set("AuthenticationMode", name, n));
    }
    for phase in Phase::ALL {
        let n = f
            .clusters
            .iter()
            .filter(|c| c.phase.unwrap_or(Phase::Discovered) == phase)
            .count();
        sets.push(count_set("Phase", phase.as_str(), n));
    }
    for mode in Mode::ALL {
        let n = f.clusters.iter().filter(|c| c.mode == mode).count();
        sets.push(count_set("MigrationMode", mode.as_str(), n));
    }
    sets
}

fn count_set(dimension: &'static str, value: &str, n: usize) -> MetricSet {
    MetricSet {
        dimensions: vec![
            ("Function", FLEET_SCAN.to_owned()),
            (dimension, value.to_owned()),
        ],
        metrics: vec![Metric::count("Clusters", n)],
    }
}

/// How a worker run ended, as the `Outcome` dimension spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Nothing more to do in its mode.
    Done,
    /// Stopped until a person acts.
    Blocked,
    /// Re-queued: an EKS update, the soak, or a cluster that is not ACTIVE.
    Waiting,
    /// Another worker holds the cluster.
    Busy,
    /// A step failed (retried by SQS).
    Failed,
    /// A failure no retry can heal: recorded as FAILED_TERMINAL, not retried by SQS.
    FailedTerminal,
    /// The invocation's time ran out (re-queued).
    OutOfTime,
    /// Lambda shut the function down (re-queued).
    Interrupted,
    /// The cluster no longer exists (job dropped).
    Dropped,
    /// The run could not start or the state table failed (retried by SQS).
    Error,
    /// The job's cluster is outside the configuration's account and region scope: dropped.
    OutOfScope,
}

impl RunOutcome {
    /// The dimension value.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Done => "done",
            RunOutcome::Blocked => "blocked",
            RunOutcome::Waiting => "waiting",
            RunOutcome::Busy => "busy",
            RunOutcome::Failed => "failed",
            RunOutcome::FailedTerminal => "failed_terminal",
            RunOutcome::OutOfTime => "out_of_time",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Dropped => "dropped",
            RunOutcome::Error => "error",
            RunOutcome::OutOfScope => "out_of_scope",
        }
    }
}

/// What one worker run did, for its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunFigures {
    /// How it ended.
    pub outcome: RunOutcome,
    /// Steps taken.
    pub steps: usize,
    /// EKS and Kubernetes write calls.
    pub mutating_calls: usize,
    /// Its duration.
    pub duration_ms: u64,
    /// AWS answers that were throttling errors (each retried by the SDK).
    pub throttles: usize,
    /// AWS call attempts beyond the first of their operation.
    pub retries: usize,
    /// Phase-change and drift events put on the bus.
    pub events_published: usize,
    /// Events that could not be put (kept on the cluster record, sent by a later run).
    pub events_not_delivered: usize,
}

/// The metric sets of one worker run.
pub fn run_metrics(f: &RunFigures) -> Vec<MetricSet> {
    vec![
        MetricSet {
            dimensions: vec![
                ("Function", CLUSTER_WORKER.to_owned()),
                ("Outcome", f.outcome.as_str().to_owned()),
            ],
            metrics: vec![
                Metric::count("Runs", 1),
                Metric::count("Steps", f.steps),
                Metric::count("MutatingCalls", f.mutating_calls),
                Metric::millis("RunDuration", f.duration_ms),
            ],
        },
        MetricSet {
            dimensions: vec![("Function", CLUSTER_WORKER.to_owned())],
            metrics: vec![
                Metric::count("Throttles", f.throttles),
                Metric::count("Retries", f.retries),
                Metric::count("EventsPublished", f.events_published),
                Metric::count("EventsNotDelivered", f.events_not_delivered),
            ],
        },
    ]
}

/// What `cluster-events` decided about one event, as (decision, reason code). Reason codes
/// are a fixed set: the job reason of an enqueued event, or why it was ignored or dropped.
pub fn decision_reason(decision: &Decision) -> (&'static str, &'static str) {
    match decision {
        Decision::Enqueue(job) => ("enqueued", job.reason.as_str()),
        Decision::Ignore { reason } => ("ignored", ignore_code(reason)),
        Decision::Drop { reason } => ("dropped", drop_code(reason)),
    }
}

/// The reason code of an ignored event, from the wording of `crate::jobs`' reasons (a test
/// there and here keeps the two in step).
fn ignore_code(reason: &str) -> &'static str {
    if reason.contains("(errorCode ") {
        "failed-call"
    } else if reason.contains("made by the migrator itself") {
        "own-call"
    } else if reason.starts_with("unexpected eventName") {
        "other-operation"
    } else if reason.contains("does not change accessConfig") {
        "no-mode-change"
    } else if reason.starts_with("source ") || reason.starts_with("detail-type ") {
        "not-cloudtrail-eks"
    } else {
        "other"
    }
}

fn drop_code(reason: &str) -> &'static str {
    if reason.starts_with("out of scope") {
        // crate::scope::OutOfScope's wording: cluster-events drops what the scope leaves out.
        "out-of-scope"
    } else if reason.starts_with("missing ") {
        "missing-field"
    } else if reason.starts_with("event is not") {
        "malformed"
    } else if reason.contains(" is not ") {
        "invalid-field"
    } else {
        "malformed"
    }
}

/// The metric set of one `cluster-events` event: `decision` (`enqueued`, `ignored`, `dropped`
/// or `duplicate`) by `reason` code.
pub fn event_metrics(decision: &str, reason: &str) -> Vec<MetricSet> {
    vec![MetricSet {
        dimensions: vec![
            ("Function", CLUSTER_EVENTS.to_owned()),
            ("Decision", decision.to_owned()),
            ("Reason", reason.to_owned()),
        ],
        metrics: vec![Metric::count("Events", 1)],
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::decode_cloudtrail;
    use crate::notify::metric_names::NAMES;
    use serde_json::json;

    fn tally(auth: AuthenticationMode, phase: Option<Phase>, mode: Mode) -> ClusterTally {
        ClusterTally {
            authentication_mode: Some(auth),
            phase,
            mode,
        }
    }

    #[test]
    fn a_scan_counts_clusters_by_mode_phase_and_migration_mode_zeros_included() {
        let f = ScanFigures {
            scanned: 4,
            failed: 1,
            queued: 2,
            clusters: vec![
                tally(AuthenticationMode::ConfigMap, None, Mode::Audit),
                tally(
                    AuthenticationMode::ApiAndConfigMap,
                    Some(Phase::Blocked),
                    Mode::Finalize,
                ),
                tally(
                    AuthenticationMode::Api,
                    Some(Phase::Complete),
                    Mode::Finalize,
                ),
            ],
            durations_ms: [10, 20, 30, 40, 50, 60],
            ..ScanFigures::default()
        };
        let sets = scan_metrics(&f);
        let main = &sets[0];
        assert_eq!(main.value("ClustersFound"), Some(3.0));
        assert_eq!(main.value("ClustersBlocked"), Some(1.0));
        assert_eq!(main.value("AccountRegionsFailed"), Some(1.0));
        assert_eq!(main.value("ScanDuration"), Some(210.0));
        let clusters = |dim: &str, value: &str| {
            sets.iter()
                .find(|s| s.dimension(dim) == Some(value))
                .and_then(|s| s.value("Clusters"))
        };
        assert_eq!(clusters("AuthenticationMode", "CONFIG_MAP"), Some(1.0));
        assert_eq!(clusters("AuthenticationMode", "UNKNOWN"), Some(0.0));
        assert_eq!(clusters("Phase", "DISCOVERED"), Some(1.0));
        assert_eq!(clusters("Phase", "FAILED_TERMINAL"), Some(0.0));
        assert_eq!(clusters("MigrationMode", "finalize"), Some(2.0));
        assert_eq!(sets.len(), 1 + 4 + Phase::ALL.len() + Mode::ALL.len());
        for set in &sets {
            assert!(set.dimensions.len() <= 2);
            for (name, _) in &set.dimensions {
                assert!(NAMES.contains(name), "{name}");
            }
            for m in &set.metrics {
                assert!(NAMES.contains(&m.name), "{}", m.name);
            }
        }
    }

    #[test]
    fn a_run_is_counted_by_outcome() {
        let sets = run_metrics(&RunFigures {
            outcome: RunOutcome::Waiting,
            steps: 2,
            mutating_calls: 1,
            duration_ms: 900,
            throttles: 3,
            retries: 4,
            events_published: 1,
            events_not_delivered: 0,
        });
        assert_eq!(sets[0].dimension("Outcome"), Some("waiting"));
        assert_eq!(sets[0].value("Runs"), Some(1.0));
        assert_eq!(sets[1].value("Throttles"), Some(3.0));
    }

    fn envelope(detail: serde_json::Value) -> serde_json::Value {
        json!({"source": "aws.eks", "detail-type": "AWS API Call via CloudTrail",
               "account": "111122223333", "region": "us-east-1", "detail": detail})
    }

    #[test]
    fn every_decision_has_a_bounded_reason_code() {
        let cases = [
            (json!([]), ("dropped", "malformed")),
            (json!({"detail-type": "x"}), ("dropped", "missing-field")),
            (
                json!({"source": "aws.ec2", "detail-type": "x"}),
                ("ignored", "not-cloudtrail-eks"),
            ),
            (
                envelope(json!({"eventName": "ListClusters"})),
                ("ignored", "other-operation"),
            ),
            (
                envelope(json!({"eventName": "CreateCluster", "errorCode": "AccessDenied"})),
                ("ignored", "failed-call"),
            ),
            (
                envelope(json!({"eventName": "CreateCluster", "userIdentity": {
                    "type": "AssumedRole",
                    "sessionContext": {"sessionIssuer": {"userName": "eks-auth-migrator-member",
                        "arn": "arn:aws:iam::111122223333:role/eks-auth-migrator-member"}}}})),
                ("ignored", "own-call"),
            ),
            (
                envelope(
                    json!({"eventName": "UpdateClusterConfig", "recipientAccountId": "111122223333",
                    "awsRegion": "us-east-1", "requestParameters": {"name": "prod"}}),
                ),
                ("ignored", "no-mode-change"),
            ),
            (
                envelope(
                    json!({"eventName": "CreateCluster", "recipientAccountId": "12",
                    "awsRegion": "us-east-1", "requestParameters": {"name": "prod"}}),
                ),
                ("dropped", "invalid-field"),
            ),
            (
                envelope(
                    json!({"eventName": "DeleteCluster", "recipientAccountId": "111122223333",
                    "awsRegion": "us-east-1", "requestParameters": {"name": "prod"}}),
                ),
                ("enqueued", "drift"),
            ),
        ];
        for (event, expected) in cases {
            let decision = decode_cloudtrail(&event, "eks-auth-migrator-member");
            assert_eq!(decision_reason(&decision), expected, "{decision:?}");
        }
        // What cluster-events drops after decoding: a cluster outside the scope.
        let out = crate::scope::OutOfScope::UnlistedRegion {
            region: "ap-south-1".into(),
            regions: vec!["us-east-1".into()],
        };
        let decision = Decision::Drop {
            reason: out.to_string(),
        };
        assert_eq!(decision_reason(&decision), ("dropped", "out-of-scope"));
    }
}
