//! The comparison machinery of one analysis: a binding's role rules, grants per binding
//! signature, policy grants per scope, and the candidates of a grant — each computed once.

use super::report::{Candidate, Fit, Verdict};
use crate::access_entry::{AccessScope, ScopeType};
use crate::rbac::aggregate::Resolved;
use crate::rbac::grant::{Expander, Grant, GrantBuilder, Ns, Remainder, RuleAtoms};
use crate::rbac::policies::{AccessPolicyRules, Catalogue};
use crate::rbac::{Difference, PolicyRule, Rbac, RoleKind};
use std::collections::HashMap;
use std::rc::Rc;

/// A role a binding names, as the analysis keys it.
pub(super) type RoleKey = String;

/// The grant of one set of (scope, role) pairs, with how the candidates compare.
pub(super) struct Evaluated {
    pub(super) grant: Rc<Grant>,
    pub(super) verdict: Verdict,
    pub(super) suggested: Option<Candidate>,
    pub(super) candidates: Vec<Candidate>,
}

/// Caches for one analysis: role atoms, grants and evaluations per binding signature, policy
/// grants per scope.
pub(super) struct Ctx<'a> {
    pub(super) rbac: &'a Rbac,
    resolved: &'a Resolved,
    catalogue: &'static Catalogue,
    listed: Option<&'a [String]>,
    pub(super) expander: Expander,
    role_atoms: HashMap<RoleKey, Rc<RuleAtoms>>,
    evaluations: HashMap<Vec<(Ns, RoleKey)>, Rc<Evaluated>>,
    policy_grants: HashMap<(String, Vec<Ns>), Rc<Grant>>,
}

impl<'a> Ctx<'a> {
    /// Empty caches over `rbac` (resolved as `resolved`) and the candidates of `catalogue`.
    pub(super) fn new(
        rbac: &'a Rbac,
        resolved: &'a Resolved,
        catalogue: &'static Catalogue,
        listed: Option<&'a [String]>,
    ) -> Ctx<'a> {
        Ctx {
            rbac,
            resolved,
            catalogue,
            listed,
            expander: Expander::default(),
            role_atoms: HashMap::new(),
            evaluations: HashMap::new(),
            policy_grants: HashMap::new(),
        }
    }
}

/// A binding's role, resolved.
pub(super) enum RoleRules<'r> {
    Found(RoleKey, &'r [PolicyRule]),
    Missing,
    Unreadable(String),
}

impl<'a> Ctx<'a> {
    pub(super) fn role_rules(&self, b: &crate::rbac::Binding) -> RoleRules<'a> {
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

    pub(super) fn evaluate(
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
