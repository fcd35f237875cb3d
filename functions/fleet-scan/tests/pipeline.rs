//! The event-driven pipeline end to end on the local stack, through the three handlers and the
//! real SDK: a schedule event scans a two-account fleet (member roles assumed in moto's STS; the
//! simulator learns each session's identity from that STS), the worker drains the queue until
//! every cluster has converged for its mode, DynamoDB shows each cluster's state; then a
//! CloudTrail DeleteAccessEntry made out of band and a CreateCluster event each lead to the
//! right remediation. The worker's and the scan's sample events run here too.

mod support;

use aws_lambda_events::event::sqs::SqsEvent;
use eks_auth_aws::StateStore;
use eks_auth_aws::notify::metrics::MetricsOut;
use eks_auth_core::notify::emf::MetricSet;
use eks_auth_core::state::{Mode, Phase};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Instant;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_scan_and_cloudtrail_events_drive_the_fleet_to_its_modes() {
    let Some(p) = pipeline().await else { return };
    // Each function signs with its own access key, so that moto's recording tells whose call
    // each one was (checked against its role at the end).
    let moto = p.stack.moto.as_ref().expect("moto");
    moto.start_recording().expect("recording");
    let metrics = Captured::default();
    let out = || MetricsOut::to_writer(NAMESPACE, metrics.clone());
    let mut scan_deps = fleet_scan::Deps::new(signed_as(&p.central, FLEET_SCAN_KEY), p.env.clone());
    scan_deps.clients.metrics = out();
    let mut worker_deps = cluster_worker::Deps::new(
        signed_as(&p.central, CLUSTER_WORKER_KEY),
        p.env.clone(),
        "test-worker".to_owned(),
    );
    worker_deps.clients.metrics = out();
    let events_config = signed_as(&p.central, CLUSTER_EVENTS_KEY);
    let events_deps = events_deps(&p, &events_config, out());
    let store = StateStore::from_config(&p.central, TABLE);

    // Anything but the schedule's input is dropped.
    let dropped = fleet_scan::handle(
        &scan_deps,
        &json!({"kind": "nope"}),
        Instant::now() + support::RUN_DEADLINE,
    )
    .await
    .expect("handled");
    assert!(dropped.get("dropped").is_some(), "{dropped}");

    // The schedule event scans 2 accounts × 2 regions (the document's regions).
    let report = fleet_scan::handle(
        &scan_deps,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + support::RUN_DEADLINE,
    )
    .await
    .expect("scan");
    assert_eq!(report["accounts"], 2, "{report}");
    assert_eq!(report["scanned"], 4, "{report}");
    assert_eq!(report["clusters"], 3, "{report}");
    assert_eq!(report["queued"], 3, "{report}");
    assert_eq!(report["failed"], json!([]), "{report}");
    let marks = store.scan_marks().await.expect("marks");
    assert_eq!(marks.len(), 4);
    // Every cluster found is still on aws-auth: one active finding each, in its own account.
    let arn = |account: &str, region: &str, name: &str| {
        format!("arn:aws:eks:{region}:{account}:cluster/{name}")
    };
    let active = |a: &str, r: &str, n: &str, severity: &str| {
        (
            arn(a, r, n),
            "ACTIVE".to_owned(),
            "FAILED".to_owned(),
            severity.to_owned(),
        )
    };
    assert_eq!(
        findings(&p, A).await,
        vec![
            active(A, "eu-west-1", "pay-legacy", "MEDIUM"),
            active(A, "us-east-1", "pay-prod", "MEDIUM"),
        ]
    );
    assert_eq!(
        findings(&p, B).await,
        vec![active(B, "us-east-1", "data-prod", "MEDIUM")]
    );

    // The simulator holds every authentication-mode update in progress until the first batch has
    // run, so that the worker is seen to put its jobs back while updates run, whatever the
    // machine's speed; then the updates complete and the queue drains.
    p.stack.sim.with_world(|w| w.settings.hold_updates = true);
    assert!(run_batch(&p, &worker_deps).await, "the scan queued jobs");
    assert!(
        jobs_queued(&p).await > 0,
        "the worker re-enqueued the clusters whose updates ran"
    );
    p.stack.sim.with_world(|w| w.settings.hold_updates = false);
    drain(&p, &worker_deps).await;
    // finalize by default: pay-prod to API; pay-legacy blocked by its system:monitoring row;
    // account B overridden to migrate: data-prod in API_AND_CONFIG_MAP, verified.
    assert_eq!(
        phase(&store, A, "us-east-1", "pay-prod").await,
        Some((Phase::Complete, Mode::Finalize))
    );
    assert_eq!(sim_mode(&p, A, "us-east-1", "pay-prod"), "API");
    assert_eq!(
        phase(&store, A, "eu-west-1", "pay-legacy").await,
        Some((Phase::Blocked, Mode::Finalize))
    );
    assert_eq!(
        sim_mode(&p, A, "eu-west-1", "pay-legacy"),
        "API_AND_CONFIG_MAP"
    );
    assert_eq!(
        phase(&store, B, "us-east-1", "data-prod").await,
        Some((Phase::Verified, Mode::Migrate))
    );
    assert_eq!(
        sim_mode(&p, B, "us-east-1", "data-prod"),
        "API_AND_CONFIG_MAP"
    );
    assert_eq!(
        phase(&store, A, "us-west-2", "pay-new").await,
        None,
        "not in the scanned regions"
    );
    let mut events = captured_events(&p).await;
    for (account, region, name, last) in [
        (A, "us-east-1", "pay-prod", "COMPLETE"),
        (A, "eu-west-1", "pay-legacy", "BLOCKED"),
        (B, "us-east-1", "data-prod", "VERIFIED"),
    ] {
        phase_chain(&events, account, region, name, last);
    }
    let blocked = events
        .iter()
        .find(|e| e["detail"]["cluster"] == "pay-legacy" && e["detail"]["new_phase"] == "BLOCKED")
        .expect("BLOCKED event");
    assert_eq!(
        blocked["detail"]["blocker_codes"],
        json!(["SYSTEM_GROUP"]),
        "{blocked}"
    );
    assert!(
        blocked["detail"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Blockers: SYSTEM_GROUP")),
        "{blocked}"
    );

    // Someone deletes a migrated entry by hand; CloudTrail reports it; the worker restores it
    // (its aws-auth row still grants exactly that access).
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
    assert_eq!(out["decision"], "enqueued", "{out}");
    drain(&p, &worker_deps).await;
    let restored = eks_b
        .describe_access_entry()
        .cluster_name("data-prod")
        .principal_arn(&team_a)
        .send()
        .await;
    assert!(
        restored.is_ok(),
        "the deleted entry was restored: {restored:?}"
    );
    assert_eq!(
        phase(&store, B, "us-east-1", "data-prod").await,
        Some((Phase::Verified, Mode::Migrate))
    );
    // The repair is told once; the phase came back to VERIFIED within the run: no phase event.
    let repair = captured_events(&p).await;
    assert_eq!(repair.len(), 1, "{repair:?}");
    assert_eq!(repair[0]["detail-type"], "Cluster Access Drift Restored");
    assert_eq!(repair[0]["detail"]["cluster"], "data-prod");
    assert_eq!(repair[0]["detail"]["entries_restored"], 1);
    events.extend(repair);

    // A new cluster in account A, in us-west-2, which the document does not scan: its event is
    // out of scope and dropped (issue 18 item 4), as the scan would never list it.
    let event = created_cluster_event(A, "us-west-2", "pay-new");
    let out = cluster_events::handle(&events_deps, &event)
        .await
        .expect("event");
    assert_eq!(out["decision"], "dropped", "{out}");
    assert!(
        out["reason"]
            .as_str()
            .is_some_and(|r| r.contains("region us-west-2 is not scanned")),
        "{out}"
    );
    // The organisation adds us-west-2: the same event now queues a job. The new cluster (account
    // A's default is finalize) gets the new-cluster mode (migrate) on every run of its job, so it
    // stays VERIFIED in API_AND_CONFIG_MAP instead of going on to API.
    put_config(
        &p,
        &CONFIG.replace(r#""eu-west-1"]"#, r#""eu-west-1","us-west-2"]"#),
    )
    .await;
    let out = cluster_events::handle(&events_deps, &event)
        .await
        .expect("event");
    assert_eq!(out["decision"], "enqueued", "{out}");
    drain(&p, &worker_deps).await;
    // Back to the two regions, so that the second scan below covers the same account-regions.
    put_config(&p, CONFIG).await;
    assert_eq!(
        phase(&store, A, "us-west-2", "pay-new").await,
        Some((Phase::Verified, Mode::Migrate))
    );
    assert_eq!(
        sim_mode(&p, A, "us-west-2", "pay-new"),
        "API_AND_CONFIG_MAP"
    );

    // A second scan finds nothing new to do for the complete cluster: only the others queue.
    let again = fleet_scan::handle(
        &scan_deps,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + support::RUN_DEADLINE,
    )
    .await
    .expect("scan");
    assert_eq!(again["queued"], 2, "{again}");
    // pay-prod's finding resolved: archived by BatchImportFindings alone (no workflow update:
    // the migrator may not change any finding's workflow, issue 18 item 8).
    assert_eq!(
        again["findings"],
        json!({"imported": 2, "resolved": 1, "not_delivered": 0}),
        "{again}"
    );
    drain(&p, &worker_deps).await;
    let later = captured_events(&p).await;
    phase_chain(&later, A, "us-west-2", "pay-new", "VERIFIED");
    assert!(
        later.iter().all(|e| e["detail"]["cluster"] == "pay-new"),
        "a blocked cluster re-verified on every run sends nothing new: {later:?}"
    );
    events.extend(later);
    let ids: Vec<&str> = events
        .iter()
        .map(|e| {
            e["detail"]["transition_id"]
                .as_str()
                .expect("transition_id")
        })
        .collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(
        ids.len(),
        distinct.len(),
        "each transition exactly once: {ids:?}"
    );
    for (account, region, name) in [
        (A, "us-east-1", "pay-prod"),
        (A, "eu-west-1", "pay-legacy"),
        (B, "us-east-1", "data-prod"),
        (A, "us-west-2", "pay-new"),
    ] {
        let key = eks_auth_aws::ClusterKey::from_pk(&format!("CLUSTER#{account}#{region}#{name}"))
            .expect("key");
        let record = store
            .get_cluster(&key)
            .await
            .expect("read")
            .expect("record");
        assert!(record.outbox.is_empty(), "{name}: {:?}", record.outbox);
    }

    // The second scan resolved pay-prod's finding (API) and raised pay-legacy's (blockers).
    let archived = (
        arn(A, "us-east-1", "pay-prod"),
        "ARCHIVED".to_owned(),
        "PASSED".to_owned(),
        "INFORMATIONAL".to_owned(),
    );
    assert_eq!(
        findings(&p, A).await,
        vec![active(A, "eu-west-1", "pay-legacy", "HIGH"), archived]
    );
    assert_eq!(
        findings(&p, B).await,
        vec![active(B, "us-east-1", "data-prod", "LOW")]
    );

    check_metrics(&metrics.metric_sets(), events.len());
    the_report_describes_the_fleet(&store).await;

    // Least privilege: every call a function made in the central account is one its role in
    // template.yaml grants (the member role's side is checked in crates/aws/tests/engine.rs).
    let calls = moto.recorded_calls().expect("recorded calls");
    for (key, role) in [
        (FLEET_SCAN_KEY, "FleetScanRole"),
        (CLUSTER_EVENTS_KEY, "ClusterEventsRole"),
        (CLUSTER_WORKER_KEY, "ClusterWorkerRole"),
    ] {
        let granted = role_actions(role);
        let made: BTreeSet<String> = calls
            .iter()
            .filter(|c| c.access_key == key)
            .map(iam_action)
            .collect();
        assert!(!made.is_empty(), "no call of {role} recorded");
        let missing: Vec<&String> = made.iter().filter(|a| !granted.contains(*a)).collect();
        assert!(
            missing.is_empty(),
            "{role} in template.yaml does not grant {missing:?} (it made {made:?})"
        );
    }
    assert!(
        role_actions("ClusterWorkerRole").contains("events:PutEvents"),
        "the worker puts the events"
    );
    // The member role's side for Security Hub (its EKS side is checked in the engine tests):
    // imports and workflow updates, made through member sessions, are what it grants.
    let member_role = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/member-role.yaml"
    ))
    .expect("member-role.yaml");
    let central_keys = [FLEET_SCAN_KEY, CLUSTER_EVENTS_KEY, CLUSTER_WORKER_KEY];
    let security_hub: BTreeSet<String> = calls
        .iter()
        .filter(|c| c.service == "securityhub" && !central_keys.contains(&c.access_key.as_str()))
        .map(iam_action)
        .collect();
    // GetFindings is this test's own read (findings()). The member role may not change any
    // finding's workflow (BatchUpdateFindings would reach GuardDuty's and Inspector's too): the
    // scan never calls it and the role does not grant it.
    assert!(
        security_hub.contains("securityhub:BatchImportFindings"),
        "{security_hub:?}"
    );
    assert!(
        !security_hub.contains("securityhub:BatchUpdateFindings")
            && !member_role.contains("securityhub:BatchUpdateFindings"),
        "{security_hub:?}"
    );
    for action in security_hub
        .iter()
        .filter(|a| *a != "securityhub:GetFindings")
    {
        assert!(
            member_role.contains(&format!("- {action}\n")),
            "infra/member-role.yaml does not grant {action}"
        );
    }
    assert!(
        calls
            .iter()
            .filter(|c| central_keys.contains(&c.access_key.as_str()))
            .all(|c| c.service != "securityhub"),
        "findings are imported through the member role only"
    );
}

/// The phase events of one cluster form one chain from DISCOVERED to `last`, each starting
/// where the one before ended.
fn phase_chain(events: &[serde_json::Value], account: &str, region: &str, name: &str, last: &str) {
    let mut chain: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "Cluster Migration Phase Changed")
        .filter(|e| e["detail"]["cluster"] == name && e["detail"]["account"] == account)
        .collect();
    chain.sort_by_key(|e| {
        e["detail"]["transition_id"]
            .as_str()
            .and_then(|id| id.rsplit('/').next())
            .and_then(|v| v.parse::<u64>().ok())
    });
    assert!(!chain.is_empty(), "{name}: no phase event");
    let mut at = "DISCOVERED".to_owned();
    for e in &chain {
        assert_eq!(e["source"], "eks-auth-migrator");
        assert_eq!(e["detail"]["region"], region);
        assert_eq!(e["detail"]["old_phase"], at.as_str(), "{name}: {chain:?}");
        assert_ne!(e["detail"]["new_phase"], e["detail"]["old_phase"]);
        at = e["detail"]["new_phase"]
            .as_str()
            .expect("new_phase")
            .to_owned();
    }
    assert_eq!(at, last, "{name}: {chain:?}");
}

/// The EMF lines of the whole test: the scans' fleet figures, one run set per worker run (whose
/// published events add up to what the bus received), one set per CloudTrail event.
fn check_metrics(sets: &[MetricSet], events_on_bus: usize) {
    let scans: Vec<&MetricSet> = sets
        .iter()
        .filter(|s| s.dimension("Function") == Some("fleet-scan") && s.dimensions.len() == 1)
        .collect();
    assert_eq!(scans.len(), 2, "one per schedule event that scanned");
    assert_eq!(scans[0].value("ClustersFound"), Some(3.0));
    assert_eq!(scans[0].value("FindingsImported"), Some(3.0));
    assert_eq!(scans[1].value("FindingsResolved"), Some(1.0));
    assert_eq!(scans[1].value("ClustersBlocked"), Some(1.0));
    let clusters = |dimension: &str, value: &str| {
        sets.iter()
            .filter(|s| s.dimension(dimension) == Some(value))
            .filter_map(|s| s.value("Clusters"))
            .collect::<Vec<f64>>()
    };
    assert_eq!(clusters("Phase", "COMPLETE"), vec![0.0, 1.0]);
    assert_eq!(clusters("AuthenticationMode", "CONFIG_MAP"), vec![3.0, 0.0]);
    assert_eq!(clusters("MigrationMode", "finalize"), vec![2.0, 2.0]);
    let runs: Vec<&MetricSet> = sets
        .iter()
        .filter(|s| s.dimension("Outcome").is_some())
        .collect();
    let outcomes: BTreeSet<&str> = runs.iter().filter_map(|s| s.dimension("Outcome")).collect();
    for expected in ["done", "waiting", "blocked"] {
        assert!(outcomes.contains(expected), "{outcomes:?}");
    }
    assert!(runs.iter().all(|s| s.value("Runs") == Some(1.0)));
    let published: f64 = sets
        .iter()
        .filter(|s| s.dimension("Function") == Some("cluster-worker") && s.dimensions.len() == 1)
        .filter_map(|s| s.value("EventsPublished"))
        .sum();
    assert_eq!(published, events_on_bus as f64);
    let decisions: Vec<(&str, &str)> = sets
        .iter()
        .filter(|s| s.dimension("Function") == Some("cluster-events"))
        .map(|s| {
            (
                s.dimension("Decision").unwrap_or(""),
                s.dimension("Reason").unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            ("enqueued", "drift"),
            ("dropped", "out-of-scope"),
            ("enqueued", "new-cluster")
        ]
    );
    for set in sets {
        for (_, value) in &set.dimensions {
            assert!(
                !value.contains("pay-") && !value.contains("data-") && !value.contains(A),
                "no per-cluster or per-account dimension: {set:?}"
            );
        }
    }
}

/// The fleet report (what `eks-auth-migrator report` prints after `scripts/demo`, which runs
/// this fleet) says what the pipeline did: four clusters with their modes and phases, the one
/// blocker and what holds it, who is cluster admin where, the creators' admin entries.
async fn the_report_describes_the_fleet(store: &StateStore) {
    use eks_auth_core::finding::FindingCode;
    use eks_auth_core::report::{self, Filter};
    let read = store.read_fleet(2).await.expect("fleet read");
    assert!(
        read.input.unreadable.is_empty(),
        "{:?}",
        read.input.unreadable
    );
    let fleet = report::build(&read.input, &Filter::default(), 1_800_000_000_000);
    let h = &fleet.headline;
    assert_eq!(h.clusters, 4);
    assert_eq!(
        (
            h.authentication_modes.api,
            h.authentication_modes.api_and_config_map,
            h.authentication_modes.config_map
        ),
        (1, 3, 0)
    );
    assert_eq!((h.modes.finalize, h.modes.migrate), (2, 2));
    assert_eq!(h.without_inventory, 0);
    assert_eq!(h.blocked_clusters, 1);
    assert_eq!(h.failed_scans, 0);
    let phases: Vec<(String, &str)> = fleet
        .clusters
        .iter()
        .map(|c| (c.name.clone(), c.phase.as_str()))
        .collect();
    assert_eq!(
        phases,
        [
            ("pay-legacy".to_owned(), "BLOCKED"),
            ("pay-prod".to_owned(), "COMPLETE"),
            ("pay-new".to_owned(), "VERIFIED"),
            ("data-prod".to_owned(), "VERIFIED"),
        ]
    );
    assert_eq!(fleet.blockers.len(), 1, "{:?}", fleet.blockers);
    assert_eq!(fleet.blockers[0].code, FindingCode::SystemGroup);
    assert_eq!(fleet.blockers[0].affected[0].name, "pay-legacy");
    // Every cluster's creator was seen after the migrator's switch, and the default policy keeps it.
    for c in &fleet.clusters {
        assert_eq!(
            c.creator.principal.as_deref(),
            Some(format!("arn:aws:iam::{}:user/creator", c.account).as_str()),
            "{}",
            c.name
        );
        assert!(c.creator.kept, "{}", c.name);
    }
    // platform-admin (system:masters in every aws-auth) is a cluster admin on each cluster of its
    // account that is not in API mode through aws-auth, or through its migrated entry.
    let admin = |account: &str| format!("arn:aws:iam::{account}:role/platform-admin");
    for (account, clusters) in [(A, 3), (B, 1)] {
        let callout = fleet
            .access
            .cluster_admins
            .iter()
            .find(|c| c.principal_arn == admin(account))
            .unwrap_or_else(|| panic!("{} is called out as cluster admin", admin(account)));
        assert_eq!(callout.clusters.len(), clusters);
    }
    // The member role may read aws-auth but not RBAC here (edit in kube-system only): no
    // suggestion anywhere, and the report says what to grant.
    assert_eq!(fleet.suggestions.clusters_analysed, 0);
    assert_eq!(
        fleet.suggestions.unreadable.len(),
        4,
        "{:?}",
        fleet.suggestions
    );
    assert!(
        fleet
            .suggestions
            .unreadable
            .iter()
            .all(|u| u.reason.contains("eks-auth-migrator-rbac-reader")),
        "{:?}",
        fleet.suggestions.unreadable
    );
    // Each account's aws-auth names the other account's team-a role.
    assert!(
        fleet
            .access
            .other_account
            .iter()
            .any(|c| c.principal_arn.ends_with(":role/teams/team-a"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_sample_events_are_handled_as_documented() {
    let Some(p) = pipeline().await else { return };
    let deps =
        cluster_worker::Deps::new(p.central.clone(), p.env.clone(), "sample-worker".to_owned());
    for file in ["one-job.json", "batch.json", "poison.json"] {
        let event: SqsEvent =
            serde_json::from_value(sample(&format!("cluster-worker/{file}"))).expect("SQS event");
        let response = cluster_worker::handle(&deps, event, Instant::now() + support::RUN_DEADLINE)
            .await
            .expect("handled");
        // The samples name clusters of account 111122223333, outside this fleet's
        // accounts.include: each job is dropped as out of scope, the malformed body in
        // batch.json is acknowledged, nothing is retried.
        assert!(
            response.batch_item_failures.is_empty(),
            "{file}: {response:?}"
        );
    }
}

/// Issue 18 item 4: a job for a cluster outside the configuration's account or region scope,
/// sent straight to the worker (anyone allowed sqs:SendMessage, or a job queued before the
/// document changed), is dropped with a log line and a metric: the cluster is not touched.
#[tokio::test(flavor = "multi_thread")]
async fn the_worker_drops_jobs_for_clusters_outside_the_scope() {
    let Some(p) = pipeline().await else { return };
    // Account B excluded, and only us-east-1 scanned: B's data-prod (us-east-1) and A's
    // pay-legacy (eu-west-1) are out of scope, though the default mode would finalize them.
    aws_sdk_ssm::Client::new(&p.central)
        .put_parameter()
        .name(PARAMETER)
        .overwrite(true)
        .value(format!(
            r#"{{"version":1,"default_mode":"finalize","regions":["us-east-1"],"accounts":{{"exclude":["{B}"]}},"soak_hours":0}}"#
        ))
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    let metrics = Captured::default();
    let mut deps =
        cluster_worker::Deps::new(p.central.clone(), p.env.clone(), "scope-worker".to_owned());
    deps.clients.metrics = MetricsOut::to_writer(NAMESPACE, metrics.clone());
    let record = |id: &str, account: &str, region: &str, cluster: &str| {
        json!({
            "messageId": id,
            "receiptHandle": format!("handle-{id}"),
            "body": json!({"version": 1, "account": account, "region": region,
                           "cluster": cluster, "reason": "scan"}).to_string(),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "awsRegion": "us-east-1"
        })
    };
    let event: SqsEvent = serde_json::from_value(json!({"Records": [
        record("excluded-account", B, "us-east-1", "data-prod"),
        record("unlisted-region", A, "eu-west-1", "pay-legacy"),
    ]}))
    .expect("SQS event");
    let response = cluster_worker::handle(&deps, event, Instant::now() + support::RUN_DEADLINE)
        .await
        .expect("handled");
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let store = StateStore::from_config(&p.central, TABLE);
    for (account, region, cluster) in [
        (B, "us-east-1", "data-prod"),
        (A, "eu-west-1", "pay-legacy"),
    ] {
        assert_eq!(
            sim_mode(&p, account, region, cluster),
            "CONFIG_MAP",
            "{cluster}"
        );
        assert_eq!(
            phase(&store, account, region, cluster).await,
            None,
            "{cluster}"
        );
    }
    let outcomes: Vec<String> = metrics
        .metric_sets()
        .iter()
        .filter_map(|m| m.dimension("Outcome").map(str::to_owned))
        .collect();
    assert_eq!(outcomes, ["out_of_scope", "out_of_scope"], "{outcomes:?}");
}
