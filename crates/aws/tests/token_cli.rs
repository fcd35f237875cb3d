//! Our token and ExecCredential are byte-identical to `aws eks get-token` under a frozen clock.
//!
//! `faketime -f '2026-01-02 03:04:05'` freezes the clock (plain `faketime '…'` starts the clock
//! there and lets it run, so the CLI's one-second start-up would move X-Amz-Date).

mod common;

use aws_credential_types::Credentials;
use eks_auth_aws::exec_credential::{ApiVersion, ExecCredential};
use eks_auth_aws::{ClusterName, Region, token};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

const FROZEN: &str = "2026-01-02 03:04:05";
const FROZEN_EPOCH: u64 = 1_767_323_045;
const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SESSION: &str =
    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+test/session+token==";

struct Case {
    region: &'static str,
    cluster: &'static str,
    session: bool,
    exec_info: Option<&'static str>,
}

#[test]
fn token_matches_aws_eks_get_token() {
    let aws = common::venv_bin("aws");
    if !aws.is_file() {
        common::missing(&format!("{} (pip install awscli)", aws.display()));
        return;
    }
    let Some(faketime) = common::on_path("faketime") else {
        common::missing("faketime (apt-get install faketime)");
        return;
    };
    let cases = [
        Case {
            region: "eu-west-1",
            cluster: "prod",
            session: true,
            exec_info: None,
        },
        Case {
            region: "us-east-1",
            cluster: "team_a-1",
            session: false,
            exec_info: None,
        },
        Case {
            region: "cn-north-1",
            cluster: "c",
            session: true,
            exec_info: None,
        },
        Case {
            region: "us-gov-west-1",
            cluster: "gov",
            session: false,
            exec_info: None,
        },
        Case {
            region: "ap-southeast-2",
            cluster: "v1",
            session: true,
            exec_info: Some(
                r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
            ),
        },
        Case {
            region: "eu-central-1",
            cluster: "alpha",
            session: false,
            exec_info: Some(r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#),
        },
        Case {
            region: "eu-north-1",
            cluster: "junk",
            session: false,
            exec_info: Some("{not json"),
        },
    ];
    for case in cases {
        let mut cmd = Command::new(&faketime);
        cmd.args(["-f", FROZEN])
            .arg(&aws)
            .args([
                "eks",
                "get-token",
                "--cluster-name",
                case.cluster,
                "--region",
                case.region,
            ])
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("TZ", "UTC")
            .env("HOME", std::env::temp_dir())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET);
        if case.session {
            cmd.env("AWS_SESSION_TOKEN", SESSION);
        }
        if let Some(info) = case.exec_info {
            cmd.env("KUBERNETES_EXEC_INFO", info);
        }
        let out = cmd.output().expect("run faketime aws eks get-token");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", case.region);

        let credentials = Credentials::new(
            ACCESS_KEY,
            SECRET,
            case.session.then(|| SESSION.to_owned()),
            None,
            "test",
        );
        let region: Region = case.region.parse().expect("region");
        let cluster: ClusterName = case.cluster.parse().expect("cluster");
        let now = UNIX_EPOCH + Duration::from_secs(FROZEN_EPOCH);
        let ours = token(&credentials, &region, &cluster, now).expect("sign");
        let choice = ApiVersion::from_exec_info(case.exec_info);
        let rendered = ExecCredential::new(ours, choice.version).to_cli_output();

        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            rendered,
            "stdout differs for {} / {}",
            case.region,
            case.cluster
        );
        let want_stderr = choice.notice.map(|n| format!("{n}\n")).unwrap_or_default();
        assert_eq!(stderr, want_stderr, "stderr differs for {}", case.region);
    }
}
