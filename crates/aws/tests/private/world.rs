//! The private world the tests share: an account with private and restricted clusters in two
//! VPCs (one with an agent, one without), its principals and RBAC, the engine's settings, and
//! what the tests observe (everyone's access per the simulator, aws-auth, Kubernetes writes).

use super::common;

pub use aws_credential_types::Credentials;
pub use eks_auth_aws::engine::{Engine, Outcome, Report, Settings};
pub use eks_auth_aws::live::{self, GatherError, GatherOptions};
pub use eks_auth_aws::route::RoutePolicy;
pub use eks_auth_aws::store::audit_trail::AuditStatus;
pub use eks_auth_aws::{ClusterKey, StateStore};
pub use eks_auth_core::agent_pin::{AgentPin, AgentRef};
pub use eks_auth_core::reach::{NetworkConfig, ReachClass, Route, agent_function_name};
pub use eks_auth_core::state::{Mode, Phase};
pub use eks_sim::Sim;
pub use eks_sim::lambda::LambdaFault;
pub use eks_sim::seed::Seed;
pub use std::collections::{BTreeMap, BTreeSet};
pub use std::sync::Arc;
pub use std::time::{Duration, Instant};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const MIGRATOR: (&str, &str) = ("AKIAPRIVATEMIGRATOR1", "private-migrator-secret");
pub const MIGRATOR_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/eks-auth-migrator/run-1";
/// A principal of the account with no tie to the migrator, allowed lambda:InvokeFunction (as
/// PowerUserAccess or AWSLambdaRole would allow it).
pub const INTRUDER: (&str, &str) = ("AKIAPRIVATEINTRUDER1", "private-intruder-secret");
pub const INTRUDER_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/intruder/mallory";
/// The CodeSha256 of the agent package the tests deploy (what GetFunction reports for it, and
/// what the configuration pins).
pub const AGENT_CODE: &str = "odlbUYr1nkwa0ikR9IJMKmGjk424SAhQfvTyiZbcX84=";
/// The VPC with an agent, and one without.
pub const VPC: &str = "vpc-0a1";
pub const BARE_VPC: &str = "vpc-0b2";

pub fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

pub fn agent_role(vpc: &str) -> String {
    role(&agent_function_name(vpc))
}

pub const ROLES: [&str; 7] = [
    "eks-node",
    "platform-admin",
    "team-a",
    "eks-auth-migrator",
    "eks-auth-migrator-agent-vpc-0a1",
    "eks-auth-migrator-agent-vpc-0b2",
    "intruder",
];

pub fn rows() -> String {
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

pub fn cluster(name: &str, endpoint: &str) -> String {
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
        rbac = eks_sim::seed::migrator_rbac(),
        rows = rows(),
    )
}

pub fn seed(moto: &str) -> Seed {
    let iam: String = ROLES
        .iter()
        .map(|r| format!("      - \"{}\"\n", role(r)))
        .chain([format!("      - \"arn:aws:iam::{ACCOUNT}:user/creator\"\n")])
        .collect();
    let text = format!(
        "settings:\n  update_duration_ms: 100\n  sts_endpoint: \"{moto}\"\naccounts:\n  - id: \"{ACCOUNT}\"\n    credentials:\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"{MIGRATOR_SESSION}\" }}\n      - {{ access_key_id: {}, secret_access_key: {}, arn: \"{INTRUDER_SESSION}\" }}\n    iam:\n{iam}    clusters:\n{}{}{}",
        MIGRATOR.0,
        MIGRATOR.1,
        INTRUDER.0,
        INTRUDER.1,
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

pub struct World {
    pub sim: Sim,
    pub _moto: common::Moto,
    pub _dir: tempfile::TempDir,
    /// The engine's configuration (the migrator's credentials).
    pub config: aws_config::SdkConfig,
    pub store: StateStore,
    /// The central signing key (template.yaml's AgentSigningKey, in moto): its ARN and the
    /// base64 of its public key, as an agent stack's SigningPublicKey.
    pub signing_key: (String, String),
}

pub async fn world() -> Option<World> {
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
    let key = eks_sim::signing_key::create(&config)
        .await
        .expect("the agent signing key in moto");
    let signing_key = (key.arn, key.public_key);
    Some(World {
        sim,
        _moto: moto,
        _dir: dir,
        config,
        store,
        signing_key,
    })
}

/// Deploys the agent of `vpc`: its role's credentials (a moto STS session, as Lambda hands
/// them to the function), the VPC's gateway as its network, hosted behind the Invoke API.
pub async fn deploy_agent(w: &World, vpc: &str) {
    let gateway = w.sim.vpc_gateway(vpc).expect("gateway");
    deploy_agent_with(w, vpc, Some(gateway)).await;
}

/// The agent of `vpc` with a direct network (no gateway): it reaches whatever 127.0.0.1 port a
/// request names, as an agent whose VPC routes anywhere.
pub async fn deploy_agent_without_gateway(w: &World, vpc: &str) {
    deploy_agent_with(w, vpc, None).await;
}

async fn deploy_agent_with(w: &World, vpc: &str, gateway: Option<String>) {
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
        ("AGENT_SIGNING_PUBLIC_KEY", w.signing_key.1.clone()),
        // The simulator's clusters listen on 127.0.0.1 (the local stack's override).
        ("AGENT_ALLOW_LOOPBACK_ENDPOINTS", "true".to_owned()),
    ]);
    let mut vars = vars;
    if let Some(gateway) = gateway {
        vars.insert("KUBE_API_PROXY", gateway);
    }
    let env = Arc::new(
        cluster_agent::AgentEnv::from_lookup(|k| vars.get(k).cloned()).expect("agent env"),
    );
    w.sim.register_function_as(
        (ACCOUNT, REGION, &agent_function_name(vpc)),
        eks_sim::lambda::FunctionConfig {
            code_sha256: AGENT_CODE.to_owned(),
            role: agent_role(vpc),
        },
        Arc::new(move |payload| {
            let env = Arc::clone(&env);
            Box::pin(async move { cluster_agent::handle(&env, &payload).await })
        }),
    );
}

/// The engine's settings: the functions' route by reachability, agent requests signed with the
/// world's key.
pub fn settings(w: &World) -> Settings {
    let mut s = Settings::new("private-worker");
    s.soak = Duration::ZERO;
    s.update_poll = Duration::from_millis(50);
    s.lease_ttl = Duration::from_secs(30);
    s.step_margin = Duration::from_millis(500);
    s.break_glass_principal = Some(role("platform-admin"));
    s.gather.route = RoutePolicy::ByReachability(NetworkConfig {
        egress_cidrs: vec!["127.0.0.1/32".to_owned()],
        agent_timeout_seconds: 2,
        agents: [VPC, BARE_VPC]
            .into_iter()
            .map(|vpc| (vpc.to_owned(), AgentRef::Pinned(pin(vpc))))
            .collect(),
        ..NetworkConfig::default()
    });
    s.gather.agent_signer = Some(eks_auth_aws::route::signer::AgentSigner::new(
        &w.config,
        &w.signing_key.0,
    ));
    s
}

/// The pin of the agent the tests deploy in `vpc`.
pub fn pin(vpc: &str) -> AgentPin {
    AgentPin {
        function: format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}",
            agent_function_name(vpc)
        ),
        code_sha256: AGENT_CODE.to_owned(),
        role: None,
    }
}

pub fn key(name: &str) -> ClusterKey {
    ClusterKey::from_pk(&format!("CLUSTER#{ACCOUNT}#{REGION}#{name}")).expect("key")
}

pub fn sim_key(name: &str) -> eks_sim::model::ClusterKey {
    eks_sim::model::ClusterKey {
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        name: name.to_owned(),
    }
}

/// What a principal can do: its username, whether it is a node, and every (verb, resource,
/// namespace) of a grid the simulator's authorizer allows it (through its entry's policies or
/// its groups' RBAC).
pub type Access = Option<(String, bool, BTreeSet<(String, String, String)>)>;

/// Every principal's access, per the simulator's oracle and authorizer.
pub fn access_map(sim: &Sim, cluster: &str) -> BTreeMap<String, Access> {
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

pub async fn run(engine: &Engine<'_>, cluster: &str, mode: Mode) -> Report {
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
pub async fn converge(engine: &Engine<'_>, cluster: &str, mode: Mode) -> Report {
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

pub fn aws_auth(sim: &Sim, cluster: &str) -> BTreeMap<String, String> {
    sim.with_world(|world| world.clusters[&sim_key(cluster)].aws_auth_data())
}

pub fn kube_writes(sim: &Sim) -> u64 {
    sim.stats()
        .iter()
        .filter(|(op, _)| {
            op.starts_with("Kubernetes:")
                && !matches!(op.as_str(), "Kubernetes:get" | "Kubernetes:list")
        })
        .map(|(_, n)| n)
        .sum()
}
