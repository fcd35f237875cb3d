//! Which clusters and principals a report covers. Within a field the values are alternatives
//! (any may match); across fields every non-empty field must match. An empty filter keeps the
//! whole fleet.

use super::input::ClusterView;
use super::owner_selector::OwnerSelector;
use crate::facts::{AuthenticationMode, same_role};
use crate::finding::FindingCode;
use crate::state::{Mode, Phase};
use serde::{Deserialize, Serialize};

/// The report's filter (`--account`, `--region`, `--phase`, `--mode`, `--auth-mode`, `--code`,
/// `--principal`, `--owner`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Cluster accounts.
    pub accounts: Vec<String>,
    /// Cluster regions.
    pub regions: Vec<String>,
    /// Migration phases.
    pub phases: Vec<Phase>,
    /// Migrator modes.
    pub modes: Vec<Mode>,
    /// Authentication modes.
    pub authentication_modes: Vec<AuthenticationMode>,
    /// Finding codes: keeps clusters with a finding (any severity) of one of them, and only
    /// these codes' blocker groups.
    pub codes: Vec<FindingCode>,
    /// A principal: a value starting with `arn:` matches that principal exactly (ARNs compared
    /// case-insensitively; roles by account and name, path ignored, as EKS does); any other value
    /// matches ARNs containing it, case-insensitively. Keeps the clusters whose inventory names a
    /// matching principal, and only matching principals in the access inventory.
    pub principal: Option<String>,
    /// Owners: keeps the clusters with one of them (of aws-auth or of the cluster; `unknown`,
    /// `none`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<OwnerSelector>,
}

impl Filter {
    /// Whether the filter keeps every cluster and principal.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether the account and region filters keep this account-region (scan marks).
    pub fn keeps_account_region(&self, account: &str, region: &str) -> bool {
        any_or_empty(&self.accounts, |a| a == account)
            && any_or_empty(&self.regions, |r| r == region)
    }

    /// Whether the filter keeps this cluster.
    pub fn keeps_cluster(&self, cluster: &ClusterView) -> bool {
        let mut findings = cluster.inventory.iter().flat_map(|i| i.findings.iter());
        let mut principals = cluster.inventory.iter().flat_map(|i| i.principals.iter());
        self.keeps_account_region(&cluster.account, &cluster.region)
            && any_or_empty(&self.phases, |p| *p == cluster.phase)
            && any_or_empty(&self.modes, |m| *m == cluster.mode)
            && any_or_empty(&self.authentication_modes, |m| {
                Some(*m) == cluster.authentication_mode
            })
            && (self.codes.is_empty() || findings.any(|f| self.keeps_code(f.code)))
            && (self.principal.is_none()
                || principals.any(|p| self.keeps_principal(&p.principal_arn)))
            && any_or_empty(&self.owners, |o| o.matches(cluster.owners.as_ref()))
    }

    /// Whether the code filter keeps this code's blocker group.
    pub fn keeps_code(&self, code: FindingCode) -> bool {
        any_or_empty(&self.codes, |c| *c == code)
    }

    /// Whether the principal filter keeps this principal.
    pub fn keeps_principal(&self, arn: &str) -> bool {
        match self.principal.as_deref() {
            None => true,
            Some(wanted)
                if wanted
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case("arn:")) =>
            {
                wanted.eq_ignore_ascii_case(arn) || same_role(wanted, arn)
            }
            Some(part) => contains_ignore_case(arn, part),
        }
    }
}

fn any_or_empty<T>(values: &[T], pred: impl Fn(&T) -> bool) -> bool {
    values.is_empty() || values.iter().any(pred)
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .to_lowercase()
        .contains(needle.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_filter_exact_arn_or_substring() {
        let admin = "arn:aws:iam::111122223333:role/ops/Admin";
        let exact = |p: &str| Filter {
            principal: Some(p.to_owned()),
            ..Filter::default()
        };
        assert!(exact("arn:aws:iam::111122223333:role/admin").keeps_principal(admin));
        assert!(exact("ARN:AWS:IAM::111122223333:ROLE/OPS/ADMIN").keeps_principal(admin));
        assert!(exact("arn:aws:iam::111122223333:role/ops/admin").keeps_principal(admin));
        assert!(!exact("arn:aws:iam::111122223333:role/adm").keeps_principal(admin));
        assert!(!exact("arn:aws:iam::444455556666:role/admin").keeps_principal(admin));
        assert!(exact("OPS/ad").keeps_principal(admin));
        assert!(!exact("readers").keeps_principal(admin));
        assert!(Filter::default().keeps_principal(admin));
    }

    #[test]
    fn account_region_fields_are_alternatives_and_fields_combine() {
        let f = Filter {
            accounts: vec!["1".into(), "2".into()],
            regions: vec!["eu-west-1".into()],
            ..Filter::default()
        };
        assert!(f.keeps_account_region("2", "eu-west-1"));
        assert!(!f.keeps_account_region("3", "eu-west-1"));
        assert!(!f.keeps_account_region("1", "us-east-1"));
        assert!(Filter::default().is_empty() && !f.is_empty());
    }
}
