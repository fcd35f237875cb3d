//! The fleet report at organisation scale: 10,000 clusters (100 accounts × 5 regions × 20) with
//! 200,000 principal rows in all (20 per cluster: node roles, shared admin and reader roles, team
//! roles, another account's roles, a user; some dead, some blocked), built and rendered in every
//! format.

use criterion::{Criterion, criterion_group, criterion_main};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::finding::{Finding, FindingCode, Location, Severity};
use eks_auth_core::inventory::{
    AccessPath, ClusterInventory, INVENTORY_FORMAT_VERSION, IamStatus, Origin, PrincipalAccess,
};
use eks_auth_core::plan::{AccessPolicy, AccessScope, Action, Summary};
use eks_auth_core::policy::CreatorEntry;
use eks_auth_core::report::input::{ClusterView, FleetInput, RecordCounts, ScanOutcome, ScanView};
use eks_auth_core::report::{self, Filter, Format, RenderOptions};
use eks_auth_core::state::{Mode, Phase};
use std::hint::black_box;

const NOW: u64 = 1_796_083_200_000;
const REGIONS: [&str; 5] = [
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
    "us-west-2",
    "ap-southeast-2",
];
const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn account(a: usize) -> String {
    format!("{:012}", 100_000_000_000 + a)
}

/// The 20 principals of cluster `c` of account `a`.
fn principals(a: usize, c: usize, mode: AuthenticationMode) -> Vec<PrincipalAccess> {
    let acct = account(a);
    let via = if mode == AuthenticationMode::ConfigMap {
        AccessPath::AwsAuth
    } else {
        AccessPath::AccessEntry
    };
    let mut out = Vec::with_capacity(20);
    let mut push = |arn: String, groups: &[&str], admin: bool, via: AccessPath| {
        out.push(PrincipalAccess {
            account: arn.split(':').nth(4).map(str::to_owned),
            principal_arn: arn,
            via,
            origin: Origin::AwsAuth,
            source: None,
            username: Some("user:{{SessionName}}".to_owned()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            policies: if admin && via == AccessPath::AccessEntry {
                vec![AccessPolicy {
                    policy_arn: ADMIN.to_owned(),
                    access_scope: AccessScope::cluster(),
                }]
            } else {
                Vec::new()
            },
            entry_type: None,
            cluster_admin: admin,
            managed_by_migrator: via == AccessPath::AccessEntry,
            iam: IamStatus::Found,
            action: Some(Action::Create),
            target: None,
            codes: Vec::new(),
        });
    };
    for n in 0..2 {
        push(
            format!("arn:aws:iam::{acct}:role/nodes-{c}-{n}"),
            &["system:nodes"],
            false,
            via,
        );
    }
    for r in [
        "platform-admin",
        "break-glass",
        "sre-oncall",
        "security-audit",
        "finops-reader",
    ] {
        push(
            format!("arn:aws:iam::{acct}:role/{r}"),
            &["system:masters"],
            r != "finops-reader",
            via,
        );
    }
    for t in 0..10 {
        push(
            format!("arn:aws:iam::{acct}:role/team-{t}-deployer"),
            &["team-editors", "team-viewers"],
            false,
            via,
        );
    }
    push(
        "arn:aws:iam::999999999999:role/observability-reader".to_owned(),
        &["read-only"],
        false,
        via,
    );
    push(
        format!("arn:aws:iam::{acct}:role/old/retired-{c}"),
        &["ops"],
        false,
        AccessPath::None,
    );
    push(
        format!("arn:aws:iam::{acct}:user/alice"),
        &["system:masters"],
        true,
        via,
    );
    out.sort_by(|x, y| x.principal_arn.cmp(&y.principal_arn));
    out
}

fn cluster(a: usize, r: usize, c: usize) -> ClusterView {
    let n = (a * 5 + r) * 20 + c;
    let auth = [
        AuthenticationMode::ConfigMap,
        AuthenticationMode::ApiAndConfigMap,
        AuthenticationMode::Api,
    ][n % 3];
    let findings = if n.is_multiple_of(7) {
        vec![Finding::at(
            Location {
                key: "mapAccounts".to_owned(),
                index: Some(0),
                line: Some(1),
            },
            FindingCode::MapAccounts,
            Severity::Blocker,
            "every IAM principal in account 222233334444 authenticates today; create entries for those that need access, then remove the account",
        )]
    } else {
        Vec::new()
    };
    ClusterView {
        account: account(a),
        region: REGIONS[r].to_owned(),
        name: format!("cluster-{c:02}"),
        phase: Phase::ALL[n % Phase::ALL.len()],
        mode: Mode::ALL[n % Mode::ALL.len()],
        authentication_mode: Some(auth),
        kubernetes_version: Some("1.33".to_owned()),
        tags: [("team".to_owned(), format!("team-{}", c % 10))]
            .into_iter()
            .collect(),
        creator_principal: (auth != AuthenticationMode::ConfigMap)
            .then(|| format!("arn:aws:iam::{}:role/platform-admin", account(a))),
        last_error: None,
        what_to_do: None,
        counts: RecordCounts {
            entries_planned: 19,
            entries_applied: 19,
            entries_verified: 19,
            blockers: findings.len() as u32,
        },
        updated_at_ms: NOW - 3_600_000,
        last_seen_ms: Some(NOW - 3_600_000),
        inventory_at_ms: Some(NOW - 3_600_000),
        inventory: Some(ClusterInventory {
            format_version: INVENTORY_FORMAT_VERSION,
            authentication_mode: Some(auth),
            summary: Summary {
                create: 19,
                skip: 1,
                blocked: 0,
                blockers: findings.len(),
                warnings: 0,
            },
            blocks_api_mode: !findings.is_empty(),
            findings,
            principals: principals(a, c, auth),
            rbac: None,
            handoff: None,
        }),
        reachability: None,
        route: None,
        owners: None,
    }
}

fn fleet() -> FleetInput {
    let mut clusters = Vec::with_capacity(10_000);
    let mut scans = Vec::new();
    for a in 0..100 {
        for (r, region) in REGIONS.iter().enumerate() {
            scans.push(ScanView {
                account: account(a),
                region: (*region).to_owned(),
                scanned_at_ms: NOW - 3_600_000,
                started_at_ms: Some(NOW - 3_700_000),
                outcome: ScanOutcome::Scanned { clusters: 20 },
            });
            clusters.extend((0..20).map(|c| cluster(a, r, c)));
        }
    }
    FleetInput {
        clusters,
        scans,
        unreadable: Vec::new(),
        creator_entry: CreatorEntry::Keep,
    }
}

fn bench(c: &mut Criterion) {
    let input = fleet();
    let rows: usize = input
        .clusters
        .iter()
        .filter_map(|c| c.inventory.as_ref())
        .map(|i| i.principals.len())
        .sum();
    assert_eq!((input.clusters.len(), rows), (10_000, 200_000));
    let filter = Filter::default();
    let mut group = c.benchmark_group("report 10k clusters, 200k principal rows");
    group.sample_size(10);
    group.bench_function("build", |b| {
        b.iter(|| report::build(black_box(&input), &filter, NOW))
    });
    let built = report::build(&input, &filter, NOW);
    let options = RenderOptions {
        color: false,
        width: Some(120),
    };
    for (name, format) in [
        ("table (120 columns)", Format::Table),
        ("json", Format::Json),
        ("csv (clusters)", Format::Csv),
        ("csv --inventory", Format::CsvInventory),
        ("markdown", Format::Markdown),
        ("html", Format::Html),
    ] {
        let size = report::render(&built, format, options)
            .map(|s| s.len())
            .unwrap_or(0);
        eprintln!("{name}: {:.1} MB", size as f64 / 1e6);
        group.bench_function(name, |b| {
            b.iter(|| report::render(black_box(&built), format, options))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
