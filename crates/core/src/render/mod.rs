//! Plan renderers. Every format is rendered from the same [`Plan`]; none adds a decision.
//!
//! The owner formats (terraform, terraform-aws-eks, eksctl, cloudformation) render the plan's
//! [`handoff::Handoff`]: the migrated access with what already exists on the cluster, so the
//! owner imports it instead of creating it (docs/plan-format.md, "Owner formats").

mod aws_cli;
mod cloudformation;
mod cloudformation_import;
mod common;
mod eksctl;
pub mod handoff;
mod handoff_text;
mod hcl_text;
pub(crate) mod options;
pub mod owner_format;
mod rbac;
mod table;
pub(crate) mod terminal;
mod terraform;
mod terraform_aws_eks;

pub use options::RenderOptions;

use crate::plan::Plan;
use handoff::Handoff;
use owner_format::{EksModule, OwnerFormat};

/// Output formats of `eks-auth-migrator plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A readable table with findings (the default).
    Table,
    /// The stable JSON contract (docs/plan-format.md).
    Json,
    /// A reviewable bash script of `aws eks` calls.
    AwsCli,
    /// Terraform: `aws_eks_access_entry` and `aws_eks_access_policy_association`, with `import`
    /// blocks for what exists.
    Terraform,
    /// A CloudFormation template of `AWS::EKS::AccessEntry` resources.
    Cloudformation,
    /// The terraform-aws-eks module's `access_entries` input (v21, `module.eks`; the CLI takes
    /// the version and address), with `import` blocks.
    TerraformAwsEks,
    /// An eksctl ClusterConfig fragment (`accessConfig`).
    Eksctl,
}

/// Renders a plan. The owner formats render it as planned offline, with nothing existing yet
/// and their default options; [`render_owner`] renders a handoff with facts and options.
pub fn render(plan: &Plan, format: Format, options: RenderOptions) -> String {
    let owner = |format: OwnerFormat| render_owner(&Handoff::from_plan(plan, None), &format).text;
    match format {
        Format::Table => {
            let mut text = table::render(plan, options);
            if let Some(report) = &plan.rbac {
                text.push_str(&rbac::render(report));
            }
            text
        }
        Format::Json => {
            let mut json = serde_json::to_string_pretty(plan)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            json.push('\n');
            json
        }
        Format::AwsCli => aws_cli::render(plan),
        Format::Terraform => owner(OwnerFormat::Terraform),
        Format::Cloudformation => owner(OwnerFormat::Cloudformation),
        Format::TerraformAwsEks => owner(OwnerFormat::TerraformAwsEks(EksModule::default())),
        Format::Eksctl => owner(OwnerFormat::Eksctl),
    }
}

/// What an owner format writes: its text, and for CloudFormation the resources-to-import file
/// when entries exist already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRendering {
    /// The configuration (HCL, YAML or JSON).
    pub text: String,
    /// The `--resources-to-import` JSON (CloudFormation only, when something exists).
    pub resources_to_import: Option<String>,
}

/// Renders a handoff in an owner's format.
pub fn render_owner(handoff: &Handoff, format: &OwnerFormat) -> OwnerRendering {
    let text = |text: String| OwnerRendering {
        text,
        resources_to_import: None,
    };
    match format {
        OwnerFormat::Terraform => text(terraform::render(handoff)),
        OwnerFormat::TerraformAwsEks(module) => text(terraform_aws_eks::render(handoff, module)),
        OwnerFormat::Eksctl => text(eksctl::render(handoff)),
        OwnerFormat::Cloudformation => OwnerRendering {
            text: cloudformation::render(handoff),
            resources_to_import: cloudformation_import::render(handoff),
        },
    }
}
