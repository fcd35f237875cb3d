//! Properties of the RBAC comparison, checked against an independent evaluator written here the
//! way Kubernetes' RBAC authoriser decides (RuleAllows, VerbMatches, ResourceMatches,
//! NonResourceURLMatches; RoleBindings only for requests in their namespace) and the EKS
//! access-scope rules, over random RBAC:
//!
//! 1. an exact suggestion allows exactly what the group's RBAC allows, on every sampled request;
//! 2. every sampled request one side allows and the other does not is named by a listed
//!    difference (`lost` / `added`), and every listed difference has a witness request that
//!    really differs;
//! 3. a policy-file mapping blocks its rows exactly when a difference is not accepted, and an
//!    unblocked mapping changes only accepted permissions.

use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::plan::{AccessScope, Action, ScopeType};
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::rbac::policies::Catalogue;
use eks_auth_core::rbac::{Difference, PolicyRule, Rbac, bootstrap};
use eks_auth_core::suggest::{Candidate, RbacInput, Verdict, plan_with_rbac};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// One request as the authoriser sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Req {
    verb: String,
    group: String,
    resource: String,
    name: String,
    /// `None`: a cluster-scoped (or all-namespaces) request.
    ns: Option<String>,
    /// A non-resource request.
    url: Option<String>,
}

fn has(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x == "*" || x == v)
}

fn resource_matches(list: &[String], resource: &str) -> bool {
    let sub = resource.split_once('/').map(|(_, s)| s);
    list.iter()
        .any(|r| r == "*" || r == resource || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s)))
}

/// `NonResourceURLMatches`: `*`, the URL itself, or a pattern ending in `*` whose text without
/// every trailing `*` (`strings.TrimRight`) the URL starts with.
fn url_matches(pattern: &str, url: &str) -> bool {
    pattern == "*"
        || pattern == url
        || (pattern.ends_with('*') && url.starts_with(pattern.trim_end_matches('*')))
}

fn rule_allows(rule: &PolicyRule, r: &Req) -> bool {
    if !has(&rule.verbs, &r.verb) {
        return false;
    }
    match &r.url {
        Some(url) => rule.non_resource_urls.iter().any(|p| url_matches(p, url)),
        None => {
            has(&rule.api_groups, &r.group)
                && resource_matches(&rule.resources, &r.resource)
                && (rule.resource_names.is_empty() || rule.resource_names.contains(&r.name))
        }
    }
}

/// Where a grant applies: cluster-wide, or namespaces (`x*` a prefix).
#[derive(Debug, Clone)]
enum Scope {
    Cluster,
    Namespaces(Vec<String>),
}

fn scope_allows(scope: &Scope, r: &Req) -> bool {
    match scope {
        Scope::Cluster => true,
        Scope::Namespaces(list) => {
            r.url.is_none()
                && r.ns
                    .as_deref()
                    .is_some_and(|ns| list.iter().any(|p| url_matches(p, ns)))
        }
    }
}

fn grant_allows(grants: &[(Scope, Vec<PolicyRule>)], r: &Req) -> bool {
    grants.iter().any(|(scope, rules)| {
        scope_allows(scope, r) && rules.iter().any(|rule| rule_allows(rule, r))
    })
}

/// A ClusterRole for the independent aggregation: labels, the one label its aggregation rule
/// selects on (`"true"`), its own rules.
type RoleDef = (BTreeMap<String, String>, Option<String>, Vec<PolicyRule>);

/// Independent aggregation (matchLabels only, as generated): iterate to a fixpoint.
fn aggregated(roles: &BTreeMap<String, RoleDef>) -> BTreeMap<String, Vec<PolicyRule>> {
    let mut rules: BTreeMap<String, Vec<PolicyRule>> = roles
        .iter()
        .map(|(n, (_, _, r))| (n.clone(), r.clone()))
        .collect();
    loop {
        let mut changed = false;
        for (name, (_, selector, _)) in roles {
            let Some(label) = selector else { continue };
            let mut union: Vec<PolicyRule> = Vec::new();
            for (other, (labels, _, _)) in roles {
                if other != name && labels.get(label).map(String::as_str) == Some("true") {
                    for r in &rules[other] {
                        if !union.contains(r) {
                            union.push(r.clone());
                        }
                    }
                }
            }
            let mut current = rules[name].clone();
            for r in union {
                if !current.contains(&r) {
                    current.push(r);
                    changed = true;
                }
            }
            rules.insert(name.clone(), current);
        }
        if !changed {
            return rules;
        }
    }
}

fn scope_of(s: &AccessScope) -> Scope {
    match s.scope_type {
        ScopeType::Cluster => Scope::Cluster,
        ScopeType::Namespace => Scope::Namespaces(s.namespaces.clone()),
    }
}

fn policy_grant(c: &Candidate) -> Vec<(Scope, Vec<PolicyRule>)> {
    let rules = Catalogue::bundled()
        .get(&c.policy)
        .expect("known policy")
        .rules
        .clone();
    vec![(scope_of(&c.access_scope), rules)]
}

fn difference_matches(d: &Difference, r: &Req) -> bool {
    if !has(&d.verbs, &r.verb) {
        return false;
    }
    if let Some(pattern) = &d.non_resource_url {
        return r.url.as_deref().is_some_and(|u| url_matches(pattern, u));
    }
    let ns_ok = d.namespaces.is_empty()
        || r.ns
            .as_deref()
            .is_some_and(|ns| d.namespaces.iter().any(|p| url_matches(p, ns)));
    r.url.is_none()
        && ns_ok
        && has(&[d.api_group.clone().unwrap_or_default()], &r.group)
        && resource_matches(&[d.resource.clone().unwrap_or_default()], &r.resource)
        && d.resource_name.as_ref().is_none_or(|n| *n == r.name)
}

/// A request inside difference `d`, fresh wherever `d` has a wildcard.
fn witness(d: &Difference) -> Req {
    let fresh = |v: &str, f: &str| if v == "*" { f.to_owned() } else { v.to_owned() };
    let verb = fresh(&d.verbs[0], "zz-verb");
    if let Some(url) = &d.non_resource_url {
        return Req {
            verb,
            group: String::new(),
            resource: String::new(),
            name: String::new(),
            ns: None,
            url: Some(
                url.strip_suffix('*')
                    .map_or(url.clone(), |p| format!("{p}zz-url")),
            ),
        };
    }
    let resource = d.resource.clone().unwrap_or_default();
    let resource = match resource.strip_prefix("*/") {
        Some(sub) => format!("zz-res/{sub}"),
        None => fresh(&resource, "zz-res"),
    };
    Req {
        verb,
        group: fresh(d.api_group.as_deref().unwrap_or_default(), "zz.group"),
        resource,
        name: d
            .resource_name
            .clone()
            .unwrap_or_else(|| "zz-name".to_owned()),
        ns: d.namespaces.first().map(|n| {
            n.strip_suffix('*')
                .map_or(n.clone(), |p| format!("{p}zz-ns"))
        }),
        url: None,
    }
}

const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "delete",
    "impersonate",
    "*",
];
const GROUPS: &[&str] = &["", "apps", "coordination.k8s.io", "example.com", "*"];
const RESOURCES: &[&str] = &[
    "pods",
    "pods/log",
    "pods/eviction",
    "secrets",
    "configmaps",
    "deployments",
    "deployments/scale",
    "leases",
    "widgets",
    "namespaces",
    "serviceaccounts/token",
    "*",
    "*/scale",
];
const URLS: &[&str] = &[
    "/healthz",
    "/metrics",
    "/api/*",
    "/logs**",
    "/logs/kubelet",
    "*",
];
const NAMESPACES: &[&str] = &["orders", "payments", "team-a"];

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(pool).prop_map(str::to_owned)
}

fn picks(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set(pick(pool), 1..3).prop_map(|s| s.into_iter().collect())
}

fn rule() -> impl Strategy<Value = PolicyRule> {
    prop_oneof![
        6 => (picks(VERBS), picks(GROUPS), picks(RESOURCES), prop::option::weighted(0.2, pick(&["a", "b"])))
            .prop_map(|(verbs, api_groups, resources, name)| PolicyRule {
                verbs,
                api_groups,
                resources,
                resource_names: name.into_iter().collect(),
                non_resource_urls: Vec::new(),
            }),
        1 => (picks(VERBS), picks(URLS)).prop_map(|(verbs, urls)| PolicyRule {
            verbs,
            non_resource_urls: urls,
            ..PolicyRule::default()
        }),
    ]
}

/// A binding of group `g{i}`: (cluster-wide?, namespace, role kind, role name).
#[derive(Debug, Clone)]
struct Bind {
    group: usize,
    namespace: Option<String>,
    role: String,
}

#[derive(Debug, Clone)]
struct World {
    custom: Vec<Vec<PolicyRule>>,
    /// The CRD role's rules and which built-in it aggregates into.
    crd: Option<(Vec<PolicyRule>, &'static str)>,
    binds: Vec<Bind>,
}

fn world() -> impl Strategy<Value = World> {
    let custom = prop::collection::vec(prop::collection::vec(rule(), 1..4), 1..4);
    let crd = prop::option::of((
        prop::collection::vec(
            rule().prop_filter("resource rule", |r| r.non_resource_urls.is_empty()),
            1..3,
        ),
        prop::sample::select(
            &[
                "aggregate-to-view",
                "aggregate-to-edit",
                "aggregate-to-admin",
            ][..],
        ),
    ));
    let role = prop_oneof![
        pick(&["view", "edit", "admin", "cluster-admin"]),
        (0usize..3).prop_map(|i| format!("custom-{i}")),
    ];
    let bind = (
        0usize..3,
        prop::option::weighted(0.6, pick(NAMESPACES)),
        role,
    )
        .prop_map(|(group, namespace, role)| Bind {
            group,
            namespace,
            role,
        });
    (custom, crd, prop::collection::vec(bind, 0..7)).prop_map(|(custom, crd, binds)| World {
        custom,
        crd,
        binds: binds.into_iter().collect(),
    })
}

/// A world where `g0` (the mapped group) is bound in team-a, so a `team-*` scope overlaps it.
fn anchored_world() -> impl Strategy<Value = World> {
    (world(), pick(&["view", "edit", "admin", "custom-0"])).prop_map(|(mut w, role)| {
        w.binds.push(Bind {
            group: 0,
            namespace: Some("team-a".to_owned()),
            role,
        });
        w
    })
}

fn yaml_rule(r: &PolicyRule) -> String {
    serde_json::to_string(r).expect("rule as JSON")
}

impl World {
    fn custom_rules(&self, i: usize) -> Vec<PolicyRule> {
        self.custom.get(i).cloned().unwrap_or_default()
    }

    fn dump(&self) -> String {
        let mut items = String::new();
        for i in 0..3 {
            let rules: Vec<String> = self.custom_rules(i).iter().map(yaml_rule).collect();
            items.push_str(&format!(
                "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {{name: custom-{i}}}, rules: [{}]}}\n",
                rules.join(", ")
            ));
        }
        if let Some((rules, label)) = &self.crd {
            let rules: Vec<String> = rules.iter().map(yaml_rule).collect();
            items.push_str(&format!(
                "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {{name: crd, labels: {{rbac.authorization.k8s.io/{label}: 'true'}}}}, rules: [{}]}}\n",
                rules.join(", ")
            ));
        }
        for (i, b) in self.binds.iter().enumerate() {
            let subject = format!("[{{kind: Group, name: g{}}}]", b.group);
            match &b.namespace {
                None => items.push_str(&format!(
                    "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {{name: b{i}}}, roleRef: {{kind: ClusterRole, name: {}}}, subjects: {subject}}}\n",
                    b.role
                )),
                Some(ns) => items.push_str(&format!(
                    "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {{name: b{i}, namespace: {ns}}}, roleRef: {{kind: ClusterRole, name: {}}}, subjects: {subject}}}\n",
                    b.role
                )),
            }
        }
        format!("apiVersion: v1\nkind: List\nitems:\n{items}")
    }

    fn rbac(&self) -> Rbac {
        let mut rbac = Rbac::parse(&self.dump()).expect("generated dump parses");
        rbac.add_missing_cluster_roles(bootstrap::cluster_role_list());
        rbac
    }

    /// Every ClusterRole's rules, aggregated independently of the core.
    fn roles(&self) -> BTreeMap<String, Vec<PolicyRule>> {
        let mut roles = BTreeMap::new();
        for role in bootstrap::cluster_role_list() {
            let selector = role.aggregation.as_ref().and_then(|s| {
                s.first()
                    .and_then(|sel| sel.match_labels.as_ref())
                    .and_then(|m| m.keys().next().cloned())
            });
            roles.insert(
                role.name.clone(),
                (role.labels.clone(), selector, role.rules.clone()),
            );
        }
        for i in 0..3 {
            roles.insert(
                format!("custom-{i}"),
                (BTreeMap::new(), None, self.custom_rules(i)),
            );
        }
        if let Some((rules, label)) = &self.crd {
            let labels = BTreeMap::from([(
                format!("rbac.authorization.k8s.io/{label}"),
                "true".to_owned(),
            )]);
            roles.insert("crd".to_owned(), (labels, None, rules.clone()));
        }
        aggregated(&roles)
    }

    fn group_grant(&self, group: usize) -> Vec<(Scope, Vec<PolicyRule>)> {
        let roles = self.roles();
        self.binds
            .iter()
            .filter(|b| b.group == group)
            .map(|b| {
                let scope = b
                    .namespace
                    .as_ref()
                    .map_or(Scope::Cluster, |ns| Scope::Namespaces(vec![ns.clone()]));
                (scope, roles[&b.role].clone())
            })
            .collect()
    }

    fn auth(&self) -> AwsAuth {
        let rows: String = (0..3)
            .map(|i| format!("- rolearn: arn:aws:iam::111122223333:role/r{i}\n  username: u{i}\n  groups: [g{i}]\n"))
            .collect();
        AwsAuth::parse_data(&BTreeMap::from([("mapRoles".to_owned(), rows)]))
    }
}

/// A few values for a wildcard coordinate: a fresh one and two from the pool.
fn spread(pool: &[String], fresh: &str) -> Vec<String> {
    let mut out = vec![fresh.to_owned()];
    out.extend(pool.first().cloned());
    out.extend(pool.get(pool.len() / 2).cloned());
    out
}

/// Requests worth asking: for every rule of the grants, its values (wildcards spread over a fresh
/// value and two named ones), each with two object names, in every namespace, a fresh one and
/// none; non-resource URLs and their fresh extensions.
fn samples(grants: &[&[(Scope, Vec<PolicyRule>)]]) -> Vec<Req> {
    let rules: Vec<&PolicyRule> = grants
        .iter()
        .flat_map(|g| g.iter().flat_map(|(_, r)| r))
        .collect();
    let named = |f: fn(&PolicyRule) -> &Vec<String>| {
        let mut v: Vec<String> = rules
            .iter()
            .flat_map(|r| f(r).iter())
            .filter(|x| !x.starts_with('*'))
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (verbs, groups, resources) = (
        named(|r| &r.verbs),
        named(|r| &r.api_groups),
        named(|r| &r.resources),
    );
    let mut namespaces: Vec<Option<String>> =
        NAMESPACES.iter().map(|n| Some((*n).to_owned())).collect();
    namespaces.extend([Some("zz-ns".to_owned()), None]);
    let mut out = Vec::new();
    for rule in &rules {
        let expand = |list: &[String], pool: &[String], fresh: &str| -> Vec<String> {
            let mut v = Vec::new();
            for x in list {
                match x.as_str() {
                    "*" => v.extend(spread(pool, fresh)),
                    _ => match x.strip_prefix("*/") {
                        Some(sub) => {
                            v.push(format!("zz-res/{sub}"));
                            v.extend(
                                pool.iter()
                                    .filter(|r| r.ends_with(&format!("/{sub}")))
                                    .take(2)
                                    .cloned(),
                            );
                        }
                        None => v.push(x.clone()),
                    },
                }
            }
            v
        };
        let vs = expand(&rule.verbs, &verbs, "zz-verb");
        for url in &rule.non_resource_urls {
            // The pattern's own prefix (`/logs**` allows `/logs`) and a fresh extension of it.
            let asked = [url.replace('*', "zz"), url.trim_end_matches('*').to_owned()];
            for verb in &vs {
                for u in &asked {
                    out.push(Req {
                        verb: verb.clone(),
                        group: String::new(),
                        resource: String::new(),
                        name: String::new(),
                        ns: None,
                        url: Some(u.clone()),
                    });
                }
            }
        }
        let names: Vec<String> = rule
            .resource_names
            .iter()
            .cloned()
            .chain(["a".to_owned(), "zz-name".to_owned()])
            .collect();
        for verb in &vs {
            for group in expand(&rule.api_groups, &groups, "zz.group") {
                for resource in expand(&rule.resources, &resources, "zz-res") {
                    for name in &names {
                        for ns in &namespaces {
                            out.push(Req {
                                verb: verb.clone(),
                                group: group.clone(),
                                resource: resource.clone(),
                                name: name.clone(),
                                ns: ns.clone(),
                                url: None,
                            });
                        }
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every listed difference has a witness that really differs between `before` and `after`, and
/// every sampled request that differs is named by a listed difference.
fn check_differences(
    before: &[(Scope, Vec<PolicyRule>)],
    after: &[(Scope, Vec<PolicyRule>)],
    c: &Candidate,
) -> Result<(), TestCaseError> {
    for d in &c.lost {
        let w = witness(d);
        prop_assert!(
            grant_allows(before, &w) && !grant_allows(after, &w),
            "lost {} has no witness ({w:?})",
            d.text
        );
    }
    for d in &c.added {
        let w = witness(d);
        prop_assert!(
            grant_allows(after, &w) && !grant_allows(before, &w),
            "added {} has no witness ({w:?})",
            d.text
        );
    }
    for r in samples(&[before, after]) {
        let (b, a) = (grant_allows(before, &r), grant_allows(after, &r));
        if b && !a {
            prop_assert!(
                c.lost.iter().any(|d| difference_matches(d, &r)),
                "{} at {}: {r:?} is lost but not listed",
                c.policy,
                c.access_scope
            );
        }
        if a && !b {
            prop_assert!(
                c.added.iter().any(|d| difference_matches(d, &r)),
                "{} at {}: {r:?} is added but not listed",
                c.policy,
                c.access_scope
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn suggestions_and_differences_match_an_independent_authoriser(w in world()) {
        let rbac = w.rbac();
        let plan = plan_with_rbac(&w.auth(), None, &MigrationPolicy::default(), &RbacInput { rbac: &rbac, listed_policies: None });
        let report = plan.rbac.as_ref().expect("rbac section");
        for s in &report.subjects {
            let i: usize = s.name.trim_start_matches('g').parse().expect("g<i>");
            let group = w.group_grant(i);
            if s.verdict == Verdict::Exact {
                let c = s.suggested.as_ref().expect("exact suggests");
                let policy = policy_grant(c);
                for r in samples(&[&group, &policy]) {
                    prop_assert_eq!(grant_allows(&group, &r), grant_allows(&policy, &r), "{} exact as {} at {} but differs on {:?}", s.name, c.policy, c.access_scope, r);
                }
            }
            if s.verdict == Verdict::Unbound {
                prop_assert!(samples(&[&group]).iter().all(|r| !grant_allows(&group, r)), "{} unbound yet granted", s.name);
            }
            for c in &s.candidates {
                check_differences(&group, &policy_grant(c), c)?;
            }
        }
    }

    #[test]
    fn a_mapping_blocks_exactly_when_a_difference_is_not_accepted(
        w in anchored_world(),
        policy_index in 0usize..6,
        scope_pick in prop::option::of(prop::collection::btree_set(pick(&["orders", "team-a", "team-*"]), 1..3)),
        keep_group in any::<bool>(),
        accept_mask in any::<u64>(),
    ) {
        let names = ["AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy", "AmazonEKSSecretReaderPolicy"];
        let scope = match &scope_pick {
            None => "{type: cluster}".to_owned(),
            Some(ns) => format!("{{type: namespace, namespaces: [{}]}}", ns.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")),
        };
        let mapping = format!("version: 1\ngroup_policies:\n  - group: g0\n    policy: {}\n    access_scope: {scope}\n    keep_group: {keep_group}\n", names[policy_index]);
        let rbac = w.rbac();
        let input = RbacInput { rbac: &rbac, listed_policies: None };
        let first = plan_with_rbac(&w.auth(), None, &MigrationPolicy::parse(&mapping).expect("mapping"), &input);
        let check = first.rbac.as_ref().and_then(|r| r.subjects.iter().find(|s| s.name == "g0")).and_then(|s| s.mapping.clone()).expect("mapping checked");
        let differences: Vec<String> = check.candidate.lost.iter().chain(&check.candidate.added).map(|d| d.text.clone()).collect();
        // Before: the group's RBAC. After: the policy, plus the RBAC when the group is kept.
        let before = w.group_grant(0);
        let mut after = policy_grant(&check.candidate);
        if keep_group {
            after.extend(before.clone());
        }
        check_differences(&before, &after, &check.candidate)?;
        prop_assert_eq!(first.entries[0].action == Action::Blocked, !differences.is_empty());
        let accepted: Vec<&String> = differences.iter().enumerate().filter(|(i, _)| accept_mask >> (i % 64) & 1 == 1).map(|(_, d)| d).collect();
        let list: String = accepted.iter().map(|d| format!("      - {}\n", serde_json::to_string(d).expect("json"))).collect();
        let with_accepts = if accepted.is_empty() { mapping.clone() } else { format!("{mapping}    accept_differences:\n{list}") };
        let plan = plan_with_rbac(&w.auth(), None, &MigrationPolicy::parse(&with_accepts).expect("accepts"), &input);
        let blocked = plan.entries[0].action == Action::Blocked;
        prop_assert_eq!(blocked, accepted.len() < differences.len());
        if !blocked {
            let named: Vec<&Difference> = check.candidate.lost.iter().chain(&check.candidate.added).collect();
            for r in samples(&[&before, &after]) {
                if grant_allows(&before, &r) != grant_allows(&after, &r) {
                    prop_assert!(named.iter().any(|d| difference_matches(d, &r)), "{r:?} changed without an accepted difference");
                }
            }
        }
    }
}

/// Arbitrary YAML-ish documents built from RBAC-looking pieces.
fn dump_text() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("null".to_owned()),
        Just("7".to_owned()),
        Just("'*'".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        "[a-z:/*-]{0,12}".prop_map(|s| format!("'{s}'")),
    ];
    let field = (
        prop::sample::select(
            &[
                "kind",
                "apiVersion",
                "metadata",
                "name",
                "namespace",
                "labels",
                "rules",
                "verbs",
                "apiGroups",
                "resources",
                "resourceNames",
                "nonResourceURLs",
                "roleRef",
                "subjects",
                "aggregationRule",
                "clusterRoleSelectors",
                "matchLabels",
                "matchExpressions",
                "items",
            ][..],
        ),
        scalar,
    )
        .prop_map(|(k, v)| format!("{k}: {v}"));
    let object = prop::collection::vec(field, 0..8).prop_map(|f| format!("{{{}}}", f.join(", ")));
    let kind = prop::sample::select(
        &[
            "ClusterRole",
            "Role",
            "ClusterRoleBinding",
            "RoleBinding",
            "Pod",
        ][..],
    );
    let item = (kind, object).prop_map(|(k, o)| {
        format!("{{apiVersion: rbac.authorization.k8s.io/v1, kind: {k}, metadata: {{name: x, namespace: y}}, more: {o}}}")
            .replace("more: {", "")
            .replacen("}}", "}", 1)
    });
    prop_oneof![
        prop::collection::vec(item, 0..6)
            .prop_map(|items| format!("kind: List\nitems: [{}]\n", items.join(", "))),
        ".{0,200}",
    ]
}

proptest! {
    #[test]
    fn reading_and_suggesting_never_panic_on_arbitrary_dumps(text in dump_text()) {
        if let Ok(mut rbac) = Rbac::parse(&text) {
            rbac.add_missing_cluster_roles(bootstrap::cluster_role_list());
            let auth = AwsAuth::parse_data(&BTreeMap::from([(
                "mapRoles".to_owned(),
                "- rolearn: arn:aws:iam::111122223333:role/r\n  username: u\n  groups: [g, x, system:masters]\n".to_owned(),
            )]));
            let plan = plan_with_rbac(&auth, None, &MigrationPolicy::default(), &RbacInput { rbac: &rbac, listed_policies: None });
            prop_assert!(plan.rbac.is_some());
        }
    }
}

// 4. No object the reader accepts is one the API server would refuse, and the reader accepts
//    every object the API server would: objects are built from pieces around the validation
//    boundaries, each piece labelled here by hand with what kubernetes/kubernetes
//    `pkg/apis/rbac/validation/validation.go` (commit 1dc8b4f2) and apimachinery's name, label
//    and selector validation decide for it (an independent oracle: a table, not a re-implementation).

/// Names: `IsValidPathSegmentName`.
const NAMES: &[(&str, bool)] = &[
    ("ok", true),
    ("a:b", true),
    ("...", true),
    ("a/b", false),
    ("a%b", false),
    (".", false),
    ("..", false),
];
/// Label keys: `IsQualifiedName`.
const KEYS: &[(&str, bool)] = &[
    ("a", true),
    ("example.com/x", true),
    ("A_b.c", true),
    ("Bad_Prefix/x", false),
    ("/x", false),
    ("a/b/c", false),
    ("-a", false),
    (
        "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        true,
    ),
    (
        "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        false,
    ),
];
/// Label values: `IsValidLabelValue`.
const VALUES: &[(&str, bool)] = &[
    ("", true),
    ("true", true),
    ("a.b_c-d", true),
    ("-x", false),
    ("x.", false),
    ("has space", false),
    (
        "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        true,
    ),
    (
        "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        false,
    ),
];
/// Selector operators.
const OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Near"];
/// API groups of role references and User/Group subjects (empty is defaulted to RBAC's).
const REF_GROUPS: &[(&str, bool)] = &[
    ("", true),
    ("rbac.authorization.k8s.io", true),
    ("example.com", false),
];
/// Service-account names: `IsDNS1123Subdomain`.
const SA_NAMES: &[(&str, bool)] = &[("sa", true), ("a.b-c", true), ("Not_DNS", false)];

/// One object around the boundaries, as YAML, with the oracle's verdict.
#[derive(Debug, Clone)]
struct Candidate4 {
    yaml: String,
    valid: bool,
}

fn entry(table: &'static [(&'static str, bool)]) -> impl Strategy<Value = (&'static str, bool)> {
    prop::sample::select(table)
}

fn cluster_role_candidate() -> impl Strategy<Value = Candidate4> {
    let selector = (
        entry(KEYS),
        prop::sample::select(OPERATORS),
        prop::option::of(entry(VALUES)),
    );
    (
        entry(NAMES),
        (entry(KEYS), entry(VALUES)),
        prop::option::of(prop::collection::vec(selector, 0..3)),
        any::<bool>(),
    )
        .prop_map(|(name, label, aggregation, url_with_names)| {
            let mut valid = name.1 && label.0.1 && label.1.1;
            let rule = if url_with_names {
                valid = false;
                "{nonResourceURLs: ['/logs'], resourceNames: [x], verbs: [get]}"
            } else {
                "{nonResourceURLs: ['/logs*'], verbs: [get]}"
            };
            let aggregation = match aggregation {
                None => String::new(),
                Some(selectors) => {
                    valid &= !selectors.is_empty();
                    let exprs: Vec<String> = selectors
                        .iter()
                        .map(|(key, op, value)| {
                            valid &= key.1 && value.is_none_or(|v| v.1);
                            valid &= match *op {
                                "In" | "NotIn" => value.is_some(),
                                "Exists" | "DoesNotExist" => value.is_none(),
                                _ => false,
                            };
                            let values = value.map_or(String::new(), |v| format!(", values: ['{}']", v.0));
                            format!("{{matchExpressions: [{{key: '{}', operator: {op}{values}}}]}}", key.0)
                        })
                        .collect();
                    format!(", aggregationRule: {{clusterRoleSelectors: [{}]}}", exprs.join(", "))
                }
            };
            Candidate4 {
                yaml: format!(
                    "{{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {{name: '{}', labels: {{'{}': '{}'}}}}, rules: [{rule}]{aggregation}}}",
                    name.0, label.0.0, label.1.0
                ),
                valid,
            }
        })
}

fn binding_candidate() -> impl Strategy<Value = Candidate4> {
    (
        any::<bool>(),
        entry(NAMES),
        (entry(REF_GROUPS), prop::sample::select(&["ClusterRole", "Role", "Other"][..]), entry(NAMES)),
        (
            prop::sample::select(&["Group", "User", "ServiceAccount", "Robot"][..]),
            entry(REF_GROUPS),
            entry(SA_NAMES),
            any::<bool>(),
        ),
    )
        .prop_map(|(cluster, name, (group, kind, role), (skind, sgroup, sa, sa_ns))| {
            let mut valid = name.1 && group.1 && role.1;
            valid &= kind == "ClusterRole" || (kind == "Role" && !cluster);
            let subject = match skind {
                "ServiceAccount" => {
                    valid &= sa.1 && (sa_ns || !cluster);
                    let ns = if sa_ns { ", namespace: ns1" } else { "" };
                    format!("{{kind: ServiceAccount, name: '{}'{ns}}}", sa.0)
                }
                "Group" | "User" => {
                    valid &= sgroup.1;
                    format!("{{apiGroup: '{}', kind: {skind}, name: g}}", sgroup.0)
                }
                _ => {
                    valid = false;
                    format!("{{kind: {skind}, name: g}}")
                }
            };
            let (kind_of_binding, ns) = if cluster {
                ("ClusterRoleBinding", "")
            } else {
                ("RoleBinding", ", namespace: team")
            };
            Candidate4 {
                yaml: format!(
                    "{{apiVersion: rbac.authorization.k8s.io/v1, kind: {kind_of_binding}, metadata: {{name: '{}'{ns}}}, roleRef: {{apiGroup: '{}', kind: {kind}, name: '{}'}}, subjects: [{subject}, {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: g}}]}}",
                    name.0, group.0, role.0
                ),
                valid,
            }
        })
}

proptest! {
    #[test]
    fn the_reader_accepts_exactly_what_the_api_server_accepts(
        c in prop_oneof![cluster_role_candidate(), binding_candidate()]
    ) {
        let rbac = Rbac::parse(&format!("kind: List\nitems:\n- {}\n", c.yaml)).expect("a list");
        let refused: Vec<&str> = rbac
            .findings
            .iter()
            .filter(|f| f.code == eks_auth_core::finding::FindingCode::RbacInvalid)
            .map(|f| f.message.as_str())
            .collect();
        let read = !rbac.cluster_roles.is_empty() || !rbac.bindings.is_empty();
        prop_assert_eq!(read, c.valid, "{} read={} refused={:?}", c.yaml, read, refused);
        prop_assert_eq!(refused.is_empty(), c.valid, "{}: {:?}", c.yaml, refused);
        let unreadable = !rbac.unreadable.cluster_roles.is_empty() || !rbac.unreadable.subjects.is_empty();
        prop_assert_eq!(unreadable, !c.valid, "{}", c.yaml);
    }
}
