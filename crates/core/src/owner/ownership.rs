//! What owner detection found, as cluster facts, plans, records and the fleet report carry it:
//! aws-auth's owners with their evidence ([`AwsAuthOwnership`]), the cluster's
//! ([`ClusterOwnership`]), both together ([`Owners`]).

use super::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use super::marker::Marker;
use super::metadata::ObjectMetadata;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One owner of aws-auth and the markers that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsAuthOwner {
    /// Who.
    pub kind: AwsAuthOwnerKind,
    /// The owner's own object when a marker names it: the Argo CD Application, the Flux
    /// Kustomization or HelmRelease, the Helm release; for an unknown manager, the manager's
    /// name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// That object's namespace, when a marker names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The markers that said so (never empty).
    pub evidence: Vec<Marker>,
}

impl fmt::Display for AwsAuthOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.namespace, &self.name) {
            (AwsAuthOwnerKind::UnknownManager, _, Some(name)) => {
                write!(f, "unknown field manager `{name}`")
            }
            (kind, Some(ns), Some(name)) => write!(f, "{kind} {ns}/{name}"),
            (kind, None, Some(name)) => write!(f, "{kind} {name}"),
            (kind, _, None) => write!(f, "{kind}"),
        }
    }
}

/// What owner detection could read of aws-auth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataSeen {
    /// Read from the cluster: labels, annotations and managedFields as the API server keeps
    /// them.
    Live,
    /// An offline file with its metadata, managedFields included.
    File,
    /// An offline file with labels and annotations but no managedFields (`kubectl get -o yaml`
    /// hides them unless `--show-managed-fields` is given): the field managers are not known.
    FileWithoutManagedFields,
    /// An offline file without metadata: the owner is unknown.
    #[default]
    None,
    /// The cluster has no aws-auth ConfigMap: nobody owns it.
    NoConfigMap,
}

impl MetadataSeen {
    /// What an offline file's metadata (`None`: the file has none) lets detection see.
    pub fn of_file(metadata: Option<&ObjectMetadata>) -> Self {
        match metadata {
            None => MetadataSeen::None,
            Some(m) if m.managed_fields.is_some() => MetadataSeen::File,
            Some(_) => MetadataSeen::FileWithoutManagedFields,
        }
    }
}

/// aws-auth's owners, as detection found them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsAuthOwnership {
    /// What could be read.
    pub metadata: MetadataSeen,
    /// Every owner found, the one that decides first: GitOps controllers, then Helm,
    /// Terraform, eksctl, kubectl, unknown managers. Empty: nobody known (see `metadata`).
    #[serde(default)]
    pub owners: Vec<AwsAuthOwner>,
}

impl AwsAuthOwnership {
    /// The owner that decides what aws-auth holds (the first), if any.
    pub fn primary(&self) -> Option<&AwsAuthOwner> {
        self.owners.first()
    }

    /// The owners whose next run would put pruned rows back.
    pub fn undoing_prune(&self) -> impl Iterator<Item = &AwsAuthOwner> {
        self.owners.iter().filter(|o| o.kind.undoes_prune())
    }
}

/// One owner of the cluster and the tags that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOwner {
    /// Who.
    pub kind: ClusterOwnerKind,
    /// The stack name (CloudFormation), the eksctl cluster name, or the configured tag's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The tags that said so (never empty).
    pub evidence: Vec<Marker>,
}

impl fmt::Display for ClusterOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.name) {
            (ClusterOwnerKind::CloudFormation, Some(stack)) => {
                write!(f, "CloudFormation stack {stack}")
            }
            (ClusterOwnerKind::ConfiguredTag, _) => match self.evidence.first() {
                Some(tag) => write!(f, "{tag}"),
                None => write!(f, "{}", self.kind),
            },
            (kind, Some(name)) => write!(f, "{kind} ({name})"),
            (kind, None) => write!(f, "{kind}"),
        }
    }
}

/// The cluster's owners, from its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOwnership {
    /// Every owner found, the one that decides first: eksctl (which works through its own
    /// CloudFormation stacks), terraform-aws-eks, CloudFormation, then configured tags. Empty:
    /// no tag names an owner.
    #[serde(default)]
    pub owners: Vec<ClusterOwner>,
}

impl ClusterOwnership {
    /// The owner that decides (the first), if any.
    pub fn primary(&self) -> Option<&ClusterOwner> {
        self.owners.first()
    }
}

/// Who owns aws-auth and the cluster: the owner facts of a plan, a cluster record and the fleet
/// report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owners {
    /// aws-auth's owners.
    pub aws_auth: AwsAuthOwnership,
    /// The cluster's owners; absent when its tags were not read (an offline plan without
    /// facts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterOwnership>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_serialize_with_stable_names() {
        let owners = Owners {
            aws_auth: AwsAuthOwnership {
                metadata: MetadataSeen::Live,
                owners: vec![AwsAuthOwner {
                    kind: AwsAuthOwnerKind::ArgoCd,
                    name: Some("aws-auth".to_owned()),
                    namespace: None,
                    evidence: vec![Marker::annotation(
                        "argocd.argoproj.io/tracking-id",
                        "aws-auth:/ConfigMap:kube-system/aws-auth",
                    )],
                }],
            },
            cluster: Some(ClusterOwnership {
                owners: vec![ClusterOwner {
                    kind: ClusterOwnerKind::TerraformAwsEks,
                    name: None,
                    evidence: vec![Marker::Tag {
                        key: "terraform-aws-modules".to_owned(),
                        value: "eks".to_owned(),
                    }],
                }],
            }),
        };
        let json = serde_json::to_value(&owners).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "aws_auth": {"metadata": "live", "owners": [{
                    "kind": "argo_cd", "name": "aws-auth",
                    "evidence": [{"source": "annotation", "key": "argocd.argoproj.io/tracking-id",
                                  "value": "aws-auth:/ConfigMap:kube-system/aws-auth"}]}]},
                "cluster": {"owners": [{"kind": "terraform_aws_eks",
                    "evidence": [{"source": "tag", "key": "terraform-aws-modules", "value": "eks"}]}]}
            })
        );
        let back: Owners = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, owners);
        assert_eq!(
            owners
                .aws_auth
                .primary()
                .map(ToString::to_string)
                .as_deref(),
            Some("Argo CD aws-auth")
        );
    }
}
