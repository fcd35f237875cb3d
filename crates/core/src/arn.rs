//! ARNs as aws-auth and EKS use them: parsing, and what kind of IAM principal an ARN names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a string is not an ARN this tool can work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Not `arn:partition:service:region:account:resource`.
    #[error("`{0}` is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")]
    Malformed(String),
    /// The partition is not an AWS partition.
    #[error(
        "`{0}` has an unknown partition (expected aws, aws-cn, aws-us-gov or another aws-* partition)"
    )]
    Partition(String),
    /// The account is not 12 digits.
    #[error("`{0}` has an invalid account ID (expected 12 digits)")]
    Account(String),
}

/// A parsed ARN. Parsing keeps the original spelling so it can be shown back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    partition: String,
    service: String,
    region: String,
    account: String,
    resource: String,
}

impl Arn {
    /// The partition (`aws`, `aws-cn`, `aws-us-gov`, …).
    pub fn partition(&self) -> &str {
        &self.partition
    }
    /// The service (`iam`, `sts`, …).
    pub fn service(&self) -> &str {
        &self.service
    }
    /// The region (empty for global services such as IAM).
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The 12-digit account ID (empty for AWS-owned resources such as access policies).
    pub fn account(&self) -> &str {
        &self.account
    }
    /// Everything after the account field.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// What kind of IAM principal this ARN names.
    pub fn principal(&self) -> Principal<'_> {
        let resource = self.resource.as_str();
        match self.service.as_str() {
            "iam" => {
                if resource == "root" {
                    return Principal::Root;
                }
                if let Some(rest) = resource.strip_prefix("role/") {
                    let (path, name) = split_path(rest);
                    return Principal::Role { path, name };
                }
                if let Some(rest) = resource.strip_prefix("user/") {
                    let (path, name) = split_path(rest);
                    return Principal::User { path, name };
                }
                Principal::Other
            }
            "sts" => match resource.strip_prefix("assumed-role/") {
                Some(rest) => match rest.split_once('/') {
                    Some((role, _session)) => Principal::AssumedRole { role },
                    None => Principal::AssumedRole { role: rest },
                },
                None => Principal::Other,
            },
            _ => Principal::Other,
        }
    }

    /// The key the authenticator files a mapping under: the whole ARN, lower-cased.
    pub fn match_key(&self) -> String {
        self.to_string().to_lowercase()
    }
}

/// Splits `a/b/name` into (`/a/b/`, `name`); a bare name has path `/`.
fn split_path(rest: &str) -> (&str, &str) {
    match rest.rfind('/') {
        Some(i) => (&rest[..=i], &rest[i + 1..]),
        None => ("", rest),
    }
}

/// The IAM principal kinds aws-auth rows name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    /// `iam::ACCOUNT:role/[path/]name`. `path` is empty or like `a/b/` (without the leading `/`).
    Role {
        /// The IAM path between `role/` and the name (empty when none).
        path: &'a str,
        /// The role name.
        name: &'a str,
    },
    /// `iam::ACCOUNT:user/[path/]name`.
    User {
        /// The IAM path between `user/` and the name (empty when none).
        path: &'a str,
        /// The user name.
        name: &'a str,
    },
    /// `sts::ACCOUNT:assumed-role/ROLE/SESSION`: a session, never a mapping key that matches.
    AssumedRole {
        /// The role the session belongs to.
        role: &'a str,
    },
    /// `iam::ACCOUNT:root`.
    Root,
    /// Anything else (IAM groups, policies, other services).
    Other,
}

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(ArnError::Malformed(s.to_owned()));
        };
        if service.is_empty() || resource.is_empty() || s.chars().any(char::is_whitespace) {
            return Err(ArnError::Malformed(s.to_owned()));
        }
        if !is_aws_partition(partition) {
            return Err(ArnError::Partition(s.to_owned()));
        }
        if !account.is_empty() && !is_account_id(account) {
            return Err(ArnError::Account(s.to_owned()));
        }
        Ok(Arn {
            partition: partition.to_owned(),
            service: service.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource: resource.to_owned(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

impl Serialize for Arn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Arn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The partition of `region` (`aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// True for `aws` and `aws-*` partitions (aws-cn, aws-us-gov, aws-iso, aws-iso-b, …).
pub fn is_aws_partition(partition: &str) -> bool {
    partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// True for a 12-digit AWS account ID.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The ARN of an EKS access policy in a partition, e.g. `AmazonEKSClusterAdminPolicy`.
pub fn access_policy_arn(partition: &str, policy_name: &str) -> String {
    format!("arn:{partition}:eks::aws:cluster-access-policy/{policy_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(s: &str) -> Arn {
        s.parse().expect("valid ARN")
    }

    #[test]
    fn classifies_principals() {
        assert_eq!(
            arn("arn:aws:iam::111122223333:role/admin").principal(),
            Principal::Role {
                path: "",
                name: "admin"
            }
        );
        assert_eq!(
            arn("arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123")
                .principal(),
            Principal::Role {
                path: "aws-reserved/sso.amazonaws.com/eu-west-1/",
                name: "AWSReservedSSO_Dev_0123"
            }
        );
        assert_eq!(
            arn("arn:aws-cn:iam::111122223333:user/dev/bob").principal(),
            Principal::User {
                path: "dev/",
                name: "bob"
            }
        );
        assert_eq!(
            arn("arn:aws:sts::111122223333:assumed-role/admin/alice").principal(),
            Principal::AssumedRole { role: "admin" }
        );
        assert_eq!(
            arn("arn:aws:iam::111122223333:root").principal(),
            Principal::Root
        );
        assert_eq!(
            arn("arn:aws:iam::111122223333:group/ops").principal(),
            Principal::Other
        );
    }

    #[test]
    fn rejects_non_arns() {
        for bad in [
            "",
            "admin",
            "arn:aws:iam::1234:role/x",
            "arn:gcp:iam::111122223333:role/x",
            "arn:aws:iam::111122223333",
            "arn:aws:iam::111122223333:role/x y",
        ] {
            assert!(bad.parse::<Arn>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn round_trips_and_keys_case_insensitively() {
        let a = arn("arn:aws-us-gov:iam::111122223333:role/Admin");
        assert_eq!(a.to_string(), "arn:aws-us-gov:iam::111122223333:role/Admin");
        assert_eq!(a.match_key(), "arn:aws-us-gov:iam::111122223333:role/admin");
        assert_eq!(a.partition(), "aws-us-gov");
    }

    #[test]
    fn policy_arns_follow_the_partition() {
        assert_eq!(
            access_policy_arn("aws-cn", "AmazonEKSViewPolicy"),
            "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        );
    }

    #[test]
    fn partitions_follow_regions() {
        assert_eq!(partition_of("eu-west-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }
}
