//! The configuration's say in owner detection (the configuration document's `owners` section,
//! docs/configuration.md): which cluster tags name an owner ([`OwnerTag`]), and which owners a
//! platform team has dealt with on which cluster ([`Acceptance`], per cluster in
//! [`ClusterAcceptance`]). An owner that would undo a prune blocks finalize until it is accepted
//! here for that cluster; an acceptance names owner kinds, so a new owner found later blocks
//! again.

use super::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use serde::{Deserialize, Serialize};

/// A cluster tag the configuration names as an ownership tag (`{"key": "ManagedBy", "value":
/// "terraform"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerTag {
    /// The tag key, compared exactly (tag keys are case-sensitive).
    pub key: String,
    /// The value that means owned, compared without regard to letter case; absent: any value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The owners accepted for one cluster: the team changed them (or will before their next run),
/// so the migrator may prune aws-auth and switch the cluster to API behind them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// aws-auth owners accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aws_auth: Vec<AwsAuthOwnerKind>,
    /// Cluster owners accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster: Vec<ClusterOwnerKind>,
}

impl Acceptance {
    /// Whether `kind` is accepted as aws-auth's owner.
    pub fn accepts_aws_auth(&self, kind: AwsAuthOwnerKind) -> bool {
        self.aws_auth.contains(&kind)
    }

    /// Whether `kind` is accepted as the cluster's owner.
    pub fn accepts_cluster(&self, kind: ClusterOwnerKind) -> bool {
        self.cluster.contains(&kind)
    }

    /// Adds what `other` accepts.
    pub fn extend(&mut self, other: &Acceptance) {
        for kind in &other.aws_auth {
            if !self.aws_auth.contains(kind) {
                self.aws_auth.push(*kind);
            }
        }
        for kind in &other.cluster {
            if !self.cluster.contains(kind) {
                self.cluster.push(*kind);
            }
        }
    }

    /// Nothing accepted.
    pub fn is_empty(&self) -> bool {
        self.aws_auth.is_empty() && self.cluster.is_empty()
    }
}

/// One cluster's acceptance in the configuration document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterAcceptance {
    /// The cluster's ARN (`arn:aws:eks:eu-west-1:111122223333:cluster/prod`).
    pub cluster: String,
    /// aws-auth owners accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aws_auth: Vec<AwsAuthOwnerKind>,
    /// Cluster owners accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_owner: Vec<ClusterOwnerKind>,
    /// Why (the pull request that changed the owner, who decided): kept for the reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The configuration document's `owners` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerSettings {
    /// Cluster tags that name an owner besides the ones recognised by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<OwnerTag>,
    /// Per-cluster acceptances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<ClusterAcceptance>,
}

/// A cluster ARN's parts: (account, region, name).
pub fn cluster_arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("eks:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, resource) = rest.split_once(':')?;
    let name = resource.strip_prefix("cluster/")?;
    let valid = !partition.is_empty()
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && is_cluster_name(name);
    valid.then_some((account, region, name))
}

/// EKS cluster names: 1–100 characters, a letter or digit first, then letters, digits, `-`,
/// `_` (CreateCluster's `name` pattern `^[0-9A-Za-z][A-Za-z0-9\-_]*`).
fn is_cluster_name(name: &str) -> bool {
    name.len() <= 100
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl OwnerSettings {
    /// What is accepted for the cluster `name` of `account` in `region` (nothing when it is not
    /// listed).
    pub fn acceptance_for(&self, account: &str, region: &str, name: &str) -> Acceptance {
        self.accept
            .iter()
            .find(|a| cluster_arn_parts(&a.cluster) == Some((account, region, name)))
            .map(|a| Acceptance {
                aws_auth: a.aws_auth.clone(),
                cluster: a.cluster_owner.clone(),
            })
            .unwrap_or_default()
    }

    /// Checks the section: tag keys not empty and not listed twice; each acceptance naming a
    /// cluster ARN, at most once, and at least one owner.
    ///
    /// # Errors
    /// The offending field's path in the document (`owners.accept[1].cluster`) and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, tag) in self.tags.iter().enumerate() {
            let path = format!("owners.tags[{i}]");
            if tag.key.trim().is_empty() {
                return Err((
                    format!("{path}.key"),
                    "is empty; name the tag key".to_owned(),
                ));
            }
            if tag.value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err((
                    format!("{path}.value"),
                    "is empty; give the value that means owned, or remove the field to match any value".to_owned(),
                ));
            }
            if self.tags[..i]
                .iter()
                .any(|t| t.key == tag.key && t.value == tag.value)
            {
                return Err((path, format!("`{}` is listed twice; remove one", tag.key)));
            }
        }
        for (i, acceptance) in self.accept.iter().enumerate() {
            let path = format!("owners.accept[{i}]");
            let Some(parts) = cluster_arn_parts(&acceptance.cluster) else {
                return Err((
                    format!("{path}.cluster"),
                    format!(
                        "`{}` is not an EKS cluster ARN (like arn:aws:eks:eu-west-1:111122223333:cluster/prod)",
                        acceptance.cluster
                    ),
                ));
            };
            if self.accept[..i]
                .iter()
                .any(|a| cluster_arn_parts(&a.cluster) == Some(parts))
            {
                return Err((
                    format!("{path}.cluster"),
                    format!(
                        "`{}` is listed twice; merge the two entries",
                        acceptance.cluster
                    ),
                ));
            }
            if acceptance.aws_auth.is_empty() && acceptance.cluster_owner.is_empty() {
                return Err((
                    path,
                    "accepts nothing; list the owners dealt with in `aws_auth` and/or `cluster_owner`".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: serde_json::Value) -> OwnerSettings {
        serde_json::from_value(json).expect("decodes")
    }

    #[test]
    fn acceptance_is_per_cluster() {
        let s = settings(serde_json::json!({
            "tags": [{"key": "ManagedBy", "value": "terraform"}],
            "accept": [{"cluster": "arn:aws:eks:eu-west-1:111122223333:cluster/prod",
                        "aws_auth": ["argo_cd"], "cluster_owner": ["terraform_aws_eks"],
                        "reason": "platform-gitops#42 removed aws-auth from the app"}]
        }));
        assert_eq!(s.validate(), Ok(()));
        let prod = s.acceptance_for("111122223333", "eu-west-1", "prod");
        assert!(prod.accepts_aws_auth(AwsAuthOwnerKind::ArgoCd));
        assert!(!prod.accepts_aws_auth(AwsAuthOwnerKind::FluxKustomization));
        assert!(prod.accepts_cluster(ClusterOwnerKind::TerraformAwsEks));
        assert!(
            s.acceptance_for("111122223333", "eu-west-1", "dev")
                .is_empty()
        );
        assert!(
            s.acceptance_for("111122223333", "us-east-1", "prod")
                .is_empty()
        );
    }

    #[test]
    fn invalid_sections_name_the_field() {
        let cases = [
            (
                serde_json::json!({"accept": [{"cluster": "prod", "aws_auth": ["helm"]}]}),
                "owners.accept[0].cluster",
            ),
            (
                serde_json::json!({"accept": [{"cluster": "arn:aws:eks:eu-west-1:111122223333:cluster/prod"}]}),
                "owners.accept[0]",
            ),
            (
                serde_json::json!({"accept": [
                    {"cluster": "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "aws_auth": ["helm"]},
                    {"cluster": "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "aws_auth": ["eksctl"]}]}),
                "owners.accept[1].cluster",
            ),
            (
                serde_json::json!({"tags": [{"key": " "}]}),
                "owners.tags[0].key",
            ),
            (
                serde_json::json!({"tags": [{"key": "ManagedBy", "value": ""}]}),
                "owners.tags[0].value",
            ),
            (
                serde_json::json!({"tags": [{"key": "ManagedBy"}, {"key": "ManagedBy"}]}),
                "owners.tags[1]",
            ),
        ];
        for (json, path) in cases {
            let err = settings(json.clone()).validate().expect_err("invalid");
            assert_eq!(err.0, path, "{json}: {}", err.1);
        }
        let unknown_kind = serde_json::from_value::<OwnerSettings>(serde_json::json!({
            "accept": [{"cluster": "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "aws_auth": ["argocd"]}]
        }));
        assert!(unknown_kind.is_err());
    }

    #[test]
    fn cluster_arns_are_checked_part_by_part() {
        assert_eq!(
            cluster_arn_parts("arn:aws-cn:eks:cn-north-1:111122223333:cluster/a_b-1"),
            Some(("111122223333", "cn-north-1", "a_b-1"))
        );
        for bad in [
            "arn:aws:eks:eu-west-1:1111:cluster/prod",
            "arn:aws:iam::111122223333:role/prod",
            "arn:aws:eks:eu-west-1:111122223333:cluster/-prod",
            "arn:aws:eks:eu-west-1:111122223333:nodegroup/prod",
        ] {
            assert_eq!(cluster_arn_parts(bad), None, "{bad}");
        }
    }
}
