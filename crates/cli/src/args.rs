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
    /// Plan the migration of one aws-auth ConfigMap: offline from a file (no AWS calls), or
    /// read-only against a live cluster (--cluster, --region).
    ///
    /// Exit status: 0 when a plan was produced (whatever it found), 1 when --fail-on is given and
    /// a finding of that severity or worse exists, 2 when the input is unusable.
    Plan(PlanFlags),
    /// Print an EKS bearer token as a kubectl exec-plugin ExecCredential, exactly like
    /// `aws eks get-token` (credentials and region from the standard AWS configuration).
    Token(TokenFlags),
}

/// Flags of `token`.
#[derive(Debug, Args)]
pub struct TokenFlags {
    /// The cluster the token is for (signed into the token as x-k8s-aws-id).
    #[arg(long)]
    pub cluster_name: String,

    /// The cluster's region (default: the standard AWS configuration's region).
    #[arg(long)]
    pub region: Option<String>,
}

/// Flags of `plan`.
#[derive(Debug, Args)]
pub struct PlanFlags {
    /// The ConfigMap as `kubectl get cm aws-auth -n kube-system -o yaml` (or `-o json`) prints
    /// it; `-` reads standard input.
    #[arg(
        long,
        value_name = "FILE|-",
        required_unless_present_any = ["example", "cluster"],
        conflicts_with_all = ["example", "cluster"]
    )]
    pub aws_auth: Option<PathBuf>,

    /// Plan the embedded example (examples/aws-auth.yaml with examples/facts.json).
    #[arg(long, conflicts_with = "cluster")]
    pub example: bool,

    /// Plan a live cluster (read-only): read its aws-auth through the Kubernetes API and gather
    /// its facts through EKS and IAM, with the standard AWS configuration.
    #[arg(
        long,
        value_name = "NAME",
        requires = "region",
        conflicts_with = "facts"
    )]
    pub cluster: Option<String>,

    /// The live cluster's region.
    #[arg(long, value_name = "REGION", requires = "cluster")]
    pub region: Option<String>,

    /// With --cluster: the role to assume in other accounts to look up their principals' real
    /// ARNs (without it, principals of other accounts are reported as unresolved).
    #[arg(long, value_name = "ROLE_NAME", requires = "cluster")]
    pub member_role_name: Option<String>,

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
