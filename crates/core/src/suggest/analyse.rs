//! The analysis: which subjects aws-auth carries, what their bindings grant, and how each
//! candidate access policy compares.

use super::check::{self, Blocked, MappingOutcome};
use super::context::Ctx;
use super::report::{RbacReport, Sources, SubjectReport, SuggestionCounts, Verdict};
use super::snippet;
use super::subject::subject;
use crate::aws_auth::mapping::MASTERS_GROUP;
use crate::aws_auth::{AwsAuth, RowStatus};
use crate::finding::{Finding, FindingCode, Severity};
use crate::policy::MigrationPolicy;
use crate::rbac::aggregate;
use crate::rbac::policies::Catalogue;
use crate::rbac::{Rbac, SubjectKind, bootstrap};
use std::collections::{BTreeMap, HashMap};

/// What the suggestion engine reads besides aws-auth and the policy file.
#[derive(Debug, Clone, Copy)]
pub struct RbacInput<'a> {
    /// The cluster's RBAC objects.
    pub rbac: &'a Rbac,
    /// The names ListAccessPolicies returned on the cluster (`None` offline: every policy of the
    /// bundled data is a candidate).
    pub listed_policies: Option<&'a [String]>,
}

/// What [`analyse`] returns.
pub(super) struct Analysis {
    pub(super) report: RbacReport,
    pub(super) findings: Vec<Finding>,
    pub(super) blocked: Vec<Blocked>,
}

/// The aws-auth rows carrying each group and username.
#[derive(Default)]
struct Carried {
    groups: BTreeMap<String, Vec<String>>,
    users: BTreeMap<String, Vec<String>>,
}

impl Carried {
    fn of(auth: &AwsAuth, policy: &MigrationPolicy) -> Carried {
        let mut carried = Carried::default();
        let rows = auth
            .rows
            .iter()
            .filter(|r| r.status == RowStatus::Effective && r.sso.is_none() && !r.arn.is_empty());
        for row in rows {
            let at = format!("{}[{}]", row.section, row.index);
            for group in &row.groups {
                let mapped_system = policy.mapping_for(group).is_some() && group != MASTERS_GROUP;
                if group.contains("{{") || (group.starts_with("system:") && !mapped_system) {
                    continue;
                }
                push_unique(carried.groups.entry(group.clone()).or_default(), &at);
            }
            let user = &row.username;
            if !user.is_empty() && !user.contains("{{") && !user.starts_with("system:") {
                push_unique(carried.users.entry(user.clone()).or_default(), &at);
            }
        }
        carried
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|i| i == item) {
        list.push(item.to_owned());
    }
}

/// Analyses every carried subject.
pub(super) fn analyse(auth: &AwsAuth, policy: &MigrationPolicy, input: &RbacInput<'_>) -> Analysis {
    let mut completed = input.rbac.clone();
    let assumed = bootstrap::complete(&mut completed);
    let rbac = &completed;
    let catalogue = Catalogue::bundled();
    let resolved = aggregate::resolve(rbac);
    let mut findings = rbac.findings.clone();
    findings.extend(assumed_finding(&assumed));
    findings.extend(resolved.findings.iter().cloned());
    findings.extend(catalogue_findings(catalogue, input.listed_policies));
    let carried = Carried::of(auth, policy);
    let mut ctx = Ctx::new(rbac, &resolved, catalogue, input.listed_policies);
    // Subject → the bindings naming it, each once (a binding may name a subject twice).
    let mut by_subject: HashMap<(SubjectKind, &str), Vec<usize>> = HashMap::new();
    for (i, b) in rbac.bindings.iter().enumerate() {
        for s in &b.subjects {
            let ids = by_subject.entry((s.kind, s.name.as_str())).or_default();
            if ids.last() != Some(&i) {
                ids.push(i);
            }
        }
    }
    findings.extend(unmapped_binding_groups(rbac, &carried));
    let mut subjects = Vec::new();
    let mut blocked = Vec::new();
    let mut counts = SuggestionCounts::default();
    let users = carried
        .users
        .iter()
        .filter(|(u, _)| by_subject.contains_key(&(SubjectKind::User, u.as_str())));
    let all = carried
        .groups
        .iter()
        .map(|(g, rows)| (SubjectKind::Group, g, rows))
        .chain(users.map(|(u, rows)| (SubjectKind::User, u, rows)));
    for (kind, name, rows) in all {
        let ids = by_subject
            .get(&(kind, name.as_str()))
            .cloned()
            .unwrap_or_default();
        let mapped = kind == SubjectKind::Group && policy.mapping_for(name).is_some();
        let mut out = subject(&mut ctx, kind, name, rows, &ids, mapped);
        if kind == SubjectKind::Group
            && name != MASTERS_GROUP
            && let Some(mapping) = policy.mapping_for(name)
        {
            let grant = out.grant.clone();
            let outcome = check::mapping(&mut ctx, name, &out.report, grant.as_deref(), mapping);
            let MappingOutcome {
                check,
                finding,
                blocked: b,
            } = outcome;
            out.report.mapping = check;
            out.findings.push(finding);
            blocked.extend(b);
        }
        count(&mut counts, &out.report);
        findings.extend(out.findings);
        subjects.push(out.report);
    }
    counts.unmapped_binding_groups = findings
        .iter()
        .filter(|f| f.code == FindingCode::BindingGroupUnmapped)
        .count();
    let policy_snippet = snippet::render(&subjects, policy);
    Analysis {
        report: RbacReport {
            sources: Sources {
                access_policies: catalogue.source.clone(),
                access_policies_as_of: catalogue.as_of.clone(),
                kubernetes_bootstrap_roles: bootstrap::SOURCE.to_owned(),
                assumed_bootstrap_roles: assumed,
                list_access_policies: input.listed_policies.is_some(),
            },
            subjects,
            counts,
            policy_snippet,
        },
        findings,
        blocked,
    }
}

/// The plan note for a partial dump completed with bundled bootstrap roles.
fn assumed_finding(assumed: &[String]) -> Option<Finding> {
    (!assumed.is_empty()).then(|| {
        Finding::general(
            FindingCode::RbacBootstrapAssumed,
            Severity::Info,
            format!(
                "The RBAC dump lacks the bootstrap ClusterRoles {}; every cluster has them (the API server reconciles them at start-up), so Kubernetes {}'s definitions ({}) are assumed, aggregated with the dump's own roles. If the cluster's were edited, include them in the dump (`kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o yaml`).",
                assumed.join(", "),
                bootstrap::KUBERNETES_VERSION,
                bootstrap::SOURCE
            ),
        )
    })
}

fn count(counts: &mut SuggestionCounts, s: &SubjectReport) {
    match s.kind {
        SubjectKind::User => counts.users += 1,
        _ => counts.groups += 1,
    }
    match s.verdict {
        Verdict::Exact => counts.exact += 1,
        Verdict::Lossy => counts.lossy += 1,
        Verdict::Broader => counts.broader += 1,
        Verdict::None => counts.none += 1,
        Verdict::Unbound => counts.unbound += 1,
        Verdict::Unreadable => counts.unreadable += 1,
    }
}

fn catalogue_findings(catalogue: &Catalogue, listed: Option<&[String]>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(e) = &catalogue.load_error {
        out.push(Finding::general(
            FindingCode::AccessPolicyUnknown,
            Severity::Warning,
            format!("the bundled access-policy rules cannot be read ({e}); no access policy is suggested."),
        ));
    }
    if let Some(listed) = listed {
        let unknown = catalogue.unknown(listed);
        if !unknown.is_empty() {
            out.push(Finding::general(
                FindingCode::AccessPolicyUnknown,
                Severity::Info,
                format!(
                    "ListAccessPolicies offers {} whose Kubernetes rules this build does not know (the EKS user guide of {} describes them in prose only, or they are newer); they are never suggested.",
                    unknown.join(", "),
                    catalogue.as_of
                ),
            ));
        }
    }
    out
}

/// Groups that bindings name but no aws-auth row carries.
fn unmapped_binding_groups(rbac: &Rbac, carried: &Carried) -> Vec<Finding> {
    let mut named: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for b in &rbac.bindings {
        for s in b.subjects.iter().filter(|s| s.kind == SubjectKind::Group) {
            if !s.name.starts_with("system:") && !carried.groups.contains_key(&s.name) {
                let bindings = named.entry(&s.name).or_default();
                if !bindings.contains(&b.display_name()) {
                    bindings.push(b.display_name());
                }
            }
        }
    }
    named
        .into_iter()
        .map(|(group, bindings)| {
            let shown: Vec<&str> = bindings.iter().take(5).map(String::as_str).collect();
            let more = bindings.len().saturating_sub(5);
            Finding::general(
                FindingCode::BindingGroupUnmapped,
                Severity::Info,
                format!(
                    "group `{group}` is bound by {}{} but no aws-auth row carries it: it gives IAM principals nothing through aws-auth (it may serve another authenticator, or be left over).",
                    shown.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                ),
            )
        })
        .collect()
}
