//! Differences between grants in a form people read and policy files name.

use super::atoms::Ns;
use super::set::Remainder;
use super::symbols::{ANY, Symbols};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

impl Remainder {
    /// The remainder as readable differences, grouped by resource and namespace.
    pub(crate) fn describe(&self, symbols: &Symbols) -> Vec<Difference> {
        // (group, resource, name, ns) → verbs; then (verbs, group, resource, name) → namespaces.
        let mut verbs: BTreeMap<(u32, u32, u32, Ns), BTreeSet<&str>> = BTreeMap::new();
        for (ns, part) in &self.atoms {
            for a in &part.atoms {
                verbs
                    .entry((a.group, a.resource, a.name, ns.clone()))
                    .or_default()
                    .insert(symbols.text(a.verb));
            }
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
                let name = (name != ANY).then(|| symbols.name_text(name).to_owned());
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
