//! `plan --cluster` against the local stack (eks-sim for EKS and the cluster's Kubernetes API,
//! moto for IAM and STS), reached only through a standard AWS config file, as a user runs it.

mod common;

use eks_sim::harness::Stack;
use eks_sim::seed::Seed;
use std::path::Path;
use std::process::Output;

/// moto's default account: moto reports every IAM ARN in it, so the seed uses it too.
const ACCOUNT: &str = "123456789012";
const MIGRATOR: (&str, &str) = ("AKIAMIGRATOR0000001", "migrator-secret");
const STRANGER: (&str, &str) = ("AKIASTRANGER0000001", "stranger-secret");
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/";
const SSO_NAME: &str = "AWSReservedSSO_Admin_0123456789abcdef";

fn role(path_and_name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{path_and_name}")
}

fn seed() -> Seed {
    let sso_real = role(&format!("{}{SSO_NAME}", &SSO_PATH[1..]));
    let text = format!(
        r#"accounts:
  - id: "{ACCOUNT}"
    credentials:
      - {{ access_key_id: {mk}, secret_access_key: {ms}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/eks-auth-migrator/run" }}
      - {{ access_key_id: {sk}, secret_access_key: {ss}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/stranger/eve" }}
    iam: ["{migrator}", "{node}", "{sso_real}", "{team}"]
    clusters:
      - name: prod
        region: us-east-1
        mode: CONFIG_MAP
        nodegroups: [{{ name: ng1, node_role: "{node}" }}]
        aws_auth:
          mapRoles: |
            - rolearn: {migrator}
              username: eks-auth-migrator
              groups: [system:masters]
            - rolearn: {node}
              username: system:node:{{{{EC2PrivateDNSName}}}}
              groups: [system:bootstrappers, system:nodes]
            - rolearn: {sso}
              username: "sso-admin:{{{{SessionName}}}}"
              groups: [system:masters, platform]
            - rolearn: {team}
              username: team
              groups: [team-editors]
"#,
        mk = MIGRATOR.0,
        ms = MIGRATOR.1,
        sk = STRANGER.0,
        ss = STRANGER.1,
        migrator = role("eks-auth-migrator"),
        node = role("eks-node"),
        sso = role(SSO_NAME),
        team = role("team"),
    );
    Seed::parse(&text).expect("seed parses")
}

/// The seed's roles, with their paths.
const ROLES: [(&str, &str, &str); 4] = [
    ("role", "/", "eks-auth-migrator"),
    ("role", "/", "eks-node"),
    ("role", SSO_PATH, SSO_NAME),
    ("role", "/", "team"),
];

fn cli(stack: &Stack, dir: &Path, creds: (&str, &str), args: &[&str]) -> Output {
    common::cli(stack, dir, creds, args)
}

async fn stack() -> Option<Stack> {
    common::stack(seed(), &ROLES).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_plan_reads_the_cluster_and_resolves_paths() {
    let Some(stack) = stack().await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = tokio::task::block_in_place(|| {
        cli(
            &stack,
            dir.path(),
            MIGRATOR,
            &[
                "plan",
                "--cluster",
                "prod",
                "--region",
                "us-east-1",
                "--format",
                "json",
            ],
        )
    });
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON plan");
    assert_eq!(plan["principals_resolved"], true);
    assert_eq!(plan["partition"], "aws");
    let blockers: Vec<&serde_json::Value> = plan["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            plan["entries"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|e| e["findings"].as_array().into_iter().flatten()),
        )
        .filter(|f| f["severity"] == "blocker")
        .collect();
    assert!(blockers.is_empty(), "unexpected blockers: {blockers:#?}");
    assert_eq!(plan["blocks_api_mode"], false);
    let rows: Vec<(String, String, String)> = plan["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["principal_arn"].as_str().unwrap_or("-").to_owned(),
                e["action"].as_str().expect("action").to_owned(),
                e["type"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let sso_real = role(&format!("{}{SSO_NAME}", &SSO_PATH[1..]));
    assert_eq!(
        rows,
        vec![
            (
                role("eks-auth-migrator"),
                "create".into(),
                "STANDARD".into()
            ),
            (role("eks-node"), "skip".into(), "EC2_LINUX".into()),
            (sso_real, "create".into(), "STANDARD".into()),
            (role("team"), "create".into(), "STANDARD".into()),
        ]
    );
    assert_eq!(
        plan["entries"][2]["kubernetes_groups"],
        serde_json::json!(["platform"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_principal_the_cluster_does_not_map_is_told_what_to_grant() {
    let Some(stack) = stack().await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = tokio::task::block_in_place(|| {
        cli(
            &stack,
            dir.path(),
            STRANGER,
            &["plan", "--cluster", "prod", "--region", "us-east-1"],
        )
    });
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("cannot plan cluster prod"), "{stderr}");
    assert!(stderr.contains("aws-auth"), "says what to grant: {stderr}");
    assert!(
        !stderr.contains(STRANGER.1) && !stderr.contains("k8s-aws-v1."),
        "no secrets: {stderr}"
    );
    assert!(out.stdout.is_empty());
}
