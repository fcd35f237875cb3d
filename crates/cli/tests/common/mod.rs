//! The binary as a user runs it: offline ([`run_offline`]), or against the local stack (the EKS
//! simulator and moto, reached only through a standard AWS config file).

#![allow(dead_code)]

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use eks_sim::harness::Stack;
use eks_sim::seed::Seed;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

/// Creates IAM principals in moto: (kind `role`|`user`, path, name).
pub async fn create_principals(moto: &str, principals: &[(&str, &str, &str)]) {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto)
        .credentials_provider(Credentials::new("AKIATEST", "test", None, None, "test"))
        .build();
    let iam = aws_sdk_iam::Client::from_conf(config);
    for (kind, path, name) in principals {
        create_principal(&iam, kind, path, name).await;
    }
}

/// Creates an IAM role (`kind` "role") or user in moto, with its path ("/" for none).
pub async fn create_principal(iam: &aws_sdk_iam::Client, kind: &str, path: &str, name: &str) {
    if kind == "role" {
        iam.create_role()
            .path(path)
            .role_name(name)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRole {path}{name} in moto: {e:?}"));
    } else {
        iam.create_user()
            .path(path)
            .user_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateUser {path}{name} in moto: {e:?}"));
    }
}

/// Creates each of `arns` (roles and users with paths) in moto, in its own account, through a
/// session of that account's migrator role.
pub async fn create_in_moto(moto: &str, account: &str, arns: &[String]) {
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
    use eks_sim::fleet::MIGRATOR_ROLE;
    let base = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto)
        .credentials_provider(Credentials::new("AKIATEST", "test", None, None, "test"))
        .build();
    let out = aws_sdk_sts::Client::from_conf(base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{MIGRATOR_ROLE}"))
        .role_session_name("setup")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(moto)
            .credentials_provider(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "setup",
            ))
            .build(),
    );
    for arn in arns {
        let resource = arn.splitn(6, ':').nth(5).expect("resource");
        let (kind, rest) = resource.split_once('/').expect("kind/name");
        let (path, name) = match rest.rsplit_once('/') {
            Some((path, name)) => (format!("/{path}/"), name),
            None => ("/".to_owned(), rest),
        };
        create_principal(&iam, kind, &path, name).await;
    }
}

/// Runs the CLI with `creds` and a config file sending EKS to the simulator and the rest to moto.
pub fn cli(stack: &Stack, dir: &Path, creds: (&str, &str), args: &[&str]) -> Output {
    cli_command(stack, dir, creds, args)
        .stdin(Stdio::null())
        .output()
        .expect("binary runs")
}

/// The CLI command [`cli`] runs, to spawn (and kill) it.
pub fn cli_command(stack: &Stack, dir: &Path, creds: (&str, &str), args: &[&str]) -> Command {
    let moto = stack.moto.as_ref().map(|m| m.url()).expect("moto");
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = us-east-1\nendpoint_url = {moto}\nservices = local-stack\n\n[services local-stack]\neks =\n  endpoint_url = {}\n",
            stack.sim.url()
        ),
    )
    .expect("write config");
    let mut command = Command::new(env!("CARGO_BIN_EXE_eks-auth-migrator"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", creds.0)
        .env("AWS_SECRET_ACCESS_KEY", creds.1)
        .stdin(Stdio::null());
    command
}

/// The stack with moto and `principals` in its IAM, or `None` (skipped) without moto unless
/// EAM_REQUIRE_TOOLS=1.
pub async fn stack(seed: Seed, principals: &[(&str, &str, &str)]) -> Option<Stack> {
    let stack = Stack::start(seed, true).await.expect("stack starts");
    match &stack.moto {
        Some(moto) => {
            create_principals(&moto.url(), principals).await;
            Some(stack)
        }
        None => {
            assert!(
                std::env::var("EAM_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "moto_server is missing and EAM_REQUIRE_TOOLS=1 (scripts/test installs it)"
            );
            eprintln!("note: moto_server is missing; test not run");
            None
        }
    }
}

/// Runs the binary with `args` and `stdin` from the repository's root (so that paths like
/// `examples/…` work as in the docs), without colour or a terminal width, and no AWS at all.
pub fn run_offline(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eks-auth-migrator"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("binary exits")
}

/// Standard output and error as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
