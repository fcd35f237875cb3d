//! What a worker derives from a plan and the cluster's access entries, beyond the raw facts:
//! the plan reduced to what the state machine needs, the break-glass entry, and the entries
//! that exist for principals aws-auth does not name (the cluster creator's, typically).

use crate::access_entry::{Action, EntryType, ScopeType};
use crate::access_policies::CLUSTER_ADMIN_POLICY;
use crate::facts::{ClusterFacts, ExistingEntry, same_role};
use crate::finding::Severity;
use crate::plan::Plan;
use crate::state::PlanSummary;

/// The plan reduced to what [`crate::state::next`] needs.
pub fn plan_summary(plan: &Plan) -> PlanSummary {
    PlanSummary {
        to_create: plan
            .entries
            .iter()
            .filter(|e| e.action == Action::Create)
            .count(),
        blockers: plan
            .all_findings()
            .filter(|f| f.severity == Severity::Blocker)
            .count(),
        blocks_api_mode: plan.blocks_api_mode,
    }
}

/// Whether `entry` is a STANDARD entry with the cluster-admin policy at cluster scope.
pub fn is_cluster_admin(entry: &ExistingEntry) -> bool {
    entry.entry_type == EntryType::Standard
        && entry.access_policies.iter().any(|p| {
            p.name() == CLUSTER_ADMIN_POLICY && p.access_scope.scope_type == ScopeType::Cluster
        })
}

/// Whether two principal ARNs name the same principal (roles compare by name, as EKS does).
fn same_principal(a: &str, b: &str) -> bool {
    a == b || same_role(a, b)
}

/// The break-glass entry that must exist before aws-auth is pruned or the cluster switches to
/// API mode.
///
/// With `required` (the configured break-glass principal), that principal's cluster-admin
/// entry; without, any cluster-admin entry the migrator created (it carries over a
/// `system:masters` row, so it is an administrator the organisation already relied on).
/// Entries nobody configured and the migrator did not create (the cluster creator's) never
/// count: they are not known to be reachable by the platform team.
pub fn break_glass<'a>(
    facts: &'a ClusterFacts,
    required: Option<&str>,
) -> Option<&'a ExistingEntry> {
    facts.existing_entries.iter().find(|e| {
        is_cluster_admin(e)
            && match required {
                Some(arn) => same_principal(&e.principal_arn, arn),
                None => e.managed_by_migrator,
            }
    })
}

/// STANDARD entries the migrator did not create for principals no aws-auth row names, other than
/// the ones EKS manages for its features (capabilities, Auto Mode, HyperPod:
/// [`crate::eks_managed`]): after the switch to API_AND_CONFIG_MAP this is where the cluster
/// creator's implicit admin (invisible under aws-auth) becomes visible. Reported, never changed.
pub fn entries_outside_aws_auth<'a>(
    facts: &'a ClusterFacts,
    plan: &Plan,
) -> Vec<&'a ExistingEntry> {
    facts
        .existing_entries
        .iter()
        .filter(|e| e.entry_type == EntryType::Standard && !e.managed_by_migrator)
        .filter(|e| crate::eks_managed::eks_managed(e, facts).is_none())
        .filter(|e| {
            !plan.entries.iter().any(|p| {
                p.principal_arn
                    .as_deref()
                    .is_some_and(|arn| same_principal(arn, &e.principal_arn))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_entry::{AccessPolicy, AccessScope};
    use crate::aws_auth::AwsAuth;
    use crate::facts::{AuthenticationMode, FACTS_FORMAT_VERSION};
    use crate::policy::MigrationPolicy;
    use std::collections::BTreeMap;

    const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
    const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

    fn entry(arn: &str, policy: &str, scope: AccessScope, managed: bool) -> ExistingEntry {
        ExistingEntry {
            principal_arn: arn.to_owned(),
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: Vec::new(),
            access_policies: vec![AccessPolicy {
                policy_arn: policy.to_owned(),
                access_scope: scope,
            }],
            managed_by_migrator: managed,
        }
    }

    fn facts(entries: Vec<ExistingEntry>) -> ClusterFacts {
        ClusterFacts {
            format_version: FACTS_FORMAT_VERSION,
            cluster_name: Some("prod".to_owned()),
            partition: Some("aws".to_owned()),
            account_id: Some("111122223333".to_owned()),
            region: Some("us-east-1".to_owned()),
            authentication_mode: Some(AuthenticationMode::ApiAndConfigMap),
            node_group_roles: Vec::new(),
            fargate_profile_roles: Vec::new(),
            existing_entries: entries,
            iam: BTreeMap::new(),
            eks_features: Default::default(),
            reach: None,
            owners: None,
        }
    }

    fn ns(name: &str) -> AccessScope {
        AccessScope {
            scope_type: ScopeType::Namespace,
            namespaces: vec![name.to_owned()],
        }
    }

    #[test]
    fn cluster_admin_needs_the_admin_policy_at_cluster_scope() {
        let a = "arn:aws:iam::111122223333:role/a";
        assert!(is_cluster_admin(&entry(
            a,
            ADMIN,
            AccessScope::cluster(),
            true
        )));
        assert!(!is_cluster_admin(&entry(a, ADMIN, ns("kube-system"), true)));
        assert!(!is_cluster_admin(&entry(
            a,
            VIEW,
            AccessScope::cluster(),
            true
        )));
        let mut node = entry(a, ADMIN, AccessScope::cluster(), true);
        node.entry_type = EntryType::Ec2Linux;
        assert!(!is_cluster_admin(&node));
    }

    #[test]
    fn break_glass_is_a_migrated_admin_or_the_configured_principal() {
        let migrated = "arn:aws:iam::111122223333:role/platform-admin";
        let creator = "arn:aws:iam::111122223333:user/creator";
        let f = facts(vec![
            entry(creator, ADMIN, AccessScope::cluster(), false),
            entry(migrated, ADMIN, AccessScope::cluster(), true),
        ]);
        assert_eq!(
            break_glass(&f, None).map(|e| e.principal_arn.as_str()),
            Some(migrated)
        );
        assert_eq!(
            break_glass(&f, Some(creator)).map(|e| e.principal_arn.as_str()),
            Some(creator)
        );
        // A role configured without its path still names the entry (roles compare by name).
        let pathed = facts(vec![entry(
            "arn:aws:iam::111122223333:role/ops/platform-admin",
            ADMIN,
            AccessScope::cluster(),
            false,
        )]);
        assert!(break_glass(&pathed, Some(migrated)).is_some());
        // The creator's entry alone is not a break-glass entry.
        let only_creator = facts(vec![entry(creator, ADMIN, AccessScope::cluster(), false)]);
        assert!(break_glass(&only_creator, None).is_none());
        // A configured principal without an admin entry is missing.
        let viewer = facts(vec![entry(migrated, VIEW, AccessScope::cluster(), true)]);
        assert!(break_glass(&viewer, Some(migrated)).is_none());
        assert!(break_glass(&viewer, None).is_none());
    }

    #[test]
    fn entries_outside_aws_auth_are_the_unmapped_foreign_ones() {
        let text = r"apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/admin
      username: admin
      groups: [system:masters]
";
        let auth = AwsAuth::parse_configmap(text).expect("parses");
        let creator = "arn:aws:iam::111122223333:user/creator";
        let f = facts(vec![
            entry(creator, ADMIN, AccessScope::cluster(), false),
            entry(
                "arn:aws:iam::111122223333:role/admin",
                ADMIN,
                AccessScope::cluster(),
                false,
            ),
            entry(
                "arn:aws:iam::111122223333:role/migrated-elsewhere",
                VIEW,
                AccessScope::cluster(),
                true,
            ),
            // An Argo CD capability given cluster-admin by hand: EKS's, never the creator's.
            entry(
                "arn:aws:iam::111122223333:role/argocd-capability",
                ADMIN,
                AccessScope::cluster(),
                false,
            ),
        ]);
        let mut f = f;
        f.eks_features
            .capabilities
            .push(crate::facts::CapabilityFact {
                name: "argocd".to_owned(),
                capability_type: "ARGOCD".to_owned(),
                role_arn: "arn:aws:iam::111122223333:role/argocd-capability".to_owned(),
            });
        let plan = crate::plan(&auth, Some(&f), &MigrationPolicy::default());
        let outside: Vec<&str> = entries_outside_aws_auth(&f, &plan)
            .into_iter()
            .map(|e| e.principal_arn.as_str())
            .collect();
        assert_eq!(outside, vec![creator]);
    }

    #[test]
    fn summary_counts_creates_and_blockers() {
        let text = r"apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/admin
      username: admin
      groups: [system:masters]
  mapAccounts: |
    - '111122223333'
";
        let auth = AwsAuth::parse_configmap(text).expect("parses");
        let plan = crate::plan(&auth, None, &MigrationPolicy::default());
        let s = plan_summary(&plan);
        assert_eq!(s.to_create, 1);
        assert!(s.blockers >= 1);
        assert!(s.blocks_api_mode);
    }
}
