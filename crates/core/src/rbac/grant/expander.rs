//! Turns rules into interned parts and grants, and computes set differences between them, each
//! distinct computation once per analysis.

use super::atoms::{
    Atom, AtomSet, IdMap, Ns, Part, RuleAtoms, UrlAtom, canonical_url, covered_in, url_covers,
};
use super::set::{Grant, GrantBuilder, Remainder};
use super::symbols::{ANY, Symbols};
use crate::rbac::model::PolicyRule;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

/// Interning and memoisation for one analysis.
#[derive(Debug, Default)]
pub(crate) struct Expander {
    pub(crate) symbols: Symbols,
    parts: IdMap<Vec<Atom>, Rc<Part>>,
    unions: IdMap<Vec<u32>, Rc<Part>>,
    uncovered: IdMap<(u32, Vec<u32>), Rc<Part>>,
}

impl Expander {
    /// The part holding exactly `atoms` (normalised by the caller).
    fn intern(&mut self, mut atoms: Vec<Atom>) -> Rc<Part> {
        atoms.sort_unstable();
        atoms.dedup();
        if let Some(p) = self.parts.get(&atoms) {
            return Rc::clone(p);
        }
        let part = Rc::new(Part {
            id: u32::try_from(self.parts.len()).unwrap_or(u32::MAX),
            set: atoms.iter().copied().collect(),
            atoms: atoms.clone(),
        });
        self.parts.insert(atoms, Rc::clone(&part));
        part
    }

    /// Keeps the atoms of `set` no other atom of it covers.
    fn normalised(&mut self, set: AtomSet) -> Rc<Part> {
        let kept: Vec<Atom> = set
            .iter()
            .filter(|a| !covered_in(a, &set, &self.symbols, true))
            .copied()
            .collect();
        self.intern(kept)
    }

    /// Expands rules into atoms (interning their strings).
    pub(crate) fn atoms(&mut self, rules: &[PolicyRule]) -> RuleAtoms {
        let mut atoms = AtomSet::default();
        let mut urls = HashSet::new();
        for rule in rules {
            let verbs: Vec<u32> = rule.verbs.iter().map(|v| self.symbols.word(v)).collect();
            for url in &rule.non_resource_urls {
                let url = canonical_url(url);
                for verb in &verbs {
                    urls.insert((*verb, url.clone()));
                }
            }
            let names: Vec<u32> = if rule.resource_names.is_empty() {
                vec![ANY]
            } else {
                rule.resource_names
                    .iter()
                    .map(|n| self.symbols.name(n))
                    .collect()
            };
            for group in &rule.api_groups {
                let group = self.symbols.word(group);
                for resource in &rule.resources {
                    let resource = self.symbols.word(resource);
                    for verb in &verbs {
                        for name in &names {
                            atoms.insert(Atom {
                                verb: *verb,
                                group,
                                resource,
                                name: *name,
                            });
                        }
                    }
                }
            }
        }
        RuleAtoms {
            part: self.normalised(atoms),
            urls: urls.into_iter().collect(),
        }
    }

    /// The normalised union of parts.
    fn union(&mut self, parts: &[Rc<Part>]) -> Rc<Part> {
        let mut ids: Vec<u32> = parts.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        if let [one] = parts {
            return Rc::clone(one);
        }
        if let Some(p) = self.unions.get(&ids) {
            return Rc::clone(p);
        }
        let set: AtomSet = parts.iter().flat_map(|p| p.atoms.iter().copied()).collect();
        let part = self.normalised(set);
        self.unions.insert(ids, Rc::clone(&part));
        part
    }

    /// The atoms of `part` that no atom of `by` covers.
    fn uncovered(&mut self, part: &Rc<Part>, by: &[&Rc<Part>]) -> Rc<Part> {
        if by.is_empty() {
            return Rc::clone(part);
        }
        let mut ids: Vec<u32> = by.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let key = (part.id, ids);
        if let Some(p) = self.uncovered.get(&key) {
            return Rc::clone(p);
        }
        let kept: Vec<Atom> = part
            .atoms
            .iter()
            .filter(|a| {
                !by.iter()
                    .any(|b| covered_in(a, &b.set, &self.symbols, false))
            })
            .copied()
            .collect();
        let result = self.intern(kept);
        self.uncovered.insert(key, Rc::clone(&result));
        result
    }

    /// The normal form: no atom is covered by another atom of the same or a wider part.
    pub(crate) fn build(&mut self, builder: GrantBuilder) -> Grant {
        let unions: BTreeMap<Ns, Rc<Part>> = builder
            .parts
            .iter()
            .map(|(ns, parts)| (ns.clone(), self.union(parts)))
            .collect();
        let mut parts = BTreeMap::new();
        for (ns, part) in &unions {
            let wider: Vec<&Rc<Part>> = unions
                .iter()
                .filter(|(other, _)| *other != ns && other.covers(ns))
                .map(|(_, p)| p)
                .collect();
            let kept = self.uncovered(part, &wider);
            if !kept.atoms.is_empty() {
                parts.insert(ns.clone(), kept);
            }
        }
        let mut urls: Vec<UrlAtom> = builder
            .urls
            .iter()
            .filter(|u| !builder.urls.iter().any(|o| o != *u && url_covers(o, u)))
            .cloned()
            .collect();
        urls.sort_unstable();
        urls.dedup();
        Grant { parts, urls }
    }

    /// The normalised grant of `rules` applied in `scopes`.
    pub(crate) fn grant(&mut self, rules: &[PolicyRule], scopes: &[Ns]) -> Grant {
        let atoms = self.atoms(rules);
        let mut builder = GrantBuilder::default();
        for ns in scopes {
            builder.add(ns, &atoms);
        }
        self.build(builder)
    }

    /// What `a` grants that `b` does not: atoms of `a` no atom of `b` covers.
    pub(crate) fn minus(&mut self, a: &Grant, b: &Grant) -> Remainder {
        let mut atoms = Vec::new();
        for (ns, part) in &a.parts {
            let by: Vec<&Rc<Part>> = b
                .parts
                .iter()
                .filter(|(other, _)| other.covers(ns))
                .map(|(_, p)| p)
                .collect();
            let left = self.uncovered(part, &by);
            if !left.atoms.is_empty() {
                atoms.push((ns.clone(), left));
            }
        }
        let urls = a
            .urls
            .iter()
            .filter(|u| !b.urls.iter().any(|o| url_covers(o, u)))
            .cloned()
            .collect();
        Remainder { atoms, urls }
    }
}
