//! `eks-auth-migrator plan`: read a ConfigMap (and optional facts and policy), plan, render.

use crate::args::{ColorChoice, FailOn, ModuleMajor, OutputFormat, PlanFlags};
use crate::aws_env;
use crate::input::{check_policy_bundled, check_policy_live, load_policy, read_input};
use crate::suggest_input::{self, SuggestInput};
use anyhow::{Context, Result};
use eks_auth_aws::live::{GatherOptions, gather};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::ClusterFacts;
use eks_auth_core::finding::{Finding, FindingCode, Severity};
use eks_auth_core::plan::Plan;
use eks_auth_core::render::handoff::Handoff;
use eks_auth_core::render::owner_format::{EksModule, ModuleAddress, ModuleVersion, OwnerFormat};
use eks_auth_core::render::{self, Format, RenderOptions};
use eks_auth_core::suggest::RbacInput;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

const EXAMPLE_AWS_AUTH: &str = include_str!("../../../examples/aws-auth.yaml");
const EXAMPLE_FACTS: &str = include_str!("../../../examples/facts.json");

/// Runs `plan`: offline from files, or read-only against a live cluster.
pub fn run(flags: PlanFlags) -> Result<ExitCode> {
    let suggest = suggest_input(&flags)?;
    let owner = owner_format(&flags)?;
    let (auth, facts) = match &flags.cluster {
        Some(cluster) => gather_live(
            cluster,
            flags.region.as_deref(),
            flags.member_role_name.as_deref(),
        )?,
        None => read_offline(&flags)?,
    };
    let policy = load_policy(flags.policy.as_deref())?;
    match &flags.cluster {
        Some(cluster) => aws_env::runtime()?.block_on(async {
            let config = aws_env::load_checked(flags.region.as_deref()).await?;
            check_policy_live(&config, cluster, &policy).await
        })?,
        None => check_policy_bundled(&policy)?,
    }
    let plan = match &suggest {
        Some(input) => eks_auth_core::suggest::plan_with_rbac(
            &auth,
            facts.as_ref(),
            &policy,
            &RbacInput {
                rbac: &input.rbac,
                listed_policies: input.listed_policies.as_deref(),
            },
        ),
        None => eks_auth_core::plan(&auth, facts.as_ref(), &policy),
    };
    match &owner {
        Some(format) => write_owner(&Handoff::from_plan(&plan, facts.as_ref()), format, &flags)?,
        None => write_plan(&plan, &flags)?,
    }
    let threshold = flags.fail_on.map(|f| match f {
        FailOn::Blocker => Severity::Blocker,
        FailOn::Warning => Severity::Warning,
    });
    Ok(match (threshold, plan.max_severity()) {
        (Some(threshold), Some(worst)) if worst >= threshold => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// Renders the plan in the chosen format on standard output.
fn write_plan(plan: &Plan, flags: &PlanFlags) -> Result<()> {
    let stdout = std::io::stdout();
    let options = RenderOptions {
        color: match flags.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        },
        width: terminal_size::terminal_size().map(|(w, _)| w.0),
    };
    let text = render::render(plan, format(flags.format), options);
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())
        .context("cannot write the plan")?;
    out.flush().context("cannot write the plan")
}

/// The RBAC to compare, when --suggest or --rbac asks for it.
fn suggest_input(flags: &PlanFlags) -> Result<Option<SuggestInput>> {
    match (&flags.cluster, &flags.rbac, flags.suggest) {
        (_, Some(path), _) => {
            let stdin = flags
                .aws_auth
                .as_deref()
                .is_some_and(|p| p.as_os_str() == "-");
            suggest_input::offline(path, stdin).map(Some)
        }
        (Some(cluster), None, true) => {
            suggest_input::live(cluster, flags.region.as_deref()).map(Some)
        }
        (None, None, true) => anyhow::bail!(
            "--suggest needs the cluster's RBAC: plan a live cluster (--cluster, --region), or pass --rbac FILE with what `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml` prints"
        ),
        (_, None, false) => Ok(None),
    }
}

/// The ConfigMap and facts from files (or the embedded example).
fn read_offline(flags: &PlanFlags) -> Result<(AwsAuth, Option<ClusterFacts>)> {
    let (aws_auth_text, aws_auth_name) = match &flags.aws_auth {
        Some(path) => (
            read_input(path).context("cannot read the aws-auth ConfigMap")?,
            path.display().to_string(),
        ),
        None => (
            EXAMPLE_AWS_AUTH.to_owned(),
            "the embedded example".to_owned(),
        ),
    };
    let auth = AwsAuth::parse_configmap(&aws_auth_text)
        .with_context(|| format!("{aws_auth_name} is not usable"))?;
    let facts_text = match (&flags.facts, flags.example) {
        (Some(path), _) => Some((
            read_input(path).context("cannot read the facts file")?,
            path.display().to_string(),
        )),
        (None, true) => Some((
            EXAMPLE_FACTS.to_owned(),
            "the embedded example facts".to_owned(),
        )),
        (None, false) => None,
    };
    let facts = facts_text
        .map(|(text, name)| {
            serde_json::from_str::<ClusterFacts>(&text).with_context(|| {
                format!("{name} is not a valid facts document (docs/plan-format.md#facts)")
            })
        })
        .transpose()?;
    Ok((auth, facts))
}

/// The live cluster's aws-auth and facts, read-only, through the standard AWS configuration.
fn gather_live(
    cluster: &str,
    region: Option<&str>,
    member_role_name: Option<&str>,
) -> Result<(AwsAuth, Option<ClusterFacts>)> {
    let options = GatherOptions {
        member_role_name: member_role_name.map(str::to_owned),
        assume_from: None,
        // The operator's own network (a VPN or bastion reaches private endpoints too).
        route: Default::default(),
        owner_tags: Vec::new(),
        agent_signer: None,
    };
    let gathered = aws_env::runtime()?.block_on(async {
        let config = aws_env::load_checked(region).await?;
        gather(&config, cluster, &options)
            .await
            .with_context(|| format!("cannot plan cluster {cluster}"))
    })?;
    let auth = match &gathered.configmap {
        Some(configmap) => AwsAuth::parse_data(&configmap.data),
        None => AwsAuth {
            findings: vec![Finding::general(
                FindingCode::NotAwsAuth,
                Severity::Info,
                format!(
                    "cluster {cluster} has no kube-system/aws-auth ConfigMap: aws-auth grants nothing, so there is nothing to migrate."
                ),
            )],
            ..AwsAuth::default()
        },
    };
    Ok((auth, Some(gathered.facts)))
}

fn format(format: OutputFormat) -> Format {
    match format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
        OutputFormat::AwsCli => Format::AwsCli,
        OutputFormat::Terraform => Format::Terraform,
        OutputFormat::Cloudformation => Format::Cloudformation,
        OutputFormat::TerraformAwsEks => Format::TerraformAwsEks,
        OutputFormat::Eksctl => Format::Eksctl,
    }
}

/// The owner format `--format` asks for (checked before anything is read), or `None` for the
/// table, JSON and aws-cli formats.
fn owner_format(flags: &PlanFlags) -> Result<Option<OwnerFormat>> {
    let owner = match flags.format {
        OutputFormat::Table | OutputFormat::Json | OutputFormat::AwsCli => None,
        OutputFormat::Terraform => Some(OwnerFormat::Terraform),
        OutputFormat::Cloudformation => Some(OwnerFormat::Cloudformation),
        OutputFormat::Eksctl => Some(OwnerFormat::Eksctl),
        OutputFormat::TerraformAwsEks => Some(OwnerFormat::TerraformAwsEks(EksModule {
            version: match flags.module_version {
                ModuleMajor::V20 => ModuleVersion::V20,
                ModuleMajor::V21 => ModuleVersion::V21,
            },
            address: flags
                .module_address
                .parse::<ModuleAddress>()
                .context("--module-address")?,
        })),
    };
    if flags.resources_to_import.is_some() && owner != Some(OwnerFormat::Cloudformation) {
        anyhow::bail!(
            "--resources-to-import is the CloudFormation import file: use it with --format cloudformation"
        );
    }
    Ok(owner)
}

/// Writes an owner format on standard output, and CloudFormation's resources-to-import file
/// where --resources-to-import says.
fn write_owner(handoff: &Handoff, format: &OwnerFormat, flags: &PlanFlags) -> Result<()> {
    let rendering = render::render_owner(handoff, format);
    if let Some(path) = &flags.resources_to_import {
        match &rendering.resources_to_import {
            Some(text) => write_new_file(path, text)?,
            None => eprintln!(
                "note: no access entry exists yet, so there is nothing to import: {} was not written",
                path.display()
            ),
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(rendering.text.as_bytes())
        .context("cannot write the plan")?;
    out.flush().context("cannot write the plan")
}

/// Writes `text` to a file that must not exist yet.
fn write_new_file(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create {} (an existing file is never overwritten: remove it or name another)",
                path.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
