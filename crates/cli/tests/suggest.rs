//! `plan --suggest` / `--rbac` as a user runs it: the real binary on examples/rbac (an aws-auth
//! and a `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml` dump taken
//! from the simulator), exit codes and one-line errors, and the documentation's example output.

mod common;

use common::run_offline as run;
use std::process::Output;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rbac");
const DOC: &str = include_str!("../../../docs/rbac-suggestions.md");

/// The JSON plan of examples/rbac's aws-auth with its RBAC dump.
fn example_plan() -> serde_json::Value {
    let (aws_auth, rbac) = (example("aws-auth.yaml"), example("rbac.yaml"));
    let out = run(
        &[
            "plan",
            "--aws-auth",
            &aws_auth,
            "--rbac",
            &rbac,
            "--format",
            "json",
        ],
        None,
    );
    serde_json::from_str(&stdout(&out)).expect("JSON")
}

fn example(name: &str) -> String {
    format!("{EXAMPLES}/{name}")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_example_suggests_view_for_read_only_and_names_what_edit_would_lose() {
    let plan = example_plan();
    let subjects = plan["rbac"]["subjects"].as_array().expect("subjects");
    let verdict = |name: &str| {
        subjects
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["verdict"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(verdict("read-only").as_deref(), Some("exact"));
    assert_eq!(verdict("deployers").as_deref(), Some("lossy"));
    assert_eq!(verdict("ops").as_deref(), Some("none"));
    assert_eq!(plan["blocks_api_mode"], false);
}

#[test]
fn the_documented_example_is_the_real_output() {
    let aws_auth = "examples/rbac/aws-auth.yaml";
    let rbac = "examples/rbac/rbac.yaml";
    let out = stdout(&run(
        &[
            "plan",
            "--aws-auth",
            aws_auth,
            "--rbac",
            rbac,
            "--color",
            "never",
        ],
        None,
    ));
    let section = &out[out.find("\nRBAC: ").expect("an RBAC section") + 1..];
    let documented = DOC
        .split("<!-- example-output -->\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/rbac-suggestions.md has the example output block");
    assert_eq!(
        documented, section,
        "docs/rbac-suggestions.md shows stale output"
    );
}

#[test]
fn the_snippet_as_a_policy_file_maps_read_only_and_keeps_the_plan_clear() {
    let (aws_auth, rbac) = (example("aws-auth.yaml"), example("rbac.yaml"));
    let plan = example_plan();
    let snippet = plan["rbac"]["policy_snippet"].as_str().expect("snippet");
    let dir = tempfile::tempdir().expect("dir");
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, format!("version: 1\n{snippet}")).expect("write");
    let policy = policy.display().to_string();
    let out = run(
        &[
            "plan",
            "--aws-auth",
            &aws_auth,
            "--rbac",
            &rbac,
            "--policy",
            &policy,
            "--format",
            "json",
            "--fail-on",
            "blocker",
        ],
        None,
    );
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let observability = &plan["entries"][1];
    assert_eq!(observability["kubernetes_groups"], serde_json::json!([]));
    assert!(
        observability["access_policies"][0]["policy_arn"]
            .as_str()
            .is_some_and(|a| a.ends_with("/AmazonEKSViewPolicy"))
    );
    // A mapping that loses what it does not accept blocks, and --fail-on says so.
    std::fs::write(
        dir.path().join("lossy.yaml"),
        "version: 1\ngroup_policies:\n  - {group: deployers, policy: AmazonEKSEditPolicy, access_scope: {type: namespace, namespaces: [orders, payments]}, keep_group: false}\n",
    )
    .expect("write");
    let lossy = dir.path().join("lossy.yaml").display().to_string();
    let out = run(
        &[
            "plan",
            "--aws-auth",
            &aws_auth,
            "--rbac",
            &rbac,
            "--policy",
            &lossy,
            "--fail-on",
            "blocker",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("BLOCKED: differences not accepted"));
}

#[test]
fn bad_rbac_input_is_a_one_line_error_with_exit_2() {
    let aws_auth = example("aws-auth.yaml");
    for (args, needle) in [
        (
            vec!["plan", "--aws-auth", aws_auth.as_str(), "--suggest"],
            "--suggest needs the cluster's RBAC",
        ),
        (
            vec![
                "plan",
                "--aws-auth",
                aws_auth.as_str(),
                "--rbac",
                aws_auth.as_str(),
            ],
            "the RBAC input is a `ConfigMap`",
        ),
        (
            vec!["plan", "--aws-auth", "-", "--rbac", "-"],
            "cannot both read standard input",
        ),
        (
            vec![
                "plan",
                "--aws-auth",
                aws_auth.as_str(),
                "--rbac",
                "/no/such/file",
            ],
            "cannot read the RBAC dump",
        ),
    ] {
        let out = run(&args, Some(""));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // Malformed objects are findings, not errors.
    let dump = "kind: List\nitems:\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: x}, roleRef: {kind: ClusterRole, name: view}, subjects: 7}\n";
    let out = run(
        &[
            "plan",
            "--aws-auth",
            &aws_auth,
            "--rbac",
            "-",
            "--format",
            "json",
        ],
        Some(dump),
    );
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(
        plan["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["code"] == "RBAC_INVALID")
    );
    assert_eq!(plan["rbac"]["counts"]["unreadable"], 3);
}
