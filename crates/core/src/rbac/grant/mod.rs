//! Permissions as sets, compared exactly.
//!
//! A grant is a set of *atoms*: (namespace scope, verb, API group, resource, object name), each
//! coordinate either one value or a wildcard (`*` verbs / groups / resources, `*/sub`
//! resources, every object name, every namespace or a `prefix-*` of them), plus non-resource
//! URL atoms (verb, URL or `prefix*`) that only cluster-wide bindings grant. A rule is the
//! union of the atoms of its verbs × groups × resources × names; a request is allowed when one
//! atom matches it, exactly as Kubernetes' RBAC authoriser decides.
//!
//! Every coordinate ranges over an infinite set of strings, so a union of atoms covers an atom
//! only when a single atom of the union does (pick, in each wildcard coordinate, a value none of
//! the atoms names). Hence:
//! - `A ⊆ B` ⟺ every atom of A is covered by one atom of B, and one atom covers another exactly
//!   when, coordinate by coordinate, it is the same value or a wildcard over it — a handful of
//!   hash look-ups per atom;
//! - after removing every atom another atom of the same grant covers, two grants are equal as
//!   sets exactly when they are equal as data ([`Grant`]'s `==`).
//!
//! The atoms of one namespace scope form a [`Part`]; parts are interned by content in an
//! [`Expander`], so the same role bound in a hundred namespaces is one part, and set differences
//! between parts are computed once per pair.

mod difference;
mod expander;
mod symbols;

pub use difference::Difference;
pub(crate) use expander::{Expander, RuleAtoms};
pub(crate) use symbols::{ANY, NONE, Symbols};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// A multiply-rotate hasher for the small integer keys of this module (atom ids, part ids,
/// interned by the analysis itself, so no input chooses them): SipHash dominated the profile.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of atoms hashed with [`IdHasher`].
pub(crate) type AtomSet = HashSet<Atom, BuildHasherDefault<IdHasher>>;
/// A map keyed by ids, hashed with [`IdHasher`].
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// One resource atom (its namespace scope is the [`Part`] holding it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Atom {
    verb: u32,
    group: u32,
    resource: u32,
    /// [`ANY`]: every object name.
    name: u32,
}

/// Where resource atoms apply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ns {
    /// Every namespace and cluster-scoped objects (a ClusterRoleBinding, a cluster-scope policy).
    All,
    /// Namespaces starting with a prefix (`team-*` in a policy's namespace scope).
    Prefix(String),
    /// One namespace (a RoleBinding, a namespace in a policy's scope).
    One(String),
}

impl Ns {
    /// Parses a namespace of an access scope (`team-*` is a prefix).
    pub(crate) fn of_scope(namespace: &str) -> Ns {
        match namespace.strip_suffix('*') {
            Some(prefix) => Ns::Prefix(prefix.to_owned()),
            None => Ns::One(namespace.to_owned()),
        }
    }

    fn covers(&self, inner: &Ns) -> bool {
        match (self, inner) {
            (Ns::All, _) => true,
            (Ns::Prefix(p), Ns::Prefix(q) | Ns::One(q)) => q.starts_with(p.as_str()),
            (Ns::One(a), Ns::One(b)) => a == b,
            _ => false,
        }
    }

    fn text(&self) -> String {
        match self {
            Ns::All => String::new(),
            Ns::Prefix(p) => format!("{p}*"),
            Ns::One(n) => n.clone(),
        }
    }
}

/// A non-resource URL atom: (verb, URL or `prefix*`).
pub(crate) type UrlAtom = (u32, String);

fn url_covers(outer: &UrlAtom, inner: &UrlAtom) -> bool {
    let verb = outer.0 == ANY || outer.0 == inner.0;
    let url = match outer.1.strip_suffix('*') {
        Some(prefix) => inner.1.starts_with(prefix),
        None => outer.1 == inner.1,
    };
    verb && url
}

/// The atoms that cover `a` (itself included): each coordinate as it is or its wildcards.
fn covering(a: &Atom, symbols: &Symbols) -> impl Iterator<Item = Atom> {
    let star_sub = symbols.star_sub(a.resource);
    let verbs = [Some(a.verb), (a.verb != ANY).then_some(ANY)];
    let groups = [Some(a.group), (a.group != ANY).then_some(ANY)];
    let resources = [
        Some(a.resource),
        (a.resource != ANY).then_some(ANY),
        (star_sub != NONE).then_some(star_sub),
    ];
    let names = [Some(a.name), (a.name != ANY).then_some(ANY)];
    verbs.into_iter().flatten().flat_map(move |verb| {
        groups.into_iter().flatten().flat_map(move |group| {
            resources.into_iter().flatten().flat_map(move |resource| {
                names.into_iter().flatten().map(move |name| Atom {
                    verb,
                    group,
                    resource,
                    name,
                })
            })
        })
    })
}

fn covered_in(a: &Atom, set: &AtomSet, symbols: &Symbols, strictly: bool) -> bool {
    covering(a, symbols).any(|c| !(strictly && c == *a) && set.contains(&c))
}

/// The atoms of one namespace scope, sorted, interned by content in an [`Expander`].
#[derive(Debug)]
pub(crate) struct Part {
    id: u32,
    atoms: Vec<Atom>,
    set: AtomSet,
}

/// A normalised set of permissions; `==` is set equality (within one [`Expander`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Grant {
    parts: BTreeMap<Ns, Rc<Part>>,
    urls: Vec<UrlAtom>,
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
#[derive(Debug, Default)]
pub(crate) struct GrantBuilder {
    parts: BTreeMap<Ns, Vec<Rc<Part>>>,
    urls: Vec<UrlAtom>,
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
    atoms: Vec<(Ns, Rc<Part>)>,
    urls: Vec<UrlAtom>,
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

#[cfg(test)]
mod tests;
