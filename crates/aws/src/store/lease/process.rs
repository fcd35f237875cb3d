//! Which process holds a lease, and whether that process still runs: what lets a new run on the
//! same host take over at once after a `kill -9`, while a holder on another host keeps its
//! lease until it expires.
//!
//! A process is named by its host, its pid and its start time. The host is this boot of this
//! kernel (`/proc/sys/kernel/random/boot_id`) together with the pid namespace
//! (`/proc/self/ns/pid`): two containers on one machine, or one machine before and after a
//! reboot, are different hosts, so a pid is only ever compared where it means the same process.
//! The start time (`/proc/<pid>/stat`, field 22, clock ticks since boot) tells a recycled pid
//! from the holder. Without `/proc` (macOS, …) a process has no identity and its leases expire
//! as before.
//!
//! Debug builds read `EAM_HOST_ID` as the host, so tests can stand in for a second machine; the
//! comparison is the same code either way. Release builds ignore it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A running process, as a lease records its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    /// This boot of this kernel and pid namespace.
    pub host: String,
    /// The process ID.
    pub pid: u32,
    /// When it started (clock ticks since boot).
    pub started: u64,
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} on host {}", self.pid, self.host)
    }
}

impl ProcessId {
    /// This process, or `None` where `/proc` does not tell.
    pub fn current() -> Option<Self> {
        let pid = std::process::id();
        Some(ProcessId {
            host: host()?,
            pid,
            started: start_time(pid)?,
        })
    }

    /// Whether `self` (recorded by a lease) is known to have ended: it ran on this host and no
    /// process with its pid and start time is running now (a zombie counts as ended). A holder on
    /// another host, or anywhere `/proc` cannot tell, is never known to have ended.
    pub fn has_ended(&self) -> bool {
        if host().as_deref() != Some(self.host.as_str()) {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return std::path::Path::new("/proc/self/stat").exists();
        };
        match parse_stat(&stat) {
            Some((state, started)) => started != self.started || matches!(state, 'Z' | 'X'),
            None => false,
        }
    }
}

/// This host: boot ID and pid namespace (`EAM_HOST_ID` instead in debug builds when set).
fn host() -> Option<String> {
    #[cfg(debug_assertions)]
    if let Ok(id) = std::env::var("EAM_HOST_ID")
        && !id.is_empty()
    {
        return Some(id);
    }
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(format!(
        "{}/{}",
        boot.trim(),
        namespace.to_string_lossy().trim_start_matches("pid:")
    ))
}

fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat).map(|(_, started)| started)
}

/// (state, start time) from a `/proc/<pid>/stat` line. The command name (field 2) is in
/// parentheses and may itself contain spaces and parentheses, so fields are counted after the
/// last `)`.
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Field 3 (state) is fields[0]; field 22 (starttime) is fields[19].
    let started = fields.get(19)?.parse().ok()?;
    Some((state, started))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_after_the_command_name() {
        let line = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(parse_stat(line), Some(('S', 987_654)));
        let zombie = "7 (x) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert_eq!(parse_stat(zombie), Some(('Z', 55)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_running_and_a_gone_or_recycled_pid_has_ended() {
        let Some(me) = ProcessId::current() else {
            return; // no /proc here: nothing can be told, by design
        };
        assert!(!me.has_ended());
        let recycled = ProcessId {
            started: me.started + 1,
            ..me.clone()
        };
        assert!(recycled.has_ended());
        let gone = ProcessId {
            pid: u32::MAX - 1,
            ..me.clone()
        };
        assert!(gone.has_ended());
        let elsewhere = ProcessId {
            host: format!("{}-elsewhere", me.host),
            pid: u32::MAX - 1,
            ..me
        };
        assert!(
            !elsewhere.has_ended(),
            "another host's holder is never taken over"
        );
    }
}
