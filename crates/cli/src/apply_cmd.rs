//! `apply` and `rollback`: the live engine on one cluster, with the plan shown and confirmed
//! first, progress on standard error, and the outcome as the exit status.

use crate::args::{ApplyFlags, ApplyMode, RollbackFlags, StateFlags};
use crate::aws_env;
use crate::plan_cmd::load_policy;
use crate::wait_line::WaitLine;
use anyhow::{Context, Result, bail};
use eks_auth_aws::StateStore;
use eks_auth_aws::engine::{Engine, Interrupt, Outcome, Report, Settings};
use eks_auth_aws::live::{self, GatherOptions};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::policy::MigrationPolicy;
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
        // The operator's own network (a VPN or bastion reaches private endpoints too).
        route: Default::default(),
    };
    settings.policy = policy;
    let deadline = Instant::now() + Duration::from_secs(flags.timeout_minutes.saturating_mul(60));
    let cluster = flags.cluster.as_str();
    aws_env::runtime()?.block_on(async {
        let config = aws_env::load(Some(&flags.region)).await;
        let store = open_store(&config, &flags.state).await?;
        let interrupt = Interrupt::new();
        on_signals(interrupt.clone())?;
        check_policy_live(&config, cluster, &settings.policy).await?;
        let wait = WaitLine::new();
        if !wait_until_active(&config, cluster, &interrupt, &wait).await? {
            return Ok(interrupted(&flags, 0));
        }
        show_plan(&config, cluster, &settings).await?;
        confirm(
            flags.yes,
            &format!(
                "Apply mode {mode} to cluster {cluster} in {}?",
                flags.region
            ),
        )?;
        let engine = Engine::new(&config, &store, &settings).with_interrupt(interrupt.clone());
        let progress = |line: &str| wait.println(&format!("  {line}"));
        let mut writes = 0;
        let mut poll = Duration::from_secs(1);
        loop {
            let report = engine
                .run(cluster, mode, deadline, &progress)
                .await
                .with_context(|| format!("cannot migrate cluster {cluster}"))?;
            writes += report.mutating_calls;
            match &report.outcome {
                Outcome::Waiting {
                    reason,
                    retry_after,
                } if Instant::now() < deadline && !interrupt.is_requested() => {
                    wait.show(reason);
                    pause(poll.min(*retry_after), &interrupt).await;
                    poll = (poll * 2).min(POLL_CAP);
                }
                Outcome::Interrupted | Outcome::Waiting { .. } if interrupt.is_requested() => {
                    wait.done();
                    return Ok(interrupted(&flags, writes));
                }
                _ => {
                    wait.done();
                    return Ok(finish(&report, writes));
                }
            }
        }
    })
}

/// On the first SIGINT or SIGTERM, asks the engine to stop after the call in flight (it
/// completes that call and its audit record, saves, releases the lease); on a second one, exits
/// at once (an open audit record is completed by the next run; the lease is taken over at once by
/// the next run on this host, the process being gone).
fn on_signals(interrupt: Interrupt) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::spawn(async move {
        let mut asked = false;
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            if asked {
                eprintln!("\nstopping now; the next run completes what was in flight");
                std::process::exit(130);
            }
            asked = true;
            interrupt.request();
            eprintln!(
                "\nstopping after the call in flight (its audit record is completed and the lease released); press Ctrl-C again to stop at once"
            );
        }
    });
    Ok(())
}

/// Sleeps for `duration`, or less when an interrupt comes.
async fn pause(duration: Duration, interrupt: &Interrupt) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !interrupt.is_requested() {
        tokio::time::sleep(Duration::from_millis(100).min(until - Instant::now())).await;
    }
}

/// Follows the update a cluster that is not ACTIVE runs (its own switch from an earlier run, or
/// anyone's), until it is ACTIVE; `false` when interrupted meanwhile.
async fn wait_until_active(
    config: &aws_config::SdkConfig,
    cluster: &str,
    interrupt: &Interrupt,
    wait: &WaitLine,
) -> Result<bool> {
    let mut poll = Duration::from_secs(1);
    loop {
        match live::cluster_status(config, cluster)
            .await
            .with_context(|| format!("cannot describe cluster {cluster}"))?
        {
            status if status == "ACTIVE" => {
                wait.done();
                return Ok(true);
            }
            status if status == "UPDATING" || status == "CREATING" => {
                let update = live::update_in_progress(config, cluster)
                    .await
                    .with_context(|| format!("cannot list the updates of cluster {cluster}"))?;
                wait.show(&match update {
                    Some(id) => {
                        format!("cluster {cluster} is {status}: update {id} is in progress")
                    }
                    None => format!("cluster {cluster} is {status}"),
                });
            }
            status => bail!(
                "cluster {cluster} is {status}: the migrator acts only on ACTIVE clusters (and follows UPDATING or CREATING ones to the end)"
            ),
        }
        if interrupt.is_requested() {
            wait.done();
            return Ok(false);
        }
        pause(poll, interrupt).await;
        if interrupt.is_requested() {
            wait.done();
            return Ok(false);
        }
        poll = (poll * 2).min(POLL_CAP);
    }
}

/// Checks the policy file's access-policy names against ListAccessPolicies in the cluster's
/// region (nothing to check, and no call, without group mappings).
pub(crate) async fn check_policy_live(
    config: &aws_config::SdkConfig,
    cluster: &str,
    policy: &MigrationPolicy,
) -> Result<()> {
    if policy.group_policies.is_empty() {
        return Ok(());
    }
    let catalogue = live::access_policy_catalogue(config, cluster)
        .await
        .context("cannot list the access policies (ListAccessPolicies) to check the policy file")?;
    policy
        .check_policy_names(&catalogue)
        .context("the policy file maps a group to a policy EKS does not offer")
}

/// The closing lines of an interrupted `apply`; exit status 130.
fn interrupted(flags: &ApplyFlags, writes: u32) -> ExitCode {
    println!(
        "interrupted after {writes} write calls in this command; the cluster's lease is released and every write is audited. Run the same command again to continue: eks-auth-migrator apply --cluster {} --region {} --mode {}",
        flags.cluster,
        flags.region,
        match flags.mode {
            ApplyMode::Migrate => "migrate",
            ApplyMode::Finalize => "finalize",
        }
    );
    ExitCode::from(130)
}

/// `rollback`.
pub fn rollback(flags: RollbackFlags) -> Result<ExitCode> {
    let mut settings = Settings::new(worker_id());
    settings.gather = GatherOptions {
        member_role_name: flags.member_role_name.clone(),
        assume_from: None,
        // The operator's own network (a VPN or bastion reaches private endpoints too).
        route: Default::default(),
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

/// This process as a lease owner: unique to the process (a pid alone repeats across hosts and
/// over time; the lease also records the process itself, see `eks_auth_aws::process`).
fn worker_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("cli-{}-{nanos:x}", std::process::id())
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
        Outcome::Interrupted => {
            "interrupted; the lease is released: run the same command again to continue".to_owned()
        }
    }
}

/// Prints the run's summary (`writes`: the write calls of every engine run of this command);
/// the exit status.
fn finish(report: &Report, writes: u32) -> ExitCode {
    println!(
        "cluster {} (account {}, region {}): phase {}, authentication mode {}, {writes} write calls in this command",
        report.key.name,
        report.key.account,
        report.key.region,
        report.phase,
        report.authentication_mode.map_or("unknown", |m| m.as_str()),
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
