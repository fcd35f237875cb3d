//! The operator's confirmation before a command changes a cluster (`--yes` skips it).

use anyhow::{Result, bail};
use std::io::{BufRead, IsTerminal, Write};

/// Asks `question` on the terminal unless `yes`; refuses without a terminal.
pub fn confirm(yes: bool, question: &str) -> Result<()> {
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
