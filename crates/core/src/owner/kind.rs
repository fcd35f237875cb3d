//! Who can own aws-auth ([`AwsAuthOwnerKind`]) and who can own the cluster
//! ([`ClusterOwnerKind`]), with their stable JSON names (plan JSON, records, the report, the
//! configuration's acceptance lists) and what each owner needs changed before the migrator may
//! prune or switch behind it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! owner_kinds {
    ($(#[$meta:meta])* $name:ident { $($(#[doc = $doc:expr])* $variant:ident => $json:literal, $human:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[doc = $doc])* #[serde(rename = $json)] $variant,)*
        }

        impl $name {
            /// Every kind, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable JSON and configuration name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $json,)*
                }
            }

            /// The name a person reads.
            pub fn human(self) -> &'static str {
                match self {
                    $($name::$variant => $human,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.human())
            }
        }

        impl FromStr for $name {
            type Err = UnknownOwnerKind;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|k| k.as_str() == s)
                    .ok_or_else(|| UnknownOwnerKind {
                        value: s.to_owned(),
                        known: $name::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

/// A name that is not an owner kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not an owner kind; expected one of: {known}")]
pub struct UnknownOwnerKind {
    /// What was given.
    pub value: String,
    /// The kinds that exist, comma-separated.
    pub known: String,
}

owner_kinds! {
    /// Who writes kube-system/aws-auth, as its metadata says
    /// ([`crate::owner::known`] lists each marker and its source).
    AwsAuthOwnerKind {
        /// An Argo CD Application syncs it (tracking annotation or label, or Argo CD's field
        /// manager).
        ArgoCd => "argo_cd", "Argo CD",
        /// A Flux Kustomization applies it (kustomize-controller).
        FluxKustomization => "flux_kustomization", "Flux Kustomization",
        /// A Flux HelmRelease installs it (helm-controller).
        FluxHelmRelease => "flux_helm_release", "Flux HelmRelease",
        /// A Helm release installed it.
        Helm => "helm", "Helm",
        /// Terraform's Kubernetes provider writes it (kubernetes_config_map,
        /// kubernetes_config_map_v1_data, kubernetes_manifest; terraform-aws-eks up to v19 and
        /// its v20 aws-auth submodule use these).
        Terraform => "terraform", "Terraform",
        /// eksctl writes it (`eksctl create iamidentitymapping`, node groups,
        /// `iamIdentityMappings` in a ClusterConfig).
        Eksctl => "eksctl", "eksctl",
        /// `kubectl apply` (client-side) from a file someone or some pipeline keeps.
        KubectlClientSideApply => "kubectl_client_side_apply", "kubectl apply (client-side)",
        /// `kubectl apply --server-side` from a file someone or some pipeline keeps.
        KubectlServerSideApply => "kubectl_server_side_apply", "kubectl apply --server-side",
        /// kubectl by hand: create, edit, patch, replace (or a kubectl too old to name its
        /// command).
        Kubectl => "kubectl", "kubectl (by hand)",
        /// A field manager this build does not know: reported as it is, never mapped to an
        /// owner by guess.
        UnknownManager => "unknown_manager", "unknown field manager",
    }
}

owner_kinds! {
    /// Who owns the EKS cluster itself, as its tags say.
    ClusterOwnerKind {
        /// eksctl (through its own CloudFormation stacks, whose stack-name tag the cluster also
        /// carries).
        Eksctl => "eksctl", "eksctl",
        /// The terraform-aws-modules/eks Terraform module.
        TerraformAwsEks => "terraform_aws_eks", "terraform-aws-eks",
        /// A CloudFormation stack (CDK stacks too: they are CloudFormation stacks and carry the
        /// same tag).
        CloudFormation => "cloudformation", "CloudFormation",
        /// A tag the configuration names as an ownership tag (`ManagedBy=terraform`).
        ConfiguredTag => "configured_tag", "configured ownership tag",
    }
}

impl AwsAuthOwnerKind {
    /// Whether this owner puts aws-auth's rows back on its next sync, upgrade or apply: a
    /// prune behind its back is undone (or breaks its next run), so it blocks finalize until
    /// accepted. kubectl and unknown managers are not known to re-apply by themselves: they get
    /// a warning or a note instead.
    pub fn undoes_prune(self) -> bool {
        matches!(
            self,
            AwsAuthOwnerKind::ArgoCd
                | AwsAuthOwnerKind::FluxKustomization
                | AwsAuthOwnerKind::FluxHelmRelease
                | AwsAuthOwnerKind::Helm
                | AwsAuthOwnerKind::Terraform
                | AwsAuthOwnerKind::Eksctl
        )
    }

    /// What to change in the owner before the migrator prunes aws-auth.
    pub fn what_to_change(self) -> &'static str {
        match self {
            AwsAuthOwnerKind::ArgoCd => {
                "remove the migrated rows (or the whole aws-auth ConfigMap) from the Argo CD Application's source in git, and let it sync, so neither self-heal nor the next sync puts them back"
            }
            AwsAuthOwnerKind::FluxKustomization => {
                "remove the migrated rows (or the whole aws-auth ConfigMap) from the Flux Kustomization's path in git, and let it reconcile, so its drift correction does not put them back"
            }
            AwsAuthOwnerKind::FluxHelmRelease => {
                "remove the migrated rows from the Flux HelmRelease's values (or the chart) in git, and let it reconcile, so its next upgrade does not put them back"
            }
            AwsAuthOwnerKind::Helm => {
                "remove the migrated rows from the Helm release's values (or the chart's aws-auth template) and run `helm upgrade`, so the next upgrade does not put them back"
            }
            AwsAuthOwnerKind::Terraform => {
                "remove the migrated rows from the Terraform configuration that writes aws-auth (kubernetes_config_map / kubernetes_config_map_v1_data / kubernetes_manifest; terraform-aws-eks: aws_auth_roles, aws_auth_users, aws_auth_accounts of the module up to v19 or of its aws-auth submodule) and apply it, so the next `terraform apply` does not put them back"
            }
            AwsAuthOwnerKind::Eksctl => {
                "remove the migrated rows from the ClusterConfig's `iamIdentityMappings` and stop running `eksctl create iamidentitymapping` for them (use `accessConfig.accessEntries` instead)"
            }
            AwsAuthOwnerKind::KubectlClientSideApply | AwsAuthOwnerKind::KubectlServerSideApply => {
                "find the manifest that is applied (a pipeline or a repository) and remove the migrated rows from it, or its next `kubectl apply` puts them back"
            }
            AwsAuthOwnerKind::Kubectl => {
                "nothing, unless someone edits aws-auth by hand from a copy: tell them"
            }
            AwsAuthOwnerKind::UnknownManager => {
                "find out which tool this field manager is (a controller, a pipeline, a script) and whether it re-applies aws-auth; if it does, remove the migrated rows from its source"
            }
        }
    }
}

impl ClusterOwnerKind {
    /// What to change in the cluster's own code after the migrator's switch to API, so its next
    /// run neither tries to set the authentication mode back (EKS refuses: the switch is one
    /// way) nor creates entries that exist (ResourceInUseException).
    pub fn what_to_change(self) -> &'static str {
        match self {
            ClusterOwnerKind::CloudFormation => {
                "set `AccessConfig.AuthenticationMode: API` on the stack's AWS::EKS::Cluster and import the migrated AWS::EKS::AccessEntry resources into the stack (or leave them out of it) before its next update"
            }
            ClusterOwnerKind::Eksctl => {
                "set `accessConfig.authenticationMode: API` and the migrated `accessConfig.accessEntries` in the ClusterConfig, and drop its `iamIdentityMappings`"
            }
            ClusterOwnerKind::TerraformAwsEks => {
                "set `authentication_mode = \"API\"` and the migrated `access_entries` in the module block (v20+; up to v19 the module cannot express access entries: upgrade it first), with `import` blocks for the entries that exist, and drop `manage_aws_auth_configmap` / the aws-auth submodule"
            }
            ClusterOwnerKind::ConfiguredTag => {
                "set the cluster's authentication mode to API and add the migrated access entries in the code the tag points to, importing the entries that exist"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_json_and_from_str() {
        for kind in AwsAuthOwnerKind::ALL {
            let json = serde_json::to_string(kind).expect("serializes");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.as_str().parse::<AwsAuthOwnerKind>(), Ok(*kind));
        }
        for kind in ClusterOwnerKind::ALL {
            let json = serde_json::to_string(kind).expect("serializes");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.as_str().parse::<ClusterOwnerKind>(), Ok(*kind));
        }
        let err = "argocd"
            .parse::<AwsAuthOwnerKind>()
            .expect_err("not a kind");
        assert!(err.to_string().contains("argo_cd"), "{err}");
    }

    #[test]
    fn only_reconciling_owners_undo_a_prune() {
        let undo: Vec<&str> = AwsAuthOwnerKind::ALL
            .iter()
            .filter(|k| k.undoes_prune())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            undo,
            [
                "argo_cd",
                "flux_kustomization",
                "flux_helm_release",
                "helm",
                "terraform",
                "eksctl"
            ]
        );
    }
}
