//! Plan renderers. Every format is rendered from the same [`Plan`]; none adds a decision.

mod aws_cli;
mod cloudformation;
mod common;
pub(crate) mod options;
mod rbac;
mod table;
pub(crate) mod terminal;
mod terraform;

pub use options::RenderOptions;

use crate::plan::Plan;

/// Output formats of `eks-auth-migrator plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A readable table with findings (the default).
    Table,
    /// The stable JSON contract (docs/plan-format.md).
    Json,
    /// A reviewable bash script of `aws eks` calls.
    AwsCli,
    /// Terraform: `aws_eks_access_entry` and `aws_eks_access_policy_association`.
    Terraform,
    /// A CloudFormation template of `AWS::EKS::AccessEntry` resources.
    Cloudformation,
}

/// Renders a plan.
pub fn render(plan: &Plan, format: Format, options: RenderOptions) -> String {
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
        Format::Terraform => terraform::render(plan),
        Format::Cloudformation => cloudformation::render(plan),
    }
}
