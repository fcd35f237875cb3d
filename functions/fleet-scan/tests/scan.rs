//! The fleet scan phase by phase on the local stack (two accounts on the simulator, then an
//! organisation in moto): failed and skipped account-regions recorded with why; a
//! scan cut short by its deadline, and the next one continuing with the account-regions the
//! last one did not reach; jobs only for clusters that need work (not `skip`, not complete, an
//! unreadable record queued for its worker to report); records created for clusters seen the
//! first time, with the new-cluster mode for a cluster created after the migrator started
//! watching; nested OUs, the nearest listed one giving an account its mode.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use eks_auth_aws::fleet::scan::{ScanReport, ScanSettings, scan};
use eks_auth_aws::store::scans::{ScanMark, ScanStatus};
use eks_auth_core::config::Config;
use eks_auth_core::state::{Mode, Phase};
use eks_sim::faults::{FaultConfig, FaultRule};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "us-west-2"];

fn settings(concurrency: usize, time: Duration) -> ScanSettings {
    ScanSettings {
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        concurrency,
        deadline: Instant::now() + time,
    }
}

fn faults(rule: Option<FaultRule>) -> FaultConfig {
    FaultConfig {
        seed: 1,
        rules: rule.into_iter().collect(),
    }
}

fn scanned(marks: &[ScanMark]) -> Vec<(String, String, SystemTime)> {
    marks
        .iter()
        .filter(|m| matches!(m.status, ScanStatus::Scanned { .. }))
        .map(|m| (m.account.clone(), m.region.clone(), m.scanned_at))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn scans_record_failures_and_skips_continue_after_a_deadline_and_queue_only_needed_work() {
    let Some(p) = pipeline().await else { return };
    let deps = fleet_scan::Deps::new(p.central.clone(), p.env.clone());
    let c = &deps.clients;
    let config = Config::parse(&format!(
        r#"{{"version":1,"default_mode":"finalize","new_cluster_mode":"audit",
            "accounts":{{"include":["{A}","{B}"]}},
            "account_overrides":{{"{B}":{{"mode":"skip"}}}}}}"#
    ))
    .expect("configuration");
    let run = |concurrency, time| {
        let settings = settings(concurrency, time);
        let config = &config;
        async move {
            scan(&c.org, &c.members, &c.store, &c.queue, config, &settings)
                .await
                .expect("scan")
        }
    };

    // 1. Every ListClusters fails: each account-region is marked FAILED with EKS's answer,
    //    nothing is queued or recorded.
    p.stack.sim.set_faults(faults(Some(FaultRule {
        operation: "ListClusters".to_owned(),
        error_probability: 1.0,
        ..FaultRule::default()
    })));
    let report = run(8, Duration::from_secs(120)).await;
    assert_eq!(
        (
            report.accounts,
            report.scanned,
            report.unfinished,
            report.queued,
            report.recorded
        ),
        (2, 0, 0, 0, 0),
        "{report:?}"
    );
    assert_eq!(report.failed.len(), 6, "{report:?}");
    assert!(
        report.failed.iter().all(|f| f.contains("ListClusters")),
        "{report:?}"
    );
    let marks = c.store.scan_marks().await.expect("marks");
    assert_eq!(marks.len(), 6);
    for m in &marks {
        match &m.status {
            ScanStatus::Failed(why) => assert!(why.contains("ListClusters"), "{why}"),
            other => panic!("unexpected mark {other:?}"),
        }
    }

    // 2. Every EKS call takes 3 s and the scan has 2 s: the first account-region is scanned,
    //    the other five are left for the next scan; no record is created after the deadline.
    p.stack.sim.set_faults(faults(Some(FaultRule {
        operation: "*".to_owned(),
        latency_ms: 3_000,
        ..FaultRule::default()
    })));
    let report = run(1, Duration::from_secs(2)).await;
    assert_eq!(
        (
            report.scanned,
            report.unfinished,
            report.failed.len(),
            report.recorded
        ),
        (1, 5, 0, 0),
        "{report:?}"
    );
    let first = scanned(&c.store.scan_marks().await.expect("marks"));
    assert_eq!(first.len(), 1, "{first:?}");

    // 3. The next scan, as short, starts with an account-region the last one did not reach.
    let report = run(1, Duration::from_secs(2)).await;
    assert_eq!((report.scanned, report.unfinished), (1, 5), "{report:?}");
    let second = scanned(&c.store.scan_marks().await.expect("marks"));
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(
        second.contains(&first[0]),
        "the first mark stands: {second:?}"
    );

    // 4. A full scan. pay-new was created after the migrator started watching (scan 1);
    //    pay-legacy's record is unreadable; account B is `skip`.
    p.stack.sim.set_faults(faults(None));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    p.stack.sim.with_world(|w| {
        for cluster in w.clusters.values_mut() {
            if cluster.key.name == "pay-new" {
                cluster.created_at = now;
            }
        }
    });
    aws_sdk_dynamodb::Client::new(&p.central)
        .put_item()
        .table_name(TABLE)
        .item(
            "pk",
            AttributeValue::S(format!("CLUSTER#{A}#eu-west-1#pay-legacy")),
        )
        .item("sk", AttributeValue::S("META".to_owned()))
        .item("phase", AttributeValue::S("NOT-A-PHASE".to_owned()))
        .send()
        .await
        .expect("PutItem");
    let report = run(8, Duration::from_secs(120)).await;
    let expected = ScanReport {
        accounts: 2,
        scanned: 6,
        clusters: 4,
        // pay-prod, pay-new, and pay-legacy (unreadable: its worker reports why); not data-prod.
        queued: 3,
        failed: Vec::new(),
        unfinished: 0,
        // pay-prod, pay-new, data-prod; pay-legacy's record is left as it is.
        recorded: 3,
        timings: report.timings,
        seen: report.seen.clone(),
    };
    assert_eq!(report, expected);
    // What the scan hands on (metrics, Security Hub): each cluster found, with its record's
    // phase where it has one (pay-legacy's record is unreadable: none).
    let mut seen: Vec<(String, Option<Phase>, Mode)> = report
        .seen
        .iter()
        .map(|s| (s.name.clone(), s.phase, s.mode))
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        vec![
            ("data-prod".to_owned(), None, Mode::Skip),
            ("pay-legacy".to_owned(), None, Mode::Finalize),
            ("pay-new".to_owned(), None, Mode::Audit),
            ("pay-prod".to_owned(), None, Mode::Finalize),
        ]
    );
    let store = &c.store;
    assert_eq!(
        phase(store, A, "us-east-1", "pay-prod").await,
        Some((Phase::Discovered, Mode::Finalize))
    );
    assert_eq!(
        phase(store, A, "us-west-2", "pay-new").await,
        Some((Phase::Discovered, Mode::Audit)),
        "a new cluster starts from new_cluster_mode"
    );
    assert_eq!(
        phase(store, B, "us-east-1", "data-prod").await,
        Some((Phase::Discovered, Mode::Skip))
    );
    let legacy = eks_auth_aws::ClusterKey::from_pk(&format!("CLUSTER#{A}#eu-west-1#pay-legacy"))
        .expect("key");
    assert!(store.get_cluster(&legacy).await.is_err(), "still corrupt");
    assert_eq!(scanned(&store.scan_marks().await.expect("marks")).len(), 6);

    // 5. Again: the same jobs, no record created twice.
    let report = run(8, Duration::from_secs(120)).await;
    assert_eq!((report.queued, report.recorded), (3, 0), "{report:?}");

    // 6. Without `accounts.include` the organisation's ACTIVE accounts are scanned (moto's: the
    //    management account, no clusters, and a new member); an excluded account is SKIPPED.
    let org = aws_sdk_organizations::Client::new(&p.central);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization");
    let sandbox = org
        .create_account()
        .email("sandbox@example.com")
        .account_name("sandbox")
        .send()
        .await
        .expect("CreateAccount")
        .create_account_status()
        .and_then(|s| s.account_id())
        .expect("account ID")
        .to_owned();
    let config = Config::parse(&format!(
        r#"{{"version":1,"default_mode":"audit","accounts":{{"exclude":["{sandbox}"]}}}}"#
    ))
    .expect("configuration");
    let report = scan(
        &c.org,
        &c.members,
        &c.store,
        &c.queue,
        &config,
        &settings(8, Duration::from_secs(120)),
    )
    .await
    .expect("scan");
    assert_eq!(
        (
            report.accounts,
            report.scanned,
            report.clusters,
            report.failed.len()
        ),
        (1, 3, 0, 0),
        "{report:?}"
    );
    let skipped: Vec<ScanMark> = c
        .store
        .scan_marks()
        .await
        .expect("marks")
        .into_iter()
        .filter(|m| m.account == sandbox)
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped.iter().all(|m| m.status
            == ScanStatus::Skipped("excluded by the configuration document".to_owned())),
        "{skipped:?}"
    );

    // 7. Nested OUs: root > workloads > {prod, dev}. The scan's subtree walk and the worker's
    //    ListParents give each account its listed OUs nearest first; the nearest one's mode wins.
    let root = org
        .list_roots()
        .send()
        .await
        .expect("ListRoots")
        .roots()
        .first()
        .and_then(|r| r.id())
        .expect("root")
        .to_owned();
    let ou = |parent: String, name: &'static str| {
        let org = org.clone();
        async move {
            org.create_organizational_unit()
                .parent_id(parent)
                .name(name)
                .send()
                .await
                .expect("CreateOrganizationalUnit")
                .organizational_unit()
                .and_then(|o| o.id())
                .expect("OU id")
                .to_owned()
        }
    };
    let workloads = ou(root.clone(), "workloads").await;
    let prod = ou(workloads.clone(), "prod").await;
    let dev = ou(workloads.clone(), "dev").await;
    let mut placed = Vec::new();
    for (name, target) in [("prod-app", &prod), ("dev-app", &dev)] {
        let id = org
            .create_account()
            .email(format!("{name}@example.com"))
            .account_name(name)
            .send()
            .await
            .expect("CreateAccount")
            .create_account_status()
            .and_then(|s| s.account_id())
            .expect("account ID")
            .to_owned();
        org.move_account()
            .account_id(&id)
            .source_parent_id(&root)
            .destination_parent_id(target)
            .send()
            .await
            .expect("MoveAccount");
        placed.push(id);
    }
    let (prod_app, dev_app) = (&placed[0], &placed[1]);
    let listed = [root.clone(), workloads.clone(), prod.clone()];
    let under = c.org.accounts_in(&listed).await.expect("accounts_in");
    assert_eq!(
        under[prod_app],
        [prod.clone(), workloads.clone(), root.clone()]
    );
    assert_eq!(under[dev_app], [workloads.clone(), root.clone()]);
    assert_eq!(under[&sandbox], std::slice::from_ref(&root));
    assert_eq!(
        c.org.ancestors(prod_app).await.expect("ListParents"),
        [prod.clone(), workloads.clone(), root.clone()]
    );
    assert_eq!(
        c.org.ancestors(dev_app).await.expect("ListParents"),
        [dev.clone(), workloads.clone(), root.clone()]
    );
    let config = Config::parse(&format!(
        r#"{{"version":1,"default_mode":"skip","organizational_units":[
            {{"id":"{root}","mode":"audit"}},{{"id":"{workloads}","mode":"migrate"}},
            {{"id":"{prod}","mode":"finalize"}}]}}"#
    ))
    .expect("configuration");
    let none = std::collections::BTreeMap::new();
    for (account, mode) in [
        (prod_app, Mode::Finalize),
        (dev_app, Mode::Migrate),
        (&sandbox, Mode::Audit),
    ] {
        assert_eq!(
            config.mode_for(account, &under[account], &none, false).mode,
            mode
        );
    }
}
