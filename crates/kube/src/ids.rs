//! Validated identifiers the adapters key their work by: AWS region, EKS cluster name, account.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid identifier of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind}: {expected}")]
pub struct IdError {
    /// `region`, `cluster name` or `account ID`.
    pub kind: &'static str,
    /// The rejected string.
    pub value: String,
    /// What a valid value looks like.
    pub expected: &'static str,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $expected:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parse and validate.
            ///
            /// # Errors
            ///
            /// [`IdError`] when the string is not a valid value of this kind.
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                let valid: fn(&str) -> bool = $valid;
                if valid(&s) {
                    Ok(Self(s))
                } else {
                    Err(IdError { kind: $kind, value: s, expected: $expected })
                }
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// An AWS region code such as `eu-west-1` or `us-gov-west-1`.
    Region,
    "region",
    "lower-case letters, digits and hyphens, starting with a letter and ending with a digit",
    |s| {
        s.len() <= 32
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.ends_with(|c: char| c.is_ascii_digit())
            && s.contains('-')
            && !s.contains("--")
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }
);

id_type!(
    /// An EKS cluster name (or an Outposts local cluster ID): 1–100 characters, a letter or digit
    /// first, then letters, digits, `-` and `_`.
    ClusterName,
    "cluster name",
    "1-100 letters, digits, hyphens and underscores, starting with a letter or digit",
    |s| {
        !s.is_empty()
            && s.len() <= 100
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }
);

id_type!(
    /// A 12-digit AWS account ID.
    AccountId,
    "account ID",
    "exactly 12 digits",
    |s| s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
);

impl Region {
    /// The DNS suffix of the region's partition, as botocore's endpoint rules resolve it for STS.
    pub fn dns_suffix(&self) -> &'static str {
        let r = self.0.as_str();
        if r.starts_with("cn-") {
            "amazonaws.com.cn"
        } else if r.starts_with("us-isob-") {
            "sc2s.sgov.gov"
        } else if r.starts_with("us-isof-") {
            "csp.hci.ic.gov"
        } else if r.starts_with("us-iso-") {
            "c2s.ic.gov"
        } else if r.starts_with("eu-isoe-") {
            "cloud.adc-e.uk"
        } else {
            "amazonaws.com"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "ap-southeast-5",
        ] {
            assert_eq!(Region::parse(ok).map(|r| r.to_string()), Ok(ok.to_owned()));
        }
        for bad in [
            "",
            "EU-west-1",
            "eu-west",
            "eu--west-1",
            "eu_west_1",
            "1eu-west-1",
            "eu-west-1/x",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Region::parse("cn-northwest-1").map(|r| r.dns_suffix()),
            Ok("amazonaws.com.cn")
        );
        assert_eq!(
            Region::parse("us-iso-east-1").map(|r| r.dns_suffix()),
            Ok("c2s.ic.gov")
        );
        assert_eq!(
            Region::parse("us-east-1").map(|r| r.dns_suffix()),
            Ok("amazonaws.com")
        );
    }

    #[test]
    fn cluster_names() {
        for ok in [
            "prod",
            "a",
            "Team_1-eu",
            "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e",
        ] {
            assert!(ClusterName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "_x", "a b", "a/b", "a.b", &"x".repeat(101)] {
            assert!(ClusterName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_ids_and_serde() {
        assert!(AccountId::parse("012345678901").is_ok());
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("01234567890a").is_err());
        let err = serde_json::from_str::<AccountId>("\"123\"").expect_err("too short");
        assert!(err.to_string().contains("exactly 12 digits"), "{err}");
        let id: AccountId = serde_json::from_str("\"012345678901\"").expect("valid");
        assert_eq!(
            serde_json::to_string(&id).expect("serialize"),
            "\"012345678901\""
        );
    }
}
