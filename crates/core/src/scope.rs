//! The account and region scope of the configuration document, applied the same way on every
//! path that can start work on a cluster: the fleet scan (which accounts and regions it lists),
//! `cluster-events` (an event from an account or region outside the scope is dropped) and
//! `cluster-worker` (a job for a cluster outside the scope is dropped, whoever queued it).
//!
//! An account is in scope when `accounts.include` lists it (or is absent) and
//! `accounts.exclude` does not; a region when the document's `regions` (else the `REGIONS`
//! environment variable) lists it.

use crate::config::Config;
use std::fmt;

/// Why a cluster is outside the scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutOfScope {
    /// `accounts.exclude` lists the account.
    ExcludedAccount {
        /// The account.
        account: String,
    },
    /// `accounts.include` is present and does not list the account.
    UnlistedAccount {
        /// The account.
        account: String,
    },
    /// The region is not among the scanned ones.
    UnlistedRegion {
        /// The region.
        region: String,
        /// The regions in scope.
        regions: Vec<String>,
    },
}

impl fmt::Display for OutOfScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutOfScope::ExcludedAccount { account } => write!(
                f,
                "out of scope: account {account} is in accounts.exclude of the configuration document"
            ),
            OutOfScope::UnlistedAccount { account } => write!(
                f,
                "out of scope: account {account} is not in accounts.include of the configuration document"
            ),
            OutOfScope::UnlistedRegion { region, regions } => write!(
                f,
                "out of scope: region {region} is not scanned (regions: {}); add it to the \
                 configuration document's regions to include it",
                if regions.is_empty() {
                    "none".to_owned()
                } else {
                    regions.join(", ")
                }
            ),
        }
    }
}

/// Whether `account` is in scope (the scan's account filter).
///
/// # Errors
///
/// [`OutOfScope::ExcludedAccount`] or [`OutOfScope::UnlistedAccount`]. Exclusion wins.
pub fn account(config: &Config, account: &str) -> Result<(), OutOfScope> {
    if config.accounts.exclude.iter().any(|a| a == account) {
        return Err(OutOfScope::ExcludedAccount {
            account: account.to_owned(),
        });
    }
    match &config.accounts.include {
        Some(include) if !include.iter().any(|a| a == account) => {
            Err(OutOfScope::UnlistedAccount {
                account: account.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// The regions in scope: the document's `regions`, else `env_regions` (the `REGIONS` environment
/// variable, already split).
pub fn regions(config: &Config, env_regions: &[String]) -> Vec<String> {
    config.regions_or(env_regions)
}

/// Whether a cluster in `account_id` and `region` is in scope: the one check the scan's filters,
/// `cluster-events` and `cluster-worker` share.
///
/// # Errors
///
/// [`OutOfScope`]: the account first, then the region.
pub fn cluster(
    config: &Config,
    env_regions: &[String],
    account_id: &str,
    region: &str,
) -> Result<(), OutOfScope> {
    account(config, account_id)?;
    let regions = regions(config, env_regions);
    if regions.iter().any(|r| r == region) {
        Ok(())
    } else {
        Err(OutOfScope::UnlistedRegion {
            region: region.to_owned(),
            regions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text).expect("valid")
    }

    #[test]
    fn an_excluded_account_and_an_unlisted_region_are_out_of_scope() {
        let c = config(
            r#"{"version":1,"regions":["us-east-1","eu-west-1"],
                "accounts":{"exclude":["444455556666"]}}"#,
        );
        let env = vec!["ap-south-1".to_owned()];
        assert_eq!(cluster(&c, &env, "111122223333", "eu-west-1"), Ok(()));
        let excluded = cluster(&c, &env, "444455556666", "us-east-1").expect_err("excluded");
        assert_eq!(
            excluded,
            OutOfScope::ExcludedAccount {
                account: "444455556666".into()
            }
        );
        assert!(
            excluded.to_string().contains("accounts.exclude"),
            "{excluded}"
        );
        let region = cluster(&c, &env, "111122223333", "ap-south-1").expect_err("region");
        assert!(
            region
                .to_string()
                .contains("region ap-south-1 is not scanned (regions: us-east-1, eu-west-1)"),
            "{region}"
        );
    }

    #[test]
    fn include_lists_the_accounts_and_the_environment_the_regions() {
        let c = config(r#"{"version":1,"accounts":{"include":["111122223333"]}}"#);
        let env = vec!["us-east-1".to_owned()];
        assert_eq!(cluster(&c, &env, "111122223333", "us-east-1"), Ok(()));
        assert!(matches!(
            cluster(&c, &env, "222233334444", "us-east-1"),
            Err(OutOfScope::UnlistedAccount { .. })
        ));
        assert!(matches!(
            cluster(&c, &env, "111122223333", "eu-west-1"),
            Err(OutOfScope::UnlistedRegion { .. })
        ));
        // No region anywhere: nothing is in scope (the scan lists no region either).
        let none = cluster(&Config::default(), &[], "111122223333", "us-east-1").expect_err("none");
        assert!(none.to_string().contains("(regions: none)"), "{none}");
    }
}
