//! The formats a cluster's owner keeps its configuration in, with what each needs to know
//! besides the handoff: for the terraform-aws-eks module, its major version and where the team's
//! configuration instantiates it.

use std::fmt;
use std::str::FromStr;

/// An owner's configuration format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerFormat {
    /// Plain Terraform: `aws_eks_access_entry` and `aws_eks_access_policy_association` resources
    /// with `import` blocks.
    Terraform,
    /// The terraform-aws-modules/eks module's `access_entries` and `authentication_mode` inputs,
    /// with `import` blocks addressed to the module's resources.
    TerraformAwsEks(EksModule),
    /// An eksctl ClusterConfig fragment (`accessConfig`).
    Eksctl,
    /// A CloudFormation template of `AWS::EKS::AccessEntry` resources, and a resources-to-import
    /// file for those that exist.
    Cloudformation,
}

/// Where and which terraform-aws-eks module a team's configuration uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EksModule {
    /// The module's major version.
    pub version: ModuleVersion,
    /// The module's address in the root module (`module.eks`).
    pub address: ModuleAddress,
}

/// A terraform-aws-eks major version with access entries (v20 introduced them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModuleVersion {
    /// v20 (20.0.1 and later: 20.0.0 keyed its entries differently).
    V20,
    /// v21.
    #[default]
    V21,
}

impl ModuleVersion {
    /// `20` or `21`.
    pub fn major(self) -> u32 {
        match self {
            ModuleVersion::V20 => 20,
            ModuleVersion::V21 => 21,
        }
    }

    /// The module input naming the cluster (`cluster_name` in v20, `name` in v21).
    pub fn cluster_name_input(self) -> &'static str {
        match self {
            ModuleVersion::V20 => "cluster_name",
            ModuleVersion::V21 => "name",
        }
    }
}

/// A module address in the root module: `module.NAME`, nested as `module.A.module.B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleAddress(String);

impl Default for ModuleAddress {
    fn default() -> Self {
        ModuleAddress("module.eks".to_owned())
    }
}

impl AsRef<str> for ModuleAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModuleAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A module address that is not `module.NAME` (or a bare `NAME`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a module address: write the module block's name (`eks`) or its address from the root module (`module.eks`, `module.platform.module.eks`); names are letters, digits, `_` and `-`, starting with a letter or `_`"
)]
pub struct ModuleAddressError(String);

impl FromStr for ModuleAddress {
    type Err = ModuleAddressError;

    /// Parses `module.A.module.B`, or a bare module name `A` (meaning `module.A`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wrong = || ModuleAddressError(text.to_owned());
        let parts: Vec<&str> = text.split('.').collect();
        let names: Vec<&str> = match parts.as_slice() {
            [name] => vec![*name],
            _ if parts.len().is_multiple_of(2) => parts
                .chunks(2)
                .map(|pair| (pair[0] == "module").then_some(pair[1]))
                .collect::<Option<Vec<&str>>>()
                .ok_or_else(wrong)?,
            _ => return Err(wrong()),
        };
        if !names
            .iter()
            .all(|name| super::hcl_text::is_identifier(name))
        {
            return Err(wrong());
        }
        Ok(ModuleAddress(
            names
                .iter()
                .map(|name| format!("module.{name}"))
                .collect::<Vec<_>>()
                .join("."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_addresses() {
        for (text, address) in [
            ("eks", "module.eks"),
            ("module.eks", "module.eks"),
            (
                "module.platform.module.eks_main",
                "module.platform.module.eks_main",
            ),
        ] {
            assert_eq!(text.parse::<ModuleAddress>().expect(text).as_ref(), address);
        }
        for bad in [
            "",
            "module.",
            "mod.eks",
            "module.eks.x",
            "module.1eks",
            "a.b.c",
        ] {
            let error = bad.parse::<ModuleAddress>().expect_err(bad);
            assert!(
                error.to_string().contains("is not a module address"),
                "{bad}"
            );
        }
        assert_eq!(ModuleAddress::default().as_ref(), "module.eks");
    }

    #[test]
    fn versions_name_their_cluster_input() {
        assert_eq!(ModuleVersion::V20.cluster_name_input(), "cluster_name");
        assert_eq!(ModuleVersion::V21.cluster_name_input(), "name");
        assert_eq!(ModuleVersion::default().major(), 21);
    }
}
