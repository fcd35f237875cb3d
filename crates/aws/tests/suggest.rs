//! RBAC-aware suggestions end to end: the real SDK and kube clients read a simulated cluster's
//! RBAC (through the migrator's own RBAC from infra/kubernetes/migrator-rbac.yaml), the core
//! suggests, the suggestion is applied through the policy file by the engine (migrate, then
//! finalize to API), and the simulator's permission oracle — its own RBAC authoriser — shows
//! that no sampled permission of any principal changed.

mod common;

use aws_credential_types::Credentials;
use eks_auth_aws::StateStore;
use eks_auth_aws::engine::{Engine, Outcome, Settings};
use eks_auth_aws::live::{RbacError, gather_rbac};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::plan::ScopeType;
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::state::Mode;
use eks_auth_core::suggest::{RbacInput, Verdict, plan_with_rbac};
use eks_sim::Sim;
use eks_sim::model::ClusterKey;
use eks_sim::rbac::Request;
use eks_sim::seed::Seed;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "123456789012";
const MIGRATOR: (&str, &str) = ("AKIASUGGESTMIGRATOR1", "suggest-migrator-secret");
const OUTSIDER: (&str, &str) = ("AKIASUGGESTOUTSIDER1", "suggest-outsider-secret");
const ROLES: [&str; 6] = [
    "eks-auth-migrator",
    "platform-admin",
    "readers",
    "deployer",
    "ops",
    "outsider",
];
const MANIFEST: &str = include_str!("../../../infra/kubernetes/migrator-rbac.yaml");
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

/// `read-only` → view cluster-wide; `deployers` → edit in orders and payments; `ops` → a custom
/// ClusterRole; a CRD's role aggregates into edit; the migrator has migrator-rbac.yaml.
const RBAC: &str = r#"
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: widgets-edit, labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}}
  rules: [{apiGroups: [example.com], resources: [widgets], verbs: [create, delete, get, list, patch, update, watch]}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: ops-role}
  rules:
  - {apiGroups: [""], resources: [nodes], verbs: [get, list, watch, patch]}
  - {apiGroups: [""], resources: [pods/exec], verbs: [create]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: read-only}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: read-only}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: deployers, namespace: orders}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: deployers}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: deployers, namespace: payments}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: deployers}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: ops}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops-role}
  subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: ops}]
"#;

const ROWS: &str = r#"- rolearn: arn:aws:iam::123456789012:role/eks-auth-migrator
  username: eks-auth-migrator
  groups: [eks-auth-migrator]
- rolearn: arn:aws:iam::123456789012:role/platform-admin
  username: platform-admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::123456789012:role/readers
  username: reader:{{SessionName}}
  groups: [read-only]
- rolearn: arn:aws:iam::123456789012:role/deployer
  username: deployer
  groups: [deployers]
- rolearn: arn:aws:iam::123456789012:role/ops
  username: ops
  groups: [ops]
"#;

fn indent(text: &str, by: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(by)))
        .collect()
}

/// The manifest's documents as seed list items.
fn manifest_items() -> String {
    MANIFEST
        .split("\n---\n")
        .map(|doc| {
            let body: String = doc
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(|l| format!("  {l}\n"))
                .collect();
            format!("-{}", &body[1..])
        })
        .collect()
}

fn seed() -> Seed {
    let iam: String = ROLES
        .iter()
        .map(|r| format!("      - \"arn:aws:iam::{ACCOUNT}:role/{r}\"\n"))
        .collect();
    let text = format!(
        "settings:\n  update_duration_ms: 100\naccounts:\n  - id: \"{ACCOUNT}\"\n    credentials:\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"arn:aws:sts::{ACCOUNT}:assumed-role/eks-auth-migrator/run-1\" }}\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"arn:aws:sts::{ACCOUNT}:assumed-role/outsider/run-1\" }}\n    iam:\n{iam}    clusters:\n      - name: shop\n        region: us-east-1\n        rbac_objects:\n{}{}        aws_auth:\n          mapRoles: |\n{}          mapUsers: |\n            - userarn: arn:aws:iam::{ACCOUNT}:role/outsider\n              username: outsider\n              groups: [read-only-ish]\n",
        MIGRATOR.0,
        MIGRATOR.1,
        OUTSIDER.0,
        OUTSIDER.1,
        indent(RBAC.trim_start_matches('\n'), 10),
        indent(&manifest_items(), 10),
        indent(ROWS, 12),
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

fn sim_key() -> ClusterKey {
    ClusterKey {
        account: ACCOUNT.to_owned(),
        region: "us-east-1".to_owned(),
        name: "shop".to_owned(),
    }
}

/// Every sampled request: verbs × resources (with groups and subresources) × namespaces, plus a
/// cluster-scoped and a non-resource request.
fn requests() -> Vec<Request> {
    let resources = [
        ("", "pods"),
        ("", "pods/eviction"),
        ("", "pods/exec"),
        ("", "pods/log"),
        ("", "secrets"),
        ("", "configmaps"),
        ("", "serviceaccounts/token"),
        ("", "nodes"),
        ("apps", "deployments"),
        ("apps", "deployments/scale"),
        ("coordination.k8s.io", "leases"),
        ("example.com", "widgets"),
        ("rbac.authorization.k8s.io", "rolebindings"),
    ];
    let mut out = Vec::new();
    for verb in ["get", "list", "create", "update", "patch", "delete"] {
        for (group, resource) in resources {
            for ns in [
                Some("orders"),
                Some("payments"),
                Some("kube-system"),
                Some("other"),
                None,
            ] {
                out.push(Request {
                    verb: verb.to_owned(),
                    api_group: group.to_owned(),
                    resource: resource.to_owned(),
                    namespace: ns.map(str::to_owned),
                    ..Request::default()
                });
            }
        }
        out.push(Request {
            verb: verb.to_owned(),
            non_resource_url: Some("/healthz".to_owned()),
            ..Request::default()
        });
    }
    out
}

/// For every principal (as a session): the sampled requests it may make.
fn permissions(sim: &Sim) -> BTreeMap<String, Vec<bool>> {
    let requests = requests();
    ROLES
        .iter()
        .map(|role| {
            let caller = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s-1");
            let allowed = requests
                .iter()
                .map(|r| sim.may(&sim_key(), &caller, r).expect("oracle answers"))
                .collect();
            ((*role).to_owned(), allowed)
        })
        .collect()
}

struct Stack {
    sim: Sim,
    _moto: common::Moto,
    _dir: tempfile::TempDir,
    config: aws_config::SdkConfig,
    store: StateStore,
}

async fn stack() -> Option<Stack> {
    let moto = common::Moto::start()?;
    let sim = Sim::start(seed()).await.expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = eks_sim::harness::sdk_config(
        &moto.url,
        &sim.url(),
        dir.path(),
        Credentials::new(MIGRATOR.0, MIGRATOR.1, None, None, "suggest-test"),
    )
    .await;
    let iam = aws_sdk_iam::Client::new(&config);
    for role in ROLES {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .expect("CreateRole");
    }
    let store = StateStore::from_config(&config, "eam-suggest");
    store
        .create_table(Duration::from_secs(30))
        .await
        .expect("create table");
    Some(Stack {
        sim,
        _moto: moto,
        _dir: dir,
        config,
        store,
    })
}

#[tokio::test]
async fn the_exact_suggestion_applied_through_the_policy_file_keeps_every_permission() {
    let Some(s) = stack().await else { return };
    // Read live, with the migrator's own RBAC (migrator-rbac.yaml's ClusterRole).
    let gathered = gather_rbac(&s.config, "shop").await.expect("gather RBAC");
    assert!(
        gathered
            .access_policies
            .iter()
            .any(|p| p == "AmazonEKSViewPolicy")
    );
    let rbac = gathered.rbac();
    assert!(rbac.findings.is_empty(), "{:#?}", rbac.findings);
    let auth = AwsAuth::parse_data(&s.sim.with_world(|w| w.clusters[&sim_key()].aws_auth_data()));
    let input = RbacInput {
        rbac: &rbac,
        listed_policies: Some(&gathered.access_policies),
    };
    let plan = plan_with_rbac(&auth, None, &MigrationPolicy::default(), &input);
    let report = plan.rbac.as_ref().expect("rbac section");
    let subject = |name: &str| {
        report
            .subjects
            .iter()
            .find(|x| x.name == name)
            .unwrap_or_else(|| panic!("{name}: {report:#?}"))
    };
    let ro = subject("read-only");
    assert_eq!(ro.verdict, Verdict::Exact);
    let suggested = ro.suggested.as_ref().expect("suggested");
    assert_eq!(suggested.policy, "AmazonEKSViewPolicy");
    assert_eq!(suggested.access_scope.scope_type, ScopeType::Cluster);
    let deployers = subject("deployers");
    assert_eq!(deployers.verdict, Verdict::Lossy);
    let lost: Vec<&str> = deployers.candidates[0]
        .lost
        .iter()
        .map(|d| d.text.as_str())
        .collect();
    assert!(
        lost.contains(&"create pods/eviction in orders,payments"),
        "{lost:?}"
    );
    assert!(
        lost.iter().any(|l| l.contains("widgets.example.com")),
        "{lost:?}"
    );
    assert_eq!(subject("ops").verdict, Verdict::None);

    // Apply the snippet (the exact suggestion) through the policy file, migrate and finalize.
    let policy = MigrationPolicy::parse(&format!("version: 1\n{}", report.policy_snippet))
        .expect("the snippet is a policy file");
    let before = permissions(&s.sim);
    assert!(before["readers"].iter().any(|a| *a) && before["deployer"].iter().any(|a| *a));
    let mut settings = Settings::new("suggest-worker");
    settings.soak = Duration::ZERO;
    settings.update_poll = Duration::from_millis(50);
    settings.policy = policy;
    settings.break_glass_principal = Some(format!("arn:aws:iam::{ACCOUNT}:role/platform-admin"));
    let engine = Engine::new(&s.config, &s.store, &settings);
    let mut done = false;
    for _ in 0..60 {
        let report = engine
            .run(
                "shop",
                Mode::Finalize,
                Instant::now() + Duration::from_secs(60),
                &|_| {},
            )
            .await
            .expect("engine run");
        match report.outcome {
            Outcome::Done => {
                done = true;
                break;
            }
            Outcome::Blocked(b) => panic!("blocked: {b:?}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert!(done, "finalize did not finish");
    let mode = s
        .sim
        .with_world(|w| w.clusters[&sim_key()].mode.as_str().to_owned());
    assert_eq!(mode, "API");
    // The readers' entry carries the policy instead of the group.
    let entry = s.sim.with_world(|w| {
        w.clusters[&sim_key()].entries[&format!("arn:aws:iam::{ACCOUNT}:role/readers")].clone()
    });
    assert!(entry.groups.is_empty(), "{entry:?}");
    assert!(
        entry
            .policies
            .keys()
            .any(|p| p.ends_with("/AmazonEKSViewPolicy"))
    );
    let after = permissions(&s.sim);
    let requests = requests();
    for (role, allowed) in &before {
        for (i, (b, a)) in allowed.iter().zip(&after[role]).enumerate() {
            assert_eq!(b, a, "{role}: {:?} changed from {b} to {a}", requests[i]);
        }
    }
}

#[tokio::test]
async fn a_principal_without_rbac_read_is_told_what_to_grant() {
    let Some(s) = stack().await else { return };
    let outsider = eks_sim::harness::sdk_config(
        &s._moto.url,
        &s.sim.url(),
        s._dir.path(),
        Credentials::new(OUTSIDER.0, OUTSIDER.1, None, None, "suggest-test"),
    )
    .await;
    match gather_rbac(&outsider, "shop").await {
        Err(RbacError::Denied(d)) => {
            assert_eq!(d.code, 403);
            let text = d.to_string();
            assert!(text.contains("get and list on clusterroles"), "{text}");
            assert!(text.contains("migrator-rbac.yaml"), "{text}");
            assert!(!text.contains(OUTSIDER.1), "no secret in errors");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
