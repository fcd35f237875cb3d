//! `eks-auth-migrator token` prints exactly what `aws eks get-token` prints, so it works as a
//! kubectl exec plugin in its place. Both run under a frozen clock (`faketime -f`).

use std::path::PathBuf;
use std::process::Command;

/// A tool from `$EAM_VENV/bin` or PATH; `None` skips, except under `EAM_REQUIRE_TOOLS=1`.
fn tool(name: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("EAM_VENV").map(|v| PathBuf::from(v).join("bin").join(name));
    let found = venv.filter(|p| p.exists()).or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.exists())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("EAM_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{name} is missing and EAM_REQUIRE_TOOLS=1 (scripts/test installs it)"
        );
        eprintln!("note: {name} is missing; test not run");
    }
    found
}

fn frozen(
    faketime: &PathBuf,
    program: &PathBuf,
    args: &[&str],
    session_token: Option<&str>,
) -> (String, String) {
    let mut cmd = Command::new(faketime);
    cmd.arg("-f")
        .arg("2026-03-04 05:06:07")
        .arg(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(token) = session_token {
        cmd.env("AWS_SESSION_TOKEN", token);
    }
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{program:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[test]
fn token_is_byte_identical_to_aws_eks_get_token() {
    let (Some(faketime), Some(aws)) = (tool("faketime"), tool("aws")) else {
        return;
    };
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_eks-auth-migrator"));
    for (region, session) in [
        ("eu-west-1", None),
        ("us-gov-west-1", Some("FwoGZXIvYXdzEXAMPLE")),
        ("cn-north-1", None),
    ] {
        let args = ["--cluster-name", "prod-eu", "--region", region];
        let (mine, _) = frozen(
            &faketime,
            &ours,
            &[&["token"][..], &args[..]].concat(),
            session,
        );
        let (theirs, _) = frozen(
            &faketime,
            &aws,
            &[&["eks", "get-token"][..], &args[..]].concat(),
            session,
        );
        assert_eq!(mine, theirs, "{region}");
        assert!(mine.contains("\"token\": \"k8s-aws-v1."), "{mine}");
    }
}

#[test]
fn token_refuses_a_bad_cluster_name_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_eks-auth-migrator"))
        .args([
            "token",
            "--cluster-name",
            "not a name",
            "--region",
            "eu-west-1",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--cluster-name `not a name` is not a cluster name"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
