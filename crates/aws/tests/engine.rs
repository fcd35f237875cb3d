//! The migration engine end to end: the real SDK and kube clients against the EKS simulator
//! (EKS + per-cluster Kubernetes APIs) and moto (DynamoDB, IAM, STS), configured only through a
//! standard shared config file. The simulator's effective-access oracle proves that no
//! principal gains or loses access (design.md invariants 1 and 2); its call counters prove a
//! converged re-run makes no write (invariant 3); failpoints crash the engine around every
//! mutating call (invariant 4).

mod common;

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use eks_auth_aws::engine::{Engine, EngineError, Outcome, Report, Settings};
use eks_auth_aws::notify::events::EventPublisher;
use eks_auth_aws::store::audit_trail::AuditStatus;
use eks_auth_aws::{ClusterKey, StateStore};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::state::{Mode, Phase};
use eks_sim::Sim;
use eks_sim::faults::{FaultConfig, FaultRule};
use eks_sim::seed::Seed;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

const ACCOUNT: &str = "123456789012";
const MIGRATOR: (&str, &str) = ("AKIAENGINEMIGRATOR01", "engine-migrator-secret");
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/";
const SSO_NAME: &str = "AWSReservedSSO_Admin_0123456789abcdef";

/// Roles and users in IAM (moto and the simulator's view): (kind, path, name).
const PRINCIPALS: [(&str, &str, &str); 10] = [
    ("role", "/", "eks-node"),
    ("role", "/", "eks-fargate"),
    ("role", "/", "eks-auth-migrator"),
    ("role", "/", "platform-admin"),
    ("role", SSO_PATH, SSO_NAME),
    ("role", "/teams/", "team-a"),
    ("role", "/", "monitoring"),
    ("user", "/", "alice"),
    ("user", "/", "creator"),
    ("role", "/", "karpenter-node"),
];

fn arn(kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}{path}{name}")
}

/// The ARN each principal calls with (a session for roles), for the oracle.
fn callers() -> Vec<String> {
    PRINCIPALS
        .iter()
        .map(|(kind, path, name)| match *kind {
            "role" => {
                let _ = path;
                format!("arn:aws:sts::{ACCOUNT}:assumed-role/{name}/session-1")
            }
            _ => arn(kind, path, name),
        })
        .collect()
}

const SAFE_ROWS: &str = r#"- rolearn: arn:aws:iam::123456789012:role/eks-node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::123456789012:role/karpenter-node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::123456789012:role/eks-fargate
  username: system:node:{{SessionName}}
  groups:
    - system:bootstrappers
    - system:nodes
    - system:node-proxier
- rolearn: arn:aws:iam::123456789012:role/eks-auth-migrator
  username: eks-auth-migrator
  groups:
    - eks-auth-migrator
- rolearn: arn:aws:iam::123456789012:role/platform-admin
  username: platform-admin:{{SessionName}}
  groups:
    - system:masters
- rolearn: arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef
  username: sso-admin:{{SessionName}}
  groups:
    - system:masters
    - readers
- rolearn: arn:aws:iam::123456789012:role/team-a
  username: team-a
  groups:
    - team-a
"#;

/// SAFE_ROWS without the migrator's own row.
fn without_migrator_row() -> String {
    SAFE_ROWS
        .split("- rolearn: ")
        .filter(|row| !row.is_empty() && !row.contains("role/eks-auth-migrator"))
        .map(|row| format!("- rolearn: {row}"))
        .collect()
}

const BAD_ROWS: &str = r#"- rolearn: arn:aws:iam::123456789012:role/monitoring
  username: monitoring
  groups:
    - system:monitoring
- rolearn: arn:aws:iam::123456789012:role/ghost
  username: ghost
  groups:
    - readers
- rolearn: not-an-arn
  username: broken
"#;

const USERS: &str = r#"- userarn: arn:aws:iam::123456789012:user/alice
  username: alice
  groups:
    - readers
"#;

fn cluster_yaml(name: &str, map_roles: &str) -> String {
    cluster_in_mode(name, "CONFIG_MAP", map_roles)
}

fn cluster_in_mode(name: &str, mode: &str, map_roles: &str) -> String {
    let indent = |text: &str| {
        text.lines()
            .map(|l| format!("            {l}\n"))
            .collect::<String>()
    };
    format!(
        r#"      - name: {name}
        region: us-east-1
        mode: {mode}
        creator: "{creator}"
        nodegroups: [{{ name: ng1, node_role: "{node}" }}]
        fargate_profiles: [{{ name: fp1, pod_execution_role_arn: "{fargate}" }}]
        rbac:
          - {{ subject_kind: Group, subject: eks-auth-migrator, role: edit, namespace: kube-system }}
          - {{ subject_kind: Group, subject: team-a, role: edit, namespace: team-a }}
          - {{ subject_kind: Group, subject: readers, role: view }}
        aws_auth:
          mapRoles: |
{roles}          mapUsers: |
{users}"#,
        creator = arn("user", "/", "creator"),
        node = arn("role", "/", "eks-node"),
        fargate = arn("role", "/", "eks-fargate"),
        roles = indent(map_roles),
        users = indent(USERS),
    )
}

fn seed(settings: &str) -> Seed {
    seed_for(
        settings,
        MIGRATOR,
        "arn:aws:sts::123456789012:assumed-role/eks-auth-migrator/run-1",
    )
}

/// The seed with the migrator's access key mapped to `caller` (what STS says it is).
fn seed_for(settings: &str, migrator: (&str, &str), caller: &str) -> Seed {
    let iam: String = PRINCIPALS
        .iter()
        .map(|(k, p, n)| format!("      - \"{}\"\n", arn(k, p, n)))
        .collect();
    let text = format!(
        "settings:\n  update_duration_ms: 100\n{settings}accounts:\n  - id: \"{ACCOUNT}\"\n    credentials:\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"{caller}\" }}\n    iam:\n{iam}    clusters:\n{}{}{}{}",
        migrator.0,
        migrator.1,
        cluster_yaml("prod", SAFE_ROWS),
        cluster_yaml("legacy", &format!("{SAFE_ROWS}{BAD_ROWS}")),
        // Already switched, and the migrator is mapped nowhere: it cannot read aws-auth.
        cluster_in_mode("locked", "API_AND_CONFIG_MAP", &without_migrator_row()),
        // Already switched by someone else; the migrator can read aws-auth.
        cluster_in_mode("hybrid", "API_AND_CONFIG_MAP", SAFE_ROWS),
    );
    let text = format!(
        "{text}{}{}{}",
        raw_cluster_yaml(),
        features_cluster_yaml(),
        gitops_cluster_yaml()
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed does not parse: {e:?}\n{text}"))
}

/// A cluster whose aws-auth Argo CD syncs, with the metadata Argo CD's server-side sync leaves
/// (the tracking annotation and its `argocd-controller` managedFields entry; shapes from
/// crates/core/tests/fixtures/owners/argocd-ssa-helm-chart.yaml and its sources).
fn gitops_cluster_yaml() -> String {
    format!(
        "{}{}",
        cluster_yaml("gitops", SAFE_ROWS),
        r#"        aws_auth_metadata:
          annotations: { "argocd.argoproj.io/tracking-id": "platform-aws-auth:/ConfigMap:kube-system/aws-auth" }
          managedFields:
            - { manager: argocd-controller, operation: Apply, apiVersion: v1, time: "2024-01-01T00:00:00Z", fieldsType: FieldsV1, fieldsV1: { "f:data": { "f:mapRoles": {}, "f:mapUsers": {} } } }
"#
    )
}

/// Rows whose usernames use {{SessionNameRaw}} (kept with its `@`): RBAC binds e-mail style
/// user names.
const RAW_ROWS: &str = r#"- rolearn: arn:aws:iam::123456789012:role/eks-auth-migrator
  username: eks-auth-migrator
  groups:
    - eks-auth-migrator
- rolearn: arn:aws:iam::123456789012:role/platform-admin
  username: "admin:{{SessionNameRaw}}"
  groups:
    - system:masters
- rolearn: arn:aws:iam::123456789012:role/team-a
  username: "dev:{{SessionNameRaw}}"
"#;

/// A CONFIG_MAP cluster whose RBAC binds `dev:alice@example.com` (a {{SessionNameRaw}} user).
fn raw_cluster_yaml() -> String {
    let rows: String = RAW_ROWS
        .lines()
        .map(|l| format!("            {l}\n"))
        .collect();
    format!(
        r#"      - name: raw
        region: us-east-1
        mode: CONFIG_MAP
        creator: "{creator}"
        rbac:
          - {{ subject_kind: Group, subject: eks-auth-migrator, role: edit, namespace: kube-system }}
          - {{ subject_kind: User, subject: "dev:alice@example.com", role: edit, namespace: team-a }}
        aws_auth:
          mapRoles: |
{rows}"#,
        creator = arn("user", "/", "creator"),
    )
}

/// An Auto Mode cluster with an Argo CD capability, already in API_AND_CONFIG_MAP (EKS refuses
/// both on CONFIG_MAP); aws-auth maps the Auto Mode node role and the capability role too.
fn features_cluster_yaml() -> String {
    let rows = r#"- rolearn: arn:aws:iam::123456789012:role/eks-auth-migrator
  username: eks-auth-migrator
  groups:
    - eks-auth-migrator
- rolearn: arn:aws:iam::123456789012:role/platform-admin
  username: platform-admin:{{SessionName}}
  groups:
    - system:masters
- rolearn: arn:aws:iam::123456789012:role/team-a
  username: team-a
  groups:
    - team-a
- rolearn: arn:aws:iam::123456789012:role/eks-node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::123456789012:role/monitoring
  username: monitoring
  groups:
    - readers
"#;
    let rows: String = rows.lines().map(|l| format!("            {l}\n")).collect();
    format!(
        r#"      - name: features
        region: us-east-1
        mode: API_AND_CONFIG_MAP
        role_arn: "{cluster_role}"
        auto_mode: {{ node_role_arn: "{node_role}" }}
        capabilities: [{{ name: gitops, type: ARGOCD, role_arn: "{argo}" }}]
        rbac:
          - {{ subject_kind: Group, subject: eks-auth-migrator, role: edit, namespace: kube-system }}
          - {{ subject_kind: Group, subject: readers, role: view }}
        aws_auth:
          mapRoles: |
{rows}"#,
        cluster_role = arn("role", "/", "karpenter-node"),
        node_role = arn("role", "/", "eks-node"),
        argo = arn("role", "/", "monitoring"),
    )
}

/// The simulator, moto (serial) with the IAM principals, a state table and the shared config.
struct World {
    sim: Sim,
    moto: common::Moto,
    dir: tempfile::TempDir,
    config: aws_config::SdkConfig,
    store: StateStore,
}

async fn world(settings: &str) -> Option<World> {
    let moto = common::Moto::start()?;
    let sim = Sim::start(seed(settings)).await.expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = shared_config(&moto.url, &sim.url(), &dir).await;
    let iam = aws_sdk_iam::Client::new(&config);
    for (kind, path, name) in PRINCIPALS {
        common::create_principal(&iam, kind, path, name).await;
    }
    let store = StateStore::from_config(&config, "eam-engine");
    store
        .create_table(Duration::from_secs(30))
        .await
        .expect("create table");
    Some(World {
        sim,
        moto,
        dir,
        config,
        store,
    })
}

/// moto as the default endpoint, the simulator for EKS: standard configuration only.
async fn shared_config(moto: &str, eks: &str, dir: &tempfile::TempDir) -> aws_config::SdkConfig {
    shared_config_as(
        moto,
        eks,
        dir,
        Credentials::new(MIGRATOR.0, MIGRATOR.1, None, None, "engine-test"),
    )
    .await
}

async fn shared_config_as(
    moto: &str,
    eks: &str,
    dir: &tempfile::TempDir,
    credentials: Credentials,
) -> aws_config::SdkConfig {
    eks_sim::harness::sdk_config(moto, eks, dir.path(), credentials).await
}

fn settings(worker: &str) -> Settings {
    let mut s = Settings::new(worker);
    s.soak = Duration::ZERO;
    s.update_poll = Duration::from_millis(50);
    s.lease_ttl = Duration::from_secs(30);
    s.step_margin = Duration::from_millis(500);
    s
}

fn sim_key(name: &str) -> eks_sim::model::ClusterKey {
    eks_sim::model::ClusterKey {
        account: ACCOUNT.to_owned(),
        region: "us-east-1".to_owned(),
        name: name.to_owned(),
    }
}

fn key(name: &str) -> ClusterKey {
    ClusterKey::from_pk(&format!("CLUSTER#{ACCOUNT}#us-east-1#{name}")).expect("key")
}

/// What a principal can do: its rendered username, whether it is a node or Fargate identity,
/// and every (verb, resource, namespace) it is allowed, per the simulator's authorizer.
type Access = Option<(String, bool, bool, BTreeSet<(String, String, String)>)>;

fn access_of(sim: &Sim, cluster: &str, caller: &str) -> Access {
    let key = sim_key(cluster);
    let effective = sim.oracle(&key, caller).expect("oracle answers")?;
    let bindings = sim.with_world(|w| w.clusters[&key].rbac.clone());
    let username = effective
        .rendered_username
        .clone()
        .unwrap_or(effective.username.clone());
    let groups = effective
        .rendered_groups
        .clone()
        .unwrap_or(effective.groups.clone());
    let mut allowed = BTreeSet::new();
    for verb in ["get", "list", "update", "delete"] {
        for resource in ["configmaps", "secrets", "pods"] {
            for ns in ["default", "kube-system", "team-a", "payments"] {
                if eks_sim::rbac::allowed(
                    &username,
                    &groups,
                    &effective.policies,
                    &bindings,
                    verb,
                    resource,
                    ns,
                ) {
                    allowed.insert((verb.to_owned(), resource.to_owned(), ns.to_owned()));
                }
            }
        }
    }
    Some((
        username,
        groups.iter().any(|g| g == "system:nodes"),
        groups.iter().any(|g| g == "system:node-proxier"),
        allowed,
    ))
}

fn access_map(sim: &Sim, cluster: &str) -> BTreeMap<String, Access> {
    callers()
        .into_iter()
        .map(|c| {
            let a = access_of(sim, cluster, &c);
            (c, a)
        })
        .collect()
}

/// Invariants 1 and 2: nobody gains or loses a permission or an identity. The one exception is
/// EKS's own: the creator's implicit admin is called `kubernetes-admin` under CONFIG_MAP and
/// gets the default username in the entry EKS creates for it on the first switch (reported by
/// the engine as an entry outside aws-auth); its permissions must not change.
fn assert_same_access(before: &BTreeMap<String, Access>, after: &BTreeMap<String, Access>) {
    let creator = arn("user", "/", "creator");
    for (caller, b) in before {
        let a = &after[caller];
        if *caller == creator {
            let perms = |x: &Access| x.as_ref().map(|(_, n, f, p)| (*n, *f, p.clone()));
            assert_eq!(perms(b), perms(a), "creator's permissions changed");
        } else {
            assert_eq!(b, a, "access of {caller} changed");
        }
    }
}

fn mode_of(sim: &Sim, cluster: &str) -> String {
    sim.with_world(|w| w.clusters[&sim_key(cluster)].mode.as_str().to_owned())
}

/// Runs the engine until it is done or blocked (sleeping through waits); every report.
async fn converge(world: &World, engine: &Engine<'_>, cluster: &str, mode: Mode) -> Vec<Report> {
    let mut reports = Vec::new();
    for _ in 0..60 {
        let deadline = Instant::now() + common::RUN_DEADLINE;
        let report = engine
            .run(cluster, mode, deadline, &|_| {})
            .await
            .unwrap_or_else(|e| panic!("engine run failed: {e}"));
        let outcome = report.outcome.clone();
        reports.push(report);
        match outcome {
            Outcome::Done | Outcome::Blocked(_) | Outcome::FailedTerminal { .. } => return reports,
            Outcome::Waiting { retry_after, .. } => {
                tokio::time::sleep(retry_after.min(Duration::from_millis(100))).await;
            }
            Outcome::Failed(reason) => {
                // Retryable: the next run continues (faults are injected in some tests).
                tracing_free_note(&reason);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Outcome::Busy { .. } | Outcome::OutOfTime | Outcome::Interrupted => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    let _ = world;
    panic!("cluster {cluster} did not converge in 60 runs: {reports:#?}");
}

fn tracing_free_note(reason: &str) {
    eprintln!("retryable failure (a later run continues): {reason}");
}

/// Write calls the simulator served.
fn writes(sim: &Sim) -> BTreeMap<String, u64> {
    sim.stats()
        .into_iter()
        .filter(|(op, _)| {
            matches!(
                op.as_str(),
                "UpdateClusterConfig"
                    | "CreateAccessEntry"
                    | "AssociateAccessPolicy"
                    | "DeleteAccessEntry"
                    | "UpdateAccessEntry"
                    | "TagResource"
                    | "DisassociateAccessPolicy"
            ) || (op.starts_with("Kubernetes:")
                && !matches!(
                    op.as_str(),
                    "Kubernetes:get" | "Kubernetes:list" | "Kubernetes:watch"
                ))
        })
        .collect()
}

/// Every audit record is complete; successful calls per (operation, target).
async fn audit_trail(store: &StateStore, cluster: &str) -> BTreeMap<(String, String), usize> {
    let records = store.list_audit(&key(cluster)).await.expect("list audit");
    let mut ok = BTreeMap::new();
    for r in &records {
        assert_ne!(
            r.status,
            AuditStatus::Started,
            "audit record left open: {r:?}"
        );
        if r.status == AuditStatus::Succeeded {
            let target = format!("{} {}", r.target, r.request);
            *ok.entry((r.operation.clone(), target)).or_insert(0) += 1;
        }
    }
    ok
}

#[tokio::test]
async fn finalize_takes_a_safe_cluster_to_api_without_changing_anyones_access() {
    let Some(w) = world("").await else { return };
    let before = access_map(&w.sim, "prod");
    assert!(
        before.values().filter(|a| a.is_some()).count() >= 8,
        "{before:#?}"
    );
    let s = settings("worker-1");
    let engine = Engine::new(&w.config, &w.store, &s);

    // Audit mode (the default) plans and records, and changes nothing.
    let audit = converge(&w, &engine, "prod", Mode::Audit).await;
    assert_eq!(audit.last().map(|r| r.mutating_calls), Some(0));
    assert!(writes(&w.sim).is_empty(), "{:?}", writes(&w.sim));
    assert_eq!(mode_of(&w.sim, "prod"), "CONFIG_MAP");

    let reports = converge(&w, &engine, "prod", Mode::Finalize).await;
    let last = reports.last().expect("a report");
    assert_eq!(last.outcome, Outcome::Done, "{reports:#?}");
    assert_eq!(last.phase, Phase::Complete);
    assert_eq!(mode_of(&w.sim, "prod"), "API");
    let after = access_map(&w.sim, "prod");
    assert_same_access(&before, &after);

    // The creator's implicit admin became a visible entry after the first switch and is kept.
    let creator = arn("user", "/", "creator");
    assert!(reports.iter().any(|r| {
        r.outside_aws_auth
            .iter()
            .any(|e| e.principal_arn == creator)
    }));

    // DynamoDB: the record, the backup, every principal, a complete audit trail.
    let record = w
        .store
        .get_cluster(&key("prod"))
        .await
        .expect("get")
        .expect("record");
    assert_eq!(record.state.phase, Phase::Complete);
    assert_eq!(
        record.state.authentication_mode,
        Some(AuthenticationMode::Api)
    );
    assert!(record.lease.is_none(), "lease released");
    assert!(
        w.store
            .latest_backup(&key("prod"))
            .await
            .expect("backup")
            .is_some()
    );
    let entries = w.store.list_entries(&key("prod")).await.expect("entries");
    assert!(entries.len() >= 7, "{entries:#?}");
    let trail = audit_trail(&w.store, "prod").await;
    for ((op, target), n) in &trail {
        assert_eq!(*n, 1, "{op} on {target} succeeded {n} times");
    }
    assert_eq!(w.sim.stats().get("UpdateClusterConfig").copied(), Some(2));

    // Least privilege: every EKS operation the engine called is granted to the member role
    // (infra/member-role.yaml), and the tag it sets is the one that role allows.
    let member_role = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/member-role.yaml"
    ))
    .expect("infra/member-role.yaml");
    for op in w
        .sim
        .stats()
        .keys()
        .filter(|op| !op.starts_with("Kubernetes:"))
    {
        assert!(
            member_role.contains(&format!("eks:{op}")),
            "the member role does not grant eks:{op}"
        );
    }
    let (tag_key, tag_value) = eks_auth_core::plan::MANAGED_TAG;
    assert!(member_role.contains(&format!("aws:RequestTag/{tag_key}: {tag_value}")));

    // A second run on the converged cluster makes zero mutating calls.
    let writes_before = writes(&w.sim);
    let again = converge(&w, &engine, "prod", Mode::Finalize).await;
    assert_eq!(again.last().map(|r| r.mutating_calls), Some(0));
    assert_eq!(writes(&w.sim), writes_before);
}

#[tokio::test]
async fn finalize_stops_at_api_and_config_map_when_rows_block() {
    let Some(w) = world("").await else { return };
    let before = access_map(&w.sim, "legacy");
    let s = settings("worker-1");
    let engine = Engine::new(&w.config, &w.store, &s);
    let reports = converge(&w, &engine, "legacy", Mode::Finalize).await;
    let last = reports.last().expect("a report");
    let Outcome::Blocked(reason) = &last.outcome else {
        panic!("expected a block: {reports:#?}")
    };
    assert!(reason.contains("blocker"), "{reason}");
    assert!(
        reason.contains("system:monitoring") || reason.contains("SYSTEM_GROUP"),
        "{reason}"
    );
    assert_eq!(last.phase, Phase::Blocked);
    assert_eq!(mode_of(&w.sim, "legacy"), "API_AND_CONFIG_MAP");
    assert_same_access(&before, &access_map(&w.sim, "legacy"));
    // aws-auth was neither backed up nor pruned.
    assert!(
        w.store
            .latest_backup(&key("legacy"))
            .await
            .expect("backup")
            .is_none()
    );
    let record = w
        .store
        .get_cluster(&key("legacy"))
        .await
        .expect("get")
        .expect("record");
    assert!(
        record
            .state
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("blocker"))
    );
    assert!(
        record.state.counts.blockers >= 2,
        "{:?}",
        record.state.counts
    );
}

/// Every crash point around a mutating call or a state save.
const FAILPOINTS: [&str; 15] = [
    "before:UpdateClusterConfig",
    "after:UpdateClusterConfig",
    "after-save:SwitchToApiAndConfigMap",
    "before:CreateAccessEntry",
    "after:CreateAccessEntry",
    "before:AssociateAccessPolicy",
    "after:AssociateAccessPolicy",
    "after-save:CreateEntries",
    "after-save:VerifyEntries",
    "after-save:BackupConfigMap",
    "before:PatchConfigMap",
    "after:PatchConfigMap",
    "after-save:PruneConfigMap",
    "after-save:SwitchToApi",
    "after-save:Plan",
];

#[tokio::test]
async fn a_crash_at_any_point_resumes_without_repeating_a_write() {
    let Some(w) = world("").await else { return };
    let before = access_map(&w.sim, "prod");
    for point in FAILPOINTS {
        w.sim.load_seed(seed("")).expect("reset the cluster");
        let switches_before = w
            .sim
            .stats()
            .get("UpdateClusterConfig")
            .copied()
            .unwrap_or(0);
        let store =
            StateStore::from_config(&w.config, format!("eam-crash-{}", point.replace(':', "-")));
        store
            .create_table(Duration::from_secs(30))
            .await
            .expect("table");
        let s = settings("crashy-worker");
        let engine = Engine::new(&w.config, &store, &s);
        eks_auth_aws::failpoint::arm(point);
        let mut crashed = false;
        for _ in 0..40 {
            match engine
                .run(
                    "prod",
                    Mode::Finalize,
                    Instant::now() + common::RUN_DEADLINE,
                    &|_| {},
                )
                .await
            {
                Err(EngineError::FailPoint(p)) => {
                    assert_eq!(p, point);
                    crashed = true;
                    break;
                }
                Ok(r) if matches!(r.outcome, Outcome::Done) => break,
                Ok(_) => tokio::time::sleep(Duration::from_millis(60)).await,
                Err(e) => panic!("{point}: {e}"),
            }
        }
        eks_auth_aws::failpoint::disarm_all();
        assert!(crashed, "failpoint {point} was never reached");
        // A new process would be a new engine; the same worker ID takes its own lease back.
        let engine = Engine::new(&w.config, &store, &s);
        let reports = converge(&w, &engine, "prod", Mode::Finalize).await;
        let last = reports.last().expect("report");
        assert_eq!(last.phase, Phase::Complete, "{point}: {reports:#?}");
        assert_eq!(mode_of(&w.sim, "prod"), "API", "{point}");
        assert_same_access(&before, &access_map(&w.sim, "prod"));
        for ((op, target), n) in &audit_trail(&store, "prod").await {
            assert_eq!(*n, 1, "{point}: {op} {target} done {n} times");
        }
        let switches = w
            .sim
            .stats()
            .get("UpdateClusterConfig")
            .copied()
            .unwrap_or(0);
        assert_eq!(
            switches - switches_before,
            2,
            "{point}: UpdateClusterConfig calls"
        );
    }
}

#[tokio::test]
async fn two_workers_racing_on_one_cluster_only_one_acts() {
    let Some(w) = world("").await else { return };
    let (s1, s2) = (settings("worker-a"), settings("worker-b"));
    let (e1, e2) = (
        Engine::new(&w.config, &w.store, &s1),
        Engine::new(&w.config, &w.store, &s2),
    );
    let deadline = Instant::now() + common::RUN_DEADLINE;
    let (r1, r2) = tokio::join!(
        e1.run("prod", Mode::Migrate, deadline, &|_| {}),
        e2.run("prod", Mode::Migrate, deadline, &|_| {})
    );
    let (r1, r2) = (r1.expect("run a"), r2.expect("run b"));
    let busy = [&r1, &r2]
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Busy { .. }))
        .count();
    assert_eq!(
        busy, 1,
        "exactly one worker is turned away: {r1:#?} {r2:#?}"
    );
    let acted = if matches!(r1.outcome, Outcome::Busy { .. }) {
        &r2
    } else {
        &r1
    };
    let idle = if matches!(r1.outcome, Outcome::Busy { .. }) {
        &r1
    } else {
        &r2
    };
    assert_eq!(idle.mutating_calls, 0);
    assert!(acted.mutating_calls >= 1, "{acted:#?}");
    assert_eq!(w.sim.stats().get("UpdateClusterConfig").copied(), Some(1));
}

#[tokio::test]
async fn throttling_and_5xx_storms_and_eventual_consistency_still_converge() {
    let settings_yaml = "  eventual_consistency_calls: 2\n";
    let Some(w) = world(settings_yaml).await else {
        return;
    };
    let before = access_map(&w.sim, "prod");
    w.sim.set_faults(FaultConfig {
        seed: 7,
        rules: vec![
            FaultRule {
                operation: "*".to_owned(),
                throttle_probability: 0.3,
                error_probability: 0.2,
                error_status: 503,
                remaining: Some(24),
                ..FaultRule::default()
            },
            FaultRule {
                operation: "Kubernetes:*".to_owned(),
                error_probability: 0.3,
                error_status: 500,
                remaining: Some(4),
                ..FaultRule::default()
            },
        ],
    });
    let s = settings("stormy");
    let engine = Engine::new(&w.config, &w.store, &s);
    let reports = converge(&w, &engine, "prod", Mode::Finalize).await;
    w.sim.set_faults(FaultConfig::default());
    assert_eq!(
        reports.last().map(|r| r.phase),
        Some(Phase::Complete),
        "{reports:#?}"
    );
    assert_same_access(&before, &access_map(&w.sim, "prod"));
    let trail = audit_trail(&w.store, "prod").await;
    for ((op, target), n) in &trail {
        assert_eq!(*n, 1, "{op} on {target} succeeded {n} times");
    }
    // The post-create 404 was retried inside AssociateAccessPolicy, not failed.
    let records = w.store.list_audit(&key("prod")).await.expect("audit");
    assert!(records.iter().any(|r| {
        r.operation == "AssociateAccessPolicy"
            && r.result
                .as_ref()
                .and_then(|v| v["notFoundRetries"].as_u64())
                .is_some_and(|n| n > 0)
    }));
}

/// Runs `prod` in finalize until the run stops right after saving the prune: aws-auth pruned
/// (it differs from `aws_auth_before`), the cluster still in API_AND_CONFIG_MAP.
async fn stop_after_the_prune(w: &World, s: &Settings, aws_auth_before: &BTreeMap<String, String>) {
    let engine = Engine::new(&w.config, &w.store, s);
    eks_auth_aws::failpoint::arm("after-save:PruneConfigMap");
    let mut stopped = false;
    for _ in 0..40 {
        match engine
            .run(
                "prod",
                Mode::Finalize,
                Instant::now() + common::RUN_DEADLINE,
                &|_| {},
            )
            .await
        {
            Err(EngineError::FailPoint(_)) => {
                stopped = true;
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(60)).await,
            Err(e) => panic!("{e}"),
        }
    }
    eks_auth_aws::failpoint::disarm_all();
    assert!(stopped);
    assert_ne!(
        *aws_auth_before,
        w.sim
            .with_world(|wd| wd.clusters[&sim_key("prod")].aws_auth_data()),
        "aws-auth was pruned"
    );
}

/// Issue 18 item 7: a principal allowed PutItem on the table plants a newer aws-auth "backup"
/// that makes it cluster-admin, before someone rolls back. The rollback restores the migrator's
/// own backup — the one its cluster record names, by digest — never the planted one; and a
/// recorded backup changed in place is refused with nothing written.
#[tokio::test]
async fn rollback_restores_only_the_recorded_backup_never_a_planted_one() {
    let Some(w) = world("").await else { return };
    let aws_auth_before = w
        .sim
        .with_world(|wd| wd.clusters[&sim_key("prod")].aws_auth_data());
    let s = settings("worker-1");
    stop_after_the_prune(&w, &s, &aws_auth_before).await;
    let recorded = w
        .store
        .get_cluster(&key("prod"))
        .await
        .expect("get")
        .expect("record")
        .state
        .backup
        .expect("the record names the migrator's backup");
    let planted = r#"{"mapRoles":"- rolearn: arn:aws:iam::111122223333:role/intruder\n  username: intruder\n  groups:\n  - system:masters\n"}"#;
    w.store
        .put_backup(
            &key("prod"),
            "999999999",
            planted,
            SystemTime::now() + Duration::from_secs(3600),
        )
        .await
        .expect("planted");
    // Changed in place first: refused, aws-auth untouched.
    let original = w
        .store
        .get_backup(&key("prod"), &recorded.resource_version)
        .await
        .expect("get backup")
        .expect("backup");
    let table = aws_sdk_dynamodb::Client::new(&w.config);
    let put = |text: String| {
        table
            .put_item()
            .table_name("eam-engine")
            .item("pk", AttributeValue::S(key("prod").pk()))
            .item(
                "sk",
                AttributeValue::S(format!("BACKUP#{}", recorded.resource_version)),
            )
            .item(
                "resource_version",
                AttributeValue::S(recorded.resource_version.clone()),
            )
            .item("text", AttributeValue::S(text))
            .item("created_at", AttributeValue::N("1".to_owned()))
            .send()
    };
    put(planted.to_owned()).await.expect("changed in place");
    let pruned = w
        .sim
        .with_world(|wd| wd.clusters[&sim_key("prod")].aws_auth_data());
    let engine = Engine::new(&w.config, &w.store, &s);
    let refused = engine
        .rollback("prod", Instant::now() + common::RUN_DEADLINE, &|_| {})
        .await
        .expect("rollback");
    assert!(
        matches!(&refused.outcome, Outcome::Failed(r) if r.contains("does not match the digest")),
        "{refused:#?}"
    );
    assert_eq!(refused.mutating_calls, 0, "{refused:#?}");
    assert_eq!(
        pruned,
        w.sim
            .with_world(|wd| wd.clusters[&sim_key("prod")].aws_auth_data())
    );
    // The recorded backup back as the migrator wrote it: restored, the planted one ignored.
    put(original.text.clone()).await.expect("restored item");
    let report = engine
        .rollback("prod", Instant::now() + common::RUN_DEADLINE, &|_| {})
        .await
        .expect("rollback");
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert_eq!(
        report.restored_from.as_deref(),
        Some(recorded.resource_version.as_str())
    );
    assert_eq!(
        aws_auth_before,
        w.sim
            .with_world(|wd| wd.clusters[&sim_key("prod")].aws_auth_data()),
        "aws-auth restored from the migrator's backup, not the planted one"
    );
}

#[tokio::test]
async fn rollback_after_a_prune_restores_aws_auth_and_everyones_access() {
    let Some(w) = world("").await else { return };
    let before = access_map(&w.sim, "prod");
    let aws_auth_before = w
        .sim
        .with_world(|wd| wd.clusters[&sim_key("prod")].aws_auth_data());
    let s = settings("worker-1");
    stop_after_the_prune(&w, &s, &aws_auth_before).await;
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = engine
        .rollback("prod", Instant::now() + common::RUN_DEADLINE, &|_| {})
        .await
        .expect("rollback");
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert!(report.restored_from.is_some());
    assert!(report.deleted.len() >= 4, "{report:#?}");
    assert!(
        report
            .not_undone
            .iter()
            .any(|n| n.contains("cannot switch back"))
    );
    assert_eq!(
        aws_auth_before,
        w.sim
            .with_world(|wd| wd.clusters[&sim_key("prod")].aws_auth_data()),
        "aws-auth restored verbatim"
    );
    assert_same_access(&before, &access_map(&w.sim, "prod"));
    let record = w
        .store
        .get_cluster(&key("prod"))
        .await
        .expect("get")
        .expect("record");
    assert_eq!(record.state.mode, Mode::Audit);
    // Audit mode afterwards changes nothing.
    let writes_before = writes(&w.sim);
    let audit = converge(&w, &engine, "prod", Mode::Audit).await;
    assert_eq!(audit.last().map(|r| r.mutating_calls), Some(0));
    assert_eq!(writes(&w.sim), writes_before);
}

#[tokio::test]
async fn a_migrator_locked_out_of_aws_auth_grants_itself_temporary_access_only_when_allowed() {
    let Some(w) = world("").await else { return };
    let before = access_map(&w.sim, "locked");
    let migrator = callers()
        .into_iter()
        .find(|c| c.contains("assumed-role/eks-auth-migrator/"))
        .expect("migrator caller");
    assert_eq!(
        before[&migrator], None,
        "the migrator starts without access"
    );

    // Not allowed: the run fails and says what to grant.
    let s = settings("worker-1");
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = engine
        .run(
            "locked",
            Mode::Migrate,
            Instant::now() + common::RUN_DEADLINE,
            &|_| {},
        )
        .await
        .expect("run");
    let Outcome::Failed(reason) = &report.outcome else {
        panic!("expected a failure: {report:#?}")
    };
    assert!(
        reason.contains("--self-grant") && reason.contains("kube-system"),
        "{reason}"
    );
    assert_eq!(report.mutating_calls, 0);

    // Allowed: the migrator runs as an STS session of its role (moto's STS tells who it is; the
    // simulator verifies that session's tokens), with a crash while it holds the temporary
    // entry: the next run uses it and removes it.
    let assumed = aws_sdk_sts::Client::new(&w.config)
        .assume_role()
        .role_arn(arn("role", "/", "eks-auth-migrator"))
        .role_session_name("run-2")
        .send()
        .await
        .expect("AssumeRole in moto");
    let c = assumed.credentials().expect("credentials");
    let session = assumed
        .assumed_role_user()
        .map(|u| u.arn().to_owned())
        .expect("session ARN");
    w.sim
        .load_seed(seed_for(
            "",
            (c.access_key_id(), c.secret_access_key()),
            &session,
        ))
        .expect("seed with the session");
    let config = shared_config_as(
        &w.moto.url,
        &w.sim.url(),
        &w.dir,
        Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "session",
        ),
    )
    .await;
    let mut s = settings("worker-1");
    s.self_grant = true;
    let engine = Engine::new(&config, &w.store, &s);
    eks_auth_aws::failpoint::arm("after-save:CreateEntries");
    let crashed = engine
        .run(
            "locked",
            Mode::Migrate,
            Instant::now() + common::RUN_DEADLINE,
            &|_| {},
        )
        .await;
    eks_auth_aws::failpoint::disarm_all();
    assert!(
        matches!(crashed, Err(EngineError::FailPoint(_))),
        "{crashed:?}"
    );
    let temporary_entries = || {
        w.sim.with_world(|wd| {
            wd.clusters[&sim_key("locked")]
                .entries
                .values()
                .filter(|e| e.username == eks_auth_aws::engine::TEMPORARY_USERNAME)
                .count()
        })
    };
    assert_eq!(temporary_entries(), 1, "left behind by the crash");
    let engine = Engine::new(&config, &w.store, &s);
    let reports = converge(&w, &engine, "locked", Mode::Migrate).await;
    assert_eq!(
        reports.last().map(|r| r.outcome.clone()),
        Some(Outcome::Done)
    );
    assert_eq!(temporary_entries(), 0, "removed when the run ended");
    assert_same_access(&before, &access_map(&w.sim, "locked"));
    let records = w.store.list_audit(&key("locked")).await.expect("audit");
    let role = arn("role", "/", "eks-auth-migrator");
    assert!(
        records
            .iter()
            .any(|r| r.operation == "CreateAccessEntry" && r.target == role)
    );
    assert!(records.iter().any(|r| r.operation == "DeleteAccessEntry"
        && r.target == role
        && r.status == AuditStatus::Succeeded));
    assert!(records.iter().all(|r| r.status != AuditStatus::Started));
}

#[tokio::test]
async fn finalize_removes_the_creators_entry_only_when_the_policy_says_so() {
    let Some(w) = world("").await else { return };
    let before = access_map(&w.sim, "prod");
    let creator = arn("user", "/", "creator");
    assert!(
        before[&creator].is_some(),
        "the creator is an implicit admin"
    );
    let mut s = settings("worker-1");
    s.policy.creator_entry = eks_auth_core::policy::CreatorEntry::Remove;
    let engine = Engine::new(&w.config, &w.store, &s);
    let reports = converge(&w, &engine, "prod", Mode::Finalize).await;
    assert_eq!(reports.last().map(|r| r.phase), Some(Phase::Complete));
    let after = access_map(&w.sim, "prod");
    assert_eq!(after[&creator], None, "the creator's entry is gone");
    for (caller, access) in &before {
        if *caller != creator {
            assert_eq!(access, &after[caller], "access of {caller} changed");
        }
    }
    let record = w
        .store
        .get_cluster(&key("prod"))
        .await
        .expect("get")
        .expect("record");
    assert_eq!(
        record.state.creator_principal.as_deref(),
        Some(creator.as_str())
    );
    let records = w.store.list_audit(&key("prod")).await.expect("audit");
    assert!(records.iter().any(|r| r.operation == "DeleteAccessEntry"
        && r.target == creator
        && r.request["creatorEntry"] == true
        && r.status == AuditStatus::Succeeded));
    // Converged: nothing more to remove.
    let writes_before = writes(&w.sim);
    let again = converge(&w, &engine, "prod", Mode::Finalize).await;
    assert_eq!(again.last().map(|r| r.mutating_calls), Some(0));
    assert_eq!(writes(&w.sim), writes_before);
}

#[tokio::test]
async fn equivalent_entries_someone_else_made_are_adopted_only_when_the_policy_says_so() {
    let Some(w) = world("").await else { return };
    let team_a = arn("role", "/teams/", "team-a");
    let eks = aws_sdk_eks::Client::new(&w.config);
    let tagged = |w: &World| {
        w.sim.with_world(|wd| {
            wd.clusters[&sim_key("hybrid")]
                .entries
                .get(&team_a)
                .map(|e| e.tags.get("managed-by").cloned())
        })
    };
    // Someone created team-a's entry by hand, exactly as its row plans it.
    eks.create_access_entry()
        .cluster_name("hybrid")
        .principal_arn(&team_a)
        .username("team-a")
        .kubernetes_groups("team-a")
        .send()
        .await
        .expect("CreateAccessEntry by hand");
    let before = access_map(&w.sim, "hybrid");

    // Default: left alone.
    let s = settings("worker-1");
    let engine = Engine::new(&w.config, &w.store, &s);
    converge(&w, &engine, "hybrid", Mode::Migrate).await;
    assert_eq!(tagged(&w), Some(None), "not adopted by default");

    // adopt: tagged as the migrator's, one audited TagResource, access unchanged.
    let mut s = settings("worker-1");
    s.policy.existing_entries = eks_auth_core::policy::ExistingEntries::Adopt;
    let engine = Engine::new(&w.config, &w.store, &s);
    converge(&w, &engine, "hybrid", Mode::Migrate).await;
    assert_eq!(tagged(&w), Some(Some("eks-auth-migrator".to_owned())));
    assert_same_access(&before, &access_map(&w.sim, "hybrid"));
    let records = w.store.list_audit(&key("hybrid")).await.expect("audit");
    let tags: Vec<_> = records
        .iter()
        .filter(|r| r.operation == "TagResource")
        .collect();
    assert_eq!(tags.len(), 1, "{tags:#?}");
    assert_eq!(tags[0].target, team_a);
    assert_eq!(tags[0].status, AuditStatus::Succeeded);
    // Adopted once: a re-run writes nothing.
    let writes_before = writes(&w.sim);
    let again = converge(&w, &engine, "hybrid", Mode::Migrate).await;
    assert_eq!(again.last().map(|r| r.mutating_calls), Some(0));
    assert_eq!(writes(&w.sim), writes_before);
}

/// The callers of the `raw` cluster: sessions named like e-mail addresses.
fn raw_callers() -> Vec<String> {
    ["eks-auth-migrator", "platform-admin", "team-a"]
        .iter()
        .map(|role| format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/alice@example.com"))
        .chain([arn("user", "/", "creator")])
        .collect()
}

#[tokio::test]
async fn session_name_raw_rows_finalize_with_everyones_access_unchanged() {
    let Some(w) = world("").await else { return };
    let access = |sim: &Sim| -> BTreeMap<String, Access> {
        raw_callers()
            .into_iter()
            .map(|c| {
                let a = access_of(sim, "raw", &c);
                (c, a)
            })
            .collect()
    };
    let before = access(&w.sim);
    let dev = &before[&format!("arn:aws:sts::{ACCOUNT}:assumed-role/team-a/alice@example.com")];
    let (username, _, _, perms) = dev.clone().expect("team-a has access through aws-auth");
    assert_eq!(
        username, "dev:alice@example.com",
        "{{SessionNameRaw}} keeps `@`"
    );
    assert!(perms.contains(&(
        "update".to_owned(),
        "configmaps".to_owned(),
        "team-a".to_owned()
    )));

    let s = settings("worker-raw");
    let engine = Engine::new(&w.config, &w.store, &s);
    let reports = converge(&w, &engine, "raw", Mode::Finalize).await;
    let last = reports.last().expect("a report");
    assert_eq!(last.outcome, Outcome::Done, "{reports:#?}");
    assert_eq!(mode_of(&w.sim, "raw"), "API");
    assert_same_access(&before, &access(&w.sim));
    let username = w.sim.with_world(|world| {
        world.clusters[&sim_key("raw")].entries[&arn("role", "/teams/", "team-a")]
            .username
            .clone()
    });
    assert_eq!(username, "dev:{{SessionNameRaw}}");
}

#[tokio::test]
async fn eks_managed_entries_are_never_adopted_changed_or_deleted() {
    let Some(w) = world("").await else { return };
    let managed = [
        arn("role", "/", "eks-node"),       // Auto Mode nodes (EC2)
        arn("role", "/", "karpenter-node"), // Auto Mode cluster role
        arn("role", "/", "monitoring"),     // the Argo CD capability's role
    ];
    // Someone tags the capability's entry as the migrator's: it stays EKS's all the same.
    let eks = aws_sdk_eks::Client::new(&w.config);
    let entry_arn = w.sim.with_world(|world| {
        world.clusters[&sim_key("features")].entries[&managed[2]]
            .arn
            .clone()
    });
    eks.tag_resource()
        .resource_arn(entry_arn)
        .tags("managed-by", "eks-auth-migrator")
        .send()
        .await
        .expect("TagResource");
    let snapshot = |sim: &Sim| {
        sim.with_world(|world| {
            let entries = &world.clusters[&sim_key("features")].entries;
            managed
                .iter()
                .map(|p| entries.get(p).cloned())
                .collect::<Vec<_>>()
        })
    };
    let before = snapshot(&w.sim);
    assert!(before.iter().all(Option::is_some), "{before:#?}");

    let mut s = settings("worker-features");
    s.policy = eks_auth_core::policy::MigrationPolicy::parse(
        "version: 1\nexisting_entries: adopt\ncreator_entry: remove\n",
    )
    .expect("policy");
    let engine = Engine::new(&w.config, &w.store, &s);
    let reports = converge(&w, &engine, "features", Mode::Migrate).await;
    let last = reports.last().expect("a report");
    assert_eq!(last.outcome, Outcome::Done, "{reports:#?}");
    let plan = last.plan.as_ref().expect("plan");
    let listed: BTreeSet<&str> = plan
        .eks_managed_entries
        .iter()
        .map(|e| e.principal_arn.as_str())
        .collect();
    assert_eq!(listed, managed.iter().map(String::as_str).collect());
    assert!(
        last.outside_aws_auth.is_empty(),
        "EKS's entries are not the creator's: {:?}",
        last.outside_aws_auth
    );
    // status shows them as EKS-managed.
    let records = w
        .store
        .list_entries(&key("features"))
        .await
        .expect("entries");
    for principal in &managed {
        let record = records
            .iter()
            .find(|r| r.principal_arn.to_string() == *principal)
            .unwrap_or_else(|| panic!("{principal} recorded: {records:#?}"));
        assert_eq!(record.status.as_str(), "EKS_MANAGED", "{principal}");
    }

    // Rollback deletes the migrator's entries only.
    let rollback = engine
        .rollback("features", Instant::now() + common::RUN_DEADLINE, &|_| {})
        .await
        .expect("rollback");
    assert!(!rollback.deleted.is_empty(), "{rollback:#?}");
    for principal in &managed {
        assert!(!rollback.deleted.contains(principal), "{principal} deleted");
    }
    assert_eq!(snapshot(&w.sim), before, "EKS-managed entries changed");
}

/// Creates `bus` with a rule sending the migrator's events to a new SQS queue; the queue's URL.
async fn capture_bus(config: &aws_config::SdkConfig, bus: &str) -> String {
    let events = aws_sdk_eventbridge::Client::new(config);
    events
        .create_event_bus()
        .name(bus)
        .send()
        .await
        .expect("CreateEventBus");
    let sqs = aws_sdk_sqs::Client::new(config);
    let url = sqs
        .create_queue()
        .queue_name("captured-events")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("queue url")
        .to_owned();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("queue arn")
        .clone();
    events
        .put_rule()
        .name("capture")
        .event_bus_name(bus)
        .event_pattern(r#"{"source":["eks-auth-migrator"]}"#)
        .send()
        .await
        .expect("PutRule");
    events
        .put_targets()
        .rule("capture")
        .event_bus_name(bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("capture")
                .arn(queue_arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("PutTargets");
    url
}

/// Every event the capture queue received so far (taken off it).
async fn captured(config: &aws_config::SdkConfig, url: &str) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut all = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        if out.messages().is_empty() {
            return all;
        }
        for m in out.messages() {
            all.push(serde_json::from_str(m.body().unwrap_or("{}")).expect("event JSON"));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
}

#[tokio::test]
async fn phase_changes_the_bus_refuses_wait_on_the_record_and_go_out_once_later() {
    let Some(w) = world("").await else { return };
    const BUS: &str = "eam-central";
    // The bus does not exist yet: every PutEvents fails.
    let publisher = EventPublisher::new(&w.config, BUS);
    let s = settings("worker-events");
    let engine = Engine::new(&w.config, &w.store, &s).with_publisher(&publisher);
    let reports = converge(&w, &engine, "prod", Mode::Migrate).await;
    let last = reports.last().expect("a report");
    assert_eq!(last.outcome, Outcome::Done, "{reports:#?}");
    assert_eq!(
        last.phase,
        Phase::Verified,
        "the migration went on without the bus"
    );
    let waiting = w
        .store
        .get_cluster(&key("prod"))
        .await
        .expect("get")
        .expect("record")
        .outbox;
    assert!(
        !waiting.is_empty(),
        "the undelivered phase changes are kept on the record"
    );

    // The bus is back: the next run (nothing left to do) delivers what waited, once.
    let queue = capture_bus(&w.config, BUS).await;
    converge(&w, &engine, "prod", Mode::Migrate).await;
    let events = captured(&w.config, &queue).await;
    assert!(!events.is_empty(), "nothing delivered");
    let ids: Vec<&str> = events
        .iter()
        .map(|e| {
            e["detail"]["transition_id"]
                .as_str()
                .expect("transition_id")
        })
        .collect();
    let distinct: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), distinct.len(), "each transition once: {ids:?}");
    assert!(
        events
            .iter()
            .any(|e| e["detail"]["new_phase"] == "VERIFIED"),
        "{events:#?}"
    );
    let record = w
        .store
        .get_cluster(&key("prod"))
        .await
        .expect("get")
        .expect("record");
    assert!(record.outbox.is_empty(), "{:?}", record.outbox);

    // Nothing changes, nothing is sent again.
    converge(&w, &engine, "prod", Mode::Migrate).await;
    assert!(captured(&w.config, &queue).await.is_empty());
}

#[tokio::test]
async fn finalize_waits_for_an_aws_auth_argo_cd_syncs_until_its_owner_is_accepted() {
    let Some(w) = world("").await else { return };
    let before = access_map(&w.sim, "gitops");
    let s = settings("worker-1");
    let engine = Engine::new(&w.config, &w.store, &s);
    let reports = converge(&w, &engine, "gitops", Mode::Finalize).await;
    let last = reports.last().expect("a report");
    let Outcome::Blocked(reason) = &last.outcome else {
        panic!("expected a block: {reports:#?}")
    };
    assert!(reason.contains("blocker"), "{reason}");
    // Migrate went ahead (entries created and verified); nothing was backed up or pruned.
    assert_eq!(mode_of(&w.sim, "gitops"), "API_AND_CONFIG_MAP");
    assert_same_access(&before, &access_map(&w.sim, "gitops"));
    assert!(
        w.store
            .latest_backup(&key("gitops"))
            .await
            .expect("backup")
            .is_none()
    );
    let record = w
        .store
        .get_cluster(&key("gitops"))
        .await
        .expect("get")
        .expect("record");
    assert_eq!(record.state.phase, Phase::Blocked);
    assert_eq!(
        record.state.counts.blockers, 1,
        "the owner is the only blocker: {:?}",
        record.state.counts
    );
    let owners = record.state.owners.as_ref().expect("owners recorded");
    assert_eq!(
        owners
            .aws_auth
            .owners
            .iter()
            .map(|o| (o.kind.as_str(), o.name.as_deref()))
            .collect::<Vec<_>>(),
        [("argo_cd", Some("platform-aws-auth"))]
    );

    // The platform team removed aws-auth from the Argo CD Application and says so.
    let mut accepted = settings("worker-1");
    accepted.owners = serde_json::from_value(serde_json::json!({
        "accept": [{
            "cluster": format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/gitops"),
            "aws_auth": ["argo_cd"],
            "reason": "platform-gitops#42 removed aws-auth from the Application"
        }]
    }))
    .expect("owners section");
    let engine = Engine::new(&w.config, &w.store, &accepted);
    let reports = converge(&w, &engine, "gitops", Mode::Finalize).await;
    let last = reports.last().expect("a report");
    assert_eq!(last.outcome, Outcome::Done, "{reports:#?}");
    assert_eq!(mode_of(&w.sim, "gitops"), "API");
    assert_same_access(&before, &access_map(&w.sim, "gitops"));
}

/// The cluster's record as stored.
async fn record_of(
    store: &StateStore,
    cluster: &str,
) -> eks_auth_aws::store::records::ClusterRecord {
    store
        .get_cluster(&key(cluster))
        .await
        .expect("get")
        .expect("record")
}

/// The phase-change events the capture queue received, as (old, new, detail).
fn phase_events(events: &[serde_json::Value]) -> Vec<(String, String, serde_json::Value)> {
    events
        .iter()
        .filter(|e| e["detail-type"] == "Cluster Migration Phase Changed")
        .map(|e| {
            let d = &e["detail"];
            let s = |f: &str| d[f].as_str().unwrap_or_default().to_owned();
            (s("old_phase"), s("new_phase"), d.clone())
        })
        .collect()
}

/// Issue 20 item 3: the cluster deleted while a run works on it (after its plan) cannot heal:
/// FAILED_TERMINAL with the reason and what to do on the record and in a phase-change event,
/// and a later run (not a scan, not an apply) leaves it so without a call to EKS.
#[tokio::test]
async fn a_cluster_deleted_mid_run_fails_terminally_and_is_notified() {
    let Some(w) = world("").await else { return };
    const BUS: &str = "eam-central";
    let queue = capture_bus(&w.config, BUS).await;
    let publisher = EventPublisher::new(&w.config, BUS);
    let s = settings("worker-deleted");
    let engine = Engine::new(&w.config, &w.store, &s).with_publisher(&publisher);
    let deleted = std::sync::atomic::AtomicBool::new(false);
    let delete_after_plan = |line: &str| {
        if line.starts_with("Plan:") && !deleted.swap(true, std::sync::atomic::Ordering::SeqCst) {
            w.sim
                .with_world(|world| world.clusters.remove(&sim_key("prod")));
        }
    };
    let deadline = Instant::now() + common::RUN_DEADLINE;
    let report = engine
        .run("prod", Mode::Migrate, deadline, &delete_after_plan)
        .await
        .expect("the run records its failure");
    assert!(
        deleted.load(std::sync::atomic::Ordering::SeqCst),
        "{report:#?}"
    );
    let Outcome::FailedTerminal { reason, what_to_do } = &report.outcome else {
        panic!("not terminal: {report:#?}")
    };
    assert!(
        reason.contains("no longer exists") && reason.contains("No cluster found for name: prod"),
        "{reason}"
    );
    assert!(what_to_do.contains("new scan"), "{what_to_do}");
    assert_eq!(report.phase, Phase::Failed { retryable: false });
    let record = record_of(&w.store, "prod").await;
    assert_eq!(record.state.phase, Phase::Failed { retryable: false });
    assert_eq!(record.state.last_error.as_ref(), Some(reason));
    assert_eq!(record.state.what_to_do.as_ref(), Some(what_to_do));
    assert!(record.outbox.is_empty(), "{:?}", record.outbox);
    let events = phase_events(&captured(&w.config, &queue).await);
    let [(old, new, detail)] = events.as_slice() else {
        panic!("one phase change: {events:#?}")
    };
    assert_eq!(
        (old.as_str(), new.as_str()),
        ("DISCOVERED", "FAILED_TERMINAL")
    );
    assert_eq!(detail["reason"].as_str(), Some(reason.as_str()));
    assert_eq!(detail["what_to_do"].as_str(), Some(what_to_do.as_str()));
    let summary = detail["summary"].as_str().expect("summary");
    assert!(
        summary.contains("What to do: Nothing to migrate"),
        "{summary}"
    );

    // A run that may not retry it (an event, a delayed job) changes nothing and sends nothing.
    let audits = w.store.list_audit(&key("prod")).await.expect("audit").len();
    let again = engine
        .run(
            "prod",
            Mode::Migrate,
            Instant::now() + common::RUN_DEADLINE,
            &|_| {},
        )
        .await;
    // DescribeCluster (identify) finds no cluster now: the run does not start.
    assert!(matches!(again, Err(EngineError::Identify(_))), "{again:#?}");
    assert_eq!(
        record_of(&w.store, "prod").await.state.phase,
        Phase::Failed { retryable: false }
    );
    assert_eq!(
        w.store.list_audit(&key("prod")).await.expect("audit").len(),
        audits
    );
    assert!(captured(&w.config, &queue).await.is_empty());
}

/// Issue 20 item 3: a principal EKS refuses permanently (`InvalidParameterException: The
/// specified principalArn is invalid`, as EKS answers for a principal it cannot resolve) makes
/// the cluster FAILED_TERMINAL with what to do; a run that may not retry it changes nothing;
/// once the principal exists, an explicit `apply` (`Trigger::Retry`) converges.
#[tokio::test]
async fn a_principal_eks_refuses_fails_terminally_until_an_apply_after_the_fix() {
    let Some(w) = world("").await else { return };
    let team_a = arn("role", "/teams/", "team-a");
    // IAM (moto) resolves the row, but EKS's view of IAM has no such principal.
    let gone = w
        .sim
        .with_world(|world| world.iam.remove(&team_a.to_lowercase()))
        .expect("team-a in the simulator's IAM");
    let s = settings("worker-refused");
    let engine = Engine::new(&w.config, &w.store, &s);
    let reports = converge(&w, &engine, "prod", Mode::Migrate).await;
    let last = reports.last().expect("a report");
    let Outcome::FailedTerminal { reason, what_to_do } = &last.outcome else {
        panic!("not terminal: {reports:#?}")
    };
    assert!(
        reason.contains(&team_a)
            && reason.contains("EKS refuses CreateAccessEntry permanently")
            && reason.contains("The specified principalArn is invalid"),
        "{reason}"
    );
    assert!(what_to_do.contains("full ARN"), "{what_to_do}");
    let record = record_of(&w.store, "prod").await;
    assert_eq!(record.state.phase, Phase::Failed { retryable: false });
    assert_eq!(record.state.what_to_do.as_ref(), Some(what_to_do));
    let refused = w
        .store
        .list_audit(&key("prod"))
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.target == team_a && r.operation == "CreateAccessEntry")
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(
        refused,
        vec![AuditStatus::Failed],
        "one audited, refused call"
    );

    // An event's run (the default trigger) leaves it recorded, with no write.
    let writes_before = writes(&w.sim);
    let again = engine
        .run(
            "prod",
            Mode::Migrate,
            Instant::now() + common::RUN_DEADLINE,
            &|_| {},
        )
        .await
        .expect("run");
    assert!(
        matches!(&again.outcome, Outcome::FailedTerminal { reason: r, .. } if r == reason),
        "{again:#?}"
    );
    assert_eq!(writes(&w.sim), writes_before);
    let kept = record_of(&w.store, "prod").await.state;
    assert_eq!(
        (kept.phase, kept.last_error),
        (record.state.phase, record.state.last_error)
    );

    // Fixed (the principal exists for EKS now); an explicit apply retries and converges.
    w.sim
        .with_world(|world| world.iam.insert(team_a.to_lowercase(), gone));
    let mut retry = settings("worker-apply");
    retry.trigger = eks_auth_core::state::Trigger::Retry;
    let apply = Engine::new(&w.config, &w.store, &retry);
    let reports = converge(&w, &apply, "prod", Mode::Migrate).await;
    let last = reports.last().expect("a report");
    assert_eq!(last.outcome, Outcome::Done, "{reports:#?}");
    assert_eq!(last.phase, Phase::Verified);
    let record = record_of(&w.store, "prod").await;
    assert_eq!(
        (record.state.last_error, record.state.what_to_do),
        (None, None)
    );
}
