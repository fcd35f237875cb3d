//! `eks-auth-migrator token`: an EKS bearer token as kubectl's exec plugin expects it, the same
//! bytes `aws eks get-token` prints for the same credentials and second.

use crate::args::TokenFlags;
use crate::aws_env;
use anyhow::{Context, Result};
use eks_auth_aws::{ApiVersion, ClusterName, ExecCredential, Region};
use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

/// Runs `token`.
pub fn run(flags: TokenFlags) -> Result<ExitCode> {
    let cluster = ClusterName::parse(flags.cluster_name.as_str()).with_context(|| {
        format!(
            "--cluster-name `{}` is not a cluster name",
            flags.cluster_name
        )
    })?;
    let runtime = aws_env::runtime()?;
    let (config, credentials) = runtime.block_on(async {
        let config = aws_env::load(flags.region.as_deref()).await;
        let credentials = aws_env::credentials(&config).await?;
        anyhow::Ok((config, credentials))
    })?;
    let region = config
        .region()
        .context("no region: pass --region or set AWS_REGION")?;
    let region =
        Region::parse(region.as_ref()).with_context(|| format!("`{region}` is not a region"))?;
    let token = eks_auth_aws::token(&credentials, &region, &cluster, SystemTime::now())
        .context("cannot sign the token")?;
    let exec_info = std::env::var("KUBERNETES_EXEC_INFO").ok();
    let choice = ApiVersion::from_exec_info(exec_info.as_deref());
    if let Some(notice) = &choice.notice {
        eprintln!("{notice}");
    }
    let mut out = std::io::stdout().lock();
    out.write_all(
        ExecCredential::new(token, choice.version)
            .to_cli_output()
            .as_bytes(),
    )
    .context("cannot write the token")?;
    Ok(ExitCode::SUCCESS)
}
