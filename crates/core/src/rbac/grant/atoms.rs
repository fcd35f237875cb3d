//! The atoms permissions are made of: resource atoms (verb, API group, resource, object name as
//! interned ids), the namespace scopes they apply in, non-resource URL atoms, which atom covers
//! which, and the interned parts that hold a scope's atoms.

use super::symbols::{ANY, NONE, Symbols};
use std::collections::{HashMap, HashSet};
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
    pub(super) verb: u32,
    pub(super) group: u32,
    pub(super) resource: u32,
    /// [`ANY`]: every object name.
    pub(super) name: u32,
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

    pub(super) fn covers(&self, inner: &Ns) -> bool {
        match (self, inner) {
            (Ns::All, _) => true,
            (Ns::Prefix(p), Ns::Prefix(q) | Ns::One(q)) => q.starts_with(p.as_str()),
            (Ns::One(a), Ns::One(b)) => a == b,
            _ => false,
        }
    }

    pub(super) fn text(&self) -> String {
        match self {
            Ns::All => String::new(),
            Ns::Prefix(p) => format!("{p}*"),
            Ns::One(n) => n.clone(),
        }
    }
}

/// A non-resource URL atom: (verb, URL or `prefix*`), the URL in its [`canonical_url`] form.
pub(crate) type UrlAtom = (u32, String);

/// A `nonResourceURLs` entry as the authoriser reads it: an entry ending in `*` is the prefix
/// left after removing *every* trailing `*` (`/logs**` and `/logs*` both mean the prefix
/// `/logs`), so it is written with exactly one; any other entry is one URL. Kubernetes:
/// `NonResourceURLMatches` in pkg/apis/rbac/v1/evaluation_helpers.go
/// (`strings.HasSuffix(ruleURL, "*") && strings.HasPrefix(requestedURL,
/// strings.TrimRight(ruleURL, "*"))`), the same test as `nonResourceURLCovers` in
/// pkg/registry/rbac/validation/policy_comparator.go.
pub(super) fn canonical_url(url: &str) -> String {
    if url.ends_with('*') {
        format!("{}*", url.trim_end_matches('*'))
    } else {
        url.to_owned()
    }
}

/// Whether URL atom `outer` allows every request `inner` allows (both canonical): the same
/// verb or `*`, and the same URL, or a prefix that `inner`'s URL (or prefix) starts with.
pub(super) fn url_covers(outer: &UrlAtom, inner: &UrlAtom) -> bool {
    let verb = outer.0 == ANY || outer.0 == inner.0;
    let url = match outer.1.strip_suffix('*') {
        // Canonical: `prefix` ends in no `*`, so `inner` (a URL, or a prefix written with one
        // `*`) starts with it exactly when everything `inner` matches does.
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

pub(super) fn covered_in(a: &Atom, set: &AtomSet, symbols: &Symbols, strictly: bool) -> bool {
    covering(a, symbols).any(|c| !(strictly && c == *a) && set.contains(&c))
}

/// The atoms of one namespace scope, sorted, interned by content in an [`Expander`].
///
/// [`Expander`]: super::Expander
#[derive(Debug)]
pub(crate) struct Part {
    pub(super) id: u32,
    pub(super) atoms: Vec<Atom>,
    pub(super) set: AtomSet,
}

/// The atoms of some rules: one interned part and the non-resource URL atoms.
#[derive(Debug, Clone)]
pub(crate) struct RuleAtoms {
    pub(super) part: Rc<Part>,
    pub(super) urls: Vec<UrlAtom>,
}
