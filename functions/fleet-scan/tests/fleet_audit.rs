//! The organisation's audit as an operator runs it (`eks-auth-migrator scan`, in process here):
//! a generated organisation on the local stack is scanned and every cluster audited, then the
//! fleet read back for a report must account for every cluster the simulator holds and every
//! principal's access exactly as the simulator's effective-access oracle gives it.

mod support;

use eks_auth_aws::StateStore;
use eks_auth_aws::fleet::in_process::{AuditResult, AuditSettings, audit_fleet};
use eks_auth_aws::fleet::members::MemberAccounts;
use eks_auth_aws::fleet::organization::Organization;
use eks_auth_aws::fleet::scan::ScanSettings;
use eks_auth_core::config::{AccountScope, Config};
use eks_auth_core::inventory::{AccessPath, RbacDigest};
use eks_auth_core::report::input::ClusterView;
use eks_auth_core::state::{Mode, Phase};
use eks_sim::fleet::{FleetSpec, MIGRATOR_ROLE, generate};
use eks_sim::harness::Stack;
use eks_sim::oracle::Source;
use eks_sim::seed::Seed;
use std::time::{Duration, Instant};

const TABLE: &str = "eam-audit";
const REGIONS: [&str; 2] = ["us-east-1", "us-west-2"];
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audited_organisation_accounts_for_every_cluster_and_principal() {
    let stack = Stack::start(Seed::default(), true).await.expect("stack");
    let Some(moto) = stack.moto.as_ref().map(|m| m.url()) else {
        assert!(
            std::env::var("EAM_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "moto_server is missing and EAM_REQUIRE_TOOLS=1"
        );
        return;
    };
    let mut fleet = generate(&FleetSpec {
        accounts: 3,
        regions: REGIONS.len(),
        clusters: 2,
        rows_min: 4,
        rows_max: 24,
        seed: 11,
        private_every: 0,
        restricted_every: 0,
    });
    let mut settings = fleet.settings.take().unwrap_or_default();
    settings.sts_endpoint = Some(moto.clone());
    fleet.settings = Some(settings);
    let accounts: Vec<String> = fleet.accounts.iter().map(|a| a.id.clone()).collect();
    let iam_view: Vec<(String, Vec<String>)> = fleet
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.iam.clone()))
        .collect();
    let clusters = stack.sim.load_seed(fleet).expect("fleet");
    let dir = tempfile::tempdir().expect("dir");
    let central = support::central_config(&stack, &dir).await;
    for (account, principals) in &iam_view {
        let iam = aws_sdk_iam::Client::new(&support::member(&central, account).await);
        for arn in principals {
            support::create_principal_arn(&iam, arn).await;
        }
    }
    let store = StateStore::from_config(&central, TABLE);
    store
        .create_table(Duration::from_secs(30))
        .await
        .expect("table");
    let config = Config {
        regions: Some(REGIONS.iter().map(|r| (*r).to_owned()).collect()),
        accounts: AccountScope {
            include: Some(accounts.clone()),
            exclude: Vec::new(),
        },
        // The configuration would finalize; an operator's scan only ever audits.
        default_mode: Mode::Finalize,
        ..Config::default()
    };
    let members = MemberAccounts::new(central.clone(), MIGRATOR_ROLE);
    let audit = audit_fleet(
        &Organization::new(&central),
        &members,
        &store,
        &config,
        &AuditSettings {
            scan: ScanSettings {
                regions: config.regions.clone().unwrap_or_default(),
                concurrency: 4,
                deadline: Instant::now() + support::RUN_DEADLINE,
            },
            concurrency: 4,
            worker_id: "audit-test".to_owned(),
        },
        &|_, _, _| {},
    )
    .await
    .expect("audit");
    assert_eq!(audit.scan.clusters, clusters);
    assert!(audit.scan.failed.is_empty(), "{:?}", audit.scan.failed);
    for c in &audit.clusters {
        assert!(
            matches!(
                c.result,
                AuditResult::Audited {
                    phase: Phase::Planned
                }
            ),
            "{c:?}"
        );
    }
    // Nothing changed on any cluster: every one is in the mode it was seeded with.
    assert!(
        stack.sim.stats().keys().all(|op| ![
            "UpdateClusterConfig",
            "CreateAccessEntry",
            "AssociateAccessPolicy"
        ]
        .contains(&op.as_str())),
        "{:?}",
        stack.sim.stats()
    );

    let read = store.read_fleet(4).await.expect("fleet read");
    let input = read.input;
    assert!(input.unreadable.is_empty(), "{:?}", input.unreadable);
    assert_eq!(input.clusters.len(), clusters);
    assert_eq!(input.scans.len(), accounts.len() * REGIONS.len());
    let world_clusters: Vec<eks_sim::model::ClusterKey> = stack
        .sim
        .with_world(|w| w.clusters.keys().cloned().collect());
    let mut analysed_groups = 0;
    for key in &world_clusters {
        let view = input
            .clusters
            .iter()
            .find(|c| c.account == key.account && c.region == key.region && c.name == key.name)
            .unwrap_or_else(|| panic!("{key:?} in the report"));
        assert_eq!(view.mode, Mode::Audit);
        // The migrator role is a cluster admin here: every audit run read the cluster's RBAC.
        let rbac = view.inventory.as_ref().and_then(|i| i.rbac.as_ref());
        match rbac {
            // The generated clusters bind no aws-auth group in RBAC: every group is unbound.
            Some(RbacDigest::Analysed { counts, .. }) => {
                assert_eq!(counts.unbound, counts.groups, "{key:?}: {counts:?}");
                analysed_groups += counts.groups;
            }
            other => panic!("{key:?}: RBAC not analysed: {other:?}"),
        }
        assert_eq!(view.kubernetes_version.as_deref(), Some("1.31"));
        assert!(view.tags.contains_key("team"));
        let principals = &iam_view
            .iter()
            .find(|(a, _)| a == &key.account)
            .expect("account")
            .1;
        for arn in principals {
            check_principal(&stack, key, view, arn);
        }
    }
    assert!(analysed_groups > 0, "no aws-auth group was analysed");
}

/// The inventory's word on `arn` equals the oracle's.
fn check_principal(stack: &Stack, key: &eks_sim::model::ClusterKey, view: &ClusterView, arn: &str) {
    let inventory = view.inventory.as_ref().expect("an inventory");
    let access = stack.sim.oracle(key, arn).expect("oracle");
    let listed = inventory
        .principals
        .iter()
        .find(|p| p.principal_arn.eq_ignore_ascii_case(arn));
    let context = format!("{}/{}/{} {arn}", key.account, key.region, key.name);
    match access {
        None => assert!(
            listed.is_none_or(|p| p.via == AccessPath::None),
            "{context}: no access, but the inventory says {listed:?}"
        ),
        Some(access) => {
            let p =
                listed.unwrap_or_else(|| panic!("{context}: has {access:?}, not in the inventory"));
            let via = match access.source {
                Source::AccessEntry => AccessPath::AccessEntry,
                Source::AwsAuth => AccessPath::AwsAuth,
                other => panic!("{context}: unexpected source {other:?}"),
            };
            assert_eq!(p.via, via, "{context}");
            assert_eq!(
                p.username.as_deref().unwrap_or(""),
                access.username,
                "{context}"
            );
            assert_eq!(p.groups, access.groups, "{context}");
            assert_eq!(
                p.cluster_admin,
                access.groups.iter().any(|g| g == "system:masters"),
                "{context}"
            );
        }
    }
}
