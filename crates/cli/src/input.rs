//! The CLI's input loading, shared by the commands: a file or standard input, the policy file
//! (or the default policy) and the check of its access-policy names against what EKS offers —
//! the bundled catalogue offline, ListAccessPolicies live.

use anyhow::{Context, Result};
use eks_auth_aws::live;
use eks_auth_core::access_policies::Catalogue;
use eks_auth_core::policy::MigrationPolicy;
use std::io::Read;
use std::path::Path;

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))
    }
}

/// The policy file, or the default policy (maps nothing, blocks unsupported usernames).
pub fn load_policy(path: Option<&Path>) -> Result<MigrationPolicy> {
    let Some(path) = path else {
        return Ok(MigrationPolicy::default());
    };
    MigrationPolicy::parse(&read_input(path).context("cannot read the policy file")?).with_context(
        || {
            format!(
                "{} is not a valid policy file (docs/policy-file.md)",
                path.display()
            )
        },
    )
}

/// Checks the policy file's access-policy names against the bundled catalogue (offline).
pub fn check_policy_bundled(policy: &MigrationPolicy) -> Result<()> {
    check_policy_names(policy, &Catalogue::bundled())
}

/// Checks the policy file's access-policy names against ListAccessPolicies in the cluster's
/// region (nothing to check, and no call, without group mappings).
pub async fn check_policy_live(
    config: &aws_config::SdkConfig,
    cluster: &str,
    policy: &MigrationPolicy,
) -> Result<()> {
    if policy.group_policies.is_empty() {
        return Ok(());
    }
    let catalogue = live::access_policy_catalogue(config, cluster)
        .await
        .context("cannot list the access policies (ListAccessPolicies) to check the policy file")?;
    check_policy_names(policy, &catalogue)
}

fn check_policy_names(policy: &MigrationPolicy, catalogue: &Catalogue) -> Result<()> {
    policy
        .check_policy_names(catalogue)
        .context("the policy file maps a group to a policy EKS does not offer")
}
