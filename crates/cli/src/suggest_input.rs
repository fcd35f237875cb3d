//! What `plan --suggest` compares: the cluster's RBAC objects (live, read-only, or a kubectl dump)
//! and, live, the access policies EKS offers.

use crate::aws_env;
use crate::input::read_input;
use anyhow::{Context, Result, bail};
use eks_auth_aws::live::gather_rbac;
use eks_auth_core::rbac::Rbac;
use std::path::Path;

/// The RBAC objects and, when read live, ListAccessPolicies' names.
pub struct SuggestInput {
    /// The cluster's RBAC objects.
    pub rbac: Rbac,
    /// The policies EKS offers (`None` offline).
    pub listed_policies: Option<Vec<String>>,
}

/// Reads a kubectl dump (`-`: standard input).
pub fn offline(path: &Path, aws_auth_from_stdin: bool) -> Result<SuggestInput> {
    if path.as_os_str() == "-" && aws_auth_from_stdin {
        bail!(
            "--rbac - and --aws-auth - cannot both read standard input; write one of them to a file"
        );
    }
    let text = read_input(path).context("cannot read the RBAC dump")?;
    let rbac = Rbac::parse(&text)
        .with_context(|| format!("{} is not usable as --rbac", path.display()))?;
    Ok(SuggestInput {
        rbac,
        listed_policies: None,
    })
}

/// Reads the live cluster's RBAC and access policies.
pub fn live(cluster: &str, region: Option<&str>) -> Result<SuggestInput> {
    let gathered = aws_env::runtime()?.block_on(async {
        let config = aws_env::load_checked(region).await?;
        gather_rbac(&config, cluster)
            .await
            .with_context(|| format!("cannot read the RBAC of cluster {cluster} for --suggest"))
    })?;
    Ok(SuggestInput {
        rbac: gathered.rbac(),
        listed_policies: Some(gathered.access_policies),
    })
}
