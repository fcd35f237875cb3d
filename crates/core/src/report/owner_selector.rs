//! Which owner a cluster has, as `report --owner` and `export` name it: every owner kind of
//! aws-auth and of the cluster by its stable name (`argo_cd`, `terraform_aws_eks`, … — `eksctl`
//! names the tool on either side), `unknown` (no owner found, and something could not be seen)
//! and `none` (no owner found, and everything was seen).

use crate::owner::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use crate::owner::ownership::{MetadataSeen, Owners};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// One owner name of the `--owner` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OwnerSelector {
    /// An owner of aws-auth (by its name, so `eksctl` also matches the cluster's eksctl owner).
    AwsAuth(AwsAuthOwnerKind),
    /// An owner of the cluster (`eksctl` is listed once, as [`OwnerSelector::AwsAuth`]).
    Cluster(ClusterOwnerKind),
    /// No owner found, and something could not be seen: a record written before owner
    /// detection, aws-auth without readable metadata or managedFields, or tags not read.
    Unknown,
    /// No owner found, and everything was seen.
    None,
}

impl OwnerSelector {
    /// Every selector, each name once: aws-auth's owners, the cluster's (but `eksctl`), then
    /// `unknown` and `none`.
    pub fn all() -> Vec<OwnerSelector> {
        let mut all: Vec<OwnerSelector> = AwsAuthOwnerKind::ALL
            .iter()
            .map(|k| OwnerSelector::AwsAuth(*k))
            .collect();
        all.extend(
            ClusterOwnerKind::ALL
                .iter()
                .filter(|k| {
                    !AwsAuthOwnerKind::ALL
                        .iter()
                        .any(|a| a.as_str() == k.as_str())
                })
                .map(|k| OwnerSelector::Cluster(*k)),
        );
        all.extend([OwnerSelector::Unknown, OwnerSelector::None]);
        all
    }

    /// The stable name (the owner kind's JSON name, `unknown` or `none`).
    pub fn name(self) -> &'static str {
        match self {
            OwnerSelector::AwsAuth(k) => k.as_str(),
            OwnerSelector::Cluster(k) => k.as_str(),
            OwnerSelector::Unknown => "unknown",
            OwnerSelector::None => "none",
        }
    }

    /// Whether a cluster with these recorded owners (`None`: no owner detection recorded)
    /// has this owner.
    pub fn matches(self, owners: Option<&Owners>) -> bool {
        match self {
            OwnerSelector::AwsAuth(_) | OwnerSelector::Cluster(_) => {
                owner_names(owners).any(|name| name == self.name())
            }
            OwnerSelector::Unknown => owner_names(owners).next().is_none() && !fully_seen(owners),
            OwnerSelector::None => owner_names(owners).next().is_none() && fully_seen(owners),
        }
    }
}

/// The names of every owner recorded, aws-auth's then the cluster's.
fn owner_names(owners: Option<&Owners>) -> impl Iterator<Item = &'static str> + '_ {
    let aws_auth = owners
        .into_iter()
        .flat_map(|o| o.aws_auth.owners.iter().map(|a| a.kind.as_str()));
    let cluster = owners
        .and_then(|o| o.cluster.as_ref())
        .into_iter()
        .flat_map(|c| c.owners.iter().map(|o| o.kind.as_str()));
    aws_auth.chain(cluster)
}

/// Whether detection saw everything it reads: aws-auth's metadata with managedFields (or that
/// there is no aws-auth) and the cluster's tags.
fn fully_seen(owners: Option<&Owners>) -> bool {
    owners.is_some_and(|o| {
        matches!(
            o.aws_auth.metadata,
            MetadataSeen::Live | MetadataSeen::File | MetadataSeen::NoConfigMap
        ) && o.cluster.is_some()
    })
}

impl fmt::Display for OwnerSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an owner selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not an owner; expected one of: {known}")]
pub struct UnknownOwner {
    /// What was given.
    pub value: String,
    /// The names that exist, comma-separated.
    pub known: String,
}

impl FromStr for OwnerSelector {
    type Err = UnknownOwner;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = OwnerSelector::all();
        all.iter()
            .copied()
            .find(|o| o.name() == s)
            .ok_or_else(|| UnknownOwner {
                value: s.to_owned(),
                known: all.iter().map(|o| o.name()).collect::<Vec<_>>().join(", "),
            })
    }
}

impl Serialize for OwnerSelector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for OwnerSelector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::owner::marker::Marker;
    use crate::owner::ownership::{AwsAuthOwner, AwsAuthOwnership, ClusterOwner, ClusterOwnership};

    fn owners(
        metadata: MetadataSeen,
        aws_auth: &[AwsAuthOwnerKind],
        cluster: Option<&[ClusterOwnerKind]>,
    ) -> Owners {
        Owners {
            aws_auth: AwsAuthOwnership {
                metadata,
                owners: aws_auth
                    .iter()
                    .map(|k| AwsAuthOwner {
                        kind: *k,
                        name: None,
                        namespace: None,
                        evidence: vec![Marker::annotation("a", "b")],
                    })
                    .collect(),
            },
            cluster: cluster.map(|kinds| ClusterOwnership {
                owners: kinds
                    .iter()
                    .map(|k| ClusterOwner {
                        kind: *k,
                        name: None,
                        evidence: vec![Marker::Tag {
                            key: "k".to_owned(),
                            value: "v".to_owned(),
                        }],
                    })
                    .collect(),
            }),
        }
    }

    #[test]
    fn names_are_unique_and_parse_back() {
        let all = OwnerSelector::all();
        let mut names: Vec<&str> = all.iter().map(|o| o.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for o in &all {
            assert_eq!(o.name().parse::<OwnerSelector>(), Ok(*o));
            let json = serde_json::to_string(o).expect("serializes");
            assert_eq!(serde_json::from_str::<OwnerSelector>(&json).ok(), Some(*o));
        }
        let err = "argo".parse::<OwnerSelector>().expect_err("not a name");
        assert!(err.to_string().contains("argo_cd") && err.to_string().contains("none"));
    }

    #[test]
    fn every_cluster_is_owned_unknown_or_none() {
        let argo = owners(MetadataSeen::Live, &[AwsAuthOwnerKind::ArgoCd], Some(&[]));
        let eksctl = owners(MetadataSeen::Live, &[], Some(&[ClusterOwnerKind::Eksctl]));
        let nobody = owners(MetadataSeen::Live, &[], Some(&[]));
        let no_tags = owners(MetadataSeen::File, &[], None);
        let no_fields = owners(MetadataSeen::FileWithoutManagedFields, &[], Some(&[]));
        let argo_sel = OwnerSelector::AwsAuth(AwsAuthOwnerKind::ArgoCd);
        let eksctl_sel = OwnerSelector::AwsAuth(AwsAuthOwnerKind::Eksctl);
        assert!(argo_sel.matches(Some(&argo)) && !argo_sel.matches(Some(&eksctl)));
        assert!(
            eksctl_sel.matches(Some(&eksctl)),
            "eksctl names the cluster's owner too"
        );
        assert!(OwnerSelector::None.matches(Some(&nobody)));
        assert!(!OwnerSelector::Unknown.matches(Some(&nobody)));
        for unseen in [Some(&no_tags), Some(&no_fields), None] {
            assert!(OwnerSelector::Unknown.matches(unseen));
            assert!(!OwnerSelector::None.matches(unseen));
        }
        assert!(!OwnerSelector::Unknown.matches(Some(&argo)));
        assert!(!OwnerSelector::None.matches(Some(&argo)));
    }
}
