//! Command-line flags, exactly as the user typed them (validated in the commands).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Move EKS clusters from the aws-auth ConfigMap to EKS access entries, safely.
#[derive(Debug, Parser)]
#[command(name = "eks-auth-migrator", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan the migration of one aws-auth ConfigMap (offline: no AWS calls).
    ///
    /// Exit status: 0 when a plan was produced (whatever it found), 1 when --fail-on is given and
    /// a finding of that severity or worse exists, 2 when the input is unusable.
    Plan(PlanFlags),
}

/// Flags of `plan`.
#[derive(Debug, Args)]
pub struct PlanFlags {
    /// The ConfigMap as `kubectl get cm aws-auth -n kube-system -o yaml` (or `-o json`) prints
    /// it; `-` reads standard input.
    #[arg(
        long,
        value_name = "FILE|-",
        required_unless_present = "example",
        conflicts_with = "example"
    )]
    pub aws_auth: Option<PathBuf>,

    /// Plan the embedded example (examples/aws-auth.yaml with examples/facts.json).
    #[arg(long)]
    pub example: bool,

    /// Cluster facts (JSON, docs/plan-format.md#facts): partition/account, managed node-group and
    /// Fargate roles, existing access entries, IAM resolutions of principals.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,

    /// Migration policy (YAML or JSON, docs/policy-file.md): group → access-policy mappings and
    /// what to do with unsupported usernames. Default: map nothing, block unsupported usernames.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Exit 1 when a finding of this severity (or worse) exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Colour in the table output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable table and findings.
    Table,
    /// The stable JSON contract.
    Json,
    /// A reviewable bash script of aws eks calls.
    AwsCli,
    /// Terraform resources.
    Terraform,
    /// A CloudFormation template.
    Cloudformation,
}

/// `--fail-on` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on blockers.
    Blocker,
    /// Fail on warnings or blockers.
    Warning,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}
