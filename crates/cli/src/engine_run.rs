//! What `apply` and `rollback` share about their engine runs: the settings of an operator's run
//! (this process as the lease owner, the operator's own network as the route) and the outcome
//! in words.

use eks_auth_aws::engine::{Outcome, Settings};
use eks_auth_aws::live::GatherOptions;

/// The engine settings of a run from this process; `member_role_name` is the role assumed in
/// other accounts for their principals' IAM lookups.
pub fn operator_settings(member_role_name: Option<String>) -> Settings {
    let mut settings = Settings::new(worker_id());
    settings.gather = GatherOptions {
        member_role_name,
        assume_from: None,
        // The operator's own network (a VPN or bastion reaches private endpoints too).
        route: Default::default(),
        owner_tags: Vec::new(),
        agent_signer: None,
    };
    settings
}

/// This process as a lease owner: unique to the process (a pid alone repeats across hosts and
/// over time; the lease also records the process itself, see `eks_auth_aws::store::lease::process`).
fn worker_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("cli-{}-{nanos:x}", std::process::id())
}

/// A run's outcome as the closing line says it.
pub fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Done => "done".to_owned(),
        Outcome::Waiting { reason, .. } => format!("waiting ({reason}); run again later"),
        Outcome::Blocked(reason) => format!("blocked: {reason}"),
        Outcome::Busy { holder, until } => format!(
            "another worker ({holder}) holds the cluster until {}; try again after",
            eks_auth_aws::token::rfc3339_seconds(*until)
        ),
        Outcome::Failed(reason) => format!("failed (a later run retries): {reason}"),
        Outcome::FailedTerminal { reason, what_to_do } => {
            format!("failed terminally (no retry can heal it): {reason}. What to do: {what_to_do}")
        }
        Outcome::OutOfTime => "out of time; run again to continue".to_owned(),
        Outcome::Interrupted => {
            "interrupted; the lease is released: run the same command again to continue".to_owned()
        }
    }
}
