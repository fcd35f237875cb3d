//! What every row's planning may consult: the cluster's facts (absent offline), the migration
//! policy and the partition policy ARNs are written for.

use crate::facts::ClusterFacts;
use crate::policy::MigrationPolicy;

/// What every row's planning may consult.
pub(super) struct Context<'a> {
    pub(super) facts: Option<&'a ClusterFacts>,
    pub(super) policy: &'a MigrationPolicy,
    pub(super) partition: &'a str,
}
