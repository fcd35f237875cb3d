//! `rollback`: restore one cluster's aws-auth from its newest backup, then delete the entries
//! the migrator created, saying what cannot be undone; the outcome as the exit status.

use crate::args::RollbackFlags;
use crate::aws_env;
use crate::confirm::confirm;
use crate::engine_run::{operator_settings, outcome_text};
use crate::state_table::open_store;
use anyhow::{Context, Result};
use eks_auth_aws::engine::{Engine, Outcome};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Runs `rollback`.
pub fn run(flags: RollbackFlags) -> Result<ExitCode> {
    let settings = operator_settings(flags.member_role_name.clone());
    let cluster = flags.cluster.as_str();
    aws_env::runtime()?.block_on(async {
        let config = aws_env::load_checked(Some(&flags.region)).await?;
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
