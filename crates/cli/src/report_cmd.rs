//! `report`: the organisation's aws-auth estate from the state table — headline, blockers,
//! access inventory, creators' admin entries, scan freshness — as a terminal table, JSON, CSV,
//! Markdown or one self-contained HTML page (docs/report-format.md).

use crate::args::{ColorChoice, ReportFlags, ReportFormat};
use crate::aws_env;
use crate::input::load_policy;
use crate::state_table::read_fleet;
use anyhow::{Context, Result, bail};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::report::{self, Filter, Format, RenderOptions};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// `report`.
pub fn run(flags: ReportFlags) -> Result<ExitCode> {
    let format = format_of(&flags)?;
    let filter = filter_of(&flags)?;
    let creator_entry = load_policy(flags.policy.as_deref())?.creator_entry;
    aws_env::runtime()?.block_on(async {
        let read = read_fleet(&flags.table, flags.segments).await?;
        let mut input = read.input;
        input.creator_entry = creator_entry;
        for item in &input.unreadable {
            eprintln!(
                "eks-auth-migrator: warning: {} could not be read ({}); the rest of the report is complete",
                item.item, item.reason
            );
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let fleet = report::build(&input, &filter, now);
        let to_terminal = flags.output.is_none() && std::io::stdout().is_terminal();
        let options = RenderOptions {
            color: match flags.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
            },
            width: if to_terminal {
                terminal_size::terminal_size().map(|(w, _)| w.0)
            } else {
                flags.width
            },
        };
        let text = report::render(&fleet, format, options)?;
        match &flags.output {
            Some(path) => {
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("report written to {}", path.display());
            }
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn format_of(flags: &ReportFlags) -> Result<Format> {
    Ok(match (flags.format, flags.inventory) {
        (ReportFormat::Csv, true) => Format::CsvInventory,
        (_, true) => bail!("--inventory is a CSV layout: use it with --format csv"),
        (ReportFormat::Table, false) => Format::Table,
        (ReportFormat::Json, false) => Format::Json,
        (ReportFormat::Csv, false) => Format::Csv,
        (ReportFormat::Markdown, false) => Format::Markdown,
        (ReportFormat::Html, false) => {
            if flags.output.is_none() && std::io::stdout().is_terminal() {
                bail!("an HTML report is a file: pass -o fleet.html (or redirect standard output)");
            }
            Format::Html
        }
    })
}

fn filter_of(flags: &ReportFlags) -> Result<Filter> {
    Ok(Filter {
        accounts: flags.account.clone(),
        regions: flags.region.clone(),
        phases: flags
            .phase
            .iter()
            .map(|p| p.to_uppercase().parse().with_context(|| format!("--phase {p}: not a phase (DISCOVERED, PLANNED, …, COMPLETE, BLOCKED, FAILED_RETRYABLE, FAILED_TERMINAL)")))
            .collect::<Result<_>>()?,
        modes: flags
            .mode
            .iter()
            .map(|m| m.to_lowercase().parse().with_context(|| format!("--mode {m}: not a mode (audit, migrate, finalize, skip)")))
            .collect::<Result<_>>()?,
        authentication_modes: flags
            .auth_mode
            .iter()
            .map(|m| {
                [
                    AuthenticationMode::ConfigMap,
                    AuthenticationMode::ApiAndConfigMap,
                    AuthenticationMode::Api,
                ]
                .into_iter()
                .find(|k| k.as_str().eq_ignore_ascii_case(m))
                .with_context(|| format!("--auth-mode {m}: not an authentication mode (CONFIG_MAP, API_AND_CONFIG_MAP, API)"))
            })
            .collect::<Result<_>>()?,
        codes: flags
            .code
            .iter()
            .map(|c| {
                eks_auth_core::finding::FindingCode::ALL
                    .iter()
                    .copied()
                    .find(|k| k.as_str().eq_ignore_ascii_case(c))
                    .with_context(|| format!("--code {c}: not a finding code (docs/plan-format.md lists them)"))
            })
            .collect::<Result<_>>()?,
        principal: flags.principal.clone(),
        owners: flags.owner.iter().map(|o| o.0).collect(),
    })
}
