//! `eks-auth-migrator`: plan the move of an EKS cluster from the aws-auth ConfigMap to access
//! entries. `main` only wires: parse flags, run, print the error chain, pick the exit code.

mod apply_cmd;
mod args;
mod aws_env;
mod plan_cmd;
mod report_cmd;
mod scan_cmd;
mod status_cmd;
mod suggest_input;
mod token_cmd;
mod wait_line;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("eks-auth-migrator: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        args::Command::Plan(flags) => plan_cmd::run(flags),
        args::Command::Token(flags) => token_cmd::run(flags),
        args::Command::Apply(flags) => apply_cmd::apply(flags),
        args::Command::Rollback(flags) => apply_cmd::rollback(flags),
        args::Command::Status(flags) => status_cmd::run(flags),
        args::Command::Scan(flags) => scan_cmd::run(flags),
        args::Command::Report(flags) => report_cmd::run(flags),
    }
}
