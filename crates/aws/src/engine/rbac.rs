//! The cluster's RBAC as a run uses it: what reading it gave ([`RunRbac`], read once per run by
//! the run's route, directly or through the in-VPC agent; read-only: the four RBAC kinds and
//! ListAccessPolicies), attached to every plan of the run: a policy-file group mapping that would change a
//! group's permissions without `accept_differences` blocks its rows, and the analysis goes into
//! the cluster's inventory for the fleet report's suggestions. RBAC the migrator may not read
//! changes nothing in the plan (mappings apply as the policy file says, as before RBAC was
//! read) and is recorded as unreadable, with what to grant.

use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::ClusterFacts;
use eks_auth_core::plan::Plan;
use eks_auth_core::rbac::Rbac;
use eks_auth_core::suggest::{RbacInput, attach};

/// What reading the cluster's RBAC gave.
#[derive(Debug, Clone)]
pub(super) enum RunRbac {
    /// The objects and the access policies EKS offers.
    Read {
        /// The RBAC objects, read by the core.
        rbac: Box<Rbac>,
        /// ListAccessPolicies' names.
        listed: Vec<String>,
    },
    /// Not readable, with why.
    Unreadable(String),
}

/// Attaches the RBAC analysis to `plan` when RBAC was read; the reason it was not, otherwise.
pub(super) fn analyse<'r>(
    plan: &mut Plan,
    auth: &AwsAuth,
    facts: &ClusterFacts,
    policy: &eks_auth_core::policy::MigrationPolicy,
    rbac: &'r RunRbac,
) -> Option<&'r str> {
    match rbac {
        RunRbac::Read { rbac, listed } => {
            attach(
                plan,
                auth,
                Some(facts),
                policy,
                &RbacInput {
                    rbac,
                    listed_policies: Some(listed),
                },
            );
            None
        }
        RunRbac::Unreadable(reason) => Some(reason),
    }
}
