//! The API server's validation rules, case by case, through the reader: each object below is one
//! kubernetes/kubernetes `pkg/apis/rbac/validation/validation.go` (commit 1dc8b4f2) refuses —
//! most are cases of its `validation_test.go` (`TestValidateClusterRoleBinding`,
//! `TestValidateRoleBinding`, `TestValidatePolicyRule`, `TestValidateClusterRoleAggregation`,
//! `TestValidateRoleNonResourceURL`) — and each becomes an `RBAC_INVALID` finding naming the
//! object and the rule, with what depends on it unreadable. Their valid neighbours read cleanly.

use super::model::{Rbac, Subject, SubjectKind};
use crate::finding::FindingCode;

const G: &str = "rbac.authorization.k8s.io";

fn one(item: &str) -> Rbac {
    Rbac::parse(&format!("kind: List\nitems:\n- {item}\n")).expect("a list")
}

fn invalid_messages(rbac: &Rbac) -> Vec<&str> {
    rbac.findings
        .iter()
        .filter(|f| f.code == FindingCode::RbacInvalid)
        .map(|f| f.message.as_str())
        .collect()
}

fn cluster_role(meta: &str, body: &str) -> String {
    format!("{{apiVersion: {G}/v1, kind: ClusterRole, metadata: {meta}, {body}}}")
}

fn crb(name: &str, role_ref: &str, subjects: &str) -> String {
    format!(
        "{{apiVersion: {G}/v1, kind: ClusterRoleBinding, metadata: {{name: '{name}'}}, roleRef: {role_ref}, subjects: {subjects}}}"
    )
}

const RULE: &str = "rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]";

/// A refused ClusterRole: named in one finding with `rule`, unreadable, absent from the roles.
fn assert_refused_cluster_role(item: &str, name: &str, rule: &str) {
    let rbac = one(item);
    let messages = invalid_messages(&rbac);
    assert_eq!(messages.len(), 1, "{item}: {messages:?}");
    assert!(
        messages[0].contains(&format!("ClusterRole {name}")) && messages[0].contains(rule),
        "{item}: {}",
        messages[0]
    );
    assert!(rbac.unreadable.cluster_roles.contains_key(name), "{item}");
    assert!(!rbac.cluster_roles.contains_key(name), "{item}");
}

/// A refused binding: named in one finding with `rule`; its group `g` is unreadable.
fn assert_refused_binding(item: &str, rule: &str) {
    let rbac = one(item);
    let messages = invalid_messages(&rbac);
    assert_eq!(messages.len(), 1, "{item}: {messages:?}");
    assert!(messages[0].contains(rule), "{item}: {}", messages[0]);
    let g = Subject {
        kind: SubjectKind::Group,
        name: "g".to_owned(),
    };
    assert!(rbac.unreadable.subjects.contains_key(&g), "{item}");
    assert!(rbac.bindings.is_empty(), "{item}");
}

#[test]
fn names_are_path_segments() {
    // `ValidateRBACName` = apimachinery `path.IsValidPathSegmentName`.
    for (name, rule) in [
        ("a/b", "may not contain '/'"),
        ("a%b", "may not contain '%'"),
        ("..", "may not be '..'"),
        (".", "may not be '.'"),
    ] {
        let item = cluster_role(&format!("{{name: '{name}'}}"), RULE);
        assert_refused_cluster_role(&item, name, rule);
    }
    for fine in ["a:b", "system:aggregate-to-view", "A_b.c", "..."] {
        let rbac = one(&cluster_role(&format!("{{name: '{fine}'}}"), RULE));
        assert!(rbac.findings.is_empty(), "{fine}: {:?}", rbac.findings);
    }
    let role_ref = format!("{{apiGroup: {G}, kind: ClusterRole, name: 'x/y'}}");
    let item = crb(
        "b",
        &role_ref,
        &format!("[{{apiGroup: {G}, kind: Group, name: g}}]"),
    );
    assert_refused_binding(&item, "`roleRef.name` may not contain '/'");
}

#[test]
fn policy_rules() {
    // `ValidatePolicyRule`: non-resource URLs never with resource names (nor groups, resources).
    let item = cluster_role(
        "{name: logs}",
        "rules: [{nonResourceURLs: ['/logs'], resourceNames: [x], verbs: [get]}]",
    );
    let rbac = one(&item);
    assert!(
        rbac.unreadable.cluster_roles["logs"]
            .contains("both regular resources and non-resource URLs")
    );
    let item = cluster_role(
        "{name: logs}",
        "rules: [{nonResourceURLs: ['/logs'], verbs: [get]}]",
    );
    assert!(one(&item).findings.is_empty());
    // Namespaced rules cannot name URLs.
    let role = format!(
        "{{apiVersion: {G}/v1, kind: Role, metadata: {{name: r, namespace: ns1}}, rules: [{{nonResourceURLs: ['/x'], verbs: [get]}}]}}"
    );
    let rbac = one(&role);
    assert!(
        rbac.unreadable.roles[&("ns1".to_owned(), "r".to_owned())].contains("namespaced rules")
    );
}

#[test]
fn aggregation_rules_and_selectors() {
    for (body, rule) in [
        (
            "aggregationRule: {clusterRoleSelectors: []}",
            "at least one clusterRoleSelector",
        ),
        ("aggregationRule: {}", "at least one clusterRoleSelector"),
        (
            "aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: In}]}]}",
            "`aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values` must be specified",
        ),
        (
            "aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: Exists, values: [b]}]}]}",
            "may not be specified when `operator` is 'Exists'",
        ),
        (
            "aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: Near}]}]}",
            "`Near` is not a valid selector operator",
        ),
        (
            "aggregationRule: {clusterRoleSelectors: [{matchLabels: {a: 'not valid'}}]}",
            "`not valid` is not a valid label value",
        ),
        (
            "aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: 'a/b/c', operator: Exists}]}]}",
            "`a/b/c` is not a qualified name",
        ),
        (
            "aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: In, values: ['-x']}]}]}",
            "`-x` is not a valid label value",
        ),
    ] {
        assert_refused_cluster_role(&cluster_role("{name: agg}", body), "agg", rule);
    }
    let fine = cluster_role(
        "{name: agg}",
        "aggregationRule: {clusterRoleSelectors: [{matchLabels: {example.com/x: 'true'}, matchExpressions: [{key: k, operator: NotIn, values: [a.b_c-d]}, {key: k2, operator: DoesNotExist}]}]}",
    );
    assert!(one(&fine).findings.is_empty());
}

#[test]
fn labels_are_valid_and_a_refused_source_makes_its_aggregator_unreadable() {
    let long = "v".repeat(64);
    for (labels, rule) in [
        ("{a: 'has space'}", "`has space` is not a valid label value"),
        (&format!("{{a: {long}}}")[..], "longer than 63 characters"),
        (
            "{'Bad_Prefix/x': y}",
            "the prefix `Bad_Prefix` is not a DNS-1123 subdomain",
        ),
        ("{'/x': y}", "the prefix before '/' must be non-empty"),
    ] {
        let item = cluster_role(&format!("{{name: src, labels: {labels}}}"), RULE);
        assert_refused_cluster_role(&item, "src", rule);
    }
    // An aggregated role that may select the refused source cannot be resolved.
    let rbac = Rbac::parse(&format!(
        "kind: List\nitems:\n- {}\n- {}\n",
        cluster_role("{name: src, labels: {agg: 'y', bad: '-'}}", RULE),
        cluster_role(
            "{name: agg}",
            "aggregationRule: {clusterRoleSelectors: [{matchLabels: {agg: 'y'}}]}"
        ),
    ))
    .expect("a list");
    let resolved = super::aggregate::resolve(&rbac);
    let why = resolved.cluster_roles["agg"]
        .as_ref()
        .expect_err("unresolved");
    assert!(why.contains("ClusterRole src"), "{why}");
}

#[test]
fn bindings_role_refs_and_subjects() {
    let group = |api: &str| format!("[{{apiGroup: '{api}', kind: Group, name: g}}]");
    let ok_ref = format!("{{apiGroup: {G}, kind: ClusterRole, name: view}}");
    for (role_ref, subjects, rule) in [
        (
            ok_ref.clone(),
            group("example.com"),
            "`subjects[0].apiGroup` `example.com` is not supported",
        ),
        (
            ok_ref.clone(),
            format!("[{{apiGroup: {G}, kind: Group, name: g}}, {{kind: Robot, name: r}}]"),
            "`subjects[1].kind` `Robot` is not supported",
        ),
        (
            ok_ref.clone(),
            format!(
                "[{{apiGroup: {G}, kind: Group, name: g}}, {{kind: ServiceAccount, name: sa}}]"
            ),
            "`subjects[1].namespace` is required",
        ),
        (
            ok_ref.clone(),
            format!(
                "[{{apiGroup: {G}, kind: Group, name: g}}, {{kind: ServiceAccount, name: 'Not_DNS', namespace: n}}]"
            ),
            "`Not_DNS` is not a DNS-1123 subdomain",
        ),
        (
            ok_ref.clone(),
            format!(
                "[{{apiGroup: {G}, kind: Group, name: g}}, {{apiGroup: {G}, kind: User, name: ''}}]"
            ),
            "`subjects[1].name` is required",
        ),
        (
            "{apiGroup: example.com, kind: ClusterRole, name: view}".to_owned(),
            group(G),
            "`roleRef.apiGroup` `example.com` is not supported",
        ),
        (
            format!("{{apiGroup: {G}, kind: Role, name: view}}"),
            group(G),
            "`roleRef.kind` `Role` is not supported",
        ),
        (
            format!("{{apiGroup: {G}, kind: ClusterRole, name: ''}}"),
            group(G),
            "`roleRef.name` is required",
        ),
    ] {
        assert_refused_binding(&crb("b", &role_ref, &subjects), rule);
    }
    // Empty API groups are defaulted (pkg/apis/rbac/v1/defaults.go), so accepted.
    let defaulted = crb(
        "b",
        "{kind: ClusterRole, name: view}",
        "[{kind: Group, name: g}, {kind: User, name: u}, {kind: ServiceAccount, name: sa, namespace: ns1}]",
    );
    let rbac = one(&defaulted);
    assert!(rbac.findings.is_empty(), "{:?}", rbac.findings);
    assert_eq!(rbac.bindings[0].subjects.len(), 3);
    // A RoleBinding's namespace is a DNS-1123 label; it may bind a Role.
    let rb = |ns: &str| {
        format!(
            "{{apiVersion: {G}/v1, kind: RoleBinding, metadata: {{name: b, namespace: '{ns}'}}, roleRef: {{apiGroup: {G}, kind: Role, name: r}}, subjects: [{{apiGroup: {G}, kind: Group, name: g}}]}}"
        )
    };
    assert!(one(&rb("team-a")).findings.is_empty());
    assert_refused_binding(
        &rb("Team_A"),
        "`metadata.namespace` `Team_A` is not a DNS-1123 label",
    );
}
