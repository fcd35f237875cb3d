//! One line per finding code: what a platform team does about it across the fleet. Each
//! finding's own message says it precisely for its row; this is the headline of its group.

use crate::finding::FindingCode;

/// What to do about findings of `code`.
pub fn remedy(code: FindingCode) -> &'static str {
    use FindingCode as C;
    match code {
        C::YamlSyntax => "Fix the YAML of the named aws-auth key: EKS ignores the whole key today.",
        C::InvalidEntry => "Fix or delete the row: EKS drops it, so it grants nothing.",
        C::DuplicatePrincipal => {
            "Delete the shadowed row; only the last row for a principal counts."
        }
        C::DeadRolePath => {
            "Delete the row or write the role ARN without its path (only if that access is wanted)."
        }
        C::DeadUserPath => {
            "Delete the row or write the user's real ARN (only if that access is wanted)."
        }
        C::DeadStsArn => {
            "Delete the row or map the role ARN instead (only if that access is wanted)."
        }
        C::MapAccounts => {
            "Replace mapAccounts with one row (or entry) per principal that needs access."
        }
        C::SsoMatcher => "Replace the sso matcher with the IAM Identity Center role's ARN.",
        C::ServiceLinkedRole => {
            "Move the service to its access-entry integration; service-linked roles cannot have entries."
        }
        C::SystemGroup => {
            "Grant the access with a Kubernetes RBAC binding to a non-system group instead."
        }
        C::NodeRole => {
            "Nothing for managed node groups; check self-managed node roles get their entry."
        }
        C::FargateRole => "Delete the row if its Fargate profile is gone, or recreate the profile.",
        C::MastersToClusterAdmin => {
            "Review who keeps cluster-admin through AmazonEKSClusterAdminPolicy."
        }
        C::GroupMappedToPolicy => "Review the group-to-policy mapping of the policy file.",
        C::UsernameTemplateUnsupported => "Change the username to a form access entries support.",
        C::UsernameReservedPrefix => "Rename the Kubernetes user and update its RBAC bindings.",
        C::SessionNameNeedsColon => "Put a `:` before {{SessionName}} in the username.",
        C::UsernameDefaulted => "Nothing, unless RBAC binds the old default username.",
        C::GroupTemplateUnsupported => "Replace the templated group with fixed group names.",
        C::RoleUnderMapUsers | C::UserUnderMapRoles => {
            "Nothing to migrate; move the row to the right key when convenient."
        }
        C::PathUnresolved => {
            "Let the migrator read IAM in the principal's account (member role), then re-plan."
        }
        C::PrincipalNotFound => "Delete the row: IAM no longer knows the principal.",
        C::UnsupportedPrincipal => {
            "Grant the access to an IAM role or user instead (e.g. not an account root)."
        }
        C::EntryExists | C::EntryAdopted => {
            "Nothing: an equivalent entry already carries the access."
        }
        C::EntryConflict => {
            "Make the existing entry match the row, or the row match the entry, then re-plan."
        }
        C::EntryIncomplete => "Re-run migrate: it adds the missing policy associations.",
        C::NotAwsAuth => "Point the migrator at kube-system/aws-auth with mapRoles or mapUsers.",
        C::GroupPolicyExact => {
            "Map the group to the suggested access policy (plan --suggest prints the snippet)."
        }
        C::GroupPolicyLossy => {
            "Keep the group, or accept the listed losses in the mapping's accept_differences."
        }
        C::GroupPolicyBroader => {
            "Keep the group, or accept the listed additions in the mapping's accept_differences."
        }
        C::GroupPolicyNone => "Keep the group and its RBAC bindings: no access policy matches.",
        C::GroupUnbound => "Fix the group name or drop it: no RBAC binding names it.",
        C::BindingGroupUnmapped => "Delete the binding if no other authenticator uses the group.",
        C::RbacInvalid => "Fix the named RBAC object (or the dump), then re-plan with --suggest.",
        C::RbacAggregationCycle => {
            "Break the ClusterRole aggregation cycle by removing a label or selector."
        }
        C::RbacRoleNotFound => "Create the missing role or delete the binding.",
        C::RbacUnknownVerb => "Fix the verb's spelling (RBAC verbs are lower-case).",
        C::AccessPolicyUnknown => {
            "Update eks-auth-migrator for the policy's rules, or map to a policy it knows."
        }
        C::AwsAuthOwner => {
            "Remove the migrated rows from the owner's source (git, chart values, Terraform, ClusterConfig), then accept the owner for the cluster."
        }
        C::ClusterOwner => {
            "Make the cluster's code say API with the migrated entries (imported), then accept the owner for the cluster."
        }
        C::OwnerUnknown => "Plan live, or from a file with its metadata and managedFields.",
        C::RbacBootstrapAssumed => {
            "Nothing, unless the cluster's bootstrap roles were edited: then dump them too."
        }
    }
}
