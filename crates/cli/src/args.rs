//! Command-line flags, exactly as the user typed them (validated in the commands).

use crate::owner_arg::OwnerArg;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Move EKS clusters from the aws-auth ConfigMap to EKS access entries, safely.
#[derive(Debug, Parser)]
#[command(name = "eks-auth-migrator", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// On failure, add the error chain, the request id and the call's service, operation,
    /// region, error code and HTTP status below the one-line message (also when RUST_LOG is
    /// set).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Give up on an AWS call (its retries included) after this many seconds: an endpoint that
    /// accepts connections and never answers fails with one line instead of hanging.
    #[arg(
        long,
        global = true,
        env = "EAM_CALL_TIMEOUT",
        default_value_t = 120,
        value_name = "SECONDS"
    )]
    pub call_timeout: u64,
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
    /// Migrate one live cluster: show its plan, ask, then switch it to API_AND_CONFIG_MAP and
    /// create and verify its access entries (`--mode migrate`), and with `--mode finalize` also
    /// back up and prune aws-auth and switch to API when nothing blocks. Every step is recorded
    /// in the DynamoDB state table; a run can be stopped and started again at any time.
    ///
    /// Exit status: 0 when the mode's work is done, 1 when blocked, failed or another worker
    /// holds the cluster, 2 when the input is unusable.
    Apply(ApplyFlags),
    /// Show migration state from the DynamoDB state table: every cluster, or one cluster with
    /// its principals and recent audit records.
    Status(StatusFlags),
    /// Report on the fleet from the state table: clusters by authentication mode and phase,
    /// blockers grouped by code with what to do, the access inventory (who has access where,
    /// cluster-admin holders, other accounts' principals, principals IAM no longer knows), each
    /// creator's admin entry and scan freshness — as a table, JSON, CSV, Markdown or one
    /// self-contained HTML page (docs/report-format.md).
    ///
    /// Exit status: 0 when the report was written (unreadable records are named in it and on
    /// standard error), 2 when the table cannot be read or the flags are unusable.
    Report(ReportFlags),
    /// Write each cluster's migrated access in its owner's format into a directory, one file per
    /// cluster, ready for pull requests: terraform-aws-eks inputs with imports, an eksctl
    /// ClusterConfig fragment, a CloudFormation template (and its resources-to-import file),
    /// Terraform for a Terraform-written aws-auth, else --default-format (docs/export.md).
    ///
    /// Exit status: 0 when every cluster was exported, 1 when some could not be (each named
    /// with why; the others are written), 2 when the table cannot be read or the flags are
    /// unusable.
    Export(ExportFlags),
    /// Audit the organisation from this machine, before anything is deployed: scan every
    /// account × region through the member role, then plan every cluster read-only (audit mode,
    /// whatever a configuration says) and record it in the state table for `report`.
    ///
    /// Exit status: 0 when every account-region was scanned and every cluster audited, 1 when
    /// some could not be (listed with why; run it again), 2 when the input is unusable.
    Scan(ScanFlags),
    /// Roll one cluster back: restore aws-auth from the newest backup, then delete the access
    /// entries the migrator created (API_AND_CONFIG_MAP only), and set its mode to audit.
    /// Says what EKS cannot undo.
    Rollback(RollbackFlags),
}

/// Where migration state is kept.
#[derive(Debug, Args)]
pub struct StateFlags {
    /// The DynamoDB state table (the SAM stack's TableName output).
    #[arg(
        long,
        env = "EAM_TABLE",
        default_value = "eks-auth-migrator",
        value_name = "NAME"
    )]
    pub table: String,

    /// Create the table first if it does not exist (for local stacks; production tables come
    /// from template.yaml).
    #[arg(long)]
    pub create_table: bool,
}

/// What `apply` may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyMode {
    /// Switch to API_AND_CONFIG_MAP, create and verify entries; aws-auth stays as it is.
    Migrate,
    /// Migrate, then back up and prune aws-auth and switch to API when nothing blocks.
    Finalize,
}

/// Flags of `apply`.
#[derive(Debug, Args)]
pub struct ApplyFlags {
    /// The cluster.
    #[arg(long, value_name = "NAME")]
    pub cluster: String,

    /// The cluster's region.
    #[arg(long, value_name = "REGION")]
    pub region: String,

    /// How far to go.
    #[arg(long, value_enum)]
    pub mode: ApplyMode,

    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,

    /// Finalize only after the entries have been verified for this many hours (0: at once; an
    /// operator running finalize by hand decides now; the Lambda worker's default is 168).
    #[arg(long, default_value_t = 0, value_name = "HOURS")]
    pub soak_hours: u64,

    /// The principal whose cluster-admin entry is the break-glass entry (default: any
    /// cluster-admin entry the migrator created from a system:masters row).
    #[arg(long, value_name = "ARN")]
    pub break_glass: Option<String>,

    /// Migration policy file (docs/policy-file.md).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The role to assume in other accounts for their principals' IAM lookups.
    #[arg(long, value_name = "ROLE_NAME")]
    pub member_role_name: Option<String>,

    /// When the cluster is already in API_AND_CONFIG_MAP and its Kubernetes API refuses the
    /// migrator, grant the migrator's own principal a temporary entry (AmazonEKSEditPolicy on
    /// kube-system) for this run and delete it at the end.
    #[arg(long)]
    pub self_grant: bool,

    /// An owner of aws-auth or of the cluster (`argo_cd`, `flux_kustomization`,
    /// `flux_helm_release`, `helm`, `terraform`, `eksctl`, `cloudformation`,
    /// `terraform_aws_eks`, `configured_tag`) whose code has been changed, so finalize may
    /// prune aws-auth and switch to API behind it (docs/owners.md). Repeatable.
    #[arg(long = "accept-owner", value_name = "KIND")]
    pub accept_owners: Vec<String>,

    /// Give up (and leave the rest to a later run) after this many minutes.
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    pub timeout_minutes: u64,

    /// State table.
    #[command(flatten)]
    pub state: StateFlags,
}

/// Flags of `status`.
#[derive(Debug, Args)]
pub struct StatusFlags {
    /// Show one cluster (by name) with its creator's admin entry, its blockers, its principals
    /// and recent audit records.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,

    /// State table.
    #[command(flatten)]
    pub state: StateFlags,
}

/// Flags of `report`.
#[derive(Debug, Args)]
pub struct ReportFlags {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// With --format csv: one row per principal and cluster (the access inventory) instead of
    /// one row per cluster.
    #[arg(long)]
    pub inventory: bool,

    /// Write the report to this file instead of standard output (an HTML report needs one on a
    /// terminal).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Only clusters of these accounts (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNT")]
    pub account: Vec<String>,

    /// Only clusters in these regions.
    #[arg(long, value_delimiter = ',', value_name = "REGION")]
    pub region: Vec<String>,

    /// Only clusters in these migration phases (PLANNED, BLOCKED, COMPLETE, ...).
    #[arg(long, value_delimiter = ',', value_name = "PHASE")]
    pub phase: Vec<String>,

    /// Only clusters in these migrator modes (audit, migrate, finalize, skip).
    #[arg(long, value_delimiter = ',', value_name = "MODE")]
    pub mode: Vec<String>,

    /// Only clusters last seen in these authentication modes (CONFIG_MAP, API_AND_CONFIG_MAP, API).
    #[arg(long, value_delimiter = ',', value_name = "AUTH_MODE")]
    pub auth_mode: Vec<String>,

    /// Only clusters with a finding of these codes (e.g. MAP_ACCOUNTS), and only their blocker
    /// groups.
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    pub code: Vec<String>,

    /// Only clusters naming this principal, and only it in the inventory: an ARN matches exactly
    /// (roles by account and name, any path); anything else matches ARNs containing it.
    #[arg(long, value_name = "ARN|TEXT")]
    pub principal: Option<String>,

    /// Only clusters with one of these owners, of aws-auth or of the cluster (argo_cd, helm,
    /// terraform, eksctl, terraform_aws_eks, cloudformation, ...; `unknown`: not detected;
    /// `none`: nobody).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "OWNER")]
    pub owner: Vec<OwnerArg>,

    /// The migration policy file (docs/policy-file.md), for whether the policy keeps each
    /// creator's admin entry (default: keep).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Parallel Scan requests reading the table.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub segments: u32,

    /// Table width when standard output is not a terminal (default: no wrapping).
    #[arg(long, value_name = "COLUMNS")]
    pub width: Option<u16>,

    /// Colour in the table output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// The DynamoDB state table.
    #[arg(
        long,
        env = "EAM_TABLE",
        default_value = "eks-auth-migrator",
        value_name = "NAME"
    )]
    pub table: String,
}

/// Flags of `export`.
#[derive(Debug, Args)]
pub struct ExportFlags {
    /// The directory to write into (created if missing); files of the same names are replaced.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    /// The format of clusters whose owner has none of its own.
    #[arg(long, value_enum, default_value_t = ExportFormat::Terraform)]
    pub default_format: ExportFormat,

    /// For clusters the terraform-aws-eks module owns: its major version (20 or 21).
    #[arg(long, value_enum, value_name = "MAJOR", default_value_t = ModuleMajor::V21)]
    pub module_version: ModuleMajor,

    /// For clusters the terraform-aws-eks module owns: its address in the root module.
    #[arg(long, value_name = "ADDRESS", default_value = "module.eks")]
    pub module_address: String,

    /// Only clusters of these accounts.
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNT")]
    pub account: Vec<String>,

    /// Only clusters in these regions.
    #[arg(long, value_delimiter = ',', value_name = "REGION")]
    pub region: Vec<String>,

    /// Only clusters with one of these owners (as `report --owner`).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "OWNER")]
    pub owner: Vec<OwnerArg>,

    /// Parallel Scan requests reading the table.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub segments: u32,

    /// The DynamoDB state table.
    #[arg(
        long,
        env = "EAM_TABLE",
        default_value = "eks-auth-migrator",
        value_name = "NAME"
    )]
    pub table: String,
}

/// `export --default-format` values: the owner formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Terraform resources with import blocks.
    Terraform,
    /// An eksctl ClusterConfig fragment.
    Eksctl,
    /// A CloudFormation template (and its resources-to-import file).
    Cloudformation,
    /// The terraform-aws-eks module's inputs (--module-version, --module-address).
    TerraformAwsEks,
}

/// `report --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Terminal text with tables fitted to the width.
    Table,
    /// The versioned JSON contract (docs/report-format.md, docs/report.schema.json).
    Json,
    /// CSV: a row per cluster (with --inventory: a row per principal and cluster).
    Csv,
    /// Markdown, for a wiki page or a pull request.
    Markdown,
    /// One self-contained HTML page (charts, sortable and filterable tables, print layout).
    Html,
}

/// Flags of `scan`.
#[derive(Debug, Args)]
pub struct ScanFlags {
    /// Regions to scan in every account (comma-separated); default: the configuration
    /// document's `regions`.
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,

    /// Accounts to scan (comma-separated); default: every ACTIVE account of the organisation
    /// (Organizations ListAccounts, from the management or a delegated administrator account).
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNT,...")]
    pub accounts: Vec<String>,

    /// The role assumed in each account (it needs what infra/member-role.yaml grants, read-only;
    /// before the member role is deployed, e.g. OrganizationAccountAccessRole). On CONFIG_MAP
    /// clusters it must be mapped in aws-auth to read it (infra/kubernetes/migrator-rbac.yaml).
    #[arg(
        long,
        default_value = "eks-auth-migrator-member",
        value_name = "ROLE_NAME"
    )]
    pub member_role_name: String,

    /// The configuration document (docs/configuration.md) for the scope: accounts, exclusions,
    /// regions. Its modes are ignored: `scan` only audits.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Account-regions scanned, and clusters audited, at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,

    /// Start no account-region after this many minutes.
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    pub timeout_minutes: u64,

    /// State table.
    #[command(flatten)]
    pub state: StateFlags,
}

/// Flags of `rollback`.
#[derive(Debug, Args)]
pub struct RollbackFlags {
    /// The cluster.
    #[arg(long, value_name = "NAME")]
    pub cluster: String,

    /// The cluster's region.
    #[arg(long, value_name = "REGION")]
    pub region: String,

    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,

    /// The role to assume in other accounts for their principals' IAM lookups.
    #[arg(long, value_name = "ROLE_NAME")]
    pub member_role_name: Option<String>,

    /// State table.
    #[command(flatten)]
    pub state: StateFlags,
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

    /// Compare what each aws-auth group (and each username with User bindings) may do through
    /// RBAC with the EKS access policies: exact matches are suggested, the closest others are
    /// shown with every permission they would lose or add, and the policy file's group
    /// mappings are checked (docs/rbac-suggestions.md). Live, it reads the cluster's
    /// ClusterRoles, Roles and bindings (get/list on rbac.authorization.k8s.io); offline it
    /// needs --rbac.
    #[arg(long)]
    pub suggest: bool,

    /// Offline RBAC for --suggest (implies it): what `kubectl get clusterroles,clusterrolebindings,
    /// roles,rolebindings -A -o yaml` (or `-o json`) prints; `-` reads standard input.
    #[arg(long, value_name = "FILE|-", conflicts_with = "cluster")]
    pub rbac: Option<PathBuf>,

    /// Output format. The owner formats (terraform, terraform-aws-eks, eksctl, cloudformation)
    /// import what the facts say exists already (docs/plan-format.md, "Owner formats").
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// With --format terraform-aws-eks: the module's major version (20 or 21).
    #[arg(long, value_enum, value_name = "MAJOR", default_value_t = ModuleMajor::V21)]
    pub module_version: ModuleMajor,

    /// With --format terraform-aws-eks: the module's address in the root module, as its import
    /// blocks name it (`eks`, `module.eks`, `module.platform.module.eks`).
    #[arg(long, value_name = "ADDRESS", default_value = "module.eks")]
    pub module_address: String,

    /// With --format cloudformation: write the resources-to-import file (`aws cloudformation
    /// create-change-set --change-set-type IMPORT --resources-to-import file://FILE`) for the
    /// entries that exist already; refuses to overwrite an existing file.
    #[arg(long, value_name = "FILE")]
    pub resources_to_import: Option<PathBuf>,

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
    /// The terraform-aws-eks module's access_entries and authentication_mode inputs.
    TerraformAwsEks,
    /// An eksctl ClusterConfig fragment (accessConfig).
    Eksctl,
}

/// `--module-version` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModuleMajor {
    /// terraform-aws-eks v20 (20.0.1 and later).
    #[value(name = "20")]
    V20,
    /// terraform-aws-eks v21.
    #[value(name = "21")]
    V21,
}

/// `status --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A one-line summary and a table.
    Table,
    /// JSON: `{format_version, summary, clusters}` (with `details` per cluster under --cluster).
    Json,
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
