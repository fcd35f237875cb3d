//! Kubernetes' own test cases, run through the comparison.
//!
//! Sources (kubernetes/kubernetes, read at the commits the project's source index holds):
//! - `pkg/registry/rbac/validation/policy_comparator_test.go` (commit 00bdb3fa): every
//!   `TestCovers*` case and `TestNonResourceURLCovers`. `Covers(owner, servant)` holds exactly
//!   when the servant's grant minus the owner's is empty; its uncovered sub-rules are our
//!   remaining differences.
//! - `plugin/pkg/auth/authorizer/rbac/rbac_test.go` (commit 00bdb3fa): every `TestRuleMatches`
//!   case (`RuleAllows`) and the resource and non-resource requests of `TestAuthorizer`. A request
//!   is allowed exactly when the grant of that one request (its verb, group, resource with
//!   subresource, object name — `""` for requests without one — and namespace, or its URL) minus
//!   the subject's grant is empty.
//!
//! One deliberate difference: `Covers` compares resources literally (an owner's `*/scale` does
//! not cover `deployments/scale` there), while this comparison follows the authoriser
//! (`ResourceMatches` lets `*/scale` allow `deployments/scale`); no Covers case exercises it.

use super::*;
use crate::rbac::model::PolicyRule;

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| (*s).to_owned()).collect()
}

/// `{APIGroups, Verbs, Resources, ResourceNames}` as the Go tests write them.
fn r(groups: &[&str], verbs: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: v(verbs),
        api_groups: v(groups),
        resources: v(resources),
        resource_names: v(names),
        non_resource_urls: Vec::new(),
    }
}

/// `{NonResourceURLs, Verbs}`.
fn u(urls: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: v(verbs),
        non_resource_urls: v(urls),
        ..PolicyRule::default()
    }
}

/// `Covers(owner, servant)`: whether it covers, and the uncovered permissions as differences.
fn covers(owner: &[PolicyRule], servant: &[PolicyRule]) -> (bool, Vec<String>) {
    let mut x = Expander::default();
    let all = [Ns::All];
    let (o, s) = (x.grant(owner, &all), x.grant(servant, &all));
    let left = x.minus(&s, &o);
    let texts = left.describe(&x.symbols).into_iter().map(|d| d.text);
    (left.is_empty(), texts.collect())
}

/// One case of policy_comparator_test.go: (name, owner, servant, covered, uncovered).
type CoversCase = (
    &'static str,
    Vec<PolicyRule>,
    Vec<PolicyRule>,
    bool,
    Vec<&'static str>,
);

fn covers_cases() -> Vec<CoversCase> {
    let builds_deployments = || v(&["builds", "deployments"]);
    let group_rules = |g: &str| {
        vec![
            r(&[g], &["delete"], &["deployments"], &[]),
            r(&[g], &["delete"], &["builds"], &[]),
            r(&[g], &["update"], &["builds", "deployments"], &[]),
        ]
    };
    let both_groups: Vec<PolicyRule> = group_rules("group1")
        .into_iter()
        .chain(group_rules("group2"))
        .collect();
    let mut wide = r(&["group1", "group2"], &["delete", "update"], &[], &[]);
    wide.resources = builds_deployments();
    let mut with_url = r(&["v1"], &["get"], &["builds"], &[]);
    with_url.non_resource_urls = v(&["/apis"]);
    vec![
        (
            "TestCoversExactMatch",
            vec![r(&["v1"], &["get"], &["builds"], &[])],
            vec![r(&["v1"], &["get"], &["builds"], &[])],
            true,
            vec![],
        ),
        (
            "TestCoversMultipleRulesCoveringSingleRule",
            vec![
                r(&["v1"], &["delete"], &["deployments"], &[]),
                r(&["v1"], &["delete"], &["builds"], &[]),
                r(&["v1"], &["update"], &["builds", "deployments"], &[]),
            ],
            vec![r(
                &["v1"],
                &["delete", "update"],
                &["builds", "deployments"],
                &[],
            )],
            true,
            vec![],
        ),
        (
            "TestCoversMultipleAPIGroupsCoveringSingleRule",
            both_groups.clone(),
            vec![wide.clone()],
            true,
            vec![],
        ),
        (
            "TestCoversSingleAPIGroupsCoveringMultiple",
            vec![wide],
            both_groups,
            true,
            vec![],
        ),
        (
            "TestCoversMultipleRulesMissingSingleVerbResourceCombination",
            vec![
                r(
                    &["v1"],
                    &["delete", "update"],
                    &["builds", "deployments"],
                    &[],
                ),
                r(&["v1"], &["delete"], &["pods"], &[]),
            ],
            vec![r(
                &["v1"],
                &["delete", "update"],
                &["builds", "deployments", "pods"],
                &[],
            )],
            false,
            vec!["update pods.v1 cluster-wide"],
        ),
        (
            "TestCoversAPIGroupStarCoveringMultiple",
            vec![r(&["*"], &["get"], &["roles"], &[])],
            vec![r(&["group1", "group2"], &["get"], &["roles"], &[])],
            true,
            vec![],
        ),
        (
            "TestCoversEnumerationNotCoveringAPIGroupStar",
            vec![r(&["dummy-group"], &["get"], &["roles"], &[])],
            vec![r(&["*"], &["get"], &["roles"], &[])],
            false,
            vec!["get roles.* cluster-wide"],
        ),
        (
            "TestCoversAPIGroupStarCoveringStar",
            vec![r(&["*"], &["get"], &["roles"], &[])],
            vec![r(&["*"], &["get"], &["roles"], &[])],
            true,
            vec![],
        ),
        (
            "TestCoversVerbStarCoveringMultiple",
            vec![r(&["v1"], &["*"], &["roles"], &[])],
            vec![r(&["v1"], &["watch", "list"], &["roles"], &[])],
            true,
            vec![],
        ),
        (
            "TestCoversEnumerationNotCoveringVerbStar",
            vec![r(
                &["v1"],
                &["get", "list", "watch", "create", "update", "delete", "exec"],
                &["roles"],
                &[],
            )],
            vec![r(&["v1"], &["*"], &["roles"], &[])],
            false,
            vec!["* roles.v1 cluster-wide"],
        ),
        (
            "TestCoversVerbStarCoveringStar",
            vec![r(&["v1"], &["*"], &["roles"], &[])],
            vec![r(&["v1"], &["*"], &["roles"], &[])],
            true,
            vec![],
        ),
        (
            "TestCoversResourceStarCoveringMultiple",
            vec![r(&["v1"], &["get"], &["*"], &[])],
            vec![r(&["v1"], &["get"], &["resourcegroup:deployments"], &[])],
            true,
            vec![],
        ),
        (
            "TestCoversEnumerationNotCoveringResourceStar",
            vec![r(
                &["v1"],
                &["get"],
                &["roles", "resourcegroup:deployments"],
                &[],
            )],
            vec![r(&["v1"], &["get"], &["*"], &[])],
            false,
            vec!["get *.v1 cluster-wide"],
        ),
        (
            "TestCoversResourceStarCoveringStar",
            vec![r(&["v1"], &["get"], &["*"], &[])],
            vec![r(&["v1"], &["get"], &["*"], &[])],
            true,
            vec![],
        ),
        (
            "TestCoversResourceNameEmptyCoveringMultiple",
            vec![r(&["v1"], &["get"], &["pods"], &[])],
            vec![r(&["v1"], &["get"], &["pods"], &["foo", "bar"])],
            true,
            vec![],
        ),
        (
            "TestCoversEnumerationNotCoveringResourceNameEmpty",
            vec![r(&["v1"], &["get"], &["pods"], &["foo", "bar"])],
            vec![r(&["v1"], &["get"], &["pods"], &[])],
            false,
            vec!["get pods.v1 cluster-wide"],
        ),
        (
            "TestCoversNonResourceURLs",
            vec![u(&["/apis"], &["*"])],
            vec![u(&["/apis"], &["*"])],
            true,
            vec![],
        ),
        (
            "TestCoversNonResourceURLsStar",
            vec![u(&["*"], &["*"])],
            vec![u(&["/apis", "/apis/v1", "/"], &["*"])],
            true,
            vec![],
        ),
        (
            "TestCoversNonResourceURLsStarAfterPrefixDoesntCover",
            vec![u(&["/apis/*"], &["*"])],
            vec![u(&["/apis", "/apis/v1"], &["get"])],
            false,
            vec!["get url /apis"],
        ),
        (
            "TestCoversNonResourceURLsStarAfterPrefix",
            vec![u(&["/apis/*"], &["*"])],
            vec![u(&["/apis/v1/foo", "/apis/v1"], &["get"])],
            true,
            vec![],
        ),
        (
            "TestCoversNonResourceURLsWithOtherFields",
            vec![with_url.clone()],
            vec![with_url.clone()],
            true,
            vec![],
        ),
        (
            "TestCoversNonResourceURLsWithOtherFieldsFailure",
            vec![r(&["v1"], &["get"], &["builds"], &[])],
            vec![with_url],
            false,
            vec!["get url /apis"],
        ),
    ]
}

#[test]
fn kubernetes_covers_cases() {
    for (name, owner, servant, covered, uncovered) in covers_cases() {
        let (got, left) = covers(&owner, &servant);
        assert_eq!(got, covered, "{name}: {left:?}");
        assert_eq!(left, uncovered, "{name}");
    }
}

/// `TestNonResourceURLCovers`, plus every-trailing-`*` cases: `nonResourceURLCovers` and
/// `NonResourceURLMatches` trim every trailing `*` (`strings.TrimRight`), so `/logs**` is the
/// prefix `/logs`.
#[test]
fn kubernetes_non_resource_url_covers() {
    let cases = [
        ("*", "/api", true),
        ("/api", "/api", true),
        ("/apis", "/api", false),
        ("/api/v1", "/api", false),
        ("/api/v1", "/api/v1", true),
        ("/api/*", "/api/v1", true),
        ("/api/*", "/api", false),
        ("/api/*/*", "/api/v1", false),
        ("/*/v1/*", "/api/v1", false),
        // TrimRight removes every trailing `*`.
        ("/logs**", "/logs/kubelet", true),
        ("/logs**", "/logs", true),
        ("/logs**", "/log", false),
        ("**", "/anything", true),
        ("/logs*", "/logs**", true),
        ("/logs**", "/logs*", true),
        ("/logs/*", "/logs**", false),
    ];
    for (owner, requested, want) in cases {
        let (got, _) = covers(&[u(&[owner], &["get"])], &[u(&[requested], &["get"])]);
        assert_eq!(got, want, "nonResourceURLCovers({owner:?}, {requested:?})");
    }
}

/// The ClusterRole: `nonResourceURLs: ["/logs**", "/logs/kubelet"]` grants one prefix,
/// so against a policy granting `get /logs*` nothing is lost, and against one granting nothing
/// only the prefix is.
#[test]
fn a_double_star_prefix_is_one_permission() {
    let role = [u(&["/logs**", "/logs/kubelet"], &["get"])];
    let (covered, _) = covers(&[u(&["/logs*"], &["get"])], &role);
    assert!(covered);
    let (covered, left) = covers(&[], &role);
    assert!(!covered);
    assert_eq!(left, vec!["get url /logs*"]);
    let mut x = Expander::default();
    let all = [Ns::All];
    assert_eq!(
        x.grant(&[u(&["/logs**"], &["get"])], &all),
        x.grant(&[u(&["/logs*", "/logs/kubelet"], &["get"])], &all),
        "equal sets of URLs are equal grants"
    );
}

/// A request: (verb, group, resource, subresource, name, namespace) or (verb, url).
enum Request {
    Resource {
        verb: &'static str,
        group: &'static str,
        resource: &'static str,
        sub: &'static str,
        namespace: &'static str,
    },
    Url {
        verb: &'static str,
        url: &'static str,
    },
}

/// The grant of exactly one request (object name `""`: the tests' requests name no object).
fn request_grant(x: &mut Expander, request: &Request) -> Grant {
    match request {
        Request::Resource {
            verb,
            group,
            resource,
            sub,
            namespace,
        } => {
            let combined = if sub.is_empty() {
                (*resource).to_owned()
            } else {
                format!("{resource}/{sub}")
            };
            let rule = PolicyRule {
                verbs: v(&[verb]),
                api_groups: v(&[group]),
                resources: vec![combined],
                resource_names: v(&[""]),
                non_resource_urls: Vec::new(),
            };
            let ns = if namespace.is_empty() {
                Ns::All
            } else {
                Ns::One((*namespace).to_owned())
            };
            x.grant(&[rule], &[ns])
        }
        Request::Url { verb, url } => x.grant(&[u(&[url], &[verb])], &[Ns::All]),
    }
}

fn allows(x: &mut Expander, granted: &Grant, request: &Request) -> bool {
    let asked = request_grant(x, request);
    x.minus(&asked, granted).is_empty()
}

fn res(verb: &'static str, group: &'static str, resource: &'static str) -> Request {
    Request::Resource {
        verb,
        group,
        resource,
        sub: "",
        namespace: "",
    }
}

fn sub(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    s: &'static str,
) -> Request {
    Request::Resource {
        verb,
        group,
        resource,
        sub: s,
        namespace: "",
    }
}

fn url(verb: &'static str, url: &'static str) -> Request {
    Request::Url { verb, url }
}

/// `TestRuleMatches` (`RuleAllows`), case by case.
#[test]
fn kubernetes_rule_matches_cases() {
    let grid = |verbs: [&'static str; 2]| {
        let mut out = Vec::new();
        for verb in verbs {
            for (g, rs) in [
                ("group1", "resource1"),
                ("group2", "resource1"),
                ("group1", "resource2"),
                ("group2", "resource2"),
            ] {
                out.push(res(verb, g, rs));
            }
        }
        out
    };
    let bools = |s: &str| s.chars().map(|c| c == 'T').collect::<Vec<bool>>();
    let resource_cases: Vec<(&str, PolicyRule, Vec<Request>, Vec<bool>)> = vec![
        (
            "star verb, exact match other",
            r(&["group1"], &["*"], &["resource1"], &[]),
            grid(["verb1", "verb2"]),
            bools("TFFFTFFF"),
        ),
        (
            "star group, exact match other",
            r(&["*"], &["verb1"], &["resource1"], &[]),
            grid(["verb1", "verb2"]),
            bools("TTFFFFFF"),
        ),
        (
            "star resource, exact match other",
            r(&["group1"], &["verb1"], &["*"], &[]),
            grid(["verb1", "verb2"]),
            bools("TFTFFFFF"),
        ),
        (
            "tuple expansion",
            r(
                &["group1", "group2"],
                &["verb1", "verb2"],
                &["resource1", "resource2"],
                &[],
            ),
            grid(["verb1", "verb2"]),
            bools("TTTTTTTT"),
        ),
        (
            "subresource expansion",
            r(&["*"], &["*"], &["resource1/subresource1"], &[]),
            vec![
                sub("verb1", "group1", "resource1", "subresource1"),
                sub("verb1", "group2", "resource1", "subresource2"),
                sub("verb1", "group1", "resource2", "subresource1"),
                sub("verb1", "group2", "resource2", "subresource1"),
                sub("verb2", "group1", "resource1", "subresource1"),
                sub("verb2", "group2", "resource1", "subresource2"),
                sub("verb2", "group1", "resource2", "subresource1"),
                sub("verb2", "group2", "resource2", "subresource1"),
            ],
            bools("TFFFTFFF"),
        ),
    ];
    let paths = [
        "/foo",
        "/foo/bar",
        "/foo/baz",
        "/foo/bar/one",
        "/foo/baz/one",
    ];
    let url_grid = |verbs: &[&'static str], extra: &[&'static str]| {
        let mut out = Vec::new();
        for verb in verbs {
            for p in paths.iter().chain(extra) {
                out.push(url(verb, p));
            }
        }
        out
    };
    let url_cases: Vec<(&str, PolicyRule, Vec<Request>, Vec<bool>)> = vec![
        (
            "star nonresource, exact match other",
            u(&["*"], &["verb1"]),
            url_grid(&["verb1", "verb2"], &[]),
            bools("TTTTTFFFFF"),
        ),
        (
            "star nonresource subpath",
            u(&["/foo/*"], &["verb1"]),
            url_grid(
                &["verb1"],
                &[
                    "/notfoo",
                    "/notfoo/bar",
                    "/notfoo/baz",
                    "/notfoo/bar/one",
                    "/notfoo/baz/one",
                ],
            ),
            bools("FTTTTFFFFF"),
        ),
        (
            "star verb, exact nonresource",
            u(&["/foo", "/foo/bar/one"], &["*"]),
            url_grid(&["verb1", "verb2"], &[]),
            bools("TFFTFTFFTF"),
        ),
    ];
    for (name, rule, requests, expected) in resource_cases.into_iter().chain(url_cases) {
        assert_eq!(requests.len(), expected.len(), "{name}");
        let mut x = Expander::default();
        let granted = x.grant(std::slice::from_ref(&rule), &[Ns::All]);
        for (i, (request, want)) in requests.iter().zip(expected).enumerate() {
            assert_eq!(
                allows(&mut x, &granted, request),
                want,
                "{name}: request {i}"
            );
        }
    }
}

/// `TestAuthorizer`: a ClusterRole bound by a RoleBinding in `ns1` (requests elsewhere and
/// cluster-scoped ones fail), non-resource URL roles bound cluster-wide, and subresource
/// resolution in both directions.
#[test]
fn kubernetes_authorizer_cases() {
    let in_ns = |verb, resource, s, namespace| Request::Resource {
        verb,
        group: "",
        resource,
        sub: s,
        namespace,
    };
    let mut x = Expander::default();
    let mut admin = r(&["*"], &["*"], &["*"], &[]);
    admin.non_resource_urls = v(&["*"]);
    let in_ns1 = x.grant(&[admin], &[Ns::One("ns1".into())]);
    for request in [
        in_ns("get", "Pods", "", "ns1"),
        in_ns("watch", "Pods", "", "ns1"),
        in_ns("watch", "Foobar", "", "ns1"),
    ] {
        assert!(allows(&mut x, &in_ns1, &request));
    }
    for request in [
        in_ns("GET", "Pods", "", "ns2"),
        in_ns("GET", "Nodes", "", ""),
    ] {
        assert!(!allows(&mut x, &in_ns1, &request));
    }
    let all = [Ns::All];
    let getter = x.grant(&[u(&["/apis"], &["get"])], &all);
    let any_verb = x.grant(&[u(&["/apis"], &["*"])], &all);
    let prefixed = x.grant(&[u(&["/apis/*"], &["get"])], &all);
    for (granted, request, want) in [
        (&getter, url("get", "/apis"), true),
        (&any_verb, url("get", "/apis"), true),
        (&any_verb, url("watch", "/apis"), true),
        (&prefixed, url("get", "/apis/v1"), true),
        (&prefixed, url("get", "/apis/v1/foobar"), true),
        (&getter, url("watch", "/apis"), false),
        (&getter, url("get", "/api/v1"), false),
        (&any_verb, url("get", "/api/v1"), false),
        (&prefixed, url("get", "/api/v1"), false),
    ] {
        assert_eq!(allows(&mut x, granted, &request), want);
    }
    let mut pods = r(&["*"], &["*"], &["pods"], &[]);
    pods.non_resource_urls = v(&["*"]);
    let pods = x.grant(&[pods], &[Ns::One("ns1".into())]);
    assert!(allows(&mut x, &pods, &in_ns("get", "pods", "", "ns1")));
    assert!(!allows(
        &mut x,
        &pods,
        &in_ns("get", "pods", "status", "ns1")
    ));
    let mut status = r(&["*"], &["*"], &["pods/status"], &[]);
    status.non_resource_urls = v(&["*"]);
    let status = x.grant(&[status], &[Ns::One("ns1".into())]);
    assert!(allows(
        &mut x,
        &status,
        &in_ns("get", "pods", "status", "ns1")
    ));
    assert!(!allows(&mut x, &status, &in_ns("get", "pods", "", "ns1")));
}

/// `ResourceMatches`' `*/subresource` form and `ResourceNameMatches` beyond the Go cases: `*/x`
/// allows subresource `x` of any resource and nothing else; a name list allows only those names
/// (a request without a name is refused unless `""` is listed).
#[test]
fn star_subresources_and_resource_names() {
    let mut x = Expander::default();
    let all = [Ns::All];
    let scale = x.grant(&[r(&["apps"], &["get"], &["*/scale"], &[])], &all);
    assert!(allows(
        &mut x,
        &scale,
        &sub("get", "apps", "deployments", "scale")
    ));
    assert!(!allows(&mut x, &scale, &res("get", "apps", "deployments")));
    assert!(!allows(
        &mut x,
        &scale,
        &sub("get", "apps", "deployments", "status")
    ));
    let named = x.grant(&[r(&[""], &["get"], &["pods"], &["a"])], &all);
    assert!(!allows(&mut x, &named, &res("get", "", "pods")));
    let unnamed = x.grant(&[r(&[""], &["get"], &["pods"], &[""])], &all);
    assert!(allows(&mut x, &unnamed, &res("get", "", "pods")));
}
