//! An interrupted `apply` resumes at once: `apply --mode finalize` killed with `kill -9` right
//! after each write the simulator serves (its call log decides when, never a timer), each kill
//! followed at once by the same command, then a run to the end. No restart is refused or exits 2,
//! the cluster reaches API, no write is repeated (the simulator's call counts) and the audit
//! trail is complete. And a run on another host is refused while the killed run's lease is live
//! (the lease records the holder's host; debug builds take the host from `EAM_HOST_ID`, so one
//! machine can stand in for two). Updates the tests must see in flight are held by the simulator
//! (`settings.hold_updates`) until the test has seen what it waits for.

mod common;

use eks_auth_aws::StateStore;
use eks_auth_aws::store::audit_trail::AuditStatus;
use eks_sim::seed::Seed;
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Child, ExitStatus, Stdio};
use std::time::Duration;

const ACCOUNT: &str = "123456789012";
const MIGRATOR: (&str, &str) = ("AKIARESUMEMIGRATOR01", "resume-migrator-secret");
const TABLE: &str = "eam-resume";

const PRINCIPALS: [(&str, &str, &str); 6] = [
    ("role", "/", "eks-node"),
    ("role", "/", "karpenter-node"),
    ("role", "/", "eks-auth-migrator"),
    ("role", "/", "platform-admin"),
    ("role", "/teams/", "team-a"),
    ("role", "/", "team-b"),
];

fn seed(update_ms: u64) -> Seed {
    let iam: Vec<String> = PRINCIPALS
        .iter()
        .map(|(k, p, n)| format!("\"arn:aws:iam::{ACCOUNT}:{k}{p}{n}\""))
        .collect();
    let text = format!(
        r#"settings:
  update_duration_ms: {update_ms}
accounts:
  - id: "{ACCOUNT}"
    credentials:
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/eks-auth-migrator/run" }}
    iam: [{}]
    clusters:
      - name: prod
        region: us-east-1
        mode: CONFIG_MAP
        nodegroups: [{{ name: ng1, node_role: "arn:aws:iam::{ACCOUNT}:role/eks-node" }}]
        rbac:
          - {{ subject_kind: Group, subject: eks-auth-migrator, role: edit, namespace: kube-system }}
        aws_auth:
          mapRoles: |
            - rolearn: arn:aws:iam::{ACCOUNT}:role/eks-node
              username: system:node:{{{{EC2PrivateDNSName}}}}
              groups: [system:bootstrappers, system:nodes]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/karpenter-node
              username: system:node:{{{{EC2PrivateDNSName}}}}
              groups: [system:bootstrappers, system:nodes]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/eks-auth-migrator
              username: eks-auth-migrator
              groups: [eks-auth-migrator]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/platform-admin
              username: "platform-admin:{{{{SessionName}}}}"
              groups: [system:masters]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/team-a
              username: "dev:{{{{SessionNameRaw}}}}"
              groups: [team-a, system:masters]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/team-b
              username: team-b
              groups: [team-b]
"#,
        MIGRATOR.0,
        MIGRATOR.1,
        iam.join(", "),
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

const FINALIZE: [&str; 10] = [
    "apply",
    "--cluster",
    "prod",
    "--region",
    "us-east-1",
    "--mode",
    "finalize",
    "--yes",
    "--table",
    TABLE,
];

/// Whether a simulator operation writes: an EKS mutation (not List*/Describe*) or a Kubernetes
/// write.
fn is_write(op: &str) -> bool {
    match op.strip_prefix("Kubernetes:") {
        Some(verb) => !matches!(verb, "get" | "list" | "watch"),
        None => eks_sim::eks::is_mutating(op),
    }
}

/// EKS and Kubernetes write calls served by the simulator, per operation.
fn writes(stack: &eks_sim::harness::Stack) -> BTreeMap<String, u64> {
    stack
        .sim
        .stats()
        .into_iter()
        .filter(|(op, _)| is_write(op))
        .collect()
}

/// Waits, polling the child and the simulator, until `child` exits (its status) or `happened`
/// holds (`None`): an event, however long it takes; the test's own timeout is the only limit.
fn until(child: &mut Child, mut happened: impl FnMut() -> bool) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if happened() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sets whether the simulator holds cluster updates in progress.
fn hold_updates(stack: &eks_sim::harness::Stack, hold: bool) {
    stack.sim.with_world(|w| w.settings.hold_updates = hold);
}

fn total(writes: &BTreeMap<String, u64>) -> u64 {
    writes.values().sum()
}

async fn store(stack: &eks_sim::harness::Stack) -> StateStore {
    let moto = stack.moto.as_ref().map(|m| m.url()).expect("moto");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = eks_sim::harness::sdk_config(
        &moto,
        &stack.sim.url(),
        dir.path(),
        aws_credential_types::Credentials::new(MIGRATOR.0, MIGRATOR.1, None, None, "test"),
    )
    .await;
    let store = StateStore::from_config(&config, TABLE);
    store
        .create_table(Duration::from_secs(30))
        .await
        .expect("create table");
    store
}

fn prod_key() -> eks_auth_aws::ClusterKey {
    eks_auth_aws::ClusterKey::from_pk(&format!("CLUSTER#{ACCOUNT}#us-east-1#prod")).expect("key")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_after_every_write_resumes_at_once_without_repeating_a_write() {
    let Some(stack) = common::stack(seed(500), &PRINCIPALS).await else {
        return;
    };
    let store = store(&stack).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The first switch is held in flight: the first kill lands in its wait, in CONFIG_MAP.
    hold_updates(&stack, true);
    let mut killed_after = Vec::new();
    let mut finished = false;
    for run in 0..60 {
        let mut child = common::cli_command(&stack, dir.path(), MIGRATOR, &FINALIZE)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn apply");
        let before = writes(&stack);
        let exited = until(&mut child, || total(&writes(&stack)) > total(&before));
        if exited.is_none() {
            child.kill().expect("SIGKILL");
        }
        child.wait().expect("reaped");
        let mut out = String::new();
        let mut err = String::new();
        let _ = child.stdout.take().map(|mut s| s.read_to_string(&mut out));
        let _ = child.stderr.take().map(|mut s| s.read_to_string(&mut err));
        assert!(
            !out.contains("holds the cluster") && !err.contains("holds the cluster"),
            "restart {run} was refused:\n{out}\n{err}"
        );
        if let Some(status) = exited {
            // Ran to its end without a write to kill it after: only success is acceptable.
            assert_eq!(
                status.code(),
                Some(0),
                "restart {run} exited:\n{out}\n{err}"
            );
            finished = true;
            break;
        }
        let after = writes(&stack);
        let new: Vec<String> = after
            .iter()
            .filter(|(op, n)| before.get(*op) < Some(n))
            .map(|(op, _)| op.clone())
            .collect();
        let mode = stack.sim.with_world(|w| {
            w.clusters
                .values()
                .next()
                .map(|c| c.mode.as_str())
                .unwrap_or_default()
        });
        killed_after.push((new, mode));
        hold_updates(&stack, false);
    }
    eprintln!("kills (after the writes, in mode): {killed_after:?}");
    assert!(finished, "60 runs and still writing: {killed_after:?}");
    assert_eq!(
        killed_after.first(),
        Some(&(vec!["UpdateClusterConfig".to_owned()], "CONFIG_MAP")),
        "the first kill lands in the held switch"
    );
    let done = common::cli(&stack, dir.path(), MIGRATOR, &FINALIZE);
    let (out, err) = common::text(&done);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{out}\n{err}\nkills: {killed_after:?}"
    );
    assert!(
        out.contains("phase COMPLETE, authentication mode API"),
        "{out}"
    );
    assert!(!err.contains("holds the cluster"), "{err}");

    // No write repeated: each kind of write exactly as often as the migration needs it.
    let entries = stack.sim.with_world(|w| {
        let cluster = w.clusters.values().next().expect("prod");
        cluster
            .entries
            .values()
            .filter(|e| e.tags.get("managed-by").map(String::as_str) == Some("eks-auth-migrator"))
            .map(|e| (e.principal_arn.clone(), e.policies.len() as u64))
            .collect::<Vec<_>>()
    });
    let expected = BTreeMap::from([
        ("UpdateClusterConfig".to_owned(), 2),
        ("CreateAccessEntry".to_owned(), entries.len() as u64),
        (
            "AssociateAccessPolicy".to_owned(),
            entries.iter().map(|(_, n)| n).sum::<u64>(),
        ),
        ("Kubernetes:patch".to_owned(), 1),
    ]);
    assert_eq!(writes(&stack), expected, "kills: {killed_after:?}");
    // Five entries: the Karpenter node role, the migrator, the two system:masters admins, team-b.
    assert_eq!(entries.len(), 5, "{entries:?}");

    // A complete audit trail: nothing left open, every write recorded as done once.
    let records = store.list_audit(&prod_key()).await.expect("audit");
    let mut succeeded: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &records {
        assert_ne!(r.status, AuditStatus::Started, "left open: {r:?}");
        if r.status == AuditStatus::Succeeded {
            *succeeded
                .entry((r.operation.clone(), format!("{} {}", r.target, r.request)))
                .or_default() += 1;
        }
    }
    for (write, n) in &succeeded {
        assert_eq!(*n, 1, "{write:?} recorded {n} times");
    }
    assert_eq!(
        succeeded.len() as u64,
        expected.values().sum::<u64>(),
        "{succeeded:#?}"
    );
    let record = store
        .get_cluster(&prod_key())
        .await
        .expect("get")
        .expect("record");
    assert!(record.lease.is_none(), "lease released at the end");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_hosts_run_is_refused_while_the_lease_is_live() {
    let Some(stack) = common::stack(seed(200), &PRINCIPALS).await else {
        return;
    };
    let _store = store(&stack).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let on_host = |host: &str, failpoint: Option<&str>| {
        let mut command = common::cli_command(&stack, dir.path(), MIGRATOR, &FINALIZE);
        command.env("EAM_HOST_ID", host);
        if let Some(point) = failpoint {
            command.env("EAM_FAILPOINTS", point);
        }
        command.output().expect("binary runs")
    };
    // Host A crashes right after its first CreateAccessEntry: its lease stays (5 minutes).
    let crashed = on_host("host-a", Some("after:CreateAccessEntry"));
    let (out, err) = common::text(&crashed);
    assert!(err.contains("after:CreateAccessEntry"), "{out}\n{err}");
    let writes_before = stack.sim.stats();

    // Host B is refused at once, says who holds the cluster, and writes nothing.
    let refused = on_host("host-b", None);
    let (out, err) = common::text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("holds the cluster until"), "{out}");
    assert!(out.contains("on host host-a"), "{out}");
    let written = |stats: &BTreeMap<String, u64>| {
        stats
            .iter()
            .filter(|(op, _)| is_write(op))
            .map(|(op, n)| (op.clone(), *n))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(written(&stack.sim.stats()), written(&writes_before));

    // Host A again: its crashed process is gone, so it takes over at once and finishes.
    let resumed = on_host("host-a", None);
    let (out, err) = common::text(&resumed);
    assert_eq!(resumed.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("phase COMPLETE, authentication mode API"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_after_the_call_in_flight_releases_the_lease_and_says_how_to_resume() {
    let Some(stack) = common::stack(seed(500), &PRINCIPALS).await else {
        return;
    };
    let store = store(&stack).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The switch is held in flight until the Ctrl-C has been handled.
    hold_updates(&stack, true);
    let mut child = common::cli_command(&stack, dir.path(), MIGRATOR, &FINALIZE)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply");
    // Into the first switch's wait (the simulator has served the switch), then Ctrl-C.
    let exited = until(&mut child, || {
        stack.sim.stats().contains_key("UpdateClusterConfig")
    });
    assert_eq!(exited, None, "apply ended before it requested the switch");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let out = child.wait_with_output().expect("apply ends");
    hold_updates(&stack, false);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Run the same command again to continue"),
        "{stdout}"
    );
    let record = store
        .get_cluster(&prod_key())
        .await
        .expect("get")
        .expect("record");
    assert!(record.lease.is_none(), "lease released: {:?}", record.lease);
    let open = store
        .list_audit(&prod_key())
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.status == AuditStatus::Started)
        .count();
    assert_eq!(open, 0, "the call in flight was completed and audited");

    // The same command continues at once (the update it requested is followed to its end).
    let again = common::cli(&stack, dir.path(), MIGRATOR, &FINALIZE);
    let (stdout, stderr) = common::text(&again);
    assert_eq!(again.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("phase COMPLETE, authentication mode API"),
        "{stdout}"
    );
    assert_eq!(stack.sim.stats().get("UpdateClusterConfig"), Some(&2));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_someone_else_started_is_followed_to_its_end() {
    let Some(stack) = common::stack(seed(200), &PRINCIPALS).await else {
        return;
    };
    let _store = store(&stack).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Someone switches the cluster to API_AND_CONFIG_MAP just before the operator's apply; the
    // simulator holds it until the apply has asked how it goes.
    hold_updates(&stack, true);
    let id = stack.sim.with_world(|w| {
        let id = w.next_uuid();
        let cluster = w.clusters.values_mut().next().expect("prod");
        cluster.updates.push(eks_sim::model::ClusterUpdate {
            id: id.clone(),
            target: eks_sim::model::AuthMode::ApiAndConfigMap,
            created_at: eks_sim::model::epoch_now(),
            completes_at: std::time::Instant::now(),
            status: eks_sim::model::UpdateStatus::InProgress,
        });
        cluster.status = "UPDATING".to_owned();
        id
    });
    let mut child = common::cli_command(&stack, dir.path(), MIGRATOR, &FINALIZE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply");
    let exited = until(&mut child, || {
        stack.sim.stats().contains_key("DescribeUpdate")
    });
    assert_eq!(exited, None, "apply ended without following the update");
    hold_updates(&stack, false);
    let out = child.wait_with_output().expect("apply ends");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("update {id} is in progress")),
        "{stderr}"
    );
    assert!(
        stdout.contains("phase COMPLETE, authentication mode API"),
        "{stdout}"
    );
    // Only the second switch was the migrator's.
    assert_eq!(stack.sim.stats().get("UpdateClusterConfig"), Some(&1));
}
