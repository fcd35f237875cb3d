//! The comparison's building blocks: wildcards, subresources, namespaces and URLs.

use super::*;
use crate::rbac::model::PolicyRule;

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
    assert!(x.minus(&one, &sub).is_empty());
    assert_eq!(
        texts(&x.minus(&sub, &one).describe(&x.symbols)),
        vec!["get *.apps/scale cluster-wide"]
    );
    // `*` resources cover subresources; a plain resource does not.
    let pods = x.grant(&[rule(&["create"], &[""], &["pods"], &[])], &all);
    let eviction = x.grant(&[rule(&["create"], &[""], &["pods/eviction"], &[])], &all);
    assert!(!x.minus(&eviction, &pods).is_empty());
    assert!(x.minus(&eviction, &just).is_empty());
}

#[test]
fn namespaces_and_prefixes() {
    let mut x = Expander::default();
    let r = [rule(&["get"], &[""], &["pods"], &[])];
    let team = x.grant(&r, &[Ns::of_scope("team-*")]);
    let a = x.grant(&r, &[Ns::One("team-a".into()), Ns::One("team-b".into())]);
    let cluster = x.grant(&r, &[Ns::All]);
    assert!(x.minus(&a, &team).is_empty());
    assert_eq!(
        texts(&x.minus(&team, &a).describe(&x.symbols)),
        vec!["get pods in team-*"]
    );
    assert!(x.minus(&team, &cluster).is_empty());
    assert_eq!(
        texts(&x.minus(&cluster, &team).describe(&x.symbols)),
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
        texts(&x.minus(&g, &prefix).describe(&x.symbols)),
        vec!["get url /healthz"]
    );
    let all = x.grant(&[url_rule(&["*"], &["*"])], &[Ns::All]);
    assert!(x.minus(&g, &all).is_empty());
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
    let d = x.minus(&g, &Grant::default()).describe(&x.symbols);
    assert_eq!(
        texts(&d),
        vec![
            "create pods/eviction in a,b",
            "get,list leases.coordination.k8s.io named lock in a,b"
        ]
    );
    assert_eq!(d[1].resource_name.as_deref(), Some("lock"));
}
