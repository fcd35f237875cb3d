//! What the fleet report reads from the state table, against a real moto server: inventories
//! (compressed, split, generation-switched), scan sightings, and the parallel fleet read with
//! its handling of records it cannot use.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::Moto;
use eks_auth_aws::store::inventory::{InventoryError, InventoryRef, encode};
use eks_auth_aws::store::records::ClusterState;
use eks_auth_aws::store::scans::{ScanMark, ScanStatus};
use eks_auth_aws::store::sightings::Sighting;
use eks_auth_aws::{ClusterKey, StateStore};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::{AuthenticationMode, ClusterFacts};
use eks_auth_core::inventory::ClusterInventory;
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::report::input::ScanOutcome;
use eks_auth_core::state::{Mode, Phase};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn key(account: &str, name: &str) -> ClusterKey {
    ClusterKey {
        account: account.parse().expect("account"),
        region: "eu-west-1".parse().expect("region"),
        name: name.parse().expect("name"),
    }
}

fn example_inventory() -> ClusterInventory {
    let auth =
        AwsAuth::parse_configmap(include_str!("../../../examples/aws-auth.yaml")).expect("example");
    let facts: ClusterFacts =
        serde_json::from_str(include_str!("../../../examples/facts.json")).expect("facts");
    let plan = eks_auth_core::plan(&auth, Some(&facts), &MigrationPolicy::default());
    ClusterInventory::from_plan(&auth, &plan, Some(&facts))
}

/// Stores `inventory` for `key` and points its record at it, as the engine does.
async fn save_inventory(
    store: &StateStore,
    key: &ClusterKey,
    inventory: &ClusterInventory,
) -> InventoryRef {
    let encoded = encode(inventory).expect("encodes");
    let reference = store
        .put_inventory(key, &encoded, at(100))
        .await
        .expect("put inventory");
    let record = store.get_cluster(key).await.expect("get").expect("record");
    let mut state = record.state.clone();
    state.inventory = Some(reference.clone());
    state.phase = Phase::Planned;
    store
        .save_cluster(key, record.version, &state, at(101), None)
        .await
        .expect("save");
    store
        .delete_other_inventories(key, &reference.generation)
        .await
        .expect("delete others");
    reference
}

#[tokio::test]
async fn inventories_are_replaced_by_generation_and_read_back_whole() {
    let Some(moto) = Moto::start() else { return };
    let store = moto.store("eam-inventory").await;
    let k = key("111122223333", "prod");
    store
        .create_cluster(&k, &ClusterState::discovered(Mode::Audit), at(1))
        .await
        .expect("create");
    let first = example_inventory();
    let r1 = save_inventory(&store, &k, &first).await;
    assert_eq!(
        store
            .get_inventory(&k, &r1)
            .await
            .expect("read")
            .expect("decodes"),
        first
    );
    // A 5,000-row aws-auth's inventory: several parts, each under DynamoDB's item limit.
    let mut big = first.clone();
    let template = big.principals[0].clone();
    big.principals = (0..5_000)
        .map(|i| {
            let mut p = template.clone();
            p.principal_arn = format!("arn:aws:iam::111122223333:role/team-{i}-{}", i * 7919);
            p.username = Some(format!("user-{}", i * 104_729));
            p
        })
        .collect();
    let r2 = save_inventory(&store, &k, &big).await;
    assert_ne!(r1.generation, r2.generation);
    assert_eq!(
        store
            .get_inventory(&k, &r2)
            .await
            .expect("read")
            .expect("decodes"),
        big
    );
    // The first generation's parts are gone.
    assert!(matches!(
        store.get_inventory(&k, &r1).await.expect("read"),
        Err(InventoryError::MissingPart { .. })
    ));
    let fleet = store.read_fleet(3).await.expect("fleet");
    let cluster = &fleet.input.clusters[0];
    assert_eq!(cluster.inventory.as_ref(), Some(&big));
    assert_eq!(cluster.inventory_at_ms, Some(100_000));
}

/// Puts a raw item, as another version of the migrator (or a corruption) might have written it.
async fn put_raw(moto: &Moto, table: &str, pk: &str, sk: &str, attrs: &[(&str, AttributeValue)]) {
    let client = aws_sdk_dynamodb::Client::new(&moto.config().await);
    let mut put = client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.to_owned()))
        .item("sk", AttributeValue::S(sk.to_owned()));
    for (name, value) in attrs {
        put = put.item(*name, value.clone());
    }
    put.send().await.expect("put raw item");
}

#[tokio::test]
async fn the_fleet_read_names_what_it_cannot_use_and_reports_the_rest() {
    let Some(moto) = Moto::start() else { return };
    let table = "eam-fleet";
    let store = moto.store(table).await;
    let good = key("111122223333", "good");
    let bad_inventory = key("111122223333", "bad-inventory");
    let seen_only = key("444455556666", "seen-only");
    for k in [&good, &bad_inventory] {
        store
            .create_cluster(k, &ClusterState::discovered(Mode::Audit), at(1))
            .await
            .expect("create");
    }
    let inventory = example_inventory();
    save_inventory(&store, &good, &inventory).await;
    // A record pointing at an inventory whose part holds garbage.
    let reference = save_inventory(&store, &bad_inventory, &inventory).await;
    put_raw(
        &moto,
        table,
        &bad_inventory.pk(),
        &format!("INVENTORY#{}#0000", reference.generation),
        &[(
            "data",
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(b"garbage".to_vec())),
        )],
    )
    .await;
    // A record another version wrote, with a phase this version does not know.
    put_raw(
        &moto,
        table,
        "CLUSTER#111122223333#eu-west-1#future",
        "META",
        &[
            ("phase", AttributeValue::S("TELEPORTED".to_owned())),
            ("mode", AttributeValue::S("audit".to_owned())),
        ],
    )
    .await;
    // Audit records and backups are not read.
    put_raw(&moto, table, &good.pk(), "AUDIT#1#x", &[]).await;
    let sighting = Sighting {
        authentication_mode: Some(AuthenticationMode::ApiAndConfigMap),
        kubernetes_version: Some("1.33".to_owned()),
        status: Some("ACTIVE".to_owned()),
        tags: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
        created_at: Some(at(5)),
        reachability: None,
    };
    store
        .record_sightings(
            &[
                (good.clone(), sighting.clone()),
                (seen_only.clone(), Sighting::default()),
            ],
            at(200),
        )
        .await
        .expect("sightings");
    store
        .record_scans(&[
            ScanMark {
                account: "111122223333".to_owned(),
                region: "eu-west-1".to_owned(),
                status: ScanStatus::Scanned { clusters: 3 },
                scanned_at: at(200),
                started_at: Some(at(150)),
            },
            ScanMark {
                account: "444455556666".to_owned(),
                region: "eu-west-1".to_owned(),
                status: ScanStatus::Failed("AccessDenied: not authorized to assume".to_owned()),
                scanned_at: at(200),
                started_at: Some(at(150)),
            },
        ])
        .await
        .expect("marks");

    let read = store.read_fleet(4).await.expect("fleet");
    let input = &read.input;
    let names: Vec<&str> = input.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["bad-inventory", "good", "seen-only"]);
    let good_view = &input.clusters[1];
    assert_eq!(good_view.inventory.as_ref(), Some(&inventory));
    assert_eq!(good_view.kubernetes_version.as_deref(), Some("1.33"));
    assert_eq!(
        good_view.tags.get("team").map(String::as_str),
        Some("payments")
    );
    // The sighting is newer than the record: its authentication mode wins.
    assert_eq!(
        good_view.authentication_mode,
        Some(AuthenticationMode::ApiAndConfigMap)
    );
    assert_eq!(good_view.last_seen_ms, Some(200_000));
    assert!(input.clusters[0].inventory.is_none());
    assert_eq!(input.clusters[2].phase, Phase::Discovered);
    let unreadable: Vec<&str> = input.unreadable.iter().map(|u| u.item.as_str()).collect();
    assert_eq!(unreadable.len(), 2, "{:?}", input.unreadable);
    assert!(
        unreadable
            .iter()
            .any(|u| u.starts_with("CLUSTER#111122223333#eu-west-1#future META"))
    );
    assert!(
        unreadable
            .iter()
            .any(|u| u.starts_with(&format!("{} INVENTORY#", bad_inventory.pk())))
    );
    assert!(input.unreadable.iter().all(|u| !u.reason.is_empty()));
    assert_eq!(input.scans.len(), 2);
    assert!(
        matches!(&input.scans[1].outcome, ScanOutcome::Failed { reason } if reason.contains("AccessDenied"))
    );
}

#[tokio::test]
async fn reading_a_table_that_does_not_exist_fails_with_a_reason() {
    let Some(moto) = Moto::start() else { return };
    let store = StateStore::from_config(&moto.config().await, "no-such-table");
    let err = store.read_fleet(2).await.expect_err("no table");
    assert!(err.to_string().contains("Scan"), "{err}");
}
