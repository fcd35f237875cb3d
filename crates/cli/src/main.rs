//! `eks-auth-migrator`: plan the move of an EKS cluster from the aws-auth ConfigMap to access
//! entries. `main` only wires: parse flags, run, print the failure (`failure_text`), pick the exit
//! code.
//!
//! Layout, top to bottom (a module takes only from modules below it; no command takes from
//! another):
//!
//! - the commands, one file each: `plan_cmd`, `apply_cmd`, `rollback_cmd`, `status_cmd`,
//!   `scan_cmd`, `report_cmd`, `token_cmd`;
//! - what several commands share: `input` (files or standard input, the policy file and its
//!   check against what EKS offers), `state_table` (the DynamoDB table), `engine_run` (the
//!   settings and outcome wording of an operator's engine run), `confirm` (the prompt before a
//!   change), and what one command leans on: `suggest_input` (RBAC for `plan --suggest`),
//!   `wait_line` (`apply`'s live line);
//! - at the bottom: `args` (the flags exactly as typed), `aws_env` (the async runtime, the
//!   standard AWS configuration and the preflight checks of region and credentials) and
//!   `failure_text` (how a failure is printed: one line, the details with `--verbose`).

mod apply_cmd;
mod args;
mod aws_env;
mod confirm;
mod engine_run;
mod export_cmd;
mod failure_text;
mod input;
mod owner_arg;
mod plan_cmd;
mod report_cmd;
mod rollback_cmd;
mod scan_cmd;
mod state_table;
mod status_cmd;
mod suggest_input;
mod token_cmd;
mod wait_line;

use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let verbose = failure_text::verbose(cli.verbose);
    aws_env::set_call_timeout(Duration::from_secs(cli.call_timeout.max(1)));
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            for line in failure_text::lines(&error, verbose) {
                eprintln!("{line}");
            }
            ExitCode::from(2)
        }
    }
}

fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        args::Command::Plan(flags) => plan_cmd::run(flags),
        args::Command::Token(flags) => token_cmd::run(flags),
        args::Command::Apply(flags) => apply_cmd::run(flags),
        args::Command::Rollback(flags) => rollback_cmd::run(flags),
        args::Command::Status(flags) => status_cmd::run(flags),
        args::Command::Scan(flags) => scan_cmd::run(flags),
        args::Command::Report(flags) => report_cmd::run(flags),
        args::Command::Export(flags) => export_cmd::run(flags),
    }
}
