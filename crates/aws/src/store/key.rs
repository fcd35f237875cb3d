//! Which cluster a record belongs to: account, region and name, and the partition key
//! `CLUSTER#<account>#<region>#<name>` they make.

use eks_auth_kube::ids::{AccountId, ClusterName, Region};
use std::fmt;

/// Identifies one cluster: account, region, name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterKey {
    /// The cluster's account.
    pub account: AccountId,
    /// The cluster's region.
    pub region: Region,
    /// The cluster's name.
    pub name: ClusterName,
}

impl ClusterKey {
    /// The partition key, `CLUSTER#<account>#<region>#<name>`.
    pub fn pk(&self) -> String {
        self.to_string()
    }

    /// Parse a partition key written by [`ClusterKey::pk`].
    pub fn from_pk(pk: &str) -> Option<Self> {
        let mut parts = pk.strip_prefix("CLUSTER#")?.splitn(3, '#');
        Some(Self {
            account: parts.next()?.parse().ok()?,
            region: parts.next()?.parse().ok()?,
            name: parts.next()?.parse().ok()?,
        })
    }
}

impl fmt::Display for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CLUSTER#{}#{}#{}", self.account, self.region, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_key_round_trips_through_pk() {
        let key = ClusterKey {
            account: "012345678901".parse().expect("account"),
            region: "eu-west-1".parse().expect("region"),
            name: "prod_eu-1".parse().expect("name"),
        };
        assert_eq!(key.pk(), "CLUSTER#012345678901#eu-west-1#prod_eu-1");
        assert_eq!(ClusterKey::from_pk(&key.pk()), Some(key));
        assert_eq!(ClusterKey::from_pk("CLUSTER#0123#eu-west-1#x"), None);
        assert_eq!(ClusterKey::from_pk("ENTRY#x"), None);
    }
}
