//! The `plan` command as a user runs it: the real binary, real files, stdin, exit codes.

mod common;

use common::run_offline as run;
use std::process::Output;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn example(name: &str) -> String {
    format!("{EXAMPLES}/{name}")
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// (section, index, action, type, username, groups, policy names) for every entry.
fn rows(plan: &serde_json::Value) -> Vec<String> {
    plan["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let policies: Vec<String> = e["access_policies"]
                .as_array()
                .expect("policies")
                .iter()
                .map(|p| {
                    p["policy_arn"]
                        .as_str()
                        .expect("arn")
                        .rsplit('/')
                        .next()
                        .expect("name")
                        .to_owned()
                })
                .collect();
            format!(
                "{}[{}] {} {} {} {} {}",
                e["source"]["section"].as_str().expect("section"),
                e["source"]["index"],
                e["action"].as_str().expect("action"),
                e["type"].as_str().unwrap_or("-"),
                e["username"].as_str().unwrap_or("-"),
                serde_json::to_string(&e["kubernetes_groups"]).expect("groups"),
                policies.join(","),
            )
        })
        .collect()
}

#[test]
fn the_example_plans_correctly_with_its_facts() {
    let plan = json(&run(&["plan", "--example", "--format", "json"], None));
    assert_eq!(plan["cluster_name"], "prod-eu");
    assert_eq!(plan["blocks_api_mode"], true);
    assert_eq!(
        rows(&plan),
        vec![
            "mapRoles[0] skip EC2_LINUX - [] ",
            "mapRoles[1] create EC2_LINUX - [] ",
            "mapRoles[2] create EC2_WINDOWS - [] ",
            "mapRoles[3] skip FARGATE_LINUX - [] ",
            "mapRoles[4] create STANDARD platform-admin [\"platform-oncall\"] AmazonEKSClusterAdminPolicy",
            "mapRoles[5] create STANDARD sso-admin:{{SessionName}} [] AmazonEKSClusterAdminPolicy",
            "mapRoles[6] skip - - [] ",
            "mapRoles[7] create STANDARD observability:{{SessionName}} [\"read-only\"] ",
            "mapRoles[8] skip - - [] ",
            "mapRoles[9] skip - - [] ",
            "mapRoles[10] blocked STANDARD - [\"ops\"] ",
            "mapRoles[11] blocked - - [] ",
            "mapRoles[12] skip - - [] ",
            "mapRoles[13] create STANDARD payments-deployer [\"payments-editors\",\"payments-viewers\"] ",
            "mapUsers[0] create STANDARD alice [] AmazonEKSClusterAdminPolicy",
            "mapUsers[1] create STANDARD break-glass [] AmazonEKSClusterAdminPolicy",
        ]
    );
    let sso = &plan["entries"][5]["principal_arn"];
    assert_eq!(
        sso,
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ClusterAdmin_4f1c2e9a7b3d5e60"
    );
    let codes: Vec<&str> = plan["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code"))
        .collect();
    // The example file carries no managedFields, so who writes aws-auth is partly unknown.
    assert_eq!(codes, vec!["MAP_ACCOUNTS", "OWNER_UNKNOWN"]);
}

#[test]
fn a_policy_file_maps_groups() {
    let plan = json(&run(
        &[
            "plan",
            "--aws-auth",
            &example("aws-auth.yaml"),
            "--facts",
            &example("facts.json"),
            "--policy",
            &example("policy.yaml"),
            "--format",
            "json",
        ],
        None,
    ));
    assert_eq!(
        rows(&plan)[7],
        "mapRoles[7] create STANDARD observability:{{SessionName}} [\"read-only\"] AmazonEKSViewPolicy"
    );
}

#[test]
fn offline_plans_read_stdin_and_json_configmaps() {
    let text = std::fs::read_to_string(example("aws-auth-broken.json")).expect("example");
    let plan = json(&run(
        &["plan", "--aws-auth", "-", "--format", "json"],
        Some(&text),
    ));
    assert_eq!(
        rows(&plan),
        vec![
            "mapUsers[0] create STANDARD carol [\"ops\"] AmazonEKSClusterAdminPolicy",
            "mapUsers[1] create STANDARD dave [] ",
        ]
    );
    assert_eq!(plan["findings"][0]["code"], "YAML_SYNTAX");
    assert_eq!(plan["findings"][0]["location"]["line"], 6);
    assert_eq!(plan["blocks_api_mode"], false);
}

#[test]
fn fail_on_sets_the_exit_status() {
    assert_eq!(
        run(&["plan", "--example", "--format", "json"], None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(
            &[
                "plan",
                "--example",
                "--format",
                "json",
                "--fail-on",
                "blocker"
            ],
            None
        )
        .status
        .code(),
        Some(1)
    );
    let broken = example("aws-auth-broken.json");
    assert_eq!(
        run(
            &["plan", "--aws-auth", &broken, "--fail-on", "blocker"],
            None
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        run(
            &["plan", "--aws-auth", &broken, "--fail-on", "warning"],
            None
        )
        .status
        .code(),
        Some(1)
    );
}

#[test]
fn unusable_input_fails_with_one_line() {
    let cases: [(&[&str], Option<&str>, &str); 5] = [
        (
            &["plan", "--aws-auth", "/nonexistent/aws-auth.yaml"],
            None,
            "cannot read the aws-auth ConfigMap: /nonexistent/aws-auth.yaml: No such file",
        ),
        (
            &["plan", "--aws-auth", "-"],
            Some("kind: Secret\n"),
            "- is not usable: the input is not a ConfigMap: kind is `Secret`",
        ),
        (&["plan", "--aws-auth", "-"], Some(""), "the input is empty"),
        (
            &["plan", "--aws-auth", "-", "--facts", "/nonexistent.json"],
            Some("kind: ConfigMap\n"),
            "cannot read the facts file",
        ),
        (
            &["plan", "--aws-auth", "-", "--policy", "-"],
            Some("kind: ConfigMap\n"),
            "is not a valid policy file",
        ),
    ];
    for (args, stdin, needle) in cases {
        let out = run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn every_format_renders_the_example() {
    for format in [
        "table",
        "json",
        "aws-cli",
        "terraform",
        "cloudformation",
        "terraform-aws-eks",
        "eksctl",
    ] {
        let out = run(&["plan", "--example", "--format", format], None);
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(
            text.contains("platform-admin"),
            "{format} output names the admin role:\n{text}"
        );
    }
}

#[test]
fn scripts_look_up_role_paths_only_when_the_plan_could_not() {
    let with_facts = run(&["plan", "--example", "--format", "aws-cli"], None);
    let offline = run(
        &[
            "plan",
            "--aws-auth",
            &example("aws-auth.yaml"),
            "--format",
            "aws-cli",
        ],
        None,
    );
    let lookups = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("resolve_role "))
            .count()
    };
    assert_eq!(lookups(&with_facts), 0);
    assert!(lookups(&offline) > 0);
    let script = String::from_utf8_lossy(&with_facts.stdout).into_owned();
    assert!(
        script.contains("aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ClusterAdmin")
    );
}

/// The example facts with platform-admin's entry made by the migrator already.
fn half_migrated_facts(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(example("facts.json")).expect("example facts");
    let mut facts: serde_json::Value = serde_json::from_str(&text).expect("facts JSON");
    facts["authentication_mode"] = "API_AND_CONFIG_MAP".into();
    facts["existing_entries"] = serde_json::json!([{
        "principal_arn": "arn:aws:iam::111122223333:role/platform-admin",
        "type": "STANDARD",
        "username": "platform-admin",
        "kubernetes_groups": ["platform-oncall"],
        "access_policies": [{
            "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "access_scope": {"type": "cluster"}
        }],
        "managed_by_migrator": true
    }]);
    let path = dir.join("facts.json");
    std::fs::write(&path, facts.to_string()).expect("write facts");
    path.display().to_string()
}

#[test]
fn owner_formats_import_what_the_facts_say_exists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let facts = half_migrated_facts(dir.path());
    let aws_auth = example("aws-auth.yaml");
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "--aws-auth", &aws_auth, "--facts", &facts];
        args.extend_from_slice(extra);
        run(&args, None)
    };
    let terraform = plan(&["--format", "terraform"]);
    let (text, stderr) = common::text(&terraform);
    assert!(terraform.status.success(), "{stderr}");
    assert!(text.contains("id = \"prod-eu:arn:aws:iam::111122223333:role/platform-admin\""));

    let module = plan(&[
        "--format",
        "terraform-aws-eks",
        "--module-version",
        "20",
        "--module-address",
        "platform.module.eks",
    ]);
    assert!(!module.status.success(), "not a module address");
    assert!(common::text(&module).1.contains("is not a module address"));
    let module = plan(&[
        "--format",
        "terraform-aws-eks",
        "--module-version",
        "20",
        "--module-address",
        "module.platform.module.eks",
    ]);
    let (text, stderr) = common::text(&module);
    assert!(module.status.success(), "{stderr}");
    assert!(
        text.contains(
            "to = module.platform.module.eks.aws_eks_access_entry.this[\"platform_admin\"]"
        )
    );
    assert!(
        text.contains("    cluster_name = \"prod-eu\""),
        "v20 names the cluster input cluster_name"
    );

    let import_file = dir.path().join("import.json");
    let import_arg = import_file.display().to_string();
    let cloudformation = plan(&[
        "--format",
        "cloudformation",
        "--resources-to-import",
        &import_arg,
    ]);
    assert!(
        cloudformation.status.success(),
        "{}",
        common::text(&cloudformation).1
    );
    let items: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&import_file).expect("import file"))
            .expect("import file is JSON");
    assert_eq!(
        items[0]["ResourceIdentifier"]["PrincipalArn"],
        "arn:aws:iam::111122223333:role/platform-admin"
    );
    let again = plan(&[
        "--format",
        "cloudformation",
        "--resources-to-import",
        &import_arg,
    ]);
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
    assert!(common::text(&again).1.contains("never overwritten"));

    let wrong = plan(&["--format", "eksctl", "--resources-to-import", &import_arg]);
    assert!(!wrong.status.success());
    assert!(
        common::text(&wrong)
            .1
            .contains("use it with --format cloudformation")
    );
}
