//! Issue 20 item 3 through the handlers on the local stack: a failure no retry can heal (EKS
//! refuses a principal permanently) is recorded as FAILED_TERMINAL with what to do and is not
//! handed back to SQS (the queue drains: no redelivery), and the next scheduled scan queues the
//! cluster again and, the cause fixed, it converges.

mod support;

use eks_auth_aws::StateStore;
use eks_auth_core::state::{Mode, Phase};
use std::time::Instant;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_terminal_failure_is_recorded_not_redelivered_and_the_next_scan_retries_it() {
    let Some(p) = pipeline().await else { return };
    let scan_deps = fleet_scan::Deps::new(p.central.clone(), p.env.clone());
    let worker_deps = cluster_worker::Deps::new(
        p.central.clone(),
        p.env.clone(),
        "terminal-worker".to_owned(),
    );
    let store = StateStore::from_config(&p.central, TABLE);
    let scan = || async {
        fleet_scan::handle(
            &scan_deps,
            &sample("fleet-scan/schedule.json"),
            Instant::now() + RUN_DEADLINE,
        )
        .await
        .expect("scan")
    };

    // IAM (moto) still resolves account B's team-a role, which every cluster's aws-auth maps,
    // but EKS's view of IAM lost it: EKS refuses its access entry permanently.
    let team_a = format!("arn:aws:iam::{B}:role/teams/team-a");
    let gone = p
        .stack
        .sim
        .with_world(|w| w.iam.remove(&team_a.to_lowercase()))
        .expect("team-a in the simulator's IAM");
    let report = scan().await;
    assert_eq!(report["queued"], 3, "{report}");
    // drain() fails if a job keeps coming back: a terminal failure reported to SQS would.
    drain(&p, &worker_deps).await;
    assert_eq!(jobs_queued(&p).await, 0);
    let record = state(&store, B, "us-east-1", "data-prod").await;
    assert_eq!(record.phase, Phase::Failed { retryable: false });
    let reason = record.last_error.unwrap_or_default();
    assert!(
        reason.contains(&team_a) && reason.contains("EKS refuses CreateAccessEntry permanently"),
        "{reason}"
    );
    let what_to_do = record.what_to_do.unwrap_or_default();
    assert!(what_to_do.contains("new scan"), "{what_to_do}");
    for (account, region, name) in [(A, "us-east-1", "pay-prod"), (A, "eu-west-1", "pay-legacy")] {
        let (phase, _) = phase(&store, account, region, name).await.expect("record");
        assert_eq!(phase, Phase::Failed { retryable: false }, "{name}");
    }

    // Fixed: the next scheduled scan queues the FAILED_TERMINAL clusters again, and they converge
    // to their modes (finalize: pay-prod complete, pay-legacy blocked by its row; B migrates).
    p.stack
        .sim
        .with_world(|w| w.iam.insert(team_a.to_lowercase(), gone));
    let report = scan().await;
    assert_eq!(report["queued"], 3, "{report}");
    drain(&p, &worker_deps).await;
    assert_eq!(
        phase(&store, A, "us-east-1", "pay-prod").await,
        Some((Phase::Complete, Mode::Finalize))
    );
    assert_eq!(
        phase(&store, A, "eu-west-1", "pay-legacy").await,
        Some((Phase::Blocked, Mode::Finalize))
    );
    assert_eq!(
        phase(&store, B, "us-east-1", "data-prod").await,
        Some((Phase::Verified, Mode::Migrate))
    );
    // Issue 20's last "Why": the blocked run's reason names its row's location once.
    let blocked = state(&store, A, "eu-west-1", "pay-legacy")
        .await
        .last_error
        .unwrap_or_default();
    assert!(blocked.contains("SYSTEM_GROUP: mapRoles[5]"), "{blocked}");
    assert_eq!(blocked.matches("mapRoles[5]").count(), 1, "{blocked}");
}

/// The state recorded for cluster `name` of `account` in `region`.
async fn state(
    store: &StateStore,
    account: &str,
    region: &str,
    name: &str,
) -> eks_auth_aws::store::records::ClusterState {
    let key = eks_auth_aws::ClusterKey::from_pk(&format!("CLUSTER#{account}#{region}#{name}"))
        .expect("key");
    store
        .get_cluster(&key)
        .await
        .expect("GetItem")
        .expect("record")
        .state
}
