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
use crate::finding::{Finding, FindingCode, Location, Severity};
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

/// A node row, in named steps: which node entry type its username and groups match exactly,
/// whether its principal can carry that type, then whether EKS makes the entry itself.
fn translate_node(row: &Row, who: &Resolved, ctx: &Context<'_>, entry: &mut PlannedEntry) {
    let loc = row.location();
    let Some(node_type) = node_type(row) else {
        block(
            entry,
            &loc,
            FindingCode::NodeRole,
            format!(
                "node username `{}` with groups [{}] matches no node entry type exactly (EC2_LINUX: system:bootstrappers, system:nodes; EC2_WINDOWS: also eks:kube-proxy-windows; HYBRID_LINUX: system:bootstrappers, system:nodes with {{{{SessionName}}}}; FARGATE_LINUX: also system:node-proxier). A node entry would grant more or drop groups; fix the row or migrate it by hand.",
                row.username,
                row.groups.join(", ")
            ),
        );
        return;
    };
    entry.entry_type = Some(node_type);
    if let Some(problem) = node_principal_problem(node_type, who, ctx) {
        block(entry, &loc, FindingCode::NodeRole, problem);
        return;
    }
    let node = Node {
        facts: ctx.facts,
        entry_type: node_type,
        arn: &who.arn,
        loc: &loc,
    };
    match node_type {
        EntryType::FargateLinux => node.fargate(entry),
        EntryType::Ec2Linux | EntryType::Ec2Windows if node.in_managed_node_group() => {
            node.managed_node_group(entry);
        }
        _ => node.self_managed(entry),
    }
}

/// The node entry type whose username and groups the row has exactly, if any.
fn node_type(row: &Row) -> Option<EntryType> {
    let groups = group_set(&row.groups);
    let set = |names: &[&'static str]| names.iter().copied().collect::<BTreeSet<&str>>();
    if row.username == NODE_EC2_USERNAME {
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
    }
}

/// Why the row's principal cannot carry a node entry: a user, or a role of another account.
fn node_principal_problem(
    node_type: EntryType,
    who: &Resolved,
    ctx: &Context<'_>,
) -> Option<String> {
    if who.kind != Kind::Role {
        return Some(format!(
            "node identities must be IAM roles; an {node_type} entry cannot name a user. Fix the row."
        ));
    }
    let account = ctx.facts.and_then(|f| f.account_id.as_deref())?;
    (account != who.account).then(|| {
        format!(
            "{node_type} entries must name a role in the cluster's account ({account}), and this role is in {}. Grant these nodes a role in {account}.",
            who.account
        )
    })
}

/// A node role whose entry type is known, and what the facts say about it.
struct Node<'a> {
    facts: Option<&'a ClusterFacts>,
    entry_type: EntryType,
    arn: &'a str,
    loc: &'a Location,
}

impl Node<'_> {
    /// The cluster has left CONFIG_MAP (so EKS has made the entries it makes itself).
    fn switched(&self) -> bool {
        self.facts.is_some_and(|f| {
            matches!(
                f.authentication_mode,
                Some(AuthenticationMode::ApiAndConfigMap | AuthenticationMode::Api)
            )
        })
    }

    /// EKS has made this role's entry, of this type.
    fn eks_made(&self) -> bool {
        self.facts.is_some_and(|f| {
            f.existing_entry(self.arn)
                .is_some_and(|e| e.entry_type == self.entry_type)
        })
    }

    fn in_managed_node_group(&self) -> bool {
        self.facts
            .is_some_and(|f| ClusterFacts::role_listed(&f.node_group_roles, self.arn))
    }

    fn say(&self, entry: &mut PlannedEntry, code: FindingCode, severity: Severity, message: &str) {
        note(entry, self.loc, code, severity, message.to_owned());
    }

    /// A Fargate pod-execution role: EKS makes its entry, provided a profile uses the role.
    fn fargate(&self, entry: &mut PlannedEntry) {
        entry.action = Action::Skip;
        let code = FindingCode::FargateRole;
        match self.facts {
            None => self.say(entry, code, Severity::Info, "Fargate pod-execution role: EKS creates its FARGATE_LINUX entry itself when the cluster leaves CONFIG_MAP; the migrator never creates it and verifies it after the switch."),
            Some(f) if !ClusterFacts::role_listed(&f.fargate_profile_roles, self.arn) => {
                entry.action = Action::Blocked;
                self.say(entry, code, Severity::Blocker, "no Fargate profile on this cluster uses this pod-execution role, so EKS will not create its entry and switching to API mode would remove its access. Delete the row if the profile is gone, or create the profile.");
            }
            Some(_) if self.switched() && !self.eks_made() => {
                entry.action = Action::Blocked;
                self.say(entry, code, Severity::Blocker, "a Fargate profile uses this role but EKS did not create its FARGATE_LINUX entry after the switch; pods would lose access in API mode. Investigate before finalizing (the migrator never creates FARGATE_LINUX entries).");
            }
            Some(_) => self.say(entry, code, Severity::Info, "Fargate profile role: EKS manages its FARGATE_LINUX entry."),
        }
    }

    /// A managed node group's role: EKS makes its entry on the switch.
    fn managed_node_group(&self, entry: &mut PlannedEntry) {
        let node_type = self.entry_type;
        entry.action = Action::Skip;
        if self.switched() && !self.eks_made() {
            entry.action = Action::Blocked;
            self.say(
                entry,
                FindingCode::NodeRole,
                Severity::Blocker,
                &format!(
                    "managed node-group role, but EKS did not create its {node_type} entry after the switch; nodes would lose access in API mode. Investigate before finalizing."
                ),
            );
        } else {
            self.say(
                entry,
                FindingCode::NodeRole,
                Severity::Info,
                &format!(
                    "managed node-group role: EKS creates its {node_type} entry itself when the cluster leaves CONFIG_MAP."
                ),
            );
        }
    }

    /// A self-managed, Karpenter or hybrid node role: the migrator creates its entry.
    fn self_managed(&self, entry: &mut PlannedEntry) {
        let node_type = self.entry_type;
        entry.action = Action::Create;
        let what = match node_type {
            EntryType::HybridLinux => "hybrid node role",
            _ if self.facts.is_none() => {
                "node role (if it belongs to a managed node group, EKS creates the entry itself and the live plan skips it)"
            }
            _ => "self-managed or Karpenter node role",
        };
        self.say(
            entry,
            FindingCode::NodeRole,
            Severity::Info,
            &format!(
                "{what}: needs an entry of type {node_type} (EKS sets the node username and groups itself)."
            ),
        );
    }
}

/// Adds a finding at `loc` to the entry.
fn note(
    entry: &mut PlannedEntry,
    loc: &Location,
    code: FindingCode,
    severity: Severity,
    message: String,
) {
    entry
        .findings
        .push(Finding::at(loc.clone(), code, severity, message));
}

/// Blocks the entry with a blocker finding at `loc`.
fn block(entry: &mut PlannedEntry, loc: &Location, code: FindingCode, message: String) {
    entry.action = Action::Blocked;
    note(entry, loc, code, Severity::Blocker, message);
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
