//! The local demo (`scripts/demo`): starts the local stack (EKS simulator + moto), seeds a small
//! organisation — two accounts, four clusters, one with a row that cannot be migrated — and runs
//! the whole event-driven pipeline through the three functions' handlers: the schedule's fleet
//! scan, the worker draining the queue, then a CloudTrail event for an access entry deleted out
//! of band. Prints each cluster's journey from the state table.

#[path = "../tests/support/mod.rs"]
mod support;

use eks_auth_aws::store::audit::AuditStatus;
use eks_auth_aws::{ClusterKey, StateStore};
use std::time::{Duration, Instant};
use support::*;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(tracing::Level::INFO)
        .init();
    let Some(p) = pipeline().await else {
        eprintln!(
            "moto_server is not installed: run scripts/demo (it installs the local stack's tools)"
        );
        std::process::exit(2);
    };
    let store = StateStore::from_config(&p.central, TABLE);
    let scan_deps = fleet_scan::Deps::new(p.central.clone(), p.env.clone());
    let worker_deps =
        cluster_worker::Deps::new(p.central.clone(), p.env.clone(), "demo-worker".to_owned());
    let events_deps = cluster_events::Deps {
        store: StateStore::from_config(&p.central, TABLE),
        queue: eks_auth_aws::fleet::queue::JobQueue::new(&p.central, &p.queue_url),
        member_role_name: MEMBER_ROLE.to_owned(),
        metrics: eks_auth_aws::notify::metrics::MetricsOut::stdout(None),
    };

    println!(
        "\n== 1. The schedule fires: fleet-scan (accounts {A} and {B}, regions us-east-1 and eu-west-1)"
    );
    println!(
        "   configuration: default mode finalize; account {B} overridden to migrate; new clusters migrate"
    );
    let report = fleet_scan::handle(
        &scan_deps,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + Duration::from_secs(60),
    )
    .await
    .expect("scan");
    println!("   scan report: {report}");

    println!(
        "\n== 2. cluster-worker drains the queue (re-enqueueing itself while EKS updates run)"
    );
    let batches = drain(&p, &worker_deps).await;
    println!("   {batches} batches");
    journeys(&store, &p).await;

    println!(
        "\n== 3. Someone deletes team-a's entry on data-prod by hand; CloudTrail tells cluster-events"
    );
    let team_a = format!("arn:aws:iam::{B}:role/teams/team-a");
    let eks_b = aws_sdk_eks::Client::new(&member(&p.central, B).await);
    eks_b
        .delete_access_entry()
        .cluster_name("data-prod")
        .principal_arn(&team_a)
        .send()
        .await
        .expect("DeleteAccessEntry");
    let event = deleted_entry_event(B, "data-prod", &team_a);
    let out = cluster_events::handle(&events_deps, &event)
        .await
        .expect("event");
    println!("   cluster-events: {out}");
    drain(&p, &worker_deps).await;
    let back = eks_b
        .describe_access_entry()
        .cluster_name("data-prod")
        .principal_arn(&team_a)
        .send()
        .await
        .is_ok();
    println!("   team-a's entry restored from its aws-auth row: {back}");
    println!("\nDone. Nothing reached AWS: EKS was the simulator, everything else moto.");
}

/// Each cluster's record and the writes made to it, from the state table.
async fn journeys(store: &StateStore, p: &Pipeline) {
    let clusters = [
        (A, "us-east-1", "pay-prod"),
        (A, "eu-west-1", "pay-legacy"),
        (B, "us-east-1", "data-prod"),
    ];
    for (account, region, name) in clusters {
        let key = ClusterKey::from_pk(&format!("CLUSTER#{account}#{region}#{name}")).expect("key");
        let Some(record) = store.get_cluster(&key).await.expect("record") else {
            continue;
        };
        let s = &record.state;
        println!(
            "\n   {name} ({account}, {region}): mode {}, phase {}, simulator says {}",
            s.mode,
            s.phase,
            sim_mode(p, account, region, name)
        );
        if let Some(e) = &s.last_error {
            println!("     why: {e}");
        }
        for a in store.list_audit(&key).await.expect("audit") {
            let mark = match a.status {
                AuditStatus::Succeeded => "ok",
                AuditStatus::Failed => "FAILED",
                AuditStatus::Started => "open",
            };
            let what = a
                .request
                .get("authenticationMode")
                .or_else(|| a.request.get("policyArn"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            println!("     {:<22} {:<62} {what} [{mark}]", a.operation, a.target);
        }
    }
}
