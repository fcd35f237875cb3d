//! Every failure a new user meets first — no region, no credentials, expired credentials, a
//! wrong secret, an endpoint that refuses connections or never answers, a missing state table,
//! an access denial — through the real SDK, for `plan --cluster`, `apply`, `status`, `report`
//! and `scan`: exit 2 and one line under 300 characters that names what to do, without the
//! SDK's `Debug` internals.
//!
//! Endpoints: moto (a missing table), the EKS simulator (it checks SigV4: a wrong secret), and
//! for what neither produces, a loopback endpoint answering one AWS error (an expired session
//! token, an access denial) or accepting connections and never answering (`eks_sim::canned`).

mod common;

use eks_sim::canned::{self, ErrorAnswer};
use eks_sim::seed::{DEFAULT_ACCESS_KEY_ID, Seed};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The commands under test, each as a user would first run it (`--table` only where it takes
/// one; `apply` and `scan` name their region, `plan`, `status` and `report` take the
/// configured one).
fn commands(table: &str) -> Vec<Vec<String>> {
    let words = |text: &str| {
        text.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    vec![
        words("plan --cluster ghost --region us-east-1"),
        words(&format!(
            "apply --cluster ghost --region us-east-1 --mode migrate --yes --table {table}"
        )),
        words(&format!("status --table {table}")),
        words(&format!("report --table {table}")),
        words(&format!(
            "scan --regions us-east-1 --accounts 123456789012 --table {table}"
        )),
    ]
}

/// Runs the binary with only `env` (plus PATH and a home without AWS files; instance metadata
/// off, as on a laptop that has none).
fn run(dir: &Path, args: &[String], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eks-auth-migrator"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("binary runs")
}

/// Credentials and a region, as a configured user has them.
fn configured(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "example-secret".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
    ]
}

/// Asserts `out` failed with exit 2 and one short line containing every one of `words`.
fn assert_one_line(out: &Output, args: &[String], words: &[&str]) -> String {
    let (_, stderr) = common::text(out);
    let what = args.join(" ");
    assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
    let line = stderr.trim_end();
    eks_sim::one_line::assert_one_line(&what, line, words);
    line.to_owned()
}

#[test]
fn no_region_names_the_variable_and_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in commands("t") {
        if args.iter().any(|a| a.starts_with("--region")) {
            continue;
        }
        let mut env = configured("http://127.0.0.1:9");
        env.retain(|(name, _)| *name != "AWS_REGION");
        let out = run(dir.path(), &args, &env);
        let line = assert_one_line(&out, &args, &["no AWS region is set", "AWS_REGION"]);
        assert!(!line.contains("signing region"), "{line}");
    }
}

#[test]
fn no_credentials_points_at_the_profile_and_sso_not_at_instance_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in commands("t") {
        let mut env = configured("http://127.0.0.1:9");
        env.retain(|(name, _)| !name.starts_with("AWS_ACCESS") && !name.starts_with("AWS_SECRET"));
        let out = run(dir.path(), &args, &env);
        let line = assert_one_line(
            &out,
            &args,
            &["no AWS credentials found", "AWS_PROFILE", "aws sso login"],
        );
        for word in ["IMDS", "metadata", "forbidden"] {
            assert!(!line.contains(word), "{word} in {line}");
        }
    }
}

#[test]
fn a_refused_connection_names_the_endpoint_and_its_variable() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = runtime.block_on(canned::refusing());
    let dir = tempfile::tempdir().expect("tempdir");
    for args in commands("t") {
        let out = run(dir.path(), &args, &configured(&url));
        assert_one_line(
            &out,
            &args,
            &[
                &format!("cannot reach {url} (set by AWS_ENDPOINT_URL)"),
                "the connection was refused",
                "unset it",
            ],
        );
    }
}

#[test]
fn an_endpoint_that_never_answers_fails_after_the_call_timeout() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let silent = runtime.block_on(canned::silent());
    let dir = tempfile::tempdir().expect("tempdir");
    for args in commands("t") {
        let mut env = configured(&silent.url());
        env.push(("EAM_CALL_TIMEOUT", "1".to_owned()));
        let out = run(dir.path(), &args, &env);
        assert_one_line(
            &out,
            &args,
            &[
                &format!("cannot reach {}", silent.url()),
                "no answer in time",
            ],
        );
    }
}

/// Each command against an endpoint answering `answer`, expecting `words`.
fn against_answer(answer: ErrorAnswer, words: &[&str]) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let endpoint = runtime.block_on(canned::answering(answer));
    let dir = tempfile::tempdir().expect("tempdir");
    for args in commands("t") {
        let out = run(dir.path(), &args, &configured(&endpoint.url()));
        let line = assert_one_line(&out, &args, words);
        assert!(
            !line.contains("req-"),
            "the request id is for --verbose: {line}"
        );
    }
}

#[test]
fn expired_credentials_say_to_get_new_ones() {
    against_answer(
        ErrorAnswer {
            status: 400,
            code: "ExpiredTokenException".to_owned(),
            message: "The security token included in the request is expired".to_owned(),
            request_id: "req-expired".to_owned(),
        },
        &["the AWS credentials have expired", "aws sso login"],
    );
}

#[test]
fn a_wrong_secret_names_the_secret_key() {
    against_answer(
        ErrorAnswer {
            status: 400,
            code: "InvalidSignatureException".to_owned(),
            message:
                "The request signature we calculated does not match the signature you provided."
                    .to_owned(),
            request_id: "req-signature".to_owned(),
        },
        &["signature does not match", "AWS_SECRET_ACCESS_KEY"],
    );
}

#[test]
fn an_access_denial_names_the_principal_and_the_action_to_grant() {
    against_answer(
        ErrorAnswer {
            status: 400,
            code: "AccessDeniedException".to_owned(),
            message: "User: arn:aws:iam::123456789012:user/reader is not authorized to perform this operation".to_owned(),
            request_id: "req-denied".to_owned(),
        },
        &[
            "access denied",
            "arn:aws:iam::123456789012:user/reader may not call",
            "grant it",
        ],
    );
}

#[test]
fn verbose_adds_the_chain_and_the_request_id() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let endpoint = runtime.block_on(canned::answering(ErrorAnswer {
        status: 400,
        code: "AccessDeniedException".to_owned(),
        message: "not authorized".to_owned(),
        request_id: "req-verbose".to_owned(),
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = ["status", "--table", "t", "--verbose"]
        .map(str::to_owned)
        .to_vec();
    let out = run(dir.path(), &args, &configured(&endpoint.url()));
    let (_, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].contains("DynamoDB DescribeTable: access denied"),
        "{stderr}"
    );
    assert!(lines.contains(&"request id: req-verbose"), "{stderr}");
    assert!(
        lines.iter().any(|l| l.starts_with("error chain: ")),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("error code AccessDeniedException")),
        "{stderr}"
    );
    if let Some(marker) = eks_sim::one_line::debug_marker(&stderr) {
        panic!("`{marker}` in {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_names_it_and_how_to_create_it() {
    let Some(stack) = common::stack(Seed::default(), &[]).await else {
        return;
    };
    let moto = stack.moto.as_ref().expect("moto").url();
    let dir = tempfile::tempdir().expect("tempdir");
    for args in commands("nope") {
        if args[0] == "plan" {
            continue; // plan reads no table
        }
        let out = run(dir.path(), &args, &configured(&moto));
        assert_one_line(
            &out,
            &args,
            &[
                "the state table `nope` does not exist in us-east-1",
                "--create-table",
                "TableName",
            ],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_refusing_a_wrong_secret_is_named_as_such() {
    let Some(stack) = common::stack(Seed::default(), &[]).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = ["plan", "--cluster", "ghost", "--region", "us-east-1"]
        .map(str::to_owned)
        .to_vec();
    let out = common::cli(
        &stack,
        dir.path(),
        (DEFAULT_ACCESS_KEY_ID, "not-the-secret"),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_one_line(
        &out,
        &args,
        &[
            "cannot plan cluster ghost: EKS DescribeCluster",
            "InvalidSignatureException",
            "AWS_SECRET_ACCESS_KEY",
        ],
    );
}
