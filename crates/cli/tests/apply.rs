//! `apply`, `status` and `rollback` against the local stack, as a user runs them: a seeded
//! CONFIG_MAP cluster with node groups, Fargate, system:masters admins, team groups, an SSO role
//! goes all the way to API; the same cluster with a few bad rows stops at API_AND_CONFIG_MAP
//! with its blockers; everything is recorded in DynamoDB (moto).

mod common;

use eks_sim::seed::Seed;

const ACCOUNT: &str = "123456789012";
const MIGRATOR: (&str, &str) = ("AKIAAPPLYMIGRATOR001", "apply-migrator-secret");
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/";
const SSO_NAME: &str = "AWSReservedSSO_Admin_0123456789abcdef";

const PRINCIPALS: [(&str, &str, &str); 7] = [
    ("role", "/", "eks-node"),
    ("role", "/", "eks-fargate"),
    ("role", "/", "eks-auth-migrator"),
    ("role", "/", "platform-admin"),
    ("role", SSO_PATH, SSO_NAME),
    ("role", "/teams/", "team-a"),
    ("role", "/", "monitoring"),
];

fn cluster(name: &str, bad_rows: bool) -> String {
    let bad = if bad_rows {
        r#"            - rolearn: arn:aws:iam::123456789012:role/monitoring
              username: monitoring
              groups: [system:monitoring]
            - rolearn: not-an-arn
              username: broken
"#
    } else {
        ""
    };
    format!(
        r#"      - name: {name}
        region: us-east-1
        mode: CONFIG_MAP
        creator: "arn:aws:iam::{ACCOUNT}:role/platform-admin"
        nodegroups: [{{ name: ng1, node_role: "arn:aws:iam::{ACCOUNT}:role/eks-node" }}]
        fargate_profiles: [{{ name: fp1, pod_execution_role_arn: "arn:aws:iam::{ACCOUNT}:role/eks-fargate" }}]
        rbac:
          - {{ subject_kind: Group, subject: eks-auth-migrator, role: edit, namespace: kube-system }}
          - {{ subject_kind: Group, subject: team-a, role: edit, namespace: team-a }}
        aws_auth:
          mapRoles: |
            - rolearn: arn:aws:iam::{ACCOUNT}:role/eks-node
              username: system:node:{{{{EC2PrivateDNSName}}}}
              groups: [system:bootstrappers, system:nodes]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/eks-fargate
              username: system:node:{{{{SessionName}}}}
              groups: [system:bootstrappers, system:nodes, system:node-proxier]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/eks-auth-migrator
              username: eks-auth-migrator
              groups: [eks-auth-migrator]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/platform-admin
              username: "platform-admin:{{{{SessionName}}}}"
              groups: [system:masters]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/{SSO_NAME}
              username: "sso-admin:{{{{SessionName}}}}"
              groups: [system:masters, readers]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/team-a
              username: team-a
              groups: [team-a]
{bad}"#
    )
}

fn seed() -> Seed {
    let iam: Vec<String> = PRINCIPALS
        .iter()
        .map(|(k, p, n)| format!("\"arn:aws:iam::{ACCOUNT}:{k}{p}{n}\""))
        .collect();
    let text = format!(
        "settings:\n  update_duration_ms: 200\naccounts:\n  - id: \"{ACCOUNT}\"\n    credentials:\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"arn:aws:sts::{ACCOUNT}:assumed-role/eks-auth-migrator/run\" }}\n    iam: [{}]\n    clusters:\n{}{}",
        MIGRATOR.0,
        MIGRATOR.1,
        iam.join(", "),
        cluster("prod", false),
        cluster("legacy", true),
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

fn mode(stack: &eks_sim::harness::Stack, name: &str) -> String {
    stack.sim.with_world(|w| {
        w.clusters
            .values()
            .find(|c| c.key.name == name)
            .map(|c| c.mode.as_str().to_owned())
            .unwrap_or_default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_finalize_status_and_rollback_on_the_local_stack() {
    let Some(stack) = common::stack(seed(), &PRINCIPALS).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| common::cli(&stack, dir.path(), MIGRATOR, args);
    let table = ["--table", "eam-cli", "--create-table"];

    // Without a terminal and without --yes nothing is changed.
    let refused = run(&[
        &[
            "apply",
            "--cluster",
            "prod",
            "--region",
            "us-east-1",
            "--mode",
            "finalize",
        ][..],
        &table[..],
    ]
    .concat());
    let (_, err) = common::text(&refused);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(mode(&stack, "prod"), "CONFIG_MAP");

    // The safe cluster goes all the way to API.
    let out = run(&[
        &[
            "apply",
            "--cluster",
            "prod",
            "--region",
            "us-east-1",
            "--mode",
            "finalize",
            "--yes",
        ][..],
        &table[..],
    ]
    .concat());
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("phase COMPLETE, authentication mode API"),
        "{stdout}"
    );
    assert!(stdout.contains("outcome: done"), "{stdout}");
    assert!(stderr.contains("PruneConfigMap: removed"), "{stderr}");
    assert_eq!(mode(&stack, "prod"), "API");

    // Again: nothing to do, no write.
    let again = run(&[
        &[
            "apply",
            "--cluster",
            "prod",
            "--region",
            "us-east-1",
            "--mode",
            "finalize",
            "--yes",
        ][..],
        &table[..],
    ]
    .concat());
    let (stdout, stderr) = common::text(&again);
    assert_eq!(again.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(", 0 write calls in this command"),
        "{stdout}"
    );

    // The cluster with bad rows stops at API_AND_CONFIG_MAP with its blockers.
    let blocked = run(&[
        &[
            "apply",
            "--cluster",
            "legacy",
            "--region",
            "us-east-1",
            "--mode",
            "finalize",
            "--yes",
        ][..],
        &table[..],
    ]
    .concat());
    let (stdout, stderr) = common::text(&blocked);
    assert_eq!(blocked.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("outcome: blocked"), "{stdout}");
    assert!(stdout.contains("system:monitoring"), "{stdout}");
    assert_eq!(mode(&stack, "legacy"), "API_AND_CONFIG_MAP");

    // status shows both, from DynamoDB.
    let status = run(&["status", "--table", "eam-cli"]);
    let (stdout, stderr) = common::text(&status);
    assert_eq!(status.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("COMPLETE") && stdout.contains("BLOCKED"),
        "{stdout}"
    );
    let one = run(&["status", "--table", "eam-cli", "--cluster", "prod"]);
    let (stdout, _) = common::text(&one);
    assert!(
        stdout.contains("CreateAccessEntry") && stdout.contains("VERIFIED"),
        "{stdout}"
    );
    assert!(stdout.contains("newest aws-auth backup"), "{stdout}");

    // Roll the blocked cluster back: its migrator entries go, aws-auth applies again. (The
    // platform-admin role created the cluster: its entry is EKS's, not the migrator's.)
    let rollback = run(&[
        "rollback",
        "--cluster",
        "legacy",
        "--region",
        "us-east-1",
        "--yes",
        "--table",
        "eam-cli",
    ]);
    let (stdout, stderr) = common::text(&rollback);
    assert_eq!(rollback.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("deleted 3 migrator-created access entries"),
        "{stdout}"
    );
    assert!(stdout.contains("cannot switch back"), "{stdout}");
    let left = stack.sim.with_world(|w| {
        w.clusters
            .values()
            .find(|c| c.key.name == "legacy")
            .map(|c| {
                c.entries
                    .values()
                    .filter(|e| e.tags.contains_key("managed-by"))
                    .count()
            })
    });
    assert_eq!(left, Some(0));
}
