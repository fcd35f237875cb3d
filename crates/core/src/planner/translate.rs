//! Translating a resolved row's username and groups into an entry type, username, groups and
//! access policies (domain.md §4).

use super::context::Context;
use super::principal::{Kind, Resolved};
use crate::access_entry::{AccessPolicy, AccessScope, Action, EntryType, ScopeType};
use crate::access_policies::CLUSTER_ADMIN_POLICY;
use crate::arn::access_policy_arn;
use crate::aws_auth::mapping::{
    BOOTSTRAPPERS_GROUP, KUBE_PROXY_WINDOWS_GROUP, MASTERS_GROUP, NODE_EC2_USERNAME,
    NODE_PROXIER_GROUP, NODE_SESSION_USERNAME, NODES_GROUP, Row,
};
use crate::facts::{AuthenticationMode, ClusterFacts};
use crate::finding::{Finding, FindingCode, Severity};
use crate::plan::PlannedEntry;
use crate::policy::UnsupportedUsername;
use crate::template::{UsernameProblem, placeholders, username_problem};
use std::collections::BTreeSet;

/// Fills `entry` (principal already set) for a row whose principal matches callers.
pub(super) fn translate(row: &Row, who: &Resolved, ctx: &Context<'_>, entry: &mut PlannedEntry) {
    if row.username == NODE_EC2_USERNAME || row.username == NODE_SESSION_USERNAME {
        translate_node(row, who, ctx, entry);
    } else {
        translate_standard(row, ctx, entry);
    }
}

fn group_set(groups: &[String]) -> BTreeSet<&str> {
    groups.iter().map(String::as_str).collect()
}

fn translate_node(row: &Row, who: &Resolved, ctx: &Context<'_>, entry: &mut PlannedEntry) {
    let loc = row.location();
    let groups = group_set(&row.groups);
    let set = |names: &[&'static str]| names.iter().copied().collect::<BTreeSet<&str>>();
    let node_type = if row.username == NODE_EC2_USERNAME {
        if groups == set(&[BOOTSTRAPPERS_GROUP, NODES_GROUP]) {
            Some(EntryType::Ec2Linux)
        } else if groups == set(&[BOOTSTRAPPERS_GROUP, NODES_GROUP, KUBE_PROXY_WINDOWS_GROUP]) {
            Some(EntryType::Ec2Windows)
        } else {
            None
        }
    } else if groups == set(&[BOOTSTRAPPERS_GROUP, NODES_GROUP, NODE_PROXIER_GROUP]) {
        Some(EntryType::FargateLinux)
    } else if groups == set(&[BOOTSTRAPPERS_GROUP, NODES_GROUP]) {
        Some(EntryType::HybridLinux)
    } else {
        None
    };
    let block = |entry: &mut PlannedEntry, message: String| {
        entry.action = Action::Blocked;
        entry.findings.push(Finding::at(
            loc.clone(),
            FindingCode::NodeRole,
            Severity::Blocker,
            message,
        ));
    };
    let Some(node_type) = node_type else {
        block(
            entry,
            format!(
                "node username `{}` with groups [{}] matches no node entry type exactly (EC2_LINUX: system:bootstrappers, system:nodes; EC2_WINDOWS: also eks:kube-proxy-windows; HYBRID_LINUX: system:bootstrappers, system:nodes with {{{{SessionName}}}}; FARGATE_LINUX: also system:node-proxier). A node entry would grant more or drop groups; fix the row or migrate it by hand.",
                row.username,
                row.groups.join(", ")
            ),
        );
        return;
    };
    entry.entry_type = Some(node_type);
    if who.kind != Kind::Role {
        block(
            entry,
            format!(
                "node identities must be IAM roles; an {node_type} entry cannot name a user. Fix the row."
            ),
        );
        return;
    }
    if let Some(account) = ctx.facts.and_then(|f| f.account_id.as_deref())
        && account != who.account
    {
        block(
            entry,
            format!(
                "{node_type} entries must name a role in the cluster's account ({account}), and this role is in {}. Grant these nodes a role in {account}.",
                who.account
            ),
        );
        return;
    }
    let say = |entry: &mut PlannedEntry, code, severity, message: String| {
        entry
            .findings
            .push(Finding::at(loc.clone(), code, severity, message));
    };
    let facts = ctx.facts;
    let switched = facts.is_some_and(|f| {
        matches!(
            f.authentication_mode,
            Some(AuthenticationMode::ApiAndConfigMap | AuthenticationMode::Api)
        )
    });
    let eks_made = facts.is_some_and(|f| {
        f.existing_entry(&who.arn)
            .is_some_and(|e| e.entry_type == node_type)
    });
    match node_type {
        EntryType::FargateLinux => {
            entry.action = Action::Skip;
            match facts {
                None => say(entry, FindingCode::FargateRole, Severity::Info, "Fargate pod-execution role: EKS creates its FARGATE_LINUX entry itself when the cluster leaves CONFIG_MAP; the migrator never creates it and verifies it after the switch.".to_owned()),
                Some(f) if !ClusterFacts::role_listed(&f.fargate_profile_roles, &who.arn) => {
                    entry.action = Action::Blocked;
                    say(entry, FindingCode::FargateRole, Severity::Blocker, "no Fargate profile on this cluster uses this pod-execution role, so EKS will not create its entry and switching to API mode would remove its access. Delete the row if the profile is gone, or create the profile.".to_owned());
                }
                Some(_) if switched && !eks_made => {
                    entry.action = Action::Blocked;
                    say(entry, FindingCode::FargateRole, Severity::Blocker, "a Fargate profile uses this role but EKS did not create its FARGATE_LINUX entry after the switch; pods would lose access in API mode. Investigate before finalizing (the migrator never creates FARGATE_LINUX entries).".to_owned());
                }
                Some(_) => say(entry, FindingCode::FargateRole, Severity::Info, "Fargate profile role: EKS manages its FARGATE_LINUX entry.".to_owned()),
            }
        }
        EntryType::Ec2Linux | EntryType::Ec2Windows
            if facts.is_some_and(|f| ClusterFacts::role_listed(&f.node_group_roles, &who.arn)) =>
        {
            entry.action = Action::Skip;
            if switched && !eks_made {
                entry.action = Action::Blocked;
                say(
                    entry,
                    FindingCode::NodeRole,
                    Severity::Blocker,
                    format!(
                        "managed node-group role, but EKS did not create its {node_type} entry after the switch; nodes would lose access in API mode. Investigate before finalizing."
                    ),
                );
            } else {
                say(
                    entry,
                    FindingCode::NodeRole,
                    Severity::Info,
                    format!(
                        "managed node-group role: EKS creates its {node_type} entry itself when the cluster leaves CONFIG_MAP."
                    ),
                );
            }
        }
        _ => {
            entry.action = Action::Create;
            let what = match node_type {
                EntryType::HybridLinux => "hybrid node role",
                _ if facts.is_none() => {
                    "node role (if it belongs to a managed node group, EKS creates the entry itself and the live plan skips it)"
                }
                _ => "self-managed or Karpenter node role",
            };
            say(
                entry,
                FindingCode::NodeRole,
                Severity::Info,
                format!(
                    "{what}: needs an entry of type {node_type} (EKS sets the node username and groups itself)."
                ),
            );
        }
    }
}

fn translate_standard(row: &Row, ctx: &Context<'_>, entry: &mut PlannedEntry) {
    let loc = row.location();
    let mut findings = Vec::new();
    let mut say = |code, severity, message: String| {
        findings.push(Finding::at(loc.clone(), code, severity, message));
    };
    entry.entry_type = Some(EntryType::Standard);
    entry.username = plan_username(row, ctx, &mut say);
    let (groups, policies) = plan_groups(row, ctx, &mut say);
    let blocked = findings.iter().any(|f| f.severity == Severity::Blocker);
    entry.findings.extend(findings);
    entry.kubernetes_groups = groups;
    entry.access_policies = policies;
    entry.action = if blocked {
        Action::Blocked
    } else {
        Action::Create
    };
}

/// The username to set, or `None` for EKS's default; explains any change through `say`.
fn plan_username(
    row: &Row,
    ctx: &Context<'_>,
    say: &mut impl FnMut(FindingCode, Severity, String),
) -> Option<String> {
    if row.username.is_empty() {
        say(FindingCode::UsernameDefaulted, Severity::Info, "the row has no username (the authenticator passes an empty one); the entry gets EKS's default ARN-based username. No RBAC binding can name an empty user, so nothing is lost.".to_owned());
        None
    } else if let Some(problem) = username_problem(&row.username) {
        let (code, why) = match &problem {
            UsernameProblem::ReservedPrefix(prefix) => (
                FindingCode::UsernameReservedPrefix,
                format!(
                    "username `{}` starts with `{prefix}`, which access entries reserve",
                    row.username
                ),
            ),
            UsernameProblem::UnsupportedTemplate(name) => (
                FindingCode::UsernameTemplateUnsupported,
                format!(
                    "username `{}` uses {{{{{name}}}}}, which access entries do not support",
                    row.username
                ),
            ),
            UsernameProblem::SessionNameNeedsColon(name) => (
                FindingCode::SessionNameNeedsColon,
                format!(
                    "username `{}` has {{{{{name}}}}} without a `:` before it, which access entries reject",
                    row.username
                ),
            ),
        };
        match ctx.policy.unsupported_username {
            UnsupportedUsername::Block => {
                say(
                    code,
                    Severity::Blocker,
                    format!(
                        "{why}. Keeping the name is impossible and changing it would break RBAC bindings to kind: User `{}`. Rebind RBAC to a group, then set `unsupported_username: omit` in the policy file.",
                        row.username
                    ),
                );
            }
            UnsupportedUsername::Omit => {
                say(
                    code,
                    Severity::Warning,
                    format!(
                        "{why}; the policy says omit it, so the entry gets EKS's default username and RBAC bindings to kind: User `{}` stop matching.",
                        row.username
                    ),
                );
            }
        }
        None
    } else {
        Some(row.username.clone())
    }
}

/// The groups to keep and the access policies that express the rest; explains each through `say`.
fn plan_groups(
    row: &Row,
    ctx: &Context<'_>,
    say: &mut impl FnMut(FindingCode, Severity, String),
) -> (Vec<String>, Vec<AccessPolicy>) {
    let mut policies: Vec<AccessPolicy> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for group in &row.groups {
        if groups.contains(group) {
            continue;
        }
        if !placeholders(group).is_empty() {
            say(
                FindingCode::GroupTemplateUnsupported,
                Severity::Blocker,
                format!(
                    "group `{group}` uses a template; access entries do not expand templates in groups, so the group cannot be kept as it is. Replace it with fixed group names."
                ),
            );
        } else if let Some(mapping) = ctx.policy.mapping_for(group) {
            let policy = AccessPolicy {
                policy_arn: access_policy_arn(ctx.partition, mapping.policy_name()),
                access_scope: mapping.access_scope.clone(),
            };
            say(
                FindingCode::GroupMappedToPolicy,
                Severity::Info,
                format!(
                    "group `{group}` → {} ({}) as the policy file says{}.",
                    mapping.policy_name(),
                    policy.access_scope,
                    if mapping.keep_group && !group.starts_with("system:") {
                        "; the group is kept too"
                    } else {
                        "; the group is dropped"
                    }
                ),
            );
            add_policy(&mut policies, policy);
            if mapping.keep_group && !group.starts_with("system:") {
                groups.push(group.clone());
            }
        } else if group == MASTERS_GROUP {
            say(
                FindingCode::MastersToClusterAdmin,
                Severity::Info,
                format!(
                    "system:masters → {CLUSTER_ADMIN_POLICY} at cluster scope (access entries cannot carry system: groups); the row's other groups and username are kept."
                ),
            );
            add_policy(
                &mut policies,
                AccessPolicy {
                    policy_arn: access_policy_arn(ctx.partition, CLUSTER_ADMIN_POLICY),
                    access_scope: AccessScope::cluster(),
                },
            );
        } else if group.starts_with("system:") {
            say(
                FindingCode::SystemGroup,
                Severity::Blocker,
                format!(
                    "group `{group}` cannot be set on an access entry and no access policy is known to be equivalent. Map it to a policy in the policy file if one is an acceptable equivalent, or grant it another way."
                ),
            );
        } else {
            groups.push(group.clone());
        }
    }
    (groups, policies)
}

/// Adds a policy association, merging scopes when the same policy comes from two groups.
fn add_policy(policies: &mut Vec<AccessPolicy>, policy: AccessPolicy) {
    match policies
        .iter_mut()
        .find(|p| p.policy_arn == policy.policy_arn)
    {
        None => policies.push(policy),
        Some(existing) => match (
            existing.access_scope.scope_type,
            policy.access_scope.scope_type,
        ) {
            (ScopeType::Cluster, _) => {}
            (_, ScopeType::Cluster) => existing.access_scope = AccessScope::cluster(),
            (ScopeType::Namespace, ScopeType::Namespace) => {
                for ns in policy.access_scope.namespaces {
                    if !existing.access_scope.namespaces.contains(&ns) {
                        existing.access_scope.namespaces.push(ns);
                    }
                }
            }
        },
    }
}
