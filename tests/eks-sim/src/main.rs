//! `eks-sim`: run the EKS control-plane simulator, or generate a fleet seed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use eks_sim::fleet::{FleetSpec, generate};
use eks_sim::seed::{self, Seed};

/// EKS control-plane simulator for local tests and demos.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the EKS API (and per-cluster Kubernetes APIs) until interrupted. Prints one JSON
    /// line with the URLs and default credentials on stdout when ready.
    Serve {
        /// Seed file (YAML or JSON); an empty fleet when absent.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// How long authentication-mode updates stay InProgress (overrides the seed).
        #[arg(long)]
        update_duration_ms: Option<u64>,
        /// Log filter level (error, warn, info, debug, trace).
        #[arg(long, default_value = "info")]
        log: tracing::Level,
    },
    /// Write a generated fleet seed (JSON, which is YAML) to stdout or a file.
    Generate {
        /// Accounts.
        #[arg(long, default_value_t = 50)]
        accounts: usize,
        /// Regions per account (max 8).
        #[arg(long, default_value_t = 4)]
        regions: usize,
        /// Clusters per account and region.
        #[arg(long, default_value_t = 5)]
        clusters: usize,
        /// aws-auth rows per cluster, `MIN..MAX`.
        #[arg(long, default_value = "20..200")]
        rows: String,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Make every Nth cluster's Kubernetes API private only (0: none).
        #[arg(long, default_value_t = 0)]
        private_every: usize,
        /// Make every Nth cluster's public endpoint admit only 203.0.113.0/24, with its private
        /// endpoint on (0: none).
        #[arg(long, default_value_t = 0)]
        restricted_every: usize,
        /// Output file (stdout when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eks-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            seed,
            listen,
            update_duration_ms,
            log,
        } => {
            tracing_subscriber::fmt()
                .with_max_level(log)
                .with_writer(std::io::stderr)
                .init();
            let started = Instant::now();
            let mut parsed = match &seed {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Seed::parse(&text).with_context(|| format!("parsing {}", path.display()))?
                }
                None => Seed::default(),
            };
            if let Some(ms) = update_duration_ms {
                parsed
                    .settings
                    .get_or_insert_with(Default::default)
                    .update_duration_ms = ms;
            }
            let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
            runtime.block_on(async move {
                let sim = eks_sim::Sim::start_on(listen, parsed)
                    .await
                    .context("starting the simulator")?;
                let clusters = sim.with_world(|w| w.clusters.len());
                println!(
                    "{}",
                    serde_json::json!({
                        "url": sim.url(),
                        "admin_url": sim.admin_url(),
                        "access_key_id": seed::DEFAULT_ACCESS_KEY_ID,
                        "secret_access_key": seed::DEFAULT_SECRET_ACCESS_KEY,
                        "account": seed::DEFAULT_ACCOUNT,
                        "clusters": clusters,
                        "startup_ms": started.elapsed().as_secs_f64() * 1000.0,
                    })
                );
                tracing::info!(url = %sim.url(), clusters, "eks-sim ready");
                shutdown_signal().await;
                anyhow::Ok(())
            })
        }
        Command::Generate {
            accounts,
            regions,
            clusters,
            rows,
            seed,
            private_every,
            restricted_every,
            out,
        } => {
            let (min, max) = rows
                .split_once("..")
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .filter(|(a, b): &(usize, usize)| a <= b)
                .context("--rows must be MIN..MAX with MIN <= MAX")?;
            let fleet = generate(&FleetSpec {
                accounts,
                regions,
                clusters,
                rows_min: min,
                rows_max: max,
                seed,
                private_every,
                restricted_every,
            });
            let text = serde_json::to_string(&fleet).context("serialising the fleet")?;
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}
