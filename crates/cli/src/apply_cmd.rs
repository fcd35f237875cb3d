//! `apply`: the live engine on one cluster, with the plan shown and confirmed first, progress
//! on standard error (one live line while it waits), and the outcome as the exit status.

use crate::args::{ApplyFlags, ApplyMode};
use crate::aws_env;
use crate::confirm::confirm;
use crate::engine_run::{operator_settings, outcome_text};
use crate::input::{check_policy_live, load_policy};
use crate::state_table::open_store;
use crate::wait_line::WaitLine;
use anyhow::{Context, Result, bail};
use eks_auth_aws::engine::{Engine, Interrupt, Outcome, Report, Settings};
use eks_auth_aws::live;
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::owner::acceptance::Acceptance;
use eks_auth_core::owner::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use eks_auth_core::render::{self, Format, RenderOptions};
use eks_auth_core::state::{Mode, Trigger};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The CLI looks again after 1 s, then backs off to this (EKS updates take minutes).
const POLL_CAP: Duration = Duration::from_secs(15);

/// The owners `--accept-owner` names, each as aws-auth's and/or the cluster's owner kind.
fn accepted_owners(kinds: &[String]) -> Result<Acceptance> {
    let mut accepted = Acceptance::default();
    for kind in kinds {
        let aws_auth = kind.parse::<AwsAuthOwnerKind>().ok();
        let cluster = kind.parse::<ClusterOwnerKind>().ok();
        if aws_auth.is_none() && cluster.is_none() {
            let known: Vec<&str> = AwsAuthOwnerKind::ALL
                .iter()
                .map(|k| k.as_str())
                .chain(ClusterOwnerKind::ALL.iter().map(|k| k.as_str()))
                .collect();
            bail!(
                "--accept-owner {kind}: not an owner kind; use one the plan's owners name: {}",
                known.join(", ")
            );
        }
        accepted.aws_auth.extend(aws_auth);
        accepted.cluster.extend(cluster);
    }
    Ok(accepted)
}

/// Runs `apply`.
pub fn run(flags: ApplyFlags) -> Result<ExitCode> {
    let mut settings = operator_settings(flags.member_role_name.clone());
    settings.policy = load_policy(flags.policy.as_deref())?;
    settings.soak = Duration::from_secs(flags.soak_hours.saturating_mul(3600));
    settings.break_glass_principal = flags.break_glass.clone();
    settings.self_grant = flags.self_grant;
    settings.accept_owners = accepted_owners(&flags.accept_owners)?;
    // An explicit apply retries a cluster that failed terminally (its cause may be fixed).
    settings.trigger = Trigger::Retry;
    let mode = match flags.mode {
        ApplyMode::Migrate => Mode::Migrate,
        ApplyMode::Finalize => Mode::Finalize,
    };
    let deadline = Instant::now() + Duration::from_secs(flags.timeout_minutes.saturating_mul(60));
    let cluster = flags.cluster.as_str();
    aws_env::runtime()?.block_on(async {
        let config = aws_env::load_checked(Some(&flags.region)).await?;
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
        run_until_settled(&engine, &flags, mode, deadline, &interrupt, &wait).await
    })
}

/// Runs the engine again while it waits (an EKS update, a cluster that is not ACTIVE), backing
/// off to [`POLL_CAP`], until it settles, the deadline passes or an interrupt comes; the exit
/// status.
async fn run_until_settled(
    engine: &Engine<'_>,
    flags: &ApplyFlags,
    mode: Mode,
    deadline: Instant,
    interrupt: &Interrupt,
    wait: &WaitLine,
) -> Result<ExitCode> {
    let cluster = flags.cluster.as_str();
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
                pause(poll.min(*retry_after), interrupt).await;
                poll = (poll * 2).min(POLL_CAP);
            }
            Outcome::Interrupted | Outcome::Waiting { .. } if interrupt.is_requested() => {
                wait.done();
                return Ok(interrupted(flags, writes));
            }
            _ => {
                wait.done();
                return Ok(finish(&report, writes));
            }
        }
    }
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
    let plan = eks_auth_core::plan_with_owners(
        &auth,
        Some(&gathered.facts),
        &settings.policy,
        &settings.accept_owners,
    );
    let options = RenderOptions {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        width: terminal_size::terminal_size().map(|(w, _)| w.0),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(render::render(&plan, Format::Table, options).as_bytes())?;
    out.flush()?;
    Ok(())
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
