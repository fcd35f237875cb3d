//! How the engine behaves: the same [`Settings`] for every cluster of a run.

use crate::live::GatherOptions;
use eks_auth_core::owner::acceptance::{Acceptance, OwnerSettings};
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::state::Trigger;
use std::time::Duration;

/// How the engine behaves; the same for every cluster of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This worker's ID (lease owner, audit IDs).
    pub worker_id: String,
    /// How long a lease lasts without renewal (renewed before every step).
    pub lease_ttl: Duration,
    /// How long finalize waits after verification before pruning aws-auth.
    pub soak: Duration,
    /// How long audit records are kept (the table's TTL removes them after).
    pub audit_retention: Duration,
    /// When to look again at an EKS update in progress.
    pub update_poll: Duration,
    /// Stop starting steps when less than this is left before the deadline.
    pub step_margin: Duration,
    /// Gather options (the member role for cross-account IAM lookups).
    pub gather: GatherOptions,
    /// The migration policy (group → policy maps, usernames).
    pub policy: MigrationPolicy,
    /// The principal whose cluster-admin entry is the break-glass entry; `None`: any
    /// cluster-admin entry the migrator created from a `system:masters` row.
    pub break_glass_principal: Option<String>,
    /// When the Kubernetes API refuses the migrator on an API_AND_CONFIG_MAP cluster, grant its
    /// own principal a temporary entry (edit in kube-system) for the run, deleted at its end.
    pub self_grant: bool,
    /// The configuration's `owners` section: the owners accepted per cluster, which lift the
    /// finalize blocker of an owner that would undo a prune or the switch (docs/owners.md).
    /// Its ownership tags go to the gather through [`GatherOptions::owner_tags`].
    pub owners: OwnerSettings,
    /// Owners accepted for every cluster of the run besides [`Settings::owners`]' per-cluster
    /// acceptances (the CLI's `--accept-owner`, for the one cluster it applies).
    pub accept_owners: Acceptance,
    /// What started the run: [`Trigger::Retry`] (a new scan's job, an explicit `apply`) runs a
    /// `FAILED_TERMINAL` cluster again; [`Trigger::Continue`] (the default) leaves it recorded.
    pub trigger: Trigger,
}

impl Settings {
    /// Defaults: 5-minute lease, 7-day soak, 90-day audit retention, polls every 30 s.
    pub fn new(worker_id: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            lease_ttl: Duration::from_secs(300),
            soak: Duration::from_secs(7 * 24 * 3600),
            audit_retention: Duration::from_secs(90 * 24 * 3600),
            update_poll: Duration::from_secs(30),
            step_margin: Duration::from_secs(20),
            gather: GatherOptions::default(),
            policy: MigrationPolicy::default(),
            break_glass_principal: None,
            self_grant: false,
            owners: OwnerSettings::default(),
            accept_owners: Acceptance::default(),
            trigger: Trigger::Continue,
        }
    }
}
