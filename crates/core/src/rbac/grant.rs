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

use super::model::PolicyRule;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The wildcard id (`*` for verbs, groups and resources; every name for object names).
pub(crate) const ANY: u32 = 0;
const NONE: u32 = u32::MAX;

/// Interned strings: words (verbs, API groups, resources) and object names.
#[derive(Debug, Clone)]
pub(crate) struct Symbols {
    words: HashMap<String, u32>,
    word_text: Vec<String>,
    /// For `res/sub` words: the id of `*/sub`; [`NONE`] otherwise.
    star_sub: Vec<u32>,
    names: HashMap<String, u32>,
    name_text: Vec<String>,
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols {
            words: HashMap::from([("*".to_owned(), ANY)]),
            word_text: vec!["*".to_owned()],
            star_sub: vec![NONE],
            names: HashMap::new(),
            name_text: vec![String::new()],
        }
    }
}

impl Symbols {
    fn word(&mut self, s: &str) -> u32 {
        if let Some(id) = self.words.get(s) {
            return *id;
        }
        let id = u32::try_from(self.word_text.len()).unwrap_or(NONE - 1);
        self.words.insert(s.to_owned(), id);
        self.word_text.push(s.to_owned());
        self.star_sub.push(NONE);
        if let Some((res, sub)) = s.split_once('/')
            && res != "*"
        {
            let star = self.word(&format!("*/{sub}"));
            self.star_sub[id as usize] = star;
        }
        id
    }

    fn name(&mut self, s: &str) -> u32 {
        if let Some(id) = self.names.get(s) {
            return *id;
        }
        let id = u32::try_from(self.name_text.len()).unwrap_or(NONE - 1);
        self.names.insert(s.to_owned(), id);
        self.name_text.push(s.to_owned());
        id
    }

    pub(crate) fn text(&self, id: u32) -> &str {
        &self.word_text[id as usize]
    }
}

/// One resource atom (namespace scope kept by the [`Grant`] part holding it).
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
type UrlAtom = (u32, String);

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
    let star_sub = symbols.star_sub[a.resource as usize];
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

fn covered_in(a: &Atom, set: &HashSet<Atom>, symbols: &Symbols, strictly: bool) -> bool {
    covering(a, symbols).any(|c| !(strictly && c == *a) && set.contains(&c))
}

/// The atoms of rules, with the rules' non-resource URLs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleAtoms {
    atoms: Vec<Atom>,
    urls: Vec<UrlAtom>,
}

/// Expands rules into atoms (interning their strings).
pub(crate) fn rule_atoms(rules: &[PolicyRule], symbols: &mut Symbols) -> RuleAtoms {
    let mut atoms = HashSet::new();
    let mut urls = HashSet::new();
    for rule in rules {
        let verbs: Vec<u32> = rule.verbs.iter().map(|v| symbols.word(v)).collect();
        for url in &rule.non_resource_urls {
            for verb in &verbs {
                urls.insert((*verb, url.clone()));
            }
        }
        let names: Vec<u32> = if rule.resource_names.is_empty() {
            vec![ANY]
        } else {
            rule.resource_names
                .iter()
                .map(|n| symbols.name(n))
                .collect()
        };
        for group in &rule.api_groups {
            let group = symbols.word(group);
            for resource in &rule.resources {
                let resource = symbols.word(resource);
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
        atoms: atoms.into_iter().collect(),
        urls: urls.into_iter().collect(),
    }
}

/// Collects atoms per namespace scope; [`GrantBuilder::build`] normalises them.
#[derive(Debug, Default)]
pub(crate) struct GrantBuilder {
    parts: BTreeMap<Ns, HashSet<Atom>>,
    urls: HashSet<UrlAtom>,
}

impl GrantBuilder {
    /// Adds rules' atoms in `ns` (non-resource URLs only count cluster-wide, as for RoleBindings).
    pub(crate) fn add(&mut self, ns: &Ns, atoms: &RuleAtoms) {
        if atoms.atoms.is_empty() && (atoms.urls.is_empty() || *ns != Ns::All) {
            return;
        }
        self.parts
            .entry(ns.clone())
            .or_default()
            .extend(atoms.atoms.iter().copied());
        if *ns == Ns::All {
            self.urls.extend(atoms.urls.iter().cloned());
        }
    }

    /// The normal form: no atom is covered by another atom of the same or a wider part.
    pub(crate) fn build(self, symbols: &Symbols) -> Grant {
        let mut parts = BTreeMap::new();
        for (ns, set) in &self.parts {
            let wider: Vec<&HashSet<Atom>> = self
                .parts
                .iter()
                .filter(|(other, _)| *other != ns && other.covers(ns))
                .map(|(_, s)| s)
                .collect();
            let mut kept: Vec<Atom> = set
                .iter()
                .filter(|a| !covered_in(a, set, symbols, true))
                .filter(|a| !wider.iter().any(|w| covered_in(a, w, symbols, false)))
                .copied()
                .collect();
            if !kept.is_empty() {
                kept.sort_unstable();
                let set = kept.iter().copied().collect();
                parts.insert(ns.clone(), Part { atoms: kept, set });
            }
        }
        let mut urls: Vec<UrlAtom> = self
            .urls
            .iter()
            .filter(|u| !self.urls.iter().any(|o| o != *u && url_covers(o, u)))
            .cloned()
            .collect();
        urls.sort_unstable();
        Grant { parts, urls }
    }
}

/// The atoms of one namespace scope, sorted, with a set for look-ups.
#[derive(Debug, Clone)]
struct Part {
    atoms: Vec<Atom>,
    set: HashSet<Atom>,
}

impl PartialEq for Part {
    fn eq(&self, other: &Self) -> bool {
        self.atoms == other.atoms
    }
}

impl Eq for Part {}

/// A normalised set of permissions; `==` is set equality.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Grant {
    parts: BTreeMap<Ns, Part>,
    urls: Vec<UrlAtom>,
}

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

    fn covers(&self, ns: &Ns, atom: &Atom, symbols: &Symbols) -> bool {
        self.parts
            .iter()
            .filter(|(part_ns, _)| part_ns.covers(ns))
            .any(|(_, part)| covered_in(atom, &part.set, symbols, false))
    }

    /// What `self` grants that `other` does not: atoms of `self` no atom of `other` covers.
    pub(crate) fn minus(&self, other: &Grant, symbols: &Symbols) -> Remainder {
        let mut atoms = Vec::new();
        for (ns, part) in &self.parts {
            for atom in &part.atoms {
                if !other.covers(ns, atom, symbols) {
                    atoms.push((ns.clone(), *atom));
                }
            }
        }
        let urls = self
            .urls
            .iter()
            .filter(|u| !other.urls.iter().any(|o| url_covers(o, u)))
            .cloned()
            .collect();
        Remainder { atoms, urls }
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

/// Atoms one grant has beyond another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Remainder {
    atoms: Vec<(Ns, Atom)>,
    urls: Vec<UrlAtom>,
}

impl Remainder {
    /// How many atoms (a measure of distance between candidates).
    pub(crate) fn len(&self) -> usize {
        self.atoms.len() + self.urls.len()
    }

    /// How much it grants, roughly: each atom counts 1, times 10 for a wildcard verb or group
    /// or a `*/sub` resource, times 100 for a wildcard resource or URL. Ranks candidates: a
    /// policy adding `get *.*` is further away than one adding a dozen named resources.
    pub(crate) fn weight(&self, symbols: &Symbols) -> u64 {
        let w = |cond: bool, by: u64| if cond { by } else { 1 };
        let atoms: u64 = self
            .atoms
            .iter()
            .map(|(_, a)| {
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

    /// True when nothing remains.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The remainder as readable differences, grouped by resource and namespace.
    pub(crate) fn describe(&self, symbols: &Symbols) -> Vec<Difference> {
        // (group, resource, name, ns) → verbs; then (verbs, group, resource, name) → namespaces.
        let mut verbs: BTreeMap<(u32, u32, u32, Ns), BTreeSet<&str>> = BTreeMap::new();
        for (ns, a) in &self.atoms {
            verbs
                .entry((a.group, a.resource, a.name, ns.clone()))
                .or_default()
                .insert(symbols.text(a.verb));
        }
        let mut places: BTreeMap<(Vec<&str>, u32, u32, u32), Vec<Ns>> = BTreeMap::new();
        for ((group, resource, name, ns), vs) in verbs {
            places
                .entry((vs.into_iter().collect(), group, resource, name))
                .or_default()
                .push(ns);
        }
        let mut out: Vec<Difference> = places
            .into_iter()
            .map(|((vs, group, resource, name), namespaces)| {
                let name = (name != ANY).then(|| symbols.name_text[name as usize].clone());
                Difference::resource(
                    vs.iter().map(|v| (*v).to_owned()).collect(),
                    symbols.text(group),
                    symbols.text(resource),
                    name,
                    namespaces
                        .iter()
                        .filter(|ns| **ns != Ns::All)
                        .map(Ns::text)
                        .collect(),
                )
            })
            .collect();
        let mut urls: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (verb, url) in &self.urls {
            urls.entry(url).or_default().insert(symbols.text(*verb));
        }
        out.extend(
            urls.into_iter()
                .map(|(url, vs)| Difference::url(vs.into_iter().map(str::to_owned).collect(), url)),
        );
        out.sort_by(|a, b| (a.sort_key(), &a.text).cmp(&(b.sort_key(), &b.text)));
        out
    }
}

/// One permission difference between a subject's RBAC and an access policy, in a form a person
/// reads and a policy file can name (`text`), with its parts for machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Verbs (`*`: every verb).
    pub verbs: Vec<String>,
    /// The API group (`""` core, `*` any); absent for a non-resource URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// The resource as RBAC writes it (`pods/eviction`, `*`, `*/scale`); absent for a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The one object name it is limited to, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// The non-resource URL (`/healthz`, `/api/*`), for URL differences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_resource_url: Option<String>,
    /// Namespaces it concerns (`team-*` a prefix); empty: cluster-wide.
    pub namespaces: Vec<String>,
    /// E.g. `create pods/eviction in orders,payments`: what the plan prints and what a policy
    /// file's `accept_differences` lists.
    pub text: String,
}

impl Difference {
    fn resource(
        verbs: Vec<String>,
        group: &str,
        resource: &str,
        name: Option<String>,
        namespaces: Vec<String>,
    ) -> Difference {
        let (res, sub) = match resource.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (resource, None),
        };
        let mut what = res.to_owned();
        if !group.is_empty() {
            what.push('.');
            what.push_str(group);
        }
        if let Some(sub) = sub {
            what.push('/');
            what.push_str(sub);
        }
        let named = name
            .as_ref()
            .map(|n| format!(" named {n}"))
            .unwrap_or_default();
        let place = if namespaces.is_empty() {
            " cluster-wide".to_owned()
        } else {
            format!(" in {}", namespaces.join(","))
        };
        Difference {
            text: format!("{} {what}{named}{place}", verbs.join(",")),
            verbs,
            api_group: Some(group.to_owned()),
            resource: Some(resource.to_owned()),
            resource_name: name,
            non_resource_url: None,
            namespaces,
        }
    }

    fn url(verbs: Vec<String>, url: &str) -> Difference {
        Difference {
            text: format!("{} url {url}", verbs.join(",")),
            verbs,
            api_group: None,
            resource: None,
            resource_name: None,
            non_resource_url: Some(url.to_owned()),
            namespaces: Vec::new(),
        }
    }

    fn sort_key(&self) -> (bool, &str, &str) {
        (
            self.non_resource_url.is_some(),
            self.api_group.as_deref().unwrap_or_default(),
            self.resource.as_deref().unwrap_or_default(),
        )
    }
}

/// Interns, expands and caches role rules for one analysis.
#[derive(Debug, Default)]
pub(crate) struct Expander {
    pub(crate) symbols: Symbols,
}

impl Expander {
    /// The atoms of `rules`.
    pub(crate) fn atoms(&mut self, rules: &[PolicyRule]) -> RuleAtoms {
        rule_atoms(rules, &mut self.symbols)
    }

    /// The normalised grant of `rules` applied in `scopes`.
    pub(crate) fn grant(&mut self, rules: &[PolicyRule], scopes: &[Ns]) -> Grant {
        let atoms = self.atoms(rules);
        let mut builder = GrantBuilder::default();
        for ns in scopes {
            builder.add(ns, &atoms);
        }
        builder.build(&self.symbols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect();
        PolicyRule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(resources),
            resource_names: v(names),
            non_resource_urls: Vec::new(),
        }
    }

    fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect();
        PolicyRule {
            verbs: v(verbs),
            non_resource_urls: v(urls),
            ..PolicyRule::default()
        }
    }

    fn texts(d: &[Difference]) -> Vec<&str> {
        d.iter().map(|d| d.text.as_str()).collect()
    }

    #[test]
    fn wildcards_cover_and_normal_forms_compare_as_sets() {
        let mut x = Expander::default();
        let all = [Ns::All];
        let wide = x.grant(
            &[
                rule(&["*"], &["*"], &["*"], &[]),
                rule(&["get"], &[""], &["pods"], &[]),
            ],
            &all,
        );
        let just = x.grant(&[rule(&["*"], &["*"], &["*"], &[])], &all);
        assert_eq!(wide, just, "an atom covered by another disappears");
        let sub = x.grant(&[rule(&["get"], &["apps"], &["*/scale"], &[])], &all);
        let one = x.grant(
            &[rule(&["get"], &["apps"], &["deployments/scale"], &["a"])],
            &all,
        );
        assert!(one.minus(&sub, &x.symbols).is_empty());
        assert_eq!(
            texts(&sub.minus(&one, &x.symbols).describe(&x.symbols)),
            vec!["get *.apps/scale cluster-wide"]
        );
        // `*` resources cover subresources; a plain resource does not.
        let pods = x.grant(&[rule(&["create"], &[""], &["pods"], &[])], &all);
        let eviction = x.grant(&[rule(&["create"], &[""], &["pods/eviction"], &[])], &all);
        assert!(!eviction.minus(&pods, &x.symbols).is_empty());
        assert!(eviction.minus(&just, &x.symbols).is_empty());
    }

    #[test]
    fn namespaces_and_prefixes() {
        let mut x = Expander::default();
        let r = [rule(&["get"], &[""], &["pods"], &[])];
        let team = x.grant(&r, &[Ns::of_scope("team-*")]);
        let a = x.grant(&r, &[Ns::One("team-a".into()), Ns::One("team-b".into())]);
        let cluster = x.grant(&r, &[Ns::All]);
        assert!(a.minus(&team, &x.symbols).is_empty());
        assert_eq!(
            texts(&team.minus(&a, &x.symbols).describe(&x.symbols)),
            vec!["get pods in team-*"]
        );
        assert!(team.minus(&cluster, &x.symbols).is_empty());
        assert_eq!(
            texts(&cluster.minus(&team, &x.symbols).describe(&x.symbols)),
            vec!["get pods cluster-wide"]
        );
        let both = x.grant(&r, &[Ns::All, Ns::One("team-a".into())]);
        assert_eq!(
            both, cluster,
            "a namespace part inside a cluster-wide one disappears"
        );
        assert_eq!(
            a.namespaces(),
            vec!["team-a".to_owned(), "team-b".to_owned()]
        );
    }

    #[test]
    fn urls_only_count_cluster_wide() {
        let mut x = Expander::default();
        let rules = [url_rule(&["get"], &["/healthz", "/api/*"])];
        assert!(x.grant(&rules, &[Ns::One("a".into())]).is_empty());
        let g = x.grant(&rules, &[Ns::All]);
        let prefix = x.grant(&[url_rule(&["get"], &["/api*"])], &[Ns::All]);
        assert_eq!(
            texts(&g.minus(&prefix, &x.symbols).describe(&x.symbols)),
            vec!["get url /healthz"]
        );
        let all = x.grant(&[url_rule(&["*"], &["*"])], &[Ns::All]);
        assert!(g.minus(&all, &x.symbols).is_empty());
    }

    #[test]
    fn differences_group_verbs_and_namespaces() {
        let mut x = Expander::default();
        let rules = [
            rule(&["create"], &[""], &["pods/eviction"], &[]),
            rule(
                &["get", "list"],
                &["coordination.k8s.io"],
                &["leases"],
                &["lock"],
            ),
        ];
        let g = x.grant(&rules, &[Ns::One("b".into()), Ns::One("a".into())]);
        let d = g.minus(&Grant::default(), &x.symbols).describe(&x.symbols);
        assert_eq!(
            texts(&d),
            vec![
                "create pods/eviction in a,b",
                "get,list leases.coordination.k8s.io named lock in a,b"
            ]
        );
        assert_eq!(d[1].resource_name.as_deref(), Some("lock"));
    }
}
