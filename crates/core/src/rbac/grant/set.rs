//! Grants: normalised sets of permissions compared as data, the builder that collects a
//! grant's parts per namespace scope, and the remainder one grant has beyond another.

use super::atoms::{Ns, Part, RuleAtoms, UrlAtom};
use super::symbols::{ANY, Symbols};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A normalised set of permissions; `==` is set equality (within one [`Expander`]).
///
/// [`Expander`]: super::Expander
#[derive(Debug, Clone, Default)]
pub(crate) struct Grant {
    pub(super) parts: BTreeMap<Ns, Rc<Part>>,
    pub(super) urls: Vec<UrlAtom>,
}

impl PartialEq for Grant {
    fn eq(&self, other: &Self) -> bool {
        self.urls == other.urls
            && self.parts.len() == other.parts.len()
            && self
                .parts
                .iter()
                .zip(&other.parts)
                .all(|((a, pa), (b, pb))| a == b && pa.atoms == pb.atoms)
    }
}

impl Eq for Grant {}

impl Grant {
    /// True when it grants nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.urls.is_empty()
    }

    /// True when something applies cluster-wide (so only a cluster scope can match it).
    pub(crate) fn has_cluster_wide(&self) -> bool {
        self.parts.contains_key(&Ns::All) || !self.urls.is_empty()
    }

    /// The single namespaces it applies in (when it has no cluster-wide part).
    pub(crate) fn namespaces(&self) -> Vec<String> {
        self.parts
            .keys()
            .filter_map(|ns| match ns {
                Ns::One(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// True when it grants some verb on every resource of every group somewhere (cluster-admin
    /// like: as a "broader" candidate it would grant everything).
    pub(crate) fn has_full_wildcard(&self) -> bool {
        self.parts.values().any(|p| {
            p.atoms
                .iter()
                .any(|a| a.verb == ANY && a.group == ANY && a.resource == ANY && a.name == ANY)
        })
    }
}

/// Collects parts per namespace scope; [`Expander::build`] normalises them into a [`Grant`].
///
/// [`Expander::build`]: super::Expander::build
#[derive(Debug, Default)]
pub(crate) struct GrantBuilder {
    pub(super) parts: BTreeMap<Ns, Vec<Rc<Part>>>,
    pub(super) urls: Vec<UrlAtom>,
}

impl GrantBuilder {
    /// Adds rules' atoms in `ns` (non-resource URLs only count cluster-wide, as for RoleBindings).
    pub(crate) fn add(&mut self, ns: &Ns, atoms: &RuleAtoms) {
        if !atoms.part.atoms.is_empty() {
            self.parts
                .entry(ns.clone())
                .or_default()
                .push(Rc::clone(&atoms.part));
        }
        if *ns == Ns::All {
            self.urls.extend(atoms.urls.iter().cloned());
        }
    }
}

/// Atoms one grant has beyond another.
#[derive(Debug, Clone, Default)]
pub(crate) struct Remainder {
    pub(super) atoms: Vec<(Ns, Rc<Part>)>,
    pub(super) urls: Vec<UrlAtom>,
}

impl Remainder {
    /// True when nothing remains.
    pub(crate) fn is_empty(&self) -> bool {
        self.urls.is_empty() && self.atoms.iter().all(|(_, p)| p.atoms.is_empty())
    }

    /// How much it grants, roughly: each atom counts 1, times 10 for a wildcard verb or group
    /// or a `*/sub` resource, times 100 for a wildcard resource or URL. Ranks candidates: a
    /// policy adding `get *.*` is further away than one adding a dozen named resources.
    pub(crate) fn weight(&self, symbols: &Symbols) -> u64 {
        let w = |cond: bool, by: u64| if cond { by } else { 1 };
        let atoms: u64 = self
            .atoms
            .iter()
            .flat_map(|(_, p)| p.atoms.iter())
            .map(|a| {
                w(a.verb == ANY, 10)
                    * w(a.group == ANY, 10)
                    * if a.resource == ANY {
                        100
                    } else {
                        w(symbols.text(a.resource).starts_with("*/"), 10)
                    }
            })
            .sum();
        let urls: u64 = self
            .urls
            .iter()
            .map(|(verb, url)| w(*verb == ANY, 10) * w(url.ends_with('*'), 100))
            .sum();
        atoms + urls
    }
}
