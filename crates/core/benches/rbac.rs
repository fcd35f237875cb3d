//! RBAC-aware suggestions at scale: 500 aws-auth rows, 2,000 bindings, 300 ClusterRoles
//! (Kubernetes' 31 bootstrap roles, 239 team roles, 30 CRD roles aggregating into edit/view).

use criterion::{Criterion, criterion_group, criterion_main};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::rbac::{Rbac, bootstrap};
use eks_auth_core::suggest::{RbacInput, plan_with_rbac};
use std::collections::BTreeMap;
use std::hint::black_box;

const ROWS: usize = 500;
const BINDINGS: usize = 2_000;
const TEAM_ROLES: usize = 239;
const CRD_ROLES: usize = 30;
const GROUPS: usize = 400;
const NAMESPACES: usize = 120;

fn aws_auth() -> AwsAuth {
    let mut rows = String::new();
    for i in 0..ROWS {
        let groups = format!("[team-{}, team-{}]", i % GROUPS, (i * 7 + 3) % GROUPS);
        rows.push_str(&format!(
            "- rolearn: arn:aws:iam::111122223333:role/role-{i}\n  username: user-{i}\n  groups: {groups}\n"
        ));
    }
    AwsAuth::parse_data(&BTreeMap::from([("mapRoles".to_owned(), rows)]))
}

/// A kubectl-style dump of everything but the bootstrap roles.
fn dump() -> String {
    let mut items = String::from("apiVersion: v1\nkind: List\nitems:\n");
    let verbs = [
        "[get, list, watch]",
        "[create, update, patch, delete]",
        "['*']",
    ];
    let resources = [
        "[pods, pods/log]",
        "[deployments, deployments/scale]",
        "[configmaps, secrets]",
        "[jobs, cronjobs]",
        "[services, endpoints]",
    ];
    let groups = ["['']", "[apps]", "['']", "[batch]", "['']"];
    for i in 0..TEAM_ROLES {
        items.push_str(&format!(
            "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata: {{name: team-role-{i}}}\n  rules:\n  - {{apiGroups: {}, resources: {}, verbs: {}}}\n  - {{apiGroups: {}, resources: {}, verbs: [get, list]}}\n",
            groups[i % 5],
            resources[i % 5],
            verbs[i % 3],
            groups[(i + 2) % 5],
            resources[(i + 2) % 5],
        ));
    }
    for i in 0..CRD_ROLES {
        let label = if i % 2 == 0 {
            "aggregate-to-edit"
        } else {
            "aggregate-to-view"
        };
        items.push_str(&format!(
            "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  metadata: {{name: crd-{i}, labels: {{rbac.authorization.k8s.io/{label}: 'true'}}}}\n  rules:\n  - {{apiGroups: [crd{i}.example.com], resources: [things, things/status], verbs: [get, list, watch, create, update, patch, delete]}}\n"
        ));
    }
    let builtin = ["view", "edit", "admin"];
    for i in 0..BINDINGS {
        let group = format!("team-{}", i % GROUPS);
        let role = if i % 4 == 0 {
            format!("team-role-{}", i % TEAM_ROLES)
        } else {
            builtin[i % 3].to_owned()
        };
        if i % 10 == 0 {
            items.push_str(&format!(
                "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  metadata: {{name: crb-{i}}}\n  roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\n  subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]\n"
            ));
        } else {
            items.push_str(&format!(
                "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata: {{name: rb-{i}, namespace: ns-{}}}\n  roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\n  subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]\n",
                i % NAMESPACES
            ));
        }
    }
    items
}

fn bench(c: &mut Criterion) {
    let auth = aws_auth();
    let text = dump();
    let policy = MigrationPolicy::default();
    c.bench_function("parse RBAC dump (269 ClusterRoles, 2,000 bindings)", |b| {
        b.iter(|| Rbac::parse(black_box(&text)))
    });
    let mut rbac = Rbac::parse(&text).expect("dump");
    rbac.add_missing_cluster_roles(bootstrap::cluster_role_list());
    assert_eq!(rbac.cluster_roles.len(), 300);
    assert_eq!(rbac.bindings.len(), BINDINGS);
    let input = RbacInput {
        rbac: &rbac,
        listed_policies: None,
    };
    let plan = plan_with_rbac(&auth, None, &policy, &input);
    assert_eq!(plan.rbac.as_ref().map(|r| r.subjects.len()), Some(GROUPS));
    c.bench_function(
        "plan 500 rows with suggestions (2,000 bindings, 300 ClusterRoles)",
        |b| b.iter(|| plan_with_rbac(black_box(&auth), None, &policy, &input)),
    );
    c.bench_function("plan 500 rows without RBAC (baseline)", |b| {
        b.iter(|| eks_auth_core::plan(black_box(&auth), None, &policy))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
