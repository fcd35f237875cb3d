//! Independent clients from the project venv: boto3 (EKS API), the aws CLI's `eks get-token`
//! (token format) and moto through the harness. Skipped when the venv lacks them, unless
//! `EAM_REQUIRE_TOOLS=1` (scripts/test) makes a missing tool a failure.

use std::path::PathBuf;

use eks_sim::harness::{Stack, venv_dir};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;

use crate::helpers::*;

/// `<venv>/bin/<tool>` when present; `None` (skip) or a panic under `EAM_REQUIRE_TOOLS=1`.
fn tool(name: &str) -> Option<PathBuf> {
    let path = venv_dir().join("bin").join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("EAM_REQUIRE_TOOLS").is_none(),
        "{} is missing and EAM_REQUIRE_TOOLS is set",
        path.display()
    );
    eprintln!("skipping: {} is missing", path.display());
    None
}

/// Runs `command` off the runtime thread (the simulator serves on this runtime).
async fn output(
    mut command: std::process::Command,
) -> Result<std::process::Output, Box<dyn std::error::Error + Send + Sync>> {
    command
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    Ok(tokio::task::spawn_blocking(move || command.output()).await??)
}

#[tokio::test]
async fn boto3_parses_responses_and_errors_and_moto_answers_sts() -> TestResult {
    let Some(python) = tool("python") else {
        return Ok(());
    };
    if tool("moto_server").is_none() {
        return Ok(());
    }
    let stack = Stack::start(seed(), true).await?;
    let moto = stack.moto.as_ref().expect("the harness started moto");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../stack/boto3_smoke.py");
    let mut command = std::process::Command::new(&python);
    command.arg(script);
    for (k, v) in stack.env() {
        command.env(k, v);
    }
    let out = output({
        command
            .env("AWS_ACCESS_KEY_ID", ADMIN.0)
            .env("AWS_SECRET_ACCESS_KEY", ADMIN.1)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("EAM_MOTO_URL", moto.url());
        command
    })
    .await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("boto3 smoke: ok"), "{stdout}");
    Ok(())
}

#[tokio::test]
async fn aws_cli_get_token_is_accepted_by_the_kubernetes_api() -> TestResult {
    let Some(aws) = tool("aws") else {
        return Ok(());
    };
    let sim = sim().await;
    let eks = eks(&sim).await;
    let mut command = std::process::Command::new(aws);
    command
        .args([
            "eks",
            "get-token",
            "--cluster-name",
            "legacy",
            "--output",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", ADMIN.0)
        .env("AWS_SECRET_ACCESS_KEY", ADMIN.1)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ENDPOINT_URL_EKS", sim.url());
    let out = output(command).await?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let token = credential["status"]["token"]
        .as_str()
        .expect("status.token");
    assert!(token.starts_with("k8s-aws-v1."));
    let api: Api<ConfigMap> =
        Api::namespaced(kube_with_token(&eks, "legacy", token).await, "kube-system");
    api.get("aws-auth").await?;
    // The same token is refused by another cluster: x-k8s-aws-id is signed.
    let other: Api<ConfigMap> =
        Api::namespaced(kube_with_token(&eks, "hybrid", token).await, "kube-system");
    assert_eq!(kube_code(other.get("aws-auth").await), 401);
    Ok(())
}

/// `kubectl` from PATH (not a venv tool: scripts/test installs it with apt-get); `None` (skip)
/// or a panic under `EAM_REQUIRE_TOOLS=1`.
fn kubectl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("kubectl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("EAM_REQUIRE_TOOLS").is_none(),
            "kubectl is missing and EAM_REQUIRE_TOOLS is set (scripts/test installs Debian's kubernetes-client)"
        );
        eprintln!("skipping: kubectl is not on PATH");
    }
    found
}

#[tokio::test]
async fn kubectl_with_the_aws_cli_plugin_reads_and_patches_aws_auth() -> TestResult {
    let (Some(kubectl), Some(aws)) = (kubectl(), tool("aws")) else {
        return Ok(());
    };
    let sim = sim().await;
    let eks = eks(&sim).await;
    let described = eks.describe_cluster().name("legacy").send().await?;
    let cluster = described.cluster().expect("cluster");
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let kubeconfig = dir.join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            r#"apiVersion: v1
kind: Config
clusters:
- name: legacy
  cluster: {{server: "{}", certificate-authority-data: "{}"}}
users:
- name: sim
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: {}
      args: [eks, get-token, --cluster-name, legacy]
      env: [{{name: AWS_ENDPOINT_URL_STS, value: "https://sts.us-east-1.amazonaws.com"}}]
      interactiveMode: Never
contexts:
- name: legacy
  context: {{cluster: legacy, user: sim}}
current-context: legacy
"#,
            cluster.endpoint().unwrap_or_default(),
            cluster
                .certificate_authority()
                .and_then(|c| c.data())
                .unwrap_or_default(),
            aws.display()
        ),
    )?;
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(&kubectl);
        command
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(dir.join("cache"))
            .env("AWS_ACCESS_KEY_ID", ADMIN.0)
            .env("AWS_SECRET_ACCESS_KEY", ADMIN.1)
            .env("AWS_DEFAULT_REGION", REGION);
        command
    };
    let out = output(run(&[
        "get",
        "configmap",
        "-n",
        "kube-system",
        "aws-auth",
        "-o",
        "json",
    ]))
    .await?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cm: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert!(
        cm["data"]["mapRoles"]
            .as_str()
            .is_some_and(|r| r.contains("role/admin"))
    );

    let patch = r#"{"data":{"mapAccounts":"[]"}}"#;
    let out = output(run(&[
        "patch",
        "configmap",
        "-n",
        "kube-system",
        "aws-auth",
        "-p",
        patch,
    ]))
    .await?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = eks_sim::model::ClusterKey {
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        name: "legacy".to_owned(),
    };
    let data = sim.with_world(|w| w.clusters.get(&key).map(|c| c.aws_auth_data()));
    assert_eq!(
        data.and_then(|d| d.get("mapAccounts").cloned()).as_deref(),
        Some("[]")
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
