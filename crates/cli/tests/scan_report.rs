//! `eks-auth-migrator scan` then `report`, the real binary on the local stack as a platform team
//! runs them on day one: a generated organisation is audited (read-only) into the state table,
//! and the report — JSON, and every other format — accounts for every cluster the simulator
//! holds and every principal's access exactly as the simulator's effective-access oracle gives it.

mod common;

use common::{cli, text};
use eks_sim::fleet::{FleetSpec, MIGRATOR_ROLE, generate};
use eks_sim::oracle::Source;
use eks_sim::seed::Seed;
use serde_json::Value;
use std::collections::BTreeMap;

const REGIONS: &str = "us-east-1,us-west-2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_then_report_accounts_for_every_cluster_and_principal() {
    let Some(stack) = common::stack(Seed::default(), &[]).await else {
        return;
    };
    let moto = stack.moto.as_ref().map(|m| m.url()).expect("moto");
    let mut fleet = generate(&FleetSpec {
        accounts: 2,
        regions: 2,
        clusters: 2,
        rows_min: 4,
        rows_max: 16,
        seed: 5,
        private_every: 0,
        restricted_every: 0,
    });
    let mut settings = fleet.settings.take().unwrap_or_default();
    settings.sts_endpoint = Some(moto.clone());
    fleet.settings = Some(settings);
    let views: Vec<(String, Vec<String>)> = fleet
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.iam.clone()))
        .collect();
    let clusters = stack.sim.load_seed(fleet).expect("fleet");
    for (account, arns) in &views {
        common::create_in_moto(&moto, account, arns).await;
    }
    let accounts: Vec<&str> = views.iter().map(|(a, _)| a.as_str()).collect();
    let dir = tempfile::tempdir().expect("dir");
    let creds = ("AKIAOPERATOR0000001", "operator-secret");

    let out = cli(
        &stack,
        dir.path(),
        creds,
        &[
            "scan",
            "--accounts",
            &accounts.join(","),
            "--regions",
            REGIONS,
            "--member-role-name",
            MIGRATOR_ROLE,
            "--table",
            "eam-day-one",
            "--create-table",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "audited {clusters} cluster(s): {clusters} planned, 0 failed"
        )),
        "{stdout}"
    );
    // Read-only: the scan changed nothing on any cluster.
    let stats = stack.sim.stats();
    for write in [
        "UpdateClusterConfig",
        "CreateAccessEntry",
        "AssociateAccessPolicy",
        "DeleteAccessEntry",
    ] {
        assert!(!stats.contains_key(write), "{write} called: {stats:?}");
    }

    let out = cli(
        &stack,
        dir.path(),
        creds,
        &["report", "--table", "eam-day-one", "--format", "json"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["headline"]["clusters"], clusters);
    assert_eq!(report["headline"]["modes"]["audit"], clusters);
    assert_eq!(report["headline"]["unreadable"], 0);
    assert_eq!(report["headline"]["without_inventory"], 0);
    assert_eq!(report["headline"]["failed_scans"], 0);
    assert_eq!(report["headline"]["not_seen_by_latest_scan"], 0);

    // Every cluster, with the authentication mode the simulator has.
    let world: BTreeMap<(String, String, String), String> = stack.sim.with_world(|w| {
        w.clusters
            .iter()
            .map(|(k, c)| {
                (
                    (k.account.clone(), k.region.clone(), k.name.clone()),
                    format!("{:?}", c.mode),
                )
            })
            .collect()
    });
    let reported = report["clusters"].as_array().expect("clusters");
    assert_eq!(reported.len(), world.len());
    for c in reported {
        let key = (
            c["account"].as_str().unwrap_or_default().to_owned(),
            c["region"].as_str().unwrap_or_default().to_owned(),
            c["name"].as_str().unwrap_or_default().to_owned(),
        );
        assert!(
            world.contains_key(&key),
            "{key:?} is not a simulated cluster"
        );
    }

    // Every (principal, cluster) the oracle grants is in the inventory with that access, and
    // nothing else is.
    let mut expected = BTreeMap::new();
    for (account, arns) in &views {
        for ((acct, region, name), _) in world.iter().filter(|((a, _, _), _)| a == account) {
            let key = eks_sim::model::ClusterKey {
                account: acct.clone(),
                region: region.clone(),
                name: name.clone(),
            };
            for arn in arns {
                if let Some(access) = stack.sim.oracle(&key, arn).expect("oracle") {
                    let via = match access.source {
                        Source::AccessEntry => "access_entry",
                        Source::AwsAuth => "aws_auth",
                        other => panic!("unexpected source {other:?}"),
                    };
                    expected.insert(
                        (arn.to_lowercase(), name.clone(), region.clone()),
                        (via.to_owned(), access.username, access.groups),
                    );
                }
            }
        }
    }
    let mut found = BTreeMap::new();
    for principal in report["access"]["principals"]
        .as_array()
        .expect("principals")
    {
        let arn = principal["principal_arn"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        for c in principal["clusters"].as_array().expect("clusters") {
            let groups: Vec<String> = c["groups"]
                .as_array()
                .expect("groups")
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect();
            found.insert(
                (
                    arn.clone(),
                    c["cluster"].as_str().unwrap_or_default().to_owned(),
                    c["region"].as_str().unwrap_or_default().to_owned(),
                ),
                (
                    c["via"].as_str().unwrap_or_default().to_owned(),
                    c["username"].as_str().unwrap_or_default().to_owned(),
                    groups,
                ),
            );
        }
    }
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
    assert_eq!(report["headline"]["principals"]["grants"], expected.len());

    // Every other format describes the same fleet.
    for (format, extra, needle) in [
        ("table", None, format!("• {clusters} clusters:")),
        ("markdown", None, "## Headline".to_owned()),
        ("csv", None, "account,region,cluster,phase".to_owned()),
        ("csv", Some("--inventory"), "principal_arn".to_owned()),
    ] {
        let mut args = vec!["report", "--table", "eam-day-one", "--format", format];
        args.extend(extra);
        let out = cli(&stack, dir.path(), creds, &args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
        assert!(
            stdout.contains(&needle),
            "{format} lacks {needle:?}:\n{stdout}"
        );
    }
    let html = dir.path().join("fleet.html");
    let out = cli(
        &stack,
        dir.path(),
        creds,
        &[
            "report",
            "--table",
            "eam-day-one",
            "--format",
            "html",
            "-o",
            html.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(
        page.to_lowercase().starts_with("<!doctype html>"),
        "not an HTML page"
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page names an external address"
    );

    // `status` agrees: a summary line and JSON.
    let out = cli(
        &stack,
        dir.path(),
        creds,
        &["status", "--table", "eam-day-one"],
    );
    let (stdout, _) = text(&out);
    assert!(
        stdout.starts_with(&format!("{clusters} cluster(s): {clusters} PLANNED;")),
        "{stdout}"
    );
    let out = cli(
        &stack,
        dir.path(),
        creds,
        &["status", "--table", "eam-day-one", "--format", "json"],
    );
    let status: Value = serde_json::from_str(&text(&out).0).expect("status JSON");
    assert_eq!(status["summary"]["clusters"], clusters);
    assert_eq!(status["clusters"].as_array().map(Vec::len), Some(clusters));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_on_a_table_that_does_not_exist_says_so_in_one_line() {
    let Some(stack) = common::stack(Seed::default(), &[]).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let out = cli(
        &stack,
        dir.path(),
        ("AKIAOPERATOR0000001", "operator-secret"),
        &["report", "--table", "no-such-table"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("the state table `no-such-table` does not exist in us-east-1"),
        "{stderr}"
    );
}
