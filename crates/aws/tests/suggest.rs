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
        common::create_principal(&iam, "role", "/", role).await;
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
                Instant::now() + common::RUN_DEADLINE,
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

/// A small deterministic generator (xorshift64*): the property below draws its clusters from a
/// seed it prints, so a failure can be replayed with `EAM_RBAC_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g3"];
const TEAM_ROLES: [&str; 4] = ["t0", "t1", "t2", "t3"];

/// One random cluster's rbac_objects and mapRoles rows (besides the migrator and the admin).
fn random_cluster(rng: &mut Rng) -> (String, String) {
    let verbs = ["get", "list", "watch", "create", "update", "delete"];
    let resources = [
        "[\"\"], resources: [pods]",
        "[\"\"], resources: [pods/exec]",
        "[\"\"], resources: [secrets]",
        "[\"\"], resources: [configmaps]",
        "[apps], resources: [deployments, deployments/scale]",
        "[coordination.k8s.io], resources: [leases]",
    ];
    let mut objects = String::new();
    for i in 0..2 {
        let rules: Vec<String> = (0..1 + rng.below(3))
            .map(|_| {
                format!(
                    "{{apiGroups: {}, verbs: [{}, {}]}}",
                    rng.pick(&resources),
                    rng.pick(&verbs),
                    rng.pick(&verbs)
                )
            })
            .collect();
        objects.push_str(&format!(
            "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {{name: custom-{i}}}, rules: [{}]}}\n",
            rules.join(", ")
        ));
    }
    if rng.below(2) == 0 {
        let into = rng.pick(&["view", "edit"]);
        objects.push_str(&format!(
            "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {{name: crd, labels: {{rbac.authorization.k8s.io/aggregate-to-{into}: \"true\"}}}}, rules: [{{apiGroups: [example.com], resources: [widgets], verbs: [get, create]}}]}}\n"
        ));
    }
    for i in 0..rng.below(6) + 1 {
        let group = rng.pick(&GROUPS);
        let role = rng.pick(&["view", "edit", "admin", "custom-0", "custom-1"]);
        match rng.pick(&["", "orders", "payments"]) {
            "" => objects.push_str(&format!(
                "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {{name: b{i}}}, roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}, subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]}}\n"
            )),
            ns => objects.push_str(&format!(
                "- {{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {{name: b{i}, namespace: {ns}}}, roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}, subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]}}\n"
            )),
        }
    }
    let rows: String = TEAM_ROLES
        .iter()
        .map(|r| {
            let (a, b) = (rng.pick(&GROUPS), rng.pick(&GROUPS));
            format!("- rolearn: arn:aws:iam::{ACCOUNT}:role/{r}\n  username: {r}\n  groups: [{a}, {b}]\n")
        })
        .collect();
    (objects, rows)
}

/// Whether an accepted difference names `r`.
fn names(d: &eks_auth_core::rbac::Difference, r: &Request) -> bool {
    let has = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
    if !has(&d.verbs, &r.verb) {
        return false;
    }
    if let Some(url) = &d.non_resource_url {
        return r
            .non_resource_url
            .as_deref()
            .is_some_and(|u| match url.strip_suffix('*') {
                Some(p) => u.starts_with(p),
                None => u == url,
            });
    }
    let resource = d.resource.clone().unwrap_or_default();
    let sub = r.resource.split_once('/').map(|(_, s)| s);
    let resource_ok = resource == "*"
        || resource == r.resource
        || sub.is_some_and(|s| resource.strip_prefix("*/") == Some(s));
    let ns_ok = d.namespaces.is_empty()
        || r.namespace.as_deref().is_some_and(|ns| {
            d.namespaces.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => ns.starts_with(prefix),
                None => p == ns,
            })
        });
    r.non_resource_url.is_none()
        && ns_ok
        && resource_ok
        && has(&[d.api_group.clone().unwrap_or_default()], &r.api_group)
        && d.resource_name.as_ref().is_none_or(|n| *n == r.name)
}

/// Randomised: clusters of random RBAC and aws-auth; every exact suggestion applied, and each
/// lossy or broader candidate accepted (all its differences) or not at random; after migrate
/// and finalize every principal may do exactly what it could before on every sampled request,
/// except what an accepted difference names.
#[tokio::test]
async fn after_finalize_only_accepted_differences_change_any_permission() {
    let Some(s) = stack().await else { return };
    let seed = std::env::var("EAM_RBAC_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("EAM_RBAC_SEED={seed}");
    let mut rng = Rng(seed);
    let clusters = 6;
    let mut seed_text = format!(
        "settings:\n  update_duration_ms: 100\naccounts:\n  - id: \"{ACCOUNT}\"\n    credentials:\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"arn:aws:sts::{ACCOUNT}:assumed-role/eks-auth-migrator/run-1\" }}\n    iam:\n",
        MIGRATOR.0, MIGRATOR.1
    );
    for r in ROLES.iter().chain(&TEAM_ROLES) {
        seed_text.push_str(&format!("      - \"arn:aws:iam::{ACCOUNT}:role/{r}\"\n"));
    }
    seed_text.push_str("    clusters:\n");
    for c in 0..clusters {
        let (objects, rows) = random_cluster(&mut rng);
        let fixed = "- rolearn: arn:aws:iam::123456789012:role/eks-auth-migrator\n  username: eks-auth-migrator\n  groups: [eks-auth-migrator]\n- rolearn: arn:aws:iam::123456789012:role/platform-admin\n  username: platform-admin\n  groups: [system:masters]\n";
        seed_text.push_str(&format!(
            "      - name: random-{c}\n        region: us-east-1\n        rbac_objects:\n{}{}        aws_auth:\n          mapRoles: |\n{}",
            indent(&objects, 10),
            indent(&manifest_items(), 10),
            indent(&format!("{fixed}{rows}"), 12),
        ));
    }
    s.sim
        .load_seed(Seed::parse(&seed_text).unwrap_or_else(|e| panic!("seed: {e:?}\n{seed_text}")))
        .expect("seed loads");
    let iam = aws_sdk_iam::Client::new(&s.config);
    for role in TEAM_ROLES {
        common::create_principal(&iam, "role", "/", role).await;
    }
    let requests = requests();
    let (mut applied, mut changed) = (0, 0);
    for c in 0..clusters {
        let name = format!("random-{c}");
        let key = ClusterKey {
            name: name.clone(),
            ..sim_key()
        };
        let gathered = gather_rbac(&s.config, &name).await.expect("gather RBAC");
        let rbac = gathered.rbac();
        let auth = AwsAuth::parse_data(&s.sim.with_world(|w| w.clusters[&key].aws_auth_data()));
        let input = RbacInput {
            rbac: &rbac,
            listed_policies: Some(&gathered.access_policies),
        };
        let report = plan_with_rbac(&auth, None, &MigrationPolicy::default(), &input)
            .rbac
            .expect("rbac section");
        // The policy file: every exact suggestion, and some non-exact candidates accepted whole.
        let mut mappings = String::new();
        let mut accepted: BTreeMap<String, Vec<eks_auth_core::rbac::Difference>> = BTreeMap::new();
        for subject in report
            .subjects
            .iter()
            .filter(|x| x.kind == eks_auth_core::rbac::SubjectKind::Group)
        {
            let candidate = match (&subject.suggested, subject.candidates.first()) {
                (Some(exact), _) => exact,
                (None, Some(closest)) if rng.below(2) == 0 => closest,
                _ => continue,
            };
            let differences: Vec<_> = candidate
                .lost
                .iter()
                .chain(&candidate.added)
                .cloned()
                .collect();
            let scope = match candidate.access_scope.scope_type {
                ScopeType::Cluster => "{type: cluster}".to_owned(),
                ScopeType::Namespace => format!(
                    "{{type: namespace, namespaces: [{}]}}",
                    candidate.access_scope.namespaces.join(", ")
                ),
            };
            let accept: String = differences
                .iter()
                .map(|d| {
                    format!(
                        "      - {}\n",
                        serde_json::to_string(&d.text).expect("json")
                    )
                })
                .collect();
            mappings.push_str(&format!(
                "  - group: {}\n    policy: {}\n    access_scope: {scope}\n    keep_group: false\n{}",
                subject.name,
                candidate.policy,
                if accept.is_empty() { String::new() } else { format!("    accept_differences:\n{accept}") },
            ));
            accepted.insert(subject.name.clone(), differences);
            applied += 1;
        }
        let policy = MigrationPolicy::parse(&format!("version: 1\ngroup_policies:\n{mappings}"))
            .or_else(|_| MigrationPolicy::parse("version: 1\n"))
            .expect("policy");
        // The accepted mappings are checked: nothing blocks.
        let checked = plan_with_rbac(&auth, None, &policy, &input);
        assert!(!checked.blocks_api_mode, "{name}: {:#?}", checked.findings);

        let may = |role: &str, r: &Request| {
            s.sim
                .may(
                    &key,
                    &format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s-1"),
                    r,
                )
                .expect("oracle")
        };
        let before: Vec<Vec<bool>> = TEAM_ROLES
            .iter()
            .map(|role| requests.iter().map(|r| may(role, r)).collect())
            .collect();
        let mut settings = Settings::new("property-worker");
        settings.soak = Duration::ZERO;
        settings.update_poll = Duration::from_millis(50);
        settings.policy = policy;
        settings.break_glass_principal =
            Some(format!("arn:aws:iam::{ACCOUNT}:role/platform-admin"));
        let engine = Engine::new(&s.config, &s.store, &settings);
        let mut done = false;
        for _ in 0..60 {
            let out = engine
                .run(
                    &name,
                    Mode::Finalize,
                    Instant::now() + common::RUN_DEADLINE,
                    &|_| {},
                )
                .await
                .expect("engine run");
            match out.outcome {
                Outcome::Done => {
                    done = true;
                    break;
                }
                Outcome::Blocked(b) => panic!("{name} blocked: {b:?}"),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        assert!(done, "{name}: finalize did not finish");
        for (i, role) in TEAM_ROLES.iter().enumerate() {
            let groups: Vec<String> = auth
                .rows
                .iter()
                .find(|r| r.arn.ends_with(&format!("role/{role}")))
                .map(|r| r.groups.clone())
                .unwrap_or_default();
            for (j, r) in requests.iter().enumerate() {
                let after = may(role, r);
                if before[i][j] != after {
                    changed += 1;
                    let explained = groups.iter().any(|g| {
                        accepted
                            .get(g)
                            .is_some_and(|ds| ds.iter().any(|d| names(d, r)))
                    });
                    assert!(
                        explained,
                        "EAM_RBAC_SEED={seed} {name}: {role} {r:?} changed from {} to {after} and no accepted difference names it\n{mappings}",
                        before[i][j]
                    );
                }
            }
        }
    }
    eprintln!("{applied} mappings applied, {changed} sampled permissions changed (all accepted)");
    assert!(
        applied > 0,
        "EAM_RBAC_SEED={seed}: no suggestion was applied"
    );
}
