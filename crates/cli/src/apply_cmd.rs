//! `apply` and `rollback`: the live engine on one cluster, with the plan shown and confirmed
//! first, progress on standard error, and the outcome as the exit status.

use crate::args::{ApplyFlags, ApplyMode, RollbackFlags, StateFlags};
use crate::aws_env;
use crate::plan_cmd::load_policy;
use anyhow::{Context, Result, bail};
use eks_auth_aws::StateStore;
use eks_auth_aws::engine::{Engine, Outcome, Report, Settings};
use eks_auth_aws::live::{self, GatherOptions};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::render::{self, Format, RenderOptions};
use eks_auth_core::state::Mode;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The CLI looks again after 1 s, then backs off to this (EKS updates take minutes).
const POLL_CAP: Duration = Duration::from_secs(15);

/// `apply`.
pub fn apply(flags: ApplyFlags) -> Result<ExitCode> {
    let policy = load_policy(flags.policy.as_deref())?;
    let mode = match flags.mode {
        ApplyMode::Migrate => Mode::Migrate,
        ApplyMode::Finalize => Mode::Finalize,
    };
    let mut settings = Settings::new(worker_id());
    settings.soak = Duration::from_secs(flags.soak_hours.saturating_mul(3600));
    settings.break_glass_principal = flags.break_glass.clone();
    settings.self_grant = flags.self_grant;
    settings.gather = GatherOptions {
        member_role_name: flags.member_role_name.clone(),
        assume_from: None,
    };
    settings.policy = policy;
    let deadline = Instant::now() + Duration::from_secs(flags.timeout_minutes.saturating_mul(60));
    let cluster = flags.cluster.as_str();
    aws_env::runtime()?.block_on(async {
        let config = aws_env::load(Some(&flags.region)).await;
        let store = open_store(&config, &flags.state).await?;
        show_plan(&config, cluster, &settings).await?;
        confirm(
            flags.yes,
            &format!(
                "Apply mode {mode} to cluster {cluster} in {}?",
                flags.region
            ),
        )?;
        let engine = Engine::new(&config, &store, &settings);
        let progress = |line: &str| eprintln!("  {line}");
        let mut poll = Duration::from_secs(1);
        loop {
            let report = engine
                .run(cluster, mode, deadline, &progress)
                .await
                .with_context(|| format!("cannot migrate cluster {cluster}"))?;
            match &report.outcome {
                Outcome::Waiting {
                    reason,
                    retry_after,
                } if Instant::now() < deadline => {
                    eprintln!("waiting: {reason}");
                    tokio::time::sleep(poll.min(*retry_after)).await;
                    poll = (poll * 2).min(POLL_CAP);
                }
                _ => return Ok(finish(&report)),
            }
        }
    })
}

/// `rollback`.
pub fn rollback(flags: RollbackFlags) -> Result<ExitCode> {
    let mut settings = Settings::new(worker_id());
    settings.gather = GatherOptions {
        member_role_name: flags.member_role_name.clone(),
        assume_from: None,
    };
    let cluster = flags.cluster.as_str();
    aws_env::runtime()?.block_on(async {
        let config = aws_env::load(Some(&flags.region)).await;
        let store = open_store(&config, &flags.state).await?;
        confirm(
            flags.yes,
            &format!(
                "Restore aws-auth of cluster {cluster} from its newest backup and delete the entries the migrator created?"
            ),
        )?;
        let engine = Engine::new(&config, &store, &settings);
        let progress = |line: &str| eprintln!("  {line}");
        let deadline = Instant::now() + Duration::from_secs(15 * 60);
        let report = engine
            .rollback(cluster, deadline, &progress)
            .await
            .with_context(|| format!("cannot roll back cluster {cluster}"))?;
        let mut out = std::io::stdout().lock();
        match &report.restored_from {
            Some(rv) => writeln!(out, "aws-auth restored from the backup of resourceVersion {rv}")?,
            None => writeln!(out, "aws-auth unchanged (no backup, or already as backed up)")?,
        }
        writeln!(out, "deleted {} migrator-created access entries", report.deleted.len())?;
        for line in &report.not_undone {
            writeln!(out, "not undone: {line}")?;
        }
        writeln!(out, "{} write calls; outcome: {}", report.mutating_calls, outcome_text(&report.outcome))?;
        Ok(match report.outcome {
            Outcome::Done => ExitCode::SUCCESS,
            _ => ExitCode::from(1),
        })
    })
}

/// The state store, creating its table first when asked.
pub(crate) async fn open_store(
    config: &aws_config::SdkConfig,
    flags: &StateFlags,
) -> Result<StateStore> {
    let store = StateStore::from_config(config, &flags.table);
    if flags.create_table {
        store
            .create_table(Duration::from_secs(60))
            .await
            .with_context(|| format!("cannot create the state table {}", flags.table))?;
    }
    Ok(store)
}

/// This process as a lease owner.
fn worker_id() -> String {
    format!("cli-{}", std::process::id())
}

/// Prints the plan the engine will follow (read-only).
async fn show_plan(
    config: &aws_config::SdkConfig,
    cluster: &str,
    settings: &Settings,
) -> Result<()> {
    let gathered = live::gather(config, cluster, &settings.gather)
        .await
        .with_context(|| format!("cannot plan cluster {cluster}"))?;
    let empty = BTreeMap::new();
    let auth = AwsAuth::parse_data(gathered.configmap.as_ref().map_or(&empty, |c| &c.data));
    let plan = eks_auth_core::plan(&auth, Some(&gathered.facts), &settings.policy);
    let options = RenderOptions {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        width: terminal_size::terminal_size().map(|(w, _)| w.0),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(render::render(&plan, Format::Table, options).as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Asks `question` on the terminal unless `yes`; refuses without a terminal.
fn confirm(yes: bool, question: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing to change the cluster without confirmation: standard input is not a terminal; review the plan and pass --yes"
        );
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("not confirmed; nothing was changed")
    }
}

fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Done => "done".to_owned(),
        Outcome::Waiting { reason, .. } => format!("waiting ({reason}); run again later"),
        Outcome::Blocked(reason) => format!("blocked: {reason}"),
        Outcome::Busy { holder, until } => format!(
            "another worker ({holder}) holds the cluster until {}; try again after",
            eks_auth_aws::token::rfc3339_seconds(*until)
        ),
        Outcome::Failed(reason) => format!("failed (a later run retries): {reason}"),
        Outcome::OutOfTime => "out of time; run again to continue".to_owned(),
    }
}

/// Prints the run's summary; the exit status.
fn finish(report: &Report) -> ExitCode {
    println!(
        "cluster {} (account {}, region {}): phase {}, authentication mode {}, {} write calls this run",
        report.key.name,
        report.key.account,
        report.key.region,
        report.phase,
        report.authentication_mode.map_or("unknown", |m| m.as_str()),
        report.mutating_calls
    );
    for entry in &report.outside_aws_auth {
        let policies: Vec<&str> = entry.access_policies.iter().map(|p| p.name()).collect();
        println!(
            "entry not from aws-auth (kept; typically the cluster creator's): {} username {} policies [{}]",
            entry.principal_arn,
            entry.username.as_deref().unwrap_or("(default)"),
            policies.join(", ")
        );
    }
    println!("outcome: {}", outcome_text(&report.outcome));
    match report.outcome {
        Outcome::Done => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}
