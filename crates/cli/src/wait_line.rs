//! One live line while `apply` waits (an EKS update, a cluster that is not ACTIVE): a spinner
//! with what it waits for and the time elapsed on a terminal; plain lines otherwise, one when the
//! wait starts or changes and one a minute after, so logs stay readable.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a plain (non-terminal) wait line is repeated.
const PLAIN_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Wait {
    spinner: Option<ProgressBar>,
    what: Option<String>,
    since: Option<Instant>,
    printed: Option<Instant>,
}

/// The wait being shown, on standard error.
#[derive(Default)]
pub struct WaitLine {
    wait: Mutex<Wait>,
    terminal: bool,
}

impl WaitLine {
    /// A line on standard error: a spinner when it is a terminal.
    pub fn new() -> Self {
        Self {
            wait: Mutex::default(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Shows that the command waits for `what` (e.g. `update 1f2e… is in progress`).
    pub fn show(&self, what: &str) {
        let Ok(mut w) = self.wait.lock() else {
            return;
        };
        let now = Instant::now();
        if w.what.as_deref() != Some(what) {
            w.what = Some(what.to_owned());
            w.since = Some(now);
            if !self.terminal {
                eprintln!("waiting: {what}");
                w.printed = Some(now);
            }
        }
        let elapsed = elapsed(w.since.map(|s| s.elapsed()).unwrap_or_default());
        if self.terminal {
            let spinner = w.spinner.get_or_insert_with(|| {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template("{spinner} waiting: {msg}") {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            spinner.set_message(format!("{what} ({elapsed})"));
        } else if w.printed.is_none_or(|p| p.elapsed() >= PLAIN_EVERY) {
            eprintln!("still waiting ({elapsed}): {what}");
            w.printed = Some(now);
        }
    }

    /// Prints a progress line: the wait, if any, is over (the engine acts again).
    pub fn println(&self, line: &str) {
        self.done();
        eprintln!("{line}");
    }

    /// Ends the wait, saying how long it took.
    pub fn done(&self) {
        let Ok(mut w) = self.wait.lock() else {
            return;
        };
        if let Some(spinner) = w.spinner.take() {
            spinner.finish_and_clear();
        }
        if let Some(what) = w.what.take() {
            let took = elapsed(w.since.map(|s| s.elapsed()).unwrap_or_default());
            eprintln!("waited {took}: {what}");
        }
    }
}

/// `1m05s`, `42s`.
fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
