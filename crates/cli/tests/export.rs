//! `eks-auth-migrator export`, the real binary on the local stack: a generated organisation is
//! audited into the state table, a forged item named `../../x` is planted in it, and `export
//! --dir` writes one file per cluster — each re-read with a real HCL parser gives the entries the
//! report's inventory says the plan creates — and nothing outside the directory.

mod common;

use common::{cli, text};
use eks_sim::fleet::{FleetSpec, MIGRATOR_ROLE, generate};
use eks_sim::seed::Seed;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One declared entry: (principal ARN lower-cased, type, username, groups).
type Entry = (String, String, Option<String>, Vec<String>);

/// What the report's inventory says each cluster's plan declares: its `create` rows and the
/// rows an equivalent entry carries already.
fn planned_entries(report: &Value) -> BTreeMap<String, BTreeSet<Entry>> {
    let mut out: BTreeMap<String, BTreeSet<Entry>> = BTreeMap::new();
    for principal in report["access"]["principals"]
        .as_array()
        .expect("principals")
    {
        let arn = principal["principal_arn"]
            .as_str()
            .expect("arn")
            .to_lowercase();
        for c in principal["clusters"].as_array().expect("clusters") {
            let codes: Vec<&str> = c["codes"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let declared = c["action"] == "create"
                || (c["action"] == "skip" && codes.contains(&"ENTRY_EXISTS"));
            if !declared {
                continue;
            }
            let target = &c["target"];
            let key = format!(
                "{}_{}_{}",
                c["account"].as_str().expect("account"),
                c["region"].as_str().expect("region"),
                c["cluster"].as_str().expect("cluster")
            );
            out.entry(key).or_default().insert((
                arn.clone(),
                target["type"].as_str().expect("type").to_owned(),
                target["username"].as_str().map(str::to_owned),
                target["groups"]
                    .as_array()
                    .expect("groups")
                    .iter()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect(),
            ));
        }
    }
    out
}

/// The `aws_eks_access_entry` resources of a Terraform file, parsed.
fn exported_entries(text: &str) -> BTreeSet<Entry> {
    let body = hcl::parse(text).unwrap_or_else(|e| panic!("not HCL: {e}\n{text}"));
    let string = |body: &hcl::Body, key: &str| -> Option<String> {
        body.attributes()
            .find(|a| a.key() == key)
            .and_then(|a| match a.expr() {
                hcl::Expression::String(s) => Some(s.clone()),
                _ => None,
            })
    };
    body.blocks()
        .filter(|b| {
            b.identifier() == "resource"
                && b.labels().first().map(|l| l.as_str()) == Some("aws_eks_access_entry")
        })
        .map(|b| {
            let groups = b
                .body()
                .attributes()
                .find(|a| a.key() == "kubernetes_groups")
                .map(|a| match a.expr() {
                    hcl::Expression::Array(items) => items
                        .iter()
                        .filter_map(|i| match i {
                            hcl::Expression::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
                    other => panic!("kubernetes_groups is {other:?}"),
                })
                .unwrap_or_default();
            (
                string(b.body(), "principal_arn")
                    .expect("a literal principal (IAM resolved it)")
                    .to_lowercase(),
                string(b.body(), "type").expect("type"),
                string(b.body(), "user_name"),
                groups,
            )
        })
        .collect()
}

/// Copies one cluster record of `table` under a forged partition key naming `name`.
async fn plant_forged_record(moto: &str, table: &str, name: &str) {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(moto)
            .credentials_provider(Credentials::new("AKIATEST", "test", None, None, "test"))
            .build(),
    );
    let items = client.scan().table_name(table).send().await.expect("Scan");
    let mut item = items
        .items()
        .iter()
        .find(|i| i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("META"))
        .expect("a cluster record")
        .clone();
    let pk = item["pk"].as_s().expect("pk").clone();
    let mut parts = pk.splitn(4, '#');
    let (_, account, region) = (parts.next(), parts.next(), parts.next());
    let forged = format!(
        "CLUSTER#{}#{}#{name}",
        account.expect("account"),
        region.expect("region")
    );
    item.insert("pk".to_owned(), AttributeValue::S(forged));
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("PutItem");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_each_cluster_in_its_format_and_nothing_outside_the_directory() {
    let Some(stack) = common::stack(Seed::default(), &[]).await else {
        return;
    };
    let moto = stack.moto.as_ref().map(|m| m.url()).expect("moto");
    let mut fleet = generate(&FleetSpec {
        accounts: 1,
        regions: 1,
        clusters: 3,
        rows_min: 4,
        rows_max: 10,
        seed: 7,
        private_every: 0,
        restricted_every: 0,
    });
    let mut settings = fleet.settings.take().unwrap_or_default();
    settings.sts_endpoint = Some(moto.clone());
    fleet.settings = Some(settings);
    let account = fleet.accounts[0].id.clone();
    let arns = fleet.accounts[0].iam.clone();
    let clusters = stack.sim.load_seed(fleet).expect("fleet");
    common::create_in_moto(&moto, &account, &arns).await;
    let dir = tempfile::tempdir().expect("dir");
    let creds = ("AKIAOPERATOR0000001", "operator-secret");
    let table = "eam-export";
    let out = cli(
        &stack,
        dir.path(),
        creds,
        &[
            "scan",
            "--accounts",
            &account,
            "--regions",
            "us-east-1",
            "--member-role-name",
            MIGRATOR_ROLE,
            "--table",
            table,
            "--create-table",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    plant_forged_record(&moto, table, "../../x").await;

    let out = cli(
        &stack,
        dir.path(),
        creds,
        &["report", "--table", table, "--format", "json"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    let planned = planned_entries(&report);
    assert!(
        planned.values().map(BTreeSet::len).sum::<usize>() > 0,
        "the plans create entries: {report}"
    );

    // The export directory is two levels down, so `../../x` would land inside the tempdir.
    let export_dir = dir.path().join("a").join("b");
    let out = cli(
        &stack,
        dir.path(),
        creds,
        &[
            "export",
            "--table",
            table,
            "--dir",
            export_dir.to_str().expect("utf-8"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the forged item is not exported: {stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("../../x"),
        "the forged item is named: {stderr}"
    );
    assert!(!dir.path().join("x").exists());
    assert!(!dir.path().join("x.tf").exists());
    let outside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("tempdir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "a" && n != "config")
        .collect();
    assert!(
        outside.is_empty(),
        "written outside the directory: {outside:?}"
    );

    let files: Vec<std::path::PathBuf> = std::fs::read_dir(&export_dir)
        .expect("export dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), clusters, "{files:?}\n{stdout}");
    for file in files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let stem = name
            .strip_suffix(".tf")
            .unwrap_or_else(|| panic!("{name}: not terraform (no owner: the default)"));
        let text = std::fs::read_to_string(&file).expect("read");
        let expected = planned.get(stem).cloned().unwrap_or_default();
        assert_eq!(exported_entries(&text), expected, "{name}");
    }
}
