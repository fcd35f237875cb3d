//! Clusters whose Kubernetes API is private (docs/networking.md), end to end: the engine
//! through the real SDK against the EKS simulator and moto, the in-VPC agent
//! (functions/cluster-agent) hosted behind the simulator's Lambda Invoke API with its own role's
//! credentials (a moto STS session) and the VPC's gateway as its only way in. The clusters'
//! RBAC is exactly infra/kubernetes/migrator-rbac.yaml, so whatever the agent needs beyond it
//! fails here.
//!
//! Proven: a private cluster finalizes through the agent with every principal's access
//! unchanged (oracle) and every agent write audited with its route; the worker itself cannot
//! reach it (the simulator refuses connections from outside the VPC); a private cluster
//! without an agent is BLOCKED with what to deploy, and goes on once one is deployed; an agent
//! that answers late (after its write landed), answers garbage, another protocol version or
//! crashes is a retryable failure with a clear error and never a partial or repeated write.

mod common;

use aws_credential_types::Credentials;
use eks_auth_aws::engine::{Engine, Outcome, Report, Settings};
use eks_auth_aws::live::{self, GatherError, GatherOptions};
use eks_auth_aws::route::RoutePolicy;
use eks_auth_aws::store::audit_trail::AuditStatus;
use eks_auth_aws::{ClusterKey, StateStore};
use eks_auth_core::reach::{NetworkConfig, ReachClass, Route, agent_function_name};
use eks_auth_core::state::{Mode, Phase};
use eks_sim::Sim;
use eks_sim::lambda::LambdaFault;
use eks_sim::seed::Seed;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const MIGRATOR: (&str, &str) = ("AKIAPRIVATEMIGRATOR1", "private-migrator-secret");
const MIGRATOR_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/eks-auth-migrator/run-1";
/// The VPC with an agent, and one without.
const VPC: &str = "vpc-0a1";
const BARE_VPC: &str = "vpc-0b2";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

fn agent_role(vpc: &str) -> String {
    role(&agent_function_name(vpc))
}

const ROLES: [&str; 6] = [
    "eks-node",
    "platform-admin",
    "team-a",
    "eks-auth-migrator",
    "eks-auth-migrator-agent-vpc-0a1",
    "eks-auth-migrator-agent-vpc-0b2",
];

fn rows() -> String {
    let row = |name: &str, username: &str, groups: &str| {
        format!(
            "            - rolearn: {}\n              username: \"{username}\"\n              groups: [{groups}]\n",
            role(name)
        )
    };
    [
        row(
            "eks-node",
            "system:node:{{EC2PrivateDNSName}}",
            "system:bootstrappers, system:nodes",
        ),
        row(
            "platform-admin",
            "platform-admin:{{SessionName}}",
            "system:masters",
        ),
        row("team-a", "team-a", "team-a"),
        row(
            "eks-auth-migrator",
            "eks-auth-migrator",
            "eks-auth-migrator",
        ),
        row(
            "eks-auth-migrator-agent-vpc-0a1",
            "eks-auth-migrator-agent",
            "eks-auth-migrator",
        ),
        row(
            "eks-auth-migrator-agent-vpc-0b2",
            "eks-auth-migrator-agent",
            "eks-auth-migrator",
        ),
    ]
    .concat()
}

/// The objects of infra/kubernetes/migrator-rbac.yaml, as JSON flow items for a seed.
fn migrator_rbac() -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/kubernetes/migrator-rbac.yaml"
    ))
    .expect("infra/kubernetes/migrator-rbac.yaml");
    let objects: Vec<String> = text
        .split("\n---\n")
        .map(|doc| {
            let value: serde_json::Value = serde_saphyr::from_str(doc).expect("a YAML object");
            value.to_string()
        })
        .collect();
    format!("[{}]", objects.join(", "))
}

fn cluster(name: &str, endpoint: &str) -> String {
    format!(
        r#"      - name: {name}
        region: {REGION}
        creator: "arn:aws:iam::{ACCOUNT}:user/creator"
        endpoint: {endpoint}
        nodegroups: [{{ name: ng1, node_role: "{node}" }}]
        rbac: [{{ subject_kind: Group, subject: team-a, role: edit, namespace: team-a }}]
        rbac_objects: {rbac}
        aws_auth:
          mapRoles: |
{rows}"#,
        node = role("eks-node"),
        rbac = migrator_rbac(),
        rows = rows(),
    )
}

fn seed(moto: &str) -> Seed {
    let iam: String = ROLES
        .iter()
        .map(|r| format!("      - \"{}\"\n", role(r)))
        .chain([format!("      - \"arn:aws:iam::{ACCOUNT}:user/creator\"\n")])
        .collect();
    let text = format!(
        "settings:\n  update_duration_ms: 100\n  sts_endpoint: \"{moto}\"\naccounts:\n  - id: \"{ACCOUNT}\"\n    credentials:\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"{MIGRATOR_SESSION}\" }}\n    iam:\n{iam}    clusters:\n{}{}{}",
        MIGRATOR.0,
        MIGRATOR.1,
        cluster(
            "inside",
            &format!("{{ public: false, private: true, vpc: {VPC} }}")
        ),
        cluster(
            "fenced",
            &format!("{{ public_cidrs: [203.0.113.0/24], private: true, vpc: {VPC} }}")
        ),
        cluster(
            "nowhere",
            &format!("{{ public: false, private: true, vpc: {BARE_VPC} }}")
        ),
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

struct World {
    sim: Sim,
    _moto: common::Moto,
    _dir: tempfile::TempDir,
    /// The engine's configuration (the migrator's credentials).
    config: aws_config::SdkConfig,
    store: StateStore,
}

async fn world() -> Option<World> {
    let moto = common::Moto::start()?;
    let sim = Sim::start(seed(&moto.url)).await.expect("simulator");
    let dir = tempfile::tempdir().expect("dir");
    let config = eks_sim::harness::sdk_config(
        &moto.url,
        &sim.url(),
        dir.path(),
        Credentials::new(MIGRATOR.0, MIGRATOR.1, None, None, "private-test"),
    )
    .await;
    let iam = aws_sdk_iam::Client::new(&config);
    for name in ROLES {
        common::create_principal(&iam, "role", "/", name).await;
    }
    common::create_principal(&iam, "user", "/", "creator").await;
    let store = StateStore::from_config(&config, "eam-private");
    store
        .create_table(Duration::from_secs(30))
        .await
        .expect("table");
    Some(World {
        sim,
        _moto: moto,
        _dir: dir,
        config,
        store,
    })
}

/// Deploys the agent of `vpc`: its role's credentials (a moto STS session, as Lambda hands
/// them to the function), the VPC's gateway as its network, hosted behind the Invoke API.
async fn deploy_agent(w: &World, vpc: &str) {
    let out = aws_sdk_sts::Client::new(&w.config)
        .assume_role()
        .role_arn(agent_role(vpc))
        .role_session_name("agent")
        .send()
        .await
        .expect("AssumeRole into the agent role");
    let c = out.credentials().expect("credentials");
    let vars = BTreeMap::from([
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", c.access_key_id().to_owned()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key().to_owned()),
        ("AWS_SESSION_TOKEN", c.session_token().to_owned()),
        ("AGENT_ROLE_ARN", agent_role(vpc)),
        ("KUBE_API_PROXY", w.sim.vpc_gateway(vpc).expect("gateway")),
    ]);
    let env = Arc::new(
        cluster_agent::AgentEnv::from_lookup(|k| vars.get(k).cloned()).expect("agent env"),
    );
    w.sim.register_function(
        ACCOUNT,
        REGION,
        &agent_function_name(vpc),
        Arc::new(move |payload| {
            let env = Arc::clone(&env);
            Box::pin(async move { cluster_agent::handle(&env, &payload).await })
        }),
    );
}

fn settings() -> Settings {
    let mut s = Settings::new("private-worker");
    s.soak = Duration::ZERO;
    s.update_poll = Duration::from_millis(50);
    s.lease_ttl = Duration::from_secs(30);
    s.step_margin = Duration::from_millis(500);
    s.break_glass_principal = Some(role("platform-admin"));
    s.gather.route = RoutePolicy::ByReachability(NetworkConfig {
        egress_cidrs: vec!["127.0.0.1/32".to_owned()],
        agent_timeout_seconds: 2,
        ..NetworkConfig::default()
    });
    s
}

fn key(name: &str) -> ClusterKey {
    ClusterKey::from_pk(&format!("CLUSTER#{ACCOUNT}#{REGION}#{name}")).expect("key")
}

fn sim_key(name: &str) -> eks_sim::model::ClusterKey {
    eks_sim::model::ClusterKey {
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        name: name.to_owned(),
    }
}

/// What a principal can do: its username, whether it is a node, and every (verb, resource,
/// namespace) of a grid the simulator's authorizer allows it (through its entry's policies or
/// its groups' RBAC).
type Access = Option<(String, bool, BTreeSet<(String, String, String)>)>;

/// Every principal's access, per the simulator's oracle and authorizer.
fn access_map(sim: &Sim, cluster: &str) -> BTreeMap<String, Access> {
    ROLES
        .iter()
        .map(|r| {
            let caller = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{r}/session-1");
            let effective = sim.oracle(&sim_key(cluster), &caller).expect("oracle");
            let access = effective.map(|e| {
                let mut allowed = BTreeSet::new();
                for verb in ["get", "list", "update", "patch", "delete"] {
                    for resource in ["configmaps", "secrets", "pods"] {
                        for ns in ["default", "kube-system", "team-a"] {
                            let request = eks_sim::rbac::Request::core(verb, resource, ns);
                            if sim.may(&sim_key(cluster), &caller, &request).expect("may") {
                                allowed.insert((
                                    verb.to_owned(),
                                    resource.to_owned(),
                                    ns.to_owned(),
                                ));
                            }
                        }
                    }
                }
                let groups = e.rendered_groups.unwrap_or(e.groups);
                (
                    e.rendered_username.unwrap_or(e.username),
                    groups.iter().any(|g| g == "system:nodes"),
                    allowed,
                )
            });
            (caller, access)
        })
        .collect()
}

async fn run(engine: &Engine<'_>, cluster: &str, mode: Mode) -> Report {
    engine
        .run(
            cluster,
            mode,
            Instant::now() + common::RUN_DEADLINE,
            &|_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("engine run on {cluster}: {e}"))
}

/// Runs until done or blocked, sleeping through waits; fails on a failed run.
async fn converge(engine: &Engine<'_>, cluster: &str, mode: Mode) -> Report {
    for _ in 0..60 {
        let report = run(engine, cluster, mode).await;
        match &report.outcome {
            Outcome::Done | Outcome::Blocked(_) => return report,
            Outcome::Waiting { .. } => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("{cluster}: unexpected {other:?}: {report:#?}"),
        }
    }
    panic!("{cluster} did not converge in 60 runs");
}

fn aws_auth(sim: &Sim, cluster: &str) -> BTreeMap<String, String> {
    sim.with_world(|world| world.clusters[&sim_key(cluster)].aws_auth_data())
}

fn kube_writes(sim: &Sim) -> u64 {
    sim.stats()
        .iter()
        .filter(|(op, _)| {
            op.starts_with("Kubernetes:")
                && !matches!(op.as_str(), "Kubernetes:get" | "Kubernetes:list")
        })
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_cluster_finalizes_through_its_agent_with_everyones_access_unchanged() {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    let before = access_map(&w.sim, "inside");
    let s = settings();
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = converge(&engine, "inside", Mode::Finalize).await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    let record = w
        .store
        .get_cluster(&key("inside"))
        .await
        .expect("record")
        .expect("exists");
    assert_eq!(record.state.phase, Phase::Complete);
    assert_eq!(
        w.sim
            .with_world(|x| x.clusters[&sim_key("inside")].mode.as_str()),
        "API"
    );
    let after = access_map(&w.sim, "inside");
    assert_eq!(before, after, "someone's access changed");

    // The record says how the cluster was reached.
    let reach = record.state.reach.expect("reach recorded");
    assert_eq!(reach.reachability.class, ReachClass::PrivateOnly);
    assert_eq!(reach.reachability.vpc_id.as_deref(), Some(VPC));
    assert!(
        matches!(&reach.route, Route::Agent { function, .. } if *function == agent_function_name(VPC))
    );

    // Every aws-auth write went through the agent, audited before and after with its route.
    let audits = w.store.list_audit(&key("inside")).await.expect("audit");
    let patches: Vec<_> = audits
        .iter()
        .filter(|a| a.operation == "PatchConfigMap")
        .collect();
    assert_eq!(patches.len(), 1, "{audits:#?}");
    assert_eq!(patches[0].status, AuditStatus::Succeeded);
    assert_eq!(
        patches[0].request["route"],
        format!("agent {}", agent_function_name(VPC))
    );

    // Least privilege, both sides: every invocation was the migrator's (the member role in the
    // functions) of an agent named so in the cluster's own account, and carried neither a
    // token nor a secret; the agent got by with migrator-rbac.yaml alone (a 403 would have
    // failed the run).
    let calls = w.sim.invocations();
    assert!(!calls.is_empty());
    for call in &calls {
        assert_eq!(call.caller_arn, MIGRATOR_SESSION);
        assert_eq!(call.account, ACCOUNT);
        assert!(call.function.starts_with("eks-auth-migrator-agent-"));
        for secret in ["k8s-aws-v1.", MIGRATOR.1, "AKIA", "ASIA", "SessionToken"] {
            assert!(
                !call.payload.contains(secret),
                "{secret} in {}",
                call.payload
            );
        }
    }
    assert_eq!(kube_writes(&w.sim), 1, "one aws-auth write: the prune");

    // Converged: another run invokes the agent to read, and writes nothing.
    let writes = kube_writes(&w.sim);
    let again = converge(&engine, "inside", Mode::Finalize).await;
    assert_eq!(again.mutating_calls, 0);
    assert_eq!(kube_writes(&w.sim), writes);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restricted_endpoint_outside_the_egress_goes_through_the_agent_and_the_worker_cannot_go_direct()
 {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    // The worker's own network position: the simulator refuses it at both clusters.
    for cluster in ["inside", "fenced"] {
        let err = live::gather(&w.config, cluster, &GatherOptions::default())
            .await
            .expect_err("outside the VPC and the allowed CIDRs");
        assert!(
            matches!(err, GatherError::KubeUnreachable { .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("infra/cluster-agent.yaml"), "{message}");
        assert!(message.contains(&agent_function_name(VPC)), "{message}");
    }
    // By reachability: 127.0.0.1 is outside 203.0.113.0/24, the private endpoint is on.
    let s = settings();
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = converge(&engine, "fenced", Mode::Audit).await;
    assert_eq!(report.outcome, Outcome::Done);
    let plan = report.plan.expect("a plan");
    let reach = plan
        .reach
        .expect("the plan says how it reached the cluster");
    assert_eq!(reach.reachability.class, ReachClass::PublicRestricted);
    assert_eq!(
        reach.reachability.egress,
        Some(eks_auth_core::reach::EgressFit::Outside)
    );
    assert!(matches!(reach.route, Route::Agent { .. }));
    assert!(
        plan.summary.create > 0,
        "aws-auth was read through the agent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_cluster_without_an_agent_is_blocked_with_what_to_deploy_until_one_is() {
    let Some(w) = world().await else { return };
    let s = settings();
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = run(&engine, "nowhere", Mode::Migrate).await;
    let Outcome::Blocked(reason) = &report.outcome else {
        panic!("expected a block: {report:#?}")
    };
    for needle in [
        "only a private Kubernetes API endpoint",
        "infra/cluster-agent.yaml",
        "account 123456789012, region us-east-1, VPC vpc-0b2",
        "eks-auth-migrator-agent-vpc-0b2",
        "no agent function eks-auth-migrator-agent-vpc-0b2 exists",
        "hub VPC",
    ] {
        assert!(reason.contains(needle), "{needle}: {reason}");
    }
    let record = w
        .store
        .get_cluster(&key("nowhere"))
        .await
        .expect("record")
        .expect("exists");
    assert_eq!(record.state.phase, Phase::Blocked);
    assert_eq!(record.state.last_error.as_deref(), Some(reason.as_str()));
    assert!(matches!(
        record.state.reach.as_ref().map(|r| &r.route),
        Some(Route::Unreachable { .. })
    ));
    assert_eq!(kube_writes(&w.sim), 0);
    assert_eq!(
        w.sim.stats().get("UpdateClusterConfig"),
        None,
        "nothing changed"
    );

    // The agent is deployed: the next runs plan first, then migrate.
    deploy_agent(&w, BARE_VPC).await;
    let before = access_map(&w.sim, "nowhere");
    let report = converge(&engine, "nowhere", Mode::Migrate).await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert_eq!(report.phase, Phase::Verified);
    assert_eq!(access_map(&w.sim, "nowhere"), before);
    let entries = w
        .store
        .list_entries(&key("nowhere"))
        .await
        .expect("entries");
    assert!(
        entries.iter().any(|e| !e.source_row.is_empty()),
        "the plan was recorded (Step::Plan ran after the block): {entries:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_that_answers_late_garbage_another_version_or_crashes_fails_retryably_without_a_partial_write()
 {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    let function = agent_function_name(VPC);
    let agent = (ACCOUNT, REGION, function.as_str());
    let s = settings();
    let engine = Engine::new(&w.config, &w.store, &s);
    let before = access_map(&w.sim, "inside");
    let original = aws_auth(&w.sim, "inside");

    // Reads that come back unusable: the run fails (retryably), says why, and writes nothing.
    for (fault, says) in [
        (LambdaFault::Garbage, "not JSON"),
        (LambdaFault::OtherVersion, "protocol version 2"),
        (LambdaFault::Crash, "the agent function failed (Unhandled)"),
        (
            LambdaFault::SlowAnswer(Duration::from_secs(4)),
            "no answer within 2 s",
        ),
    ] {
        w.sim.arm_function_fault(agent, fault.clone(), 1, None);
        let report = run(&engine, "inside", Mode::Finalize).await;
        let Outcome::Failed(reason) = &report.outcome else {
            panic!("{fault:?}: expected a retryable failure, got {report:#?}")
        };
        assert!(reason.contains(says), "{fault:?}: {reason}");
        assert!(reason.contains(&function), "{reason}");
        assert_eq!(report.mutating_calls, 0, "{fault:?}");
        assert_eq!(aws_auth(&w.sim, "inside"), original);
    }

    // Migrate (entries created and verified), then a prune whose answer comes too late: the
    // write landed, the worker does not know. The step fails retryably; aws-auth holds exactly
    // the pruned document, never a part of it; the next runs see nothing left to prune and
    // finish without a second write.
    let migrated = converge(&engine, "inside", Mode::Migrate).await;
    assert_eq!(migrated.phase, Phase::Verified);
    w.sim.arm_function_fault(
        agent,
        LambdaFault::SlowAnswer(Duration::from_secs(4)),
        1,
        Some("write_aws_auth"),
    );
    let mut failed = None;
    for _ in 0..10 {
        let report = run(&engine, "inside", Mode::Finalize).await;
        if let Outcome::Failed(reason) = &report.outcome {
            failed = Some(reason.clone());
            break;
        }
    }
    let reason = failed.expect("the late prune answer fails the step");
    assert!(reason.contains("no answer within 2 s"), "{reason}");
    let pruned = aws_auth(&w.sim, "inside");
    assert_ne!(pruned, original, "the write landed");
    let auth = eks_auth_core::aws_auth::AwsAuth::parse_data(&pruned);
    assert!(
        auth.findings
            .iter()
            .all(|f| f.severity != eks_auth_core::finding::Severity::Blocker),
        "a whole, valid document"
    );
    assert_eq!(kube_writes(&w.sim), 1);
    let done = converge(&engine, "inside", Mode::Finalize).await;
    assert_eq!(done.outcome, Outcome::Done, "{done:#?}");
    assert_eq!(kube_writes(&w.sim), 1, "the prune was not repeated");
    assert_eq!(access_map(&w.sim, "inside"), before);
    let audits = w.store.list_audit(&key("inside")).await.expect("audit");
    assert!(audits.iter().all(|a| a.status != AuditStatus::Started));
}
