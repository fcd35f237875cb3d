//! `export`: each cluster's migrated access in its owner's format, one file per cluster (plus
//! CloudFormation's resources-to-import file), from what the state table keeps of the cluster —
//! the inventory's [`Handoff`] and the owners the engine recorded (docs/export.md).
//!
//! # Guarantees
//! - A file name is built only from a cluster's account, region and name when each is made of
//!   letters, digits, `-` and `_` (what AWS allows); anything else — a path separator, `..`, a
//!   dot, a control character — is refused, never escaped or shortened, so table data cannot
//!   name a file outside the directory.
//! - A cluster whose record has no handoff (written before export was recorded, or never
//!   planned) is named with why; nothing is guessed for it.

use crate::owner::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use crate::owner::ownership::Owners;
use crate::render::handoff::Handoff;
use crate::render::owner_format::{EksModule, OwnerFormat};
use crate::render::render_owner;
use crate::report::input::ClusterView;

/// One file to write: its name (a single path component) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    /// The file name, without any directory.
    pub name: String,
    /// Its content.
    pub text: String,
}

/// One cluster's export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterExport {
    /// `account/region/name`, for messages.
    pub cluster: String,
    /// The format chosen, and why (`cluster owner terraform-aws-eks`, `default`).
    pub format: String,
    /// The files.
    pub files: Vec<ExportFile>,
}

/// A cluster that could not be exported, with why and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotExported {
    /// `account/region/name` as the table holds it (possibly hostile: print it escaped).
    pub cluster: String,
    /// Why, and what to do.
    pub reason: String,
}

/// How export chooses formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The format of clusters without a known owner format.
    pub default_format: OwnerFormat,
    /// The terraform-aws-eks module's version and address, for clusters that module owns.
    pub module: EksModule,
}

/// Exports one cluster: its owner's format (else the default), from its recorded handoff.
///
/// # Errors
///
/// [`NotExported`] when its account, region or name cannot be a file name, or its record holds
/// no handoff.
pub fn export_cluster(
    view: &ClusterView,
    options: &ExportOptions,
) -> Result<ClusterExport, NotExported> {
    let cluster = format!("{}/{}/{}", view.account, view.region, view.name);
    let not = |reason: String| NotExported {
        cluster: cluster.clone(),
        reason,
    };
    let stem = file_stem(&view.account, &view.region, &view.name).map_err(not)?;
    let handoff: &Handoff = view
        .inventory
        .as_ref()
        .and_then(|i| i.handoff.as_ref())
        .ok_or_else(|| {
            not(match &view.inventory {
                None => "never planned: no migrated access is recorded; run the cluster (audit mode is enough), then export again".to_owned(),
                Some(_) => "its record was written before export was recorded (no handoff in its inventory): run the cluster again with this version (audit mode is enough), then export again".to_owned(),
            })
        })?;
    let (format, why) = format_for(view.owners.as_ref(), options);
    let rendering = render_owner(handoff, &format);
    let mut files = vec![ExportFile {
        name: format!("{stem}.{}", extension(&format)),
        text: rendering.text,
    }];
    if let Some(imports) = rendering.resources_to_import {
        files.push(ExportFile {
            name: format!("{stem}.resources-to-import.json"),
            text: imports,
        });
    }
    Ok(ClusterExport {
        cluster,
        format: format!("{} ({why})", format_name(&format)),
        files,
    })
}

/// The owner's format and why: the cluster's owner decides (terraform-aws-eks, eksctl,
/// CloudFormation), else a Terraform-written aws-auth (terraform) or an eksctl-written one
/// (eksctl), else the default.
pub fn format_for(owners: Option<&Owners>, options: &ExportOptions) -> (OwnerFormat, String) {
    let cluster_owner = owners
        .and_then(|o| o.cluster.as_ref())
        .and_then(|c| c.primary())
        .map(|o| o.kind);
    match cluster_owner {
        Some(ClusterOwnerKind::TerraformAwsEks) => {
            return (
                OwnerFormat::TerraformAwsEks(options.module.clone()),
                "cluster owner terraform-aws-eks".to_owned(),
            );
        }
        Some(ClusterOwnerKind::Eksctl) => {
            return (OwnerFormat::Eksctl, "cluster owner eksctl".to_owned());
        }
        Some(ClusterOwnerKind::CloudFormation) => {
            return (
                OwnerFormat::Cloudformation,
                "cluster owner CloudFormation".to_owned(),
            );
        }
        Some(ClusterOwnerKind::ConfiguredTag) | None => {}
    }
    let aws_auth_owner = owners.and_then(|o| o.aws_auth.primary()).map(|o| o.kind);
    match aws_auth_owner {
        Some(AwsAuthOwnerKind::Terraform) => (
            OwnerFormat::Terraform,
            "aws-auth owner Terraform".to_owned(),
        ),
        Some(AwsAuthOwnerKind::Eksctl) => (OwnerFormat::Eksctl, "aws-auth owner eksctl".to_owned()),
        _ => (options.default_format.clone(), "default".to_owned()),
    }
}

/// The format's name as `--format` spells it.
fn format_name(format: &OwnerFormat) -> &'static str {
    match format {
        OwnerFormat::Terraform => "terraform",
        OwnerFormat::TerraformAwsEks(_) => "terraform-aws-eks",
        OwnerFormat::Eksctl => "eksctl",
        OwnerFormat::Cloudformation => "cloudformation",
    }
}

/// The file extension of a format.
fn extension(format: &OwnerFormat) -> &'static str {
    match format {
        OwnerFormat::Terraform | OwnerFormat::TerraformAwsEks(_) => "tf",
        OwnerFormat::Eksctl => "yaml",
        OwnerFormat::Cloudformation => "json",
    }
}

/// `account_region_name`, when each part is a safe file-name part.
///
/// # Errors
///
/// Names the part that is not, and why.
pub fn file_stem(account: &str, region: &str, name: &str) -> Result<String, String> {
    for (what, value) in [("account", account), ("region", region), ("name", name)] {
        if value.is_empty()
            || value.len() > 100
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "its {what} {value:?} is not made of letters, digits, `-` and `_` (at most 100), as AWS names are: the table item is corrupt or forged; no file is written for it (check who can write the state table)"
            ));
        }
    }
    Ok(format!("{account}_{region}_{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_refuse_anything_that_could_leave_the_directory() {
        assert_eq!(
            file_stem("111122223333", "eu-west-1", "prod_eu-1").as_deref(),
            Ok("111122223333_eu-west-1_prod_eu-1")
        );
        for (account, region, name) in [
            ("111122223333", "eu-west-1", "../../x"),
            ("111122223333", "eu-west-1", ".."),
            ("111122223333", "eu-west-1", "a/b"),
            ("111122223333", "eu-west-1", "a\\b"),
            ("111122223333", "eu-west-1", "a.b"),
            ("111122223333", "eu-west-1", "a\0b"),
            ("111122223333", "eu-west-1", ""),
            ("../1", "eu-west-1", "x"),
            ("111122223333", "/etc", "x"),
            ("111122223333", "eu-west-1", "é"),
        ] {
            let refused = file_stem(account, region, name).expect_err(name);
            assert!(refused.contains("corrupt or forged"), "{refused}");
        }
        let long = "a".repeat(101);
        assert!(file_stem("1", "r", &long).is_err());
    }
}
