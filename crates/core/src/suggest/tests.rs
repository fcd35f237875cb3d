//! Suggestion rule cases: exact, lossy, broader and no match; scopes; mappings checked against
//! `accept_differences`; unbound and unmapped groups; bad RBAC input never crashes and never
//! feeds a suggestion.

use super::*;
use crate::access_entry::ScopeType;
use crate::finding::FindingCode as C;
use crate::rbac::{Difference, Rbac, SubjectKind, bootstrap};
use std::collections::BTreeMap;

/// The ops team's own ClusterRole: nodes and pod exec — nothing an access policy matches.
pub(crate) const OPS_ROLE: &str = r#"
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: ops-role}
  rules:
  - {apiGroups: [""], resources: [nodes], verbs: [get, list, watch, patch]}
  - {apiGroups: [""], resources: [pods/exec], verbs: [create]}
"#;

/// A CRD's role that aggregates into `edit` (and so into `admin`).
pub(crate) const CRD_ROLE: &str = r#"
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata:
    name: widgets-edit
    labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}
  rules:
  - {apiGroups: [example.com], resources: [widgets], verbs: [create, delete, get, list, patch, update, watch]}
"#;

pub(crate) fn crb(name: &str, role: &str, group: &str) -> String {
    format!(
        "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata: {{name: {name}}}\n  roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\n  subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]\n"
    )
}

pub(crate) fn rb(ns: &str, name: &str, kind: &str, role: &str, subject: (&str, &str)) -> String {
    format!(
        "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata: {{name: {name}, namespace: {ns}}}\n  roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {kind}, name: {role}}}\n  subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: {}, name: {}}}]\n",
        subject.0, subject.1
    )
}

/// A dump: the bootstrap roles plus `items` (YAML list items).
pub(crate) fn dump(items: &str) -> Rbac {
    let mut rbac =
        Rbac::parse(&format!("apiVersion: v1\nkind: List\nitems:\n{items}")).expect("dump parses");
    rbac.add_missing_cluster_roles(bootstrap::cluster_role_list());
    rbac
}

/// The done-when cluster: `read-only` bound to `view` cluster-wide, `deployers` to `edit` in two
/// namespaces, `ops` to a custom ClusterRole, and a CRD role aggregating into `edit`.
pub(crate) fn done_when_rbac() -> Rbac {
    dump(&format!(
        "{OPS_ROLE}{CRD_ROLE}{}{}{}{}",
        crb("read-only", "view", "read-only"),
        rb(
            "orders",
            "deployers",
            "ClusterRole",
            "edit",
            ("Group", "deployers")
        ),
        rb(
            "payments",
            "deployers",
            "ClusterRole",
            "edit",
            ("Group", "deployers")
        ),
        crb("ops", "ops-role", "ops"),
    ))
}

pub(crate) const DONE_WHEN_ROWS: &str = "- rolearn: arn:aws:iam::111122223333:role/readers\n  username: reader:{{SessionName}}\n  groups: [read-only]\n- rolearn: arn:aws:iam::111122223333:role/deploy\n  username: deploy\n  groups: [deployers]\n- rolearn: arn:aws:iam::111122223333:role/ops\n  username: ops\n  groups: [ops]\n";

fn roles(yaml: &str) -> AwsAuth {
    AwsAuth::parse_data(&BTreeMap::from([("mapRoles".to_owned(), yaml.to_owned())]))
}

fn suggest(auth: &AwsAuth, rbac: &Rbac, policy: &MigrationPolicy) -> Plan {
    plan_with_rbac(
        auth,
        None,
        policy,
        &RbacInput {
            rbac,
            listed_policies: None,
        },
    )
}

fn report(plan: &Plan) -> &RbacReport {
    plan.rbac.as_ref().expect("rbac section")
}

fn subject<'p>(plan: &'p Plan, name: &str) -> &'p SubjectReport {
    report(plan)
        .subjects
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no subject {name}"))
}

fn codes(plan: &Plan) -> Vec<C> {
    plan.findings.iter().map(|f| f.code).collect()
}

fn texts(d: &[Difference]) -> Vec<&str> {
    d.iter().map(|d| d.text.as_str()).collect()
}

#[test]
fn the_done_when_cluster() {
    let plan = suggest(
        &roles(DONE_WHEN_ROWS),
        &done_when_rbac(),
        &MigrationPolicy::default(),
    );
    let ro = subject(&plan, "read-only");
    assert_eq!(ro.verdict, Verdict::Exact);
    let s = ro.suggested.as_ref().expect("suggested");
    assert_eq!(
        (s.policy.as_str(), s.access_scope.scope_type),
        ("AmazonEKSViewPolicy", ScopeType::Cluster)
    );
    let dep = subject(&plan, "deployers");
    assert_eq!(dep.verdict, Verdict::Lossy);
    assert_eq!(dep.suggested, None);
    let c = &dep.candidates[0];
    assert_eq!(c.policy, "AmazonEKSEditPolicy");
    assert_eq!(c.access_scope.namespaces, ["orders", "payments"]);
    assert_eq!(
        texts(&c.lost),
        vec![
            "create pods/eviction in orders,payments",
            "create serviceaccounts/token in orders,payments",
            "create,delete,deletecollection,get,list,patch,update,watch leases.coordination.k8s.io in orders,payments",
            "create,delete,get,list,patch,update,watch widgets.example.com in orders,payments",
        ]
    );
    let ops = subject(&plan, "ops");
    assert_eq!((ops.verdict, &ops.suggested), (Verdict::None, &None));
    let counts = report(&plan).counts;
    assert_eq!(
        (counts.groups, counts.exact, counts.lossy, counts.none),
        (3, 1, 1, 1)
    );
    for code in [C::GroupPolicyExact, C::GroupPolicyLossy, C::GroupPolicyNone] {
        assert!(codes(&plan).contains(&code), "{code}");
    }
    let snippet = &report(&plan).policy_snippet;
    let parsed = MigrationPolicy::parse(&format!("version: 1\n{snippet}")).expect("snippet parses");
    assert_eq!(parsed.group_policies.len(), 1);
    assert_eq!(parsed.group_policies[0].group, "read-only");
    assert!(!parsed.group_policies[0].keep_group);
    assert!(
        snippet.contains("  #     - \"create pods/eviction in orders,payments\"\n"),
        "{snippet}"
    );
    assert!(!plan.blocks_api_mode, "suggestions never block");
}

#[test]
fn applying_the_exact_suggestion_is_checked_and_keeps_the_rows() {
    let auth = roles(DONE_WHEN_ROWS);
    let rbac = done_when_rbac();
    let first = suggest(&auth, &rbac, &MigrationPolicy::default());
    let policy = MigrationPolicy::parse(&format!("version: 1\n{}", report(&first).policy_snippet))
        .expect("snippet");
    let plan = suggest(&auth, &rbac, &policy);
    let ro = subject(&plan, "read-only");
    let check = ro.mapping.as_ref().expect("checked");
    assert_eq!(
        (check.candidate.fit, check.unaccepted.len()),
        (Fit::Exact, 0)
    );
    assert_eq!(plan.entries[0].action, Action::Create);
    assert!(plan.entries[0].kubernetes_groups.is_empty());
    assert_eq!(
        plan.entries[0].access_policies[0].name(),
        "AmazonEKSViewPolicy"
    );
    assert!(!plan.blocks_api_mode);
    assert!(
        !report(&plan)
            .policy_snippet
            .contains("group: \"read-only\""),
        "a mapped group leaves the snippet"
    );
}

#[test]
fn a_lossy_mapping_blocks_its_rows_until_every_difference_is_accepted() {
    let auth = roles(DONE_WHEN_ROWS);
    let rbac = done_when_rbac();
    let mapping = "version: 1\ngroup_policies:\n  - group: deployers\n    policy: AmazonEKSEditPolicy\n    access_scope: {type: namespace, namespaces: [orders, payments]}\n    keep_group: false\n";
    let plan = suggest(
        &auth,
        &rbac,
        &MigrationPolicy::parse(mapping).expect("policy"),
    );
    assert_eq!(plan.entries[1].action, Action::Blocked);
    assert!(plan.blocks_api_mode);
    let check = subject(&plan, "deployers")
        .mapping
        .clone()
        .expect("checked");
    assert_eq!(check.candidate.fit, Fit::Narrower);
    assert_eq!(check.unaccepted.len(), 4);
    // Accept three of four: still blocked.
    let accept = |items: &[String]| {
        let list: String = items.iter().map(|t| format!("      - \"{t}\"\n")).collect();
        MigrationPolicy::parse(&format!("{mapping}    accept_differences:\n{list}"))
            .expect("policy")
    };
    let plan = suggest(&auth, &rbac, &accept(&check.unaccepted[..3]));
    assert_eq!(plan.entries[1].action, Action::Blocked);
    // Accept all: created, with a warning that names what is lost.
    let plan = suggest(&auth, &rbac, &accept(&check.unaccepted));
    assert_eq!(plan.entries[1].action, Action::Create);
    assert!(!plan.blocks_api_mode);
    let f = plan
        .findings
        .iter()
        .find(|f| f.code == C::GroupPolicyLossy)
        .expect("lossy finding");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message
            .contains("create pods/eviction in orders,payments"),
        "{}",
        f.message
    );
    // Keeping the group loses nothing, but a policy broader than the group still blocks.
    let keep = MigrationPolicy::parse(&mapping.replace("keep_group: false", "keep_group: true"))
        .expect("policy");
    let plan = suggest(&auth, &rbac, &keep);
    assert_eq!(plan.entries[1].action, Action::Create);
    let broad =
        "version: 1\ngroup_policies:\n  - group: read-only\n    policy: AmazonEKSAdminViewPolicy\n";
    let plan = suggest(
        &auth,
        &rbac,
        &MigrationPolicy::parse(broad).expect("policy"),
    );
    assert_eq!(plan.entries[0].action, Action::Blocked);
    let f = plan
        .findings
        .iter()
        .find(|f| f.severity == Severity::Blocker)
        .expect("blocker");
    assert_eq!(f.code, C::GroupPolicyBroader);
    assert!(
        f.message.contains("get,list,watch *.* cluster-wide"),
        "{}",
        f.message
    );
}

#[test]
fn broader_candidates_and_users_with_bindings() {
    let pods_reader = "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata: {name: pods-reader}\n  rules:\n  - {apiGroups: [\"\"], resources: [pods], verbs: [get, list, watch]}\n";
    let rbac = dump(&format!(
        "{pods_reader}{}{}",
        crb("pods", "pods-reader", "pod-readers"),
        rb("team-a", "alice", "ClusterRole", "view", ("User", "alice")),
    ));
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/p\n  username: alice\n  groups: [pod-readers]\n",
    );
    let plan = suggest(&auth, &rbac, &MigrationPolicy::default());
    let p = subject(&plan, "pod-readers");
    assert_eq!(p.verdict, Verdict::Broader);
    assert_eq!(p.candidates[0].policy, "AmazonEKSViewPolicy");
    assert!(
        p.candidates[0]
            .added
            .iter()
            .any(|d| d.text == "get,list,watch configmaps cluster-wide")
    );
    let alice = subject(&plan, "alice");
    assert_eq!(alice.kind, SubjectKind::User);
    assert_eq!(alice.verdict, Verdict::Exact);
    let s = alice.suggested.as_ref().expect("suggested");
    assert_eq!(s.access_scope.namespaces, ["team-a"]);
    assert!(
        !report(&plan).policy_snippet.contains("alice"),
        "the policy file maps groups only"
    );
}

#[test]
fn unbound_groups_and_bindings_to_groups_no_row_carries() {
    let rbac = dump(&crb("legacy", "view", "old-team"));
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/x\n  username: x\n  groups: [typo-team, system:masters]\n",
    );
    let plan = suggest(&auth, &rbac, &MigrationPolicy::default());
    assert_eq!(subject(&plan, "typo-team").verdict, Verdict::Unbound);
    assert!(
        report(&plan)
            .subjects
            .iter()
            .all(|s| s.name != "system:masters")
    );
    let got: Vec<(C, Severity)> = plan
        .findings
        .iter()
        .filter(|f| matches!(f.code, C::GroupUnbound | C::BindingGroupUnmapped))
        .map(|f| (f.code, f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            (C::BindingGroupUnmapped, Severity::Info),
            (C::GroupUnbound, Severity::Warning)
        ]
    );
    let counts = report(&plan).counts;
    assert_eq!((counts.unbound, counts.unmapped_binding_groups), (1, 1));
}

#[test]
fn list_access_policies_limits_candidates_and_names_unknown_policies() {
    let listed = vec![
        "AmazonEKSEditPolicy".to_owned(),
        "AmazonEKSFuturePolicy".to_owned(),
    ];
    let plan = plan_with_rbac(
        &roles(DONE_WHEN_ROWS),
        None,
        &MigrationPolicy::default(),
        &RbacInput {
            rbac: &done_when_rbac(),
            listed_policies: Some(&listed),
        },
    );
    let ro = subject(&plan, "read-only");
    assert_eq!(ro.verdict, Verdict::Broader, "View is not offered; Edit is");
    assert_eq!(ro.candidates[0].policy, "AmazonEKSEditPolicy");
    let f = plan
        .findings
        .iter()
        .find(|f| f.code == C::AccessPolicyUnknown)
        .expect("unknown policy finding");
    assert!(f.message.contains("AmazonEKSFuturePolicy"));
    assert!(report(&plan).sources.list_access_policies);
    let mapped = MigrationPolicy::parse(
        "version: 1\ngroup_policies: [{group: ops, policy: AmazonEKSFuturePolicy}]\n",
    )
    .expect("policy");
    let plan = suggest(&roles(DONE_WHEN_ROWS), &done_when_rbac(), &mapped);
    let f = plan
        .findings
        .iter()
        .find(|f| f.code == C::AccessPolicyUnknown)
        .expect("unchecked mapping");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(plan.entries[2].action, Action::Create, "applied as written");
}

#[test]
fn aggregation_cycles_and_unreadable_objects_never_feed_a_suggestion() {
    let cycle = "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata: {name: a, labels: {x: a}}\n  aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: b}}]}\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata: {name: b, labels: {x: b}}\n  aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: a}}]}\n";
    let broken = "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata: {name: broken}\n  rules: [{apiGroups: [\"\"], resources: pods, verbs: [get]}]\n";
    let rbac = dump(&format!(
        "{cycle}{broken}{}{}{}",
        crb("a", "a", "cyclers"),
        crb("broken", "broken", "breakers"),
        crb("ro", "view", "read-only"),
    ));
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/x\n  username: x\n  groups: [cyclers, breakers, read-only]\n",
    );
    let plan = suggest(&auth, &rbac, &MigrationPolicy::default());
    for g in ["cyclers", "breakers"] {
        let s = subject(&plan, g);
        assert_eq!(
            (s.verdict, &s.suggested),
            (Verdict::Unreadable, &None),
            "{g}"
        );
    }
    assert_eq!(subject(&plan, "read-only").verdict, Verdict::Exact);
    let c = codes(&plan);
    assert!(c.contains(&C::RbacAggregationCycle) && c.contains(&C::RbacInvalid));
    // A binding whose subjects cannot be read could grant anyone anything.
    let rbac = dump(&format!(
        "{}- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata: {{name: mystery}}\n  roleRef: {{kind: ClusterRole, name: cluster-admin}}\n  subjects: oops\n",
        crb("ro", "view", "read-only")
    ));
    let plan = suggest(&auth, &rbac, &MigrationPolicy::default());
    assert!(
        report(&plan)
            .subjects
            .iter()
            .all(|s| s.verdict == Verdict::Unreadable)
    );
    assert!(report(&plan).policy_snippet.contains("group_policies: []"));
}

#[test]
fn bad_dumps_are_one_line_errors_or_findings() {
    for (text, needle) in [
        ("", "empty"),
        ("{", "not YAML or JSON"),
        (
            "apiVersion: v1\nkind: ConfigMap\ndata: {}\n",
            "a `ConfigMap`",
        ),
        ("- 1\n- 2\n", "a list"),
        ("kind: List\nitems: 3\n", "`items` is a number"),
    ] {
        let err = Rbac::parse(text).expect_err(text).to_string();
        assert!(err.contains(needle), "{err} should mention {needle}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let rbac = Rbac::parse(
        "kind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: shouty}, rules: [{apiGroups: [''], resources: [pods], verbs: [GET]}]}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: rb, namespace: x}, roleRef: {kind: Nope, name: r}, subjects: [{kind: Group, name: g}]}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: sel}, aggregationRule: {clusterRoleSelectors: [{matchExpressions: [{key: a, operator: Near}]}]}}\n",
    )
    .expect("a list");
    let got: Vec<(C, Severity)> = rbac.findings.iter().map(|f| (f.code, f.severity)).collect();
    assert_eq!(
        got,
        vec![
            (C::RbacInvalid, Severity::Info),
            (C::RbacUnknownVerb, Severity::Warning),
            (C::RbacInvalid, Severity::Warning),
            (C::RbacInvalid, Severity::Warning),
        ]
    );
    assert!(rbac.unreadable.subjects.keys().any(|s| s.name == "g"));
    assert!(
        rbac.unreadable.cluster_roles["sel"].contains("`Near` is not a valid selector operator")
    );
    // A single object is read as a one-item list; JSON works like YAML.
    let one = Rbac::parse(r#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"x"},"rules":[]}"#)
        .expect("one object");
    assert!(one.cluster_roles.contains_key("x"));
}

#[test]
fn suggestions_in_api_mode_never_block() {
    let mapping = MigrationPolicy::parse(
        "version: 1\ngroup_policies: [{group: ops, policy: AmazonEKSViewPolicy, keep_group: false}]\n",
    )
    .expect("policy");
    let facts = ClusterFacts {
        authentication_mode: Some(AuthenticationMode::Api),
        ..ClusterFacts::default()
    };
    let plan = plan_with_rbac(
        &roles(DONE_WHEN_ROWS),
        Some(&facts),
        &mapping,
        &RbacInput {
            rbac: &done_when_rbac(),
            listed_policies: None,
        },
    );
    assert!(!plan.blocks_api_mode);
}

#[test]
fn a_binding_naming_a_subject_twice_is_listed_once() {
    let twice = "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata: {name: twice}\n  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n  subjects:\n  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: read-only}\n  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: read-only}\n  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: nobody-maps-me}\n  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: nobody-maps-me}\n";
    let plan = suggest(
        &roles(
            "- rolearn: arn:aws:iam::111122223333:role/r\n  username: r\n  groups: [read-only]\n",
        ),
        &dump(twice),
        &MigrationPolicy::default(),
    );
    let ro = subject(&plan, "read-only");
    assert_eq!(ro.bindings.len(), 1, "{:?}", ro.bindings);
    assert_eq!(ro.verdict, Verdict::Exact);
    let unmapped: Vec<&str> = plan
        .findings
        .iter()
        .filter(|f| f.code == C::BindingGroupUnmapped)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(unmapped.len(), 1, "{unmapped:?}");
    assert_eq!(
        unmapped[0].matches("ClusterRoleBinding/twice").count(),
        1,
        "{}",
        unmapped[0]
    );
}

#[test]
fn a_partial_dump_assumes_the_bootstrap_roles_with_a_note() {
    // `kubectl get clusterrolebindings,rolebindings -A -o yaml` plus the team's own roles: no
    // bootstrap ClusterRoles. Every cluster has them, so bindings to `view` and `edit` still bind.
    let partial = Rbac::parse(&format!(
        "apiVersion: v1\nkind: List\nitems:\n{CRD_ROLE}{}{}",
        crb("read-only", "view", "read-only"),
        rb(
            "orders",
            "deployers",
            "ClusterRole",
            "edit",
            ("Group", "deployers")
        ),
    ))
    .expect("dump parses");
    let plan = suggest(
        &roles(DONE_WHEN_ROWS),
        &partial,
        &MigrationPolicy::default(),
    );
    assert_eq!(subject(&plan, "read-only").verdict, Verdict::Exact);
    let dep = subject(&plan, "deployers");
    assert_eq!(dep.verdict, Verdict::Lossy);
    assert!(
        texts(&dep.candidates[0].lost)
            .iter()
            .any(|t| t.contains("widgets.example.com")),
        "the dump's CRD role aggregates into the assumed edit"
    );
    let notes: Vec<&crate::finding::Finding> = plan
        .findings
        .iter()
        .filter(|f| f.code == C::RbacBootstrapAssumed)
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].severity, Severity::Info);
    assert!(
        notes[0].message.contains("Kubernetes 1.28")
            && notes[0]
                .message
                .contains("cluster-admin, admin, edit, view"),
        "{}",
        notes[0].message
    );
    assert!(!codes(&plan).contains(&C::RbacRoleNotFound));
    assert_eq!(
        report(&plan).sources.assumed_bootstrap_roles.len(),
        bootstrap::ASSUMED_WHEN_MISSING.len()
    );
    // A complete dump assumes nothing.
    let full = suggest(
        &roles(DONE_WHEN_ROWS),
        &done_when_rbac(),
        &MigrationPolicy::default(),
    );
    assert!(!codes(&full).contains(&C::RbacBootstrapAssumed));
    assert!(report(&full).sources.assumed_bootstrap_roles.is_empty());
}
