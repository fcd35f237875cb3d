//! `build` over small hand-made fleets: counting, grouping, ordering, filters, the creator's
//! admin, scan freshness and unreadable items.

use super::build;
use crate::access_entry::{AccessPolicy, AccessScope};
use crate::facts::AuthenticationMode;
use crate::finding::{Finding, FindingCode, Location, Severity};
use crate::inventory::{
    AccessPath, ClusterInventory, INVENTORY_FORMAT_VERSION, IamStatus, Origin, PrincipalAccess,
};
use crate::plan::Summary;
use crate::policy::CreatorEntry;
use crate::report::filter::Filter;
use crate::report::input::{
    ClusterView, FleetInput, RecordCounts, ScanOutcome, ScanView, Unreadable,
};
use crate::report::model::{CreatorStatus, ScanStatus, Sighting};
use crate::state::{Mode, Phase};

const NOW: u64 = 1_796_083_200_000;
const HOUR: u64 = 3_600_000;
const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn principal(arn: &str, via: AccessPath, admin: bool) -> PrincipalAccess {
    PrincipalAccess {
        principal_arn: arn.to_owned(),
        account: arn.split(':').nth(4).map(str::to_owned),
        via,
        origin: Origin::AwsAuth,
        source: None,
        username: Some("u".to_owned()),
        groups: vec!["g".to_owned()],
        policies: Vec::new(),
        entry_type: None,
        cluster_admin: admin,
        managed_by_migrator: false,
        iam: IamStatus::Found,
        action: None,
        target: None,
        codes: Vec::new(),
    }
}

fn blocker(code: FindingCode, index: usize) -> Finding {
    Finding::at(
        Location {
            key: "mapRoles".to_owned(),
            index: Some(index),
            line: None,
        },
        code,
        Severity::Blocker,
        "do something",
    )
}

fn cluster(account: &str, region: &str, name: &str) -> ClusterView {
    ClusterView {
        account: account.to_owned(),
        region: region.to_owned(),
        name: name.to_owned(),
        phase: Phase::Planned,
        mode: Mode::Audit,
        authentication_mode: Some(AuthenticationMode::ConfigMap),
        kubernetes_version: None,
        tags: Default::default(),
        creator_principal: None,
        last_error: None,
        what_to_do: None,
        counts: RecordCounts::default(),
        updated_at_ms: NOW - HOUR,
        last_seen_ms: Some(NOW - HOUR),
        inventory_at_ms: Some(NOW - HOUR),
        inventory: Some(inventory(Vec::new(), Vec::new())),
        reachability: None,
        route: None,
        owners: None,
    }
}

fn inventory(principals: Vec<PrincipalAccess>, findings: Vec<Finding>) -> ClusterInventory {
    let blockers = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocker)
        .count();
    ClusterInventory {
        format_version: INVENTORY_FORMAT_VERSION,
        authentication_mode: Some(AuthenticationMode::ConfigMap),
        summary: Summary {
            blockers,
            ..Summary::default()
        },
        blocks_api_mode: blockers > 0,
        findings,
        principals,
        rbac: None,
        handoff: None,
    }
}

fn with(
    mut c: ClusterView,
    principals: Vec<PrincipalAccess>,
    findings: Vec<Finding>,
) -> ClusterView {
    c.inventory = Some(inventory(principals, findings));
    c
}

fn fleet(clusters: Vec<ClusterView>) -> FleetInput {
    FleetInput {
        clusters,
        ..FleetInput::default()
    }
}

#[test]
fn counts_modes_phases_and_shares() {
    let mut a = cluster("1", "r", "a");
    a.authentication_mode = Some(AuthenticationMode::Api);
    a.phase = Phase::Complete;
    a.mode = Mode::Finalize;
    let mut b = cluster("1", "r", "b");
    b.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    b.mode = Mode::Migrate;
    let mut c = cluster("1", "r", "c");
    c.authentication_mode = None;
    c.inventory = None;
    c.phase = Phase::Discovered;
    let d = cluster("1", "r", "d");
    let report = build(&fleet(vec![d, c, b, a]), &Filter::default(), NOW);
    let h = &report.headline;
    assert_eq!(h.clusters, 4);
    assert_eq!(
        (
            h.authentication_modes.config_map,
            h.authentication_modes.api_and_config_map
        ),
        (1, 1)
    );
    assert_eq!(
        (h.authentication_modes.api, h.authentication_modes.unknown),
        (1, 1)
    );
    assert_eq!(h.on_access_entries.api.percent, 25.0);
    assert_eq!(h.on_access_entries.api_and_config_map.clusters, 1);
    assert_eq!(h.locked_out.clusters, 1);
    assert_eq!(h.locked_out.features.len(), 4);
    assert_eq!(
        (
            h.modes.audit,
            h.modes.migrate,
            h.modes.finalize,
            h.modes.skip
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(h.phases.len(), Phase::ALL.len());
    let count = |p: Phase| h.phases.iter().find(|x| x.phase == p).map(|x| x.clusters);
    assert_eq!(count(Phase::Planned), Some(2));
    assert_eq!(count(Phase::Blocked), Some(0));
    assert_eq!(h.without_inventory, 1);
    let names: Vec<&str> = report.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["a", "b", "c", "d"],
        "ordered by account, region, name"
    );
    assert_eq!(report.generated_at, "2026-12-01T00:00:00Z");
}

#[test]
fn percentages_round_to_one_decimal_and_survive_an_empty_fleet() {
    let mut clusters: Vec<ClusterView> =
        (0..3).map(|i| cluster("1", "r", &i.to_string())).collect();
    clusters[0].authentication_mode = Some(AuthenticationMode::Api);
    let report = build(&fleet(clusters), &Filter::default(), NOW);
    assert_eq!(report.headline.on_access_entries.api.percent, 33.3);
    let empty = build(&FleetInput::default(), &Filter::default(), NOW);
    assert_eq!(empty.headline.clusters, 0);
    assert_eq!(empty.headline.on_access_entries.api.percent, 0.0);
    assert!(empty.headline.oldest_scan_at.is_none());
}

#[test]
fn blockers_group_by_code_most_clusters_first_with_their_rows() {
    use FindingCode::{MapAccounts, PrincipalNotFound, SystemGroup};
    let warning = Finding::general(FindingCode::UsernameDefaulted, Severity::Warning, "w");
    let clusters = vec![
        with(
            cluster("2", "r", "x"),
            vec![],
            vec![blocker(SystemGroup, 1), blocker(SystemGroup, 4)],
        ),
        with(
            cluster("1", "r", "y"),
            vec![],
            vec![blocker(MapAccounts, 0), blocker(SystemGroup, 2), warning],
        ),
        with(
            cluster("1", "r", "z"),
            vec![],
            vec![blocker(PrincipalNotFound, 3), blocker(PrincipalNotFound, 5)],
        ),
    ];
    let report = build(&fleet(clusters), &Filter::default(), NOW);
    let order: Vec<(FindingCode, usize, usize)> = report
        .blockers
        .iter()
        .map(|g| (g.code, g.clusters, g.findings))
        .collect();
    // SYSTEM_GROUP holds back two clusters; the others one each, the one with more findings first.
    assert_eq!(
        order,
        [
            (SystemGroup, 2, 3),
            (PrincipalNotFound, 1, 2),
            (MapAccounts, 1, 1)
        ]
    );
    let system = &report.blockers[0];
    let where_: Vec<(&str, usize)> = system
        .affected
        .iter()
        .map(|b| (b.name.as_str(), b.findings.len()))
        .collect();
    assert_eq!(
        where_,
        [("y", 1), ("x", 2)],
        "clusters in report order, findings per cluster"
    );
    assert_eq!(
        system.affected[1].findings[1]
            .location
            .as_ref()
            .and_then(|l| l.index),
        Some(4)
    );
    assert!(!system.remedy.is_empty());
    assert_eq!(report.headline.blocked_clusters, 3);
    assert_eq!(report.clusters[0].blocker_codes, [MapAccounts, SystemGroup]);
}

#[test]
fn the_inventory_groups_by_principal_and_calls_out_admins_other_accounts_and_the_missing() {
    let admin = "arn:aws:iam::1:role/admin";
    let foreign = "arn:aws:iam::9:role/reader";
    let gone = "arn:aws:iam::1:role/gone";
    let mut gone_access = principal(gone, AccessPath::None, false);
    gone_access.iam = IamStatus::NotFound;
    let clusters = vec![
        with(
            cluster("1", "r", "b"),
            vec![
                principal(admin, AccessPath::AwsAuth, true),
                principal(foreign, AccessPath::AwsAuth, false),
            ],
            vec![],
        ),
        with(
            cluster("1", "r", "a"),
            vec![principal(admin, AccessPath::None, true), gone_access],
            vec![],
        ),
        with(
            cluster("9", "r", "c"),
            vec![principal(foreign, AccessPath::AccessEntry, false)],
            vec![],
        ),
    ];
    let report = build(&fleet(clusters), &Filter::default(), NOW);
    let a = &report.access;
    let arns: Vec<&str> = a
        .principals
        .iter()
        .map(|p| p.principal_arn.as_str())
        .collect();
    assert_eq!(arns, [admin, foreign], "principals with access, by ARN");
    assert_eq!(a.principals[0].cluster_count, 1);
    assert_eq!(a.principals[0].cluster_admin_on, 1);
    assert_eq!(a.principals[1].clusters.len(), 2);
    assert_eq!(a.principals[1].other_account_on, 1);
    assert!(
        a.principals[1].clusters[0].other_account && !a.principals[1].clusters[1].other_account
    );
    let without: Vec<&str> = a
        .named_without_access
        .iter()
        .map(|p| p.principal_arn.as_str())
        .collect();
    assert_eq!(
        without,
        [admin, gone],
        "the admin's dead row on `a`, and the principal IAM lost"
    );
    assert!(
        !a.named_without_access[0].clusters[0].cluster_admin,
        "no access, no admin"
    );
    assert_eq!(a.cluster_admins.len(), 1);
    assert_eq!(a.cluster_admins[0].clusters[0].name, "b");
    assert_eq!(a.other_account[0].principal_arn, foreign);
    assert_eq!(a.iam_not_found[0].principal_arn, gone);
    let p = &report.headline.principals;
    assert_eq!(
        (
            p.with_access,
            p.grants,
            p.cluster_admins,
            p.other_account,
            p.iam_not_found,
            p.named_without_access
        ),
        (2, 3, 1, 1, 1, 2)
    );
    let b = &report.clusters[1];
    assert_eq!(
        (
            b.principals_with_access,
            b.cluster_admins,
            b.other_account_principals
        ),
        (2, 1, 1)
    );
}

#[test]
fn filters_combine_fields_and_keep_alternatives_within_one() {
    let mut clusters = vec![
        with(
            cluster("1", "eu", "a"),
            vec![principal(
                "arn:aws:iam::1:role/Ops-Admin",
                AccessPath::AwsAuth,
                true,
            )],
            vec![blocker(FindingCode::MapAccounts, 0)],
        ),
        with(
            cluster("1", "us", "b"),
            vec![principal(
                "arn:aws:iam::111122223333:role/dev",
                AccessPath::AwsAuth,
                false,
            )],
            vec![blocker(FindingCode::SystemGroup, 0)],
        ),
        cluster("2", "eu", "c"),
    ];
    clusters[1].phase = Phase::Blocked;
    clusters[2].mode = Mode::Skip;
    let input = FleetInput {
        clusters,
        scans: vec![
            scan("1", "eu", 1, ScanOutcome::Scanned { clusters: 1 }),
            scan("2", "eu", 1, ScanOutcome::Scanned { clusters: 1 }),
        ],
        ..FleetInput::default()
    };
    let names = |f: Filter| -> Vec<String> {
        build(&input, &f, NOW)
            .clusters
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(
        names(Filter {
            accounts: vec!["1".into()],
            ..Filter::default()
        }),
        ["a", "b"]
    );
    assert_eq!(
        names(Filter {
            accounts: vec!["1".into()],
            regions: vec!["eu".into()],
            ..Filter::default()
        }),
        ["a"]
    );
    assert_eq!(
        names(Filter {
            phases: vec![Phase::Blocked, Phase::Complete],
            ..Filter::default()
        }),
        ["b"]
    );
    assert_eq!(
        names(Filter {
            modes: vec![Mode::Skip],
            ..Filter::default()
        }),
        ["c"]
    );
    assert_eq!(
        names(Filter {
            authentication_modes: vec![AuthenticationMode::Api],
            ..Filter::default()
        }),
        Vec::<String>::new()
    );
    assert_eq!(
        names(Filter {
            codes: vec![FindingCode::SystemGroup],
            ..Filter::default()
        }),
        ["b"]
    );
    assert_eq!(
        names(Filter {
            principal: Some("ops-ADMIN".into()),
            ..Filter::default()
        }),
        ["a"]
    );
    assert_eq!(
        names(Filter {
            principal: Some("arn:aws:iam::111122223333:role/team/dev".into()),
            ..Filter::default()
        }),
        ["b"],
        "an exact role ARN matches whatever the path"
    );
    let only_system = build(
        &input,
        &Filter {
            codes: vec![FindingCode::SystemGroup],
            ..Filter::default()
        },
        NOW,
    );
    assert_eq!(only_system.blockers.len(), 1);
    let region = build(
        &input,
        &Filter {
            regions: vec!["us".into()],
            ..Filter::default()
        },
        NOW,
    );
    assert!(
        region.scans.account_regions.is_empty(),
        "scan marks follow the account and region filters"
    );
    assert_eq!(region.scans.never_scanned.len(), 1);
    let admin_only = build(
        &input,
        &Filter {
            principal: Some("admin".into()),
            ..Filter::default()
        },
        NOW,
    );
    assert_eq!(admin_only.access.principals.len(), 1);
    assert_eq!(
        admin_only.filter.principal.as_deref(),
        Some("admin"),
        "the filter is echoed"
    );
}

fn scan(account: &str, region: &str, hours_ago: u64, outcome: ScanOutcome) -> ScanView {
    ScanView {
        account: account.to_owned(),
        region: region.to_owned(),
        scanned_at_ms: NOW - hours_ago * HOUR,
        started_at_ms: Some(NOW - hours_ago * HOUR - 60_000),
        outcome,
    }
}

#[test]
fn freshness_names_failed_scans_the_oldest_and_clusters_the_latest_scan_missed() {
    let mut seen = cluster("1", "eu", "seen");
    seen.last_seen_ms = Some(NOW - 2 * HOUR - 30_000); // during the scan that started 2 h 1 min ago
    let mut gone = cluster("1", "eu", "gone");
    gone.last_seen_ms = Some(NOW - 50 * HOUR);
    let mut never = cluster("1", "eu", "never");
    never.last_seen_ms = None;
    let mut failed_region = cluster("1", "us", "f");
    failed_region.last_seen_ms = Some(NOW - 50 * HOUR);
    let input = FleetInput {
        clusters: vec![
            seen,
            gone,
            never,
            failed_region,
            cluster("3", "ap", "unscanned"),
        ],
        scans: vec![
            scan("1", "eu", 30, ScanOutcome::Scanned { clusters: 2 }),
            scan("1", "eu", 2, ScanOutcome::Scanned { clusters: 1 }),
            scan(
                "1",
                "us",
                5,
                ScanOutcome::Failed {
                    reason: "AccessDenied".into(),
                },
            ),
            scan(
                "2",
                "eu",
                1,
                ScanOutcome::Skipped {
                    reason: "excluded".into(),
                },
            ),
        ],
        ..FleetInput::default()
    };
    let report = build(&input, &Filter::default(), NOW);
    let s = &report.scans;
    let order: Vec<(&str, &str, ScanStatus, u64)> = s
        .account_regions
        .iter()
        .map(|a| {
            (
                a.account.as_str(),
                a.region.as_str(),
                a.status,
                a.age_seconds,
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("1", "us", ScanStatus::Failed, 5 * 3600),
            ("1", "eu", ScanStatus::Scanned, 2 * 3600),
            ("2", "eu", ScanStatus::Skipped, 3600)
        ],
        "the latest mark per account-region, oldest first"
    );
    assert_eq!(s.account_regions[0].reason.as_deref(), Some("AccessDenied"));
    assert_eq!(report.headline.failed_scans, 1);
    assert_eq!(
        report.headline.oldest_scan_at.as_deref(),
        Some("2026-11-30T19:00:00Z")
    );
    let sighting = |name: &str| {
        report
            .clusters
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.sighting)
    };
    assert_eq!(sighting("seen"), Some(Sighting::Seen));
    assert_eq!(sighting("gone"), Some(Sighting::NotSeen));
    assert_eq!(sighting("never"), Some(Sighting::Unknown));
    assert_eq!(
        sighting("f"),
        Some(Sighting::Unknown),
        "a failed scan proves nothing"
    );
    assert_eq!(s.not_seen.len(), 1);
    assert_eq!(s.not_seen[0].name, "gone");
    assert_eq!(report.headline.not_seen_by_latest_scan, 1);
    assert_eq!(s.never_scanned.len(), 1);
    assert_eq!(s.never_scanned[0].account, "3");
}

#[test]
fn the_creators_admin_is_named_hidden_or_unrecorded_and_the_policy_decides_if_it_stays() {
    let creator = "arn:aws:iam::1:role/creator";
    let mut entry = principal(creator, AccessPath::AccessEntry, true);
    entry.origin = Origin::OtherEntry;
    entry.policies = vec![AccessPolicy {
        policy_arn: ADMIN.into(),
        access_scope: AccessScope::cluster(),
    }];
    let mut visible = with(cluster("1", "r", "visible"), vec![entry.clone()], vec![]);
    visible.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    visible.creator_principal = Some(creator.into());
    visible.mode = Mode::Finalize;
    let mut removed = with(cluster("1", "r", "removed"), vec![], vec![]);
    removed.authentication_mode = Some(AuthenticationMode::Api);
    removed.creator_principal = Some(creator.into());
    let hidden = cluster("1", "r", "hidden");
    let mut unrecorded = with(cluster("1", "r", "unrecorded"), vec![entry], vec![]);
    unrecorded.authentication_mode = Some(AuthenticationMode::Api);
    let mut unknown = cluster("1", "r", "unknown");
    unknown.authentication_mode = None;
    let mut input = fleet(vec![visible, removed, hidden, unrecorded, unknown]);
    let of = |report: &crate::report::FleetReport, name: &str| {
        report
            .clusters
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.creator.clone())
            .expect("cluster")
    };
    let keep = build(&input, &Filter::default(), NOW);
    let v = of(&keep, "visible");
    assert_eq!(
        (v.status, v.entry_present, v.kept),
        (CreatorStatus::Visible, Some(true), true)
    );
    assert!(
        v.note.contains(creator) && v.note.contains("the policy keeps it"),
        "{}",
        v.note
    );
    let r = of(&keep, "removed");
    assert_eq!(
        (r.status, r.entry_present, r.kept),
        (CreatorStatus::Visible, Some(false), false)
    );
    let h = of(&keep, "hidden");
    assert_eq!(
        (h.status, h.principal.as_deref(), h.kept),
        (CreatorStatus::NotVisibleInConfigMap, None, true)
    );
    assert!(
        h.note
            .starts_with("Not visible while the cluster is in CONFIG_MAP"),
        "{}",
        h.note
    );
    let u = of(&keep, "unrecorded");
    assert_eq!(u.status, CreatorStatus::NotRecorded);
    assert!(
        u.note.contains(creator),
        "the candidate is named: {}",
        u.note
    );
    assert_eq!(of(&keep, "unknown").status, CreatorStatus::Unknown);
    let line = keep.access.principals[0]
        .clusters
        .iter()
        .find(|c| c.cluster == "visible")
        .expect("line");
    assert!(line.creator);

    input.creator_entry = CreatorEntry::Remove;
    let remove = build(&input, &Filter::default(), NOW);
    let v = of(&remove, "visible");
    assert!(
        !v.kept && v.note.contains("removes it in finalize"),
        "{}",
        v.note
    );
    let h = of(&remove, "hidden");
    assert!(h.kept, "only finalize removes it; this cluster is in audit");
    assert!(h.note.contains("only finalize does"), "{}", h.note);
}

#[test]
fn unreadable_items_are_listed_whatever_the_filter() {
    let input = FleetInput {
        clusters: vec![cluster("1", "r", "a")],
        unreadable: vec![Unreadable {
            item: "CLUSTER#1#r#b / META".into(),
            reason: "newer format".into(),
        }],
        ..FleetInput::default()
    };
    let filtered = build(
        &input,
        &Filter {
            accounts: vec!["2".into()],
            ..Filter::default()
        },
        NOW,
    );
    assert!(filtered.clusters.is_empty());
    assert_eq!(filtered.unreadable, input.unreadable);
    assert_eq!(filtered.headline.unreadable, 1);
}

#[test]
fn terminal_failures_are_listed_with_what_to_do_in_every_format() {
    let mut gone = cluster("1", "eu", "gone");
    gone.phase = Phase::Failed { retryable: false };
    gone.last_error = Some("the cluster no longer exists <b>".to_owned());
    gone.what_to_do = Some("Take it out of scope | now".to_owned());
    let mut retrying = cluster("1", "eu", "later");
    retrying.phase = Phase::Failed { retryable: true };
    retrying.last_error = Some("throttled".to_owned());
    let input = FleetInput {
        clusters: vec![retrying, gone, cluster("1", "eu", "fine")],
        ..FleetInput::default()
    };
    let report = build(&input, &Filter::default(), NOW);
    let [failed] = report.failed_terminal.as_slice() else {
        panic!("{:?}", report.failed_terminal)
    };
    assert_eq!(
        (
            failed.name.as_str(),
            failed.reason.as_str(),
            failed.what_to_do.as_str()
        ),
        (
            "gone",
            "the cluster no longer exists <b>",
            "Take it out of scope | now"
        )
    );
    let render = |format| {
        crate::report::render(&report, format, crate::report::RenderOptions::default())
            .expect("render")
    };
    let json: serde_json::Value =
        serde_json::from_str(&render(crate::report::Format::Json)).expect("json");
    assert_eq!(
        json["failed_terminal"][0]["what_to_do"],
        "Take it out of scope | now"
    );
    let markdown = render(crate::report::Format::Markdown);
    assert!(markdown.contains("## Failed terminally"), "{markdown}");
    assert!(
        markdown.contains("Take it out of scope \\| now"),
        "{markdown}"
    );
    let html = render(crate::report::Format::Html);
    assert!(html.contains("t-failed-terminal"));
    assert!(html.contains("no longer exists &lt;b&gt;"), "escaped");
    assert!(render(crate::report::Format::Table).contains("Failed terminally"));
    // None: no section, and no key in the JSON (the format stays as it was).
    let none = build(
        &FleetInput {
            clusters: vec![cluster("1", "eu", "fine")],
            ..FleetInput::default()
        },
        &Filter::default(),
        NOW,
    );
    let text = crate::report::render(&none, crate::report::Format::Json, Default::default())
        .expect("render");
    assert!(!text.contains("failed_terminal"));
}
