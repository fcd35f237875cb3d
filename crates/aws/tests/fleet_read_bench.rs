//! Benchmark, not run by default (`#[ignore]`): reading a 10,000-cluster organisation with
//! 200,000 principal rows for the fleet report. The records are written through the store
//! (cluster records, their inventories, scan sightings and marks) into moto, then read back with
//! `StateStore::read_fleet` at several parallel-scan segment counts. Prints the figures
//! docs/benchmarks.md reports.
//!
//! `scripts/bench-report` runs it:
//! `cargo nextest run -p eks-auth-aws --test fleet_read_bench --run-ignored only --no-capture`.

mod common;

use common::Moto;
use eks_auth_aws::store::inventory::encode;
use eks_auth_aws::store::records::ClusterState;
use eks_auth_aws::store::scans::{ScanMark, ScanStatus};
use eks_auth_aws::store::sightings::Sighting;
use eks_auth_aws::{ClusterKey, StateStore};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::finding::{Finding, FindingCode, Location, Severity};
use eks_auth_core::inventory::{
    AccessPath, ClusterInventory, INVENTORY_FORMAT_VERSION, IamStatus, Origin, PrincipalAccess,
};
use eks_auth_core::plan::{Action, Section, Source, Summary};
use eks_auth_core::state::{Mode, Phase};
use eks_sim::harness::cpu_seconds;
use futures::StreamExt as _;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

const ACCOUNTS: usize = 50;
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];
const PER_REGION: usize = 50;
const PRINCIPALS: usize = 20;
const TABLE: &str = "eam-report-bench";

fn account(a: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + a as u64)
}

/// A cluster's inventory: `PRINCIPALS` rows, a blocker on every 9th cluster.
fn inventory(cluster: usize, account: &str) -> ClusterInventory {
    let principals = (0..PRINCIPALS)
        .map(|i| {
            let admin = i % 10 == 0;
            PrincipalAccess {
                principal_arn: format!(
                    "arn:aws:iam::{account}:role/team-{}",
                    (cluster * 7 + i) % 400
                ),
                account: Some(account.to_owned()),
                via: AccessPath::AwsAuth,
                origin: Origin::AwsAuth,
                source: Some(Source {
                    section: Section::MapRoles,
                    index: i,
                    line: Some(1 + 3 * i as u64),
                    arn: None,
                }),
                username: Some(format!("team-{i}:{{{{SessionName}}}}")),
                groups: if admin {
                    vec!["system:masters".to_owned()]
                } else {
                    vec![format!("team-{i}-editors")]
                },
                policies: Vec::new(),
                entry_type: None,
                cluster_admin: admin,
                managed_by_migrator: false,
                iam: IamStatus::Found,
                action: Some(Action::Create),
                target: None,
                codes: Vec::new(),
            }
        })
        .collect();
    let findings = if cluster.is_multiple_of(9) {
        vec![Finding::at(
            Location {
                key: "mapRoles".to_owned(),
                index: Some(3),
                line: Some(10),
            },
            FindingCode::SystemGroup,
            Severity::Blocker,
            "group system:monitoring cannot be carried by an access entry",
        )]
    } else {
        Vec::new()
    };
    ClusterInventory {
        format_version: INVENTORY_FORMAT_VERSION,
        authentication_mode: Some(AuthenticationMode::ConfigMap),
        summary: Summary {
            create: PRINCIPALS,
            blockers: findings.len(),
            ..Summary::default()
        },
        blocks_api_mode: !findings.is_empty(),
        findings,
        principals,
        rbac: None,
        handoff: None,
    }
}

/// Writes one cluster as the scan and an audit run would: record, inventory, record update.
async fn write_cluster(store: &StateStore, key: ClusterKey, n: usize) {
    let now = SystemTime::now();
    let record = store
        .create_cluster(&key, &ClusterState::discovered(Mode::Audit), now)
        .await
        .expect("create");
    let encoded = encode(&inventory(n, key.account.as_ref())).expect("encode");
    let reference = store
        .put_inventory(&key, &encoded, now)
        .await
        .expect("inventory");
    let mut state = record.state.clone();
    state.phase = Phase::Planned;
    state.authentication_mode = Some(AuthenticationMode::ConfigMap);
    state.inventory = Some(reference);
    store
        .save_cluster(&key, record.version, &state, now, None)
        .await
        .expect("save");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: scripts/bench-report"]
async fn read_a_10000_cluster_organisation() {
    let moto = Moto::start().expect("moto_server (run scripts/test once to install it)");
    let store = moto.store(TABLE).await;
    let keys: Vec<ClusterKey> = (0..ACCOUNTS)
        .flat_map(|a| {
            REGIONS.iter().flat_map(move |region| {
                (0..PER_REGION).map(move |c| ClusterKey {
                    account: account(a).parse().expect("account"),
                    region: region.parse().expect("region"),
                    name: format!("cluster-{c}").parse().expect("name"),
                })
            })
        })
        .collect();
    let clusters = keys.len();
    let started = Instant::now();
    futures::stream::iter(keys.iter().cloned().enumerate())
        .map(|(n, key)| write_cluster(&store, key, n))
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let sighting = Sighting {
        authentication_mode: Some(AuthenticationMode::ConfigMap),
        kubernetes_version: Some("1.33".to_owned()),
        status: Some("ACTIVE".to_owned()),
        tags: BTreeMap::from([("team".to_owned(), "platform".to_owned())]),
        created_at: Some(SystemTime::now()),
        reachability: None,
    };
    let sightings: Vec<(ClusterKey, Sighting)> =
        keys.iter().map(|k| (k.clone(), sighting.clone())).collect();
    store
        .record_sightings(&sightings, SystemTime::now())
        .await
        .expect("sightings");
    let marks: Vec<ScanMark> = (0..ACCOUNTS)
        .flat_map(|a| {
            REGIONS.iter().map(move |r| ScanMark {
                account: account(a),
                region: (*r).to_owned(),
                status: ScanStatus::Scanned {
                    clusters: PER_REGION as u32,
                },
                scanned_at: SystemTime::now(),
                started_at: None,
            })
        })
        .collect();
    store.record_scans(&marks).await.expect("marks");
    println!(
        "wrote {clusters} clusters ({} principal rows) through the store in {:.1} s",
        clusters * PRINCIPALS,
        started.elapsed().as_secs_f64()
    );
    for segments in [1u32, 4, 16] {
        let moto_before = cpu_seconds(moto.pid());
        let started = Instant::now();
        let read = store.read_fleet(segments).await.expect("read");
        let took = started.elapsed();
        let moto_cpu = cpu_seconds(moto.pid()) - moto_before;
        assert_eq!(read.input.clusters.len(), clusters);
        assert!(
            read.input.unreadable.is_empty(),
            "{:?}",
            read.input.unreadable
        );
        let rows: usize = read
            .input
            .clusters
            .iter()
            .filter_map(|c| c.inventory.as_ref())
            .map(|i| i.principals.len())
            .sum();
        assert_eq!(rows, clusters * PRINCIPALS);
        println!(
            "read_fleet segments={segments:>2}: {:.2} s — {} items, {} Scan requests, {rows} principal rows; moto busy {:.1} s of it",
            took.as_secs_f64(),
            read.items,
            read.requests,
            moto_cpu
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // This process's own share: inflating and decoding every inventory.
    let encoded: Vec<_> = (0..clusters)
        .map(|n| encode(&inventory(n, &account(n % ACCOUNTS))).expect("encode"))
        .collect();
    let bytes: usize = encoded.iter().flat_map(|e| &e.parts).map(Vec::len).sum();
    let started = Instant::now();
    for e in &encoded {
        let parts: Vec<&[u8]> = e.parts.iter().map(Vec::as_slice).collect();
        eks_auth_aws::store::inventory::decode(&e.generation, &parts).expect("decode");
    }
    println!(
        "decode {clusters} inventories ({:.1} MB compressed): {:.2} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
}
