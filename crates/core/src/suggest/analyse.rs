//! The analysis: which subjects aws-auth carries, what their bindings grant, and how each
//! candidate access policy compares.

use super::check::{self, MappingOutcome};
use super::snippet;
use super::{
    BoundRole, Candidate, Fit, RbacInput, RbacReport, Sources, SubjectReport, SuggestionCounts,
    Verdict,
};
use crate::aws_auth::{AwsAuth, RowStatus};
use crate::finding::{Finding, FindingCode, Severity};
use crate::plan::{AccessScope, ScopeType};
use crate::policy::MigrationPolicy;
use crate::rbac::aggregate::{self, Resolved};
use crate::rbac::grant::{Expander, Grant, GrantBuilder, Ns, Remainder, RuleAtoms};
use crate::rbac::policies::{AccessPolicyRules, Catalogue};
use crate::rbac::{BindingKind, Difference, PolicyRule, Rbac, RoleKind, SubjectKind, bootstrap};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// A group whose policy-file mapping blocks its rows.
#[derive(Debug, Clone)]
pub(super) struct Blocked {
    pub(super) group: String,
    pub(super) code: FindingCode,
    pub(super) policy: String,
}

/// What [`analyse`] returns.
pub(super) struct Analysis {
    pub(super) report: RbacReport,
    pub(super) findings: Vec<Finding>,
    pub(super) blocked: Vec<Blocked>,
}

/// How many differences a finding message lists before "and N more".
const LISTED: usize = 12;

/// Differences as `a; b; c` (at most [`LISTED`]).
pub(super) fn listing(diffs: &[Difference]) -> String {
    let mut text: Vec<&str> = diffs.iter().take(LISTED).map(|d| d.text.as_str()).collect();
    let more = diffs.len().saturating_sub(LISTED);
    let tail = format!("and {more} more (the plan's rbac section lists all)");
    if more > 0 {
        text.push(&tail);
    }
    text.join("; ")
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
                let mapped_system =
                    policy.mapping_for(group).is_some() && group != "system:masters";
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

/// A role a binding names, as the analysis keys it.
type RoleKey = String;

/// The grant of one set of (scope, role) pairs, with how the candidates compare.
struct Evaluated {
    grant: Rc<Grant>,
    verdict: Verdict,
    suggested: Option<Candidate>,
    candidates: Vec<Candidate>,
}

/// Caches for one analysis: role atoms, grants and evaluations per binding signature, policy
/// grants per scope.
pub(super) struct Ctx<'a> {
    rbac: &'a Rbac,
    resolved: &'a Resolved,
    catalogue: &'static Catalogue,
    listed: Option<&'a [String]>,
    pub(super) expander: Expander,
    role_atoms: HashMap<RoleKey, Rc<RuleAtoms>>,
    evaluations: HashMap<Vec<(Ns, RoleKey)>, Rc<Evaluated>>,
    policy_grants: HashMap<(String, Vec<Ns>), Rc<Grant>>,
}

/// A binding's role, resolved.
enum RoleRules<'r> {
    Found(RoleKey, &'r [PolicyRule]),
    Missing,
    Unreadable(String),
}

impl<'a> Ctx<'a> {
    fn role_rules(&self, b: &crate::rbac::Binding) -> RoleRules<'a> {
        let key = b.role_display();
        let (rbac, resolved): (&'a Rbac, &'a Resolved) = (self.rbac, self.resolved);
        match b.role_kind {
            RoleKind::ClusterRole => match resolved.cluster_roles.get(&b.role_name) {
                Some(Ok(rules)) => RoleRules::Found(key, rules),
                Some(Err(why)) => RoleRules::Unreadable(format!("{key}: {why}")),
                None => match rbac.unreadable.cluster_roles.get(&b.role_name) {
                    Some(why) => RoleRules::Unreadable(format!("{key} cannot be read: {why}")),
                    None => RoleRules::Missing,
                },
            },
            RoleKind::Role => {
                let k = (b.namespace.clone().unwrap_or_default(), b.role_name.clone());
                match (rbac.roles.get(&k), rbac.unreadable.roles.get(&k)) {
                    (Some(role), _) => RoleRules::Found(key, &role.rules),
                    (None, Some(why)) => {
                        RoleRules::Unreadable(format!("{key} cannot be read: {why}"))
                    }
                    (None, None) => RoleRules::Missing,
                }
            }
        }
    }

    fn atoms(&mut self, key: &str, rules: &[PolicyRule]) -> Rc<RuleAtoms> {
        if let Some(a) = self.role_atoms.get(key) {
            return Rc::clone(a);
        }
        let atoms = Rc::new(self.expander.atoms(rules));
        self.role_atoms.insert(key.to_owned(), Rc::clone(&atoms));
        atoms
    }

    pub(super) fn policy_grant(&mut self, policy: &AccessPolicyRules, scope: &[Ns]) -> Rc<Grant> {
        let key = (policy.name.clone(), scope.to_vec());
        if let Some(g) = self.policy_grants.get(&key) {
            return Rc::clone(g);
        }
        let grant = Rc::new(self.expander.grant(&policy.rules, scope));
        self.policy_grants.insert(key, Rc::clone(&grant));
        grant
    }

    /// Compares `grant` with `policy` at `scope`.
    pub(super) fn compare(
        &mut self,
        grant: &Grant,
        policy: &AccessPolicyRules,
        scope: &[Ns],
    ) -> (Remainder, Remainder) {
        let pg = self.policy_grant(policy, scope);
        (
            self.expander.minus(grant, &pg),
            self.expander.minus(&pg, grant),
        )
    }

    pub(super) fn describe(&self, r: &Remainder) -> Vec<Difference> {
        r.describe(&self.expander.symbols)
    }

    fn evaluate(
        &mut self,
        signature: Vec<(Ns, RoleKey)>,
        rules: &[&[PolicyRule]],
    ) -> Rc<Evaluated> {
        if let Some(e) = self.evaluations.get(&signature) {
            return Rc::clone(e);
        }
        let mut builder = GrantBuilder::default();
        for ((ns, key), rules) in signature.iter().zip(rules) {
            let atoms = self.atoms(key, rules);
            builder.add(ns, &atoms);
        }
        let grant = Rc::new(self.expander.build(builder));
        let evaluated = Rc::new(self.candidates(grant));
        self.evaluations.insert(signature, Rc::clone(&evaluated));
        evaluated
    }

    fn candidates(&mut self, grant: Rc<Grant>) -> Evaluated {
        let (scope, access_scope) = scope_of(&grant);
        let candidate = |policy: &AccessPolicyRules, fit, lost, added| Candidate {
            policy: policy.name.clone(),
            access_scope: access_scope.clone(),
            fit,
            lost,
            added,
        };
        let mut exact = Vec::new();
        // The closest narrower and broader policies: (weight, policy, what differs).
        let mut narrower: Option<(u64, &AccessPolicyRules, Remainder)> = None;
        let mut broader: Option<(u64, &AccessPolicyRules, Remainder)> = None;
        let policies: Vec<&AccessPolicyRules> = self.catalogue.candidates(self.listed).collect();
        for policy in policies {
            let (lost, added) = self.compare(&grant, policy, &scope);
            match (lost.is_empty(), added.is_empty()) {
                (true, true) => exact.push(candidate(policy, Fit::Exact, Vec::new(), Vec::new())),
                (false, true) => {
                    let w = lost.weight(&self.expander.symbols);
                    if narrower.as_ref().is_none_or(|(n, _, _)| w < *n) {
                        narrower = Some((w, policy, lost));
                    }
                }
                (true, false) => {
                    let cluster_admin_like = self.policy_grant(policy, &scope).has_full_wildcard()
                        && !grant.has_full_wildcard();
                    let w = added.weight(&self.expander.symbols);
                    if !cluster_admin_like && broader.as_ref().is_none_or(|(n, _, _)| w < *n) {
                        broader = Some((w, policy, added));
                    }
                }
                (false, false) => {}
            }
        }
        let (verdict, suggested, candidates) = if let Some(first) = exact.first().cloned() {
            (Verdict::Exact, Some(first), exact)
        } else {
            let verdict = match (&narrower, &broader) {
                (Some(_), _) => Verdict::Lossy,
                (None, Some(_)) => Verdict::Broader,
                (None, None) => Verdict::None,
            };
            let mut candidates = Vec::new();
            if let Some((_, policy, lost)) = &narrower {
                candidates.push(candidate(
                    policy,
                    Fit::Narrower,
                    self.describe(lost),
                    Vec::new(),
                ));
            }
            if let Some((_, policy, added)) = &broader {
                candidates.push(candidate(
                    policy,
                    Fit::Broader,
                    Vec::new(),
                    self.describe(added),
                ));
            }
            (verdict, None, candidates)
        };
        Evaluated {
            grant,
            verdict,
            suggested,
            candidates,
        }
    }
}

/// The scope a grant can be compared at: cluster when anything applies cluster-wide, else the
/// namespaces it applies in.
fn scope_of(grant: &Grant) -> (Vec<Ns>, AccessScope) {
    if grant.has_cluster_wide() || grant.is_empty() {
        (vec![Ns::All], AccessScope::cluster())
    } else {
        let namespaces = grant.namespaces();
        (
            namespaces.iter().cloned().map(Ns::One).collect(),
            AccessScope {
                scope_type: ScopeType::Namespace,
                namespaces,
            },
        )
    }
}

/// Analyses every carried subject.
pub(super) fn analyse(auth: &AwsAuth, policy: &MigrationPolicy, input: &RbacInput<'_>) -> Analysis {
    let rbac = input.rbac;
    let catalogue = Catalogue::bundled();
    let resolved = aggregate::resolve(rbac);
    let mut findings = rbac.findings.clone();
    findings.extend(resolved.findings.iter().cloned());
    findings.extend(catalogue_findings(catalogue, input.listed_policies));
    let carried = Carried::of(auth, policy);
    let mut ctx = Ctx {
        rbac,
        resolved: &resolved,
        catalogue,
        listed: input.listed_policies,
        expander: Expander::default(),
        role_atoms: HashMap::new(),
        evaluations: HashMap::new(),
        policy_grants: HashMap::new(),
    };
    // Subject → the bindings naming it.
    let mut by_subject: HashMap<(SubjectKind, &str), Vec<usize>> = HashMap::new();
    for (i, b) in rbac.bindings.iter().enumerate() {
        for s in &b.subjects {
            by_subject
                .entry((s.kind, s.name.as_str()))
                .or_default()
                .push(i);
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
            && name != "system:masters"
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
                named.entry(&s.name).or_default().push(b.display_name());
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

/// One subject's analysis, before any mapping check.
struct SubjectOut {
    report: SubjectReport,
    findings: Vec<Finding>,
    /// Its grant, when every object it depends on was read.
    grant: Option<Rc<Grant>>,
}

fn subject(
    ctx: &mut Ctx<'_>,
    kind: SubjectKind,
    name: &str,
    rows: &[String],
    binding_ids: &[usize],
    mapped: bool,
) -> SubjectOut {
    let who = match kind {
        SubjectKind::User => format!("user `{name}` ({}, bound by name)", rows.join(", ")),
        _ => format!("group `{name}` ({})", rows.join(", ")),
    };
    let mut findings = Vec::new();
    let mut bindings = Vec::new();
    let mut signature: Vec<(Ns, RoleKey, &[PolicyRule])> = Vec::new();
    let mut unreadable = ctx.rbac.unreadable.everything.clone();
    if let Some(why) = ctx.rbac.unreadable.subjects.get(&crate::rbac::Subject {
        kind,
        name: name.to_owned(),
    }) {
        unreadable.get_or_insert_with(|| why.clone());
    }
    let rbac = ctx.rbac;
    let resolved_rules: Vec<(usize, RoleRules<'_>)> = binding_ids
        .iter()
        .map(|i| (*i, ctx.role_rules(&rbac.bindings[*i])))
        .collect();
    for (i, rules) in &resolved_rules {
        let b = &rbac.bindings[*i];
        let ns = match b.kind {
            BindingKind::ClusterRoleBinding => Ns::All,
            BindingKind::RoleBinding => Ns::One(b.namespace.clone().unwrap_or_default()),
        };
        bindings.push(BoundRole {
            binding: b.display_name(),
            role: b.role_display(),
            namespace: b.namespace.clone(),
        });
        match rules {
            RoleRules::Found(key, rules) => signature.push((ns, key.clone(), rules)),
            RoleRules::Missing => findings.push(Finding::general(
                FindingCode::RbacRoleNotFound,
                Severity::Warning,
                format!("{} binds {who} to {}, which does not exist: Kubernetes ignores the binding, so it grants nothing. Create the role or delete the binding.", b.display_name(), b.role_display()),
            )),
            RoleRules::Unreadable(why) => {
                unreadable.get_or_insert_with(|| why.clone());
            }
        }
    }
    let mut report = SubjectReport {
        kind,
        name: name.to_owned(),
        rows: rows.to_vec(),
        bindings,
        verdict: Verdict::Unbound,
        suggested: None,
        candidates: Vec::new(),
        mapping: None,
        unreadable: None,
    };
    if let Some(why) = unreadable {
        findings.push(Finding::general(
            FindingCode::RbacInvalid,
            Severity::Warning,
            format!("{who}: no suggestion, because what it is granted depends on RBAC that could not be read ({why})."),
        ));
        report.verdict = Verdict::Unreadable;
        report.unreadable = Some(why);
        return SubjectOut {
            report,
            findings,
            grant: None,
        };
    }
    signature.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    signature.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let rules: Vec<&[PolicyRule]> = signature.iter().map(|s| s.2).collect();
    let key: Vec<(Ns, RoleKey)> = signature.into_iter().map(|(ns, k, _)| (ns, k)).collect();
    let evaluated = ctx.evaluate(key, &rules);
    if evaluated.grant.is_empty() {
        if kind == SubjectKind::Group {
            findings.push(Finding::general(
                FindingCode::GroupUnbound,
                Severity::Warning,
                format!("{who}: no ClusterRoleBinding or RoleBinding grants it anything, so it gives nothing beyond what every authenticated user has. Check the name for a typo (group names are case-sensitive), or drop it from the rows."),
            ));
        }
        return SubjectOut {
            report,
            findings,
            grant: Some(Rc::clone(&evaluated.grant)),
        };
    }
    report.verdict = evaluated.verdict;
    report.suggested = evaluated.suggested.clone();
    report.candidates = evaluated.candidates.clone();
    if !mapped {
        // A mapped group's finding is the mapping check's.
        findings.push(verdict_finding(&who, kind, &report));
    }
    SubjectOut {
        report,
        findings,
        grant: Some(Rc::clone(&evaluated.grant)),
    }
}

fn verdict_finding(who: &str, kind: SubjectKind, report: &SubjectReport) -> Finding {
    let bound: Vec<String> = report
        .bindings
        .iter()
        .map(|b| match &b.namespace {
            Some(ns) => format!("{} in {ns}", b.role),
            None => format!("{} cluster-wide", b.role),
        })
        .collect();
    let bound = bound.join(", ");
    let how = |c: &Candidate| format!("{} ({})", c.policy, c.access_scope);
    let (code, message) = match (report.verdict, report.candidates.first()) {
        (Verdict::Exact, Some(c)) => (
            FindingCode::GroupPolicyExact,
            if kind == SubjectKind::User {
                format!(
                    "{who}: bound to {bound}; {} grants exactly the same permissions. The policy file maps groups, not usernames: to use the policy, give the rows a group mapped to it; until then the bindings stay.",
                    how(c)
                )
            } else {
                format!(
                    "{who}: bound to {bound}; {} grants exactly the same permissions. Suggested: map the group to it in the policy file with keep_group: false (the plan's policy snippet), and the entries carry the policy instead of the group.",
                    how(c)
                )
            },
        ),
        (Verdict::Lossy, Some(c)) => (
            FindingCode::GroupPolicyLossy,
            format!(
                "{who}: bound to {bound}; no access policy grants exactly that. The closest, {}, would lose: {}. Not suggested: keep the group (its RBAC keeps working), or map it and list these in `accept_differences` if losing them is intended.",
                how(c),
                listing(&c.lost)
            ),
        ),
        (Verdict::Broader, Some(c)) => (
            FindingCode::GroupPolicyBroader,
            format!(
                "{who}: bound to {bound}; no access policy grants exactly that. The closest, {}, would add: {}. Not suggested: keep the group, or map it and list these in `accept_differences` if granting them is intended.",
                how(c),
                listing(&c.added)
            ),
        ),
        _ => (
            FindingCode::GroupPolicyNone,
            format!(
                "{who}: bound to {bound}; no access policy grants the same, only less, or only more (cluster-admin aside). Keep the group and its RBAC."
            ),
        ),
    };
    Finding::general(code, Severity::Info, message)
}
