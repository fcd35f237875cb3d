//! The local stack for the pipeline test and the demo: a two-account organisation on the EKS
//! simulator and moto (member-role sessions resolved through the simulator's `sts_endpoint`),
//! the state table, job queue and configuration parameter, and a queue drainer that runs the
//! worker handler the way the SQS event source mapping does.

#![allow(dead_code)]

use aws_credential_types::Credentials;
use aws_lambda_events::event::sqs::SqsEvent;
use eks_auth_aws::StateStore;
use eks_auth_aws::fleet::environment::FunctionEnv;
use eks_auth_core::state::{Mode, Phase};
use eks_sim::harness::Stack;
use eks_sim::seed::Seed;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const A: &str = "111111111111";
pub const B: &str = "222222222222";
/// The member read role (scan, events; the worker's lookups in other accounts).
pub const MEMBER_ROLE: &str = "eks-auth-migrator-member";
/// The member write role: the worker's, in the cluster's account; the one aws-auth maps.
pub const MEMBER_WRITE_ROLE: &str = "eks-auth-migrator-member-write";
pub const TABLE: &str = "eam-pipeline";
pub const PARAMETER: &str = "/eks-auth-migrator/config";

/// (account, kind, path, name) in IAM.
pub fn principals() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut v = Vec::new();
    for account in [A, B] {
        v.extend([
            (account, "role", "/", MEMBER_ROLE),
            (account, "role", "/", MEMBER_WRITE_ROLE),
            (account, "role", "/", "eks-node"),
            (account, "role", "/", "platform-admin"),
            (account, "role", "/teams/", "team-a"),
            (account, "role", "/", "monitoring"),
            (account, "user", "/", "creator"),
        ]);
    }
    v
}

/// A cluster's aws-auth rows; the other account's team-a role among them (looked up in that
/// account through its member role).
pub fn rows(account: &str, bad: bool) -> String {
    let other = if account == A { B } else { A };
    let mut rows = format!(
        r#"            - rolearn: arn:aws:iam::{account}:role/eks-node
              username: system:node:{{{{EC2PrivateDNSName}}}}
              groups: [system:bootstrappers, system:nodes]
            - rolearn: arn:aws:iam::{account}:role/{MEMBER_WRITE_ROLE}
              username: eks-auth-migrator
              groups: [eks-auth-migrator]
            - rolearn: arn:aws:iam::{account}:role/platform-admin
              username: "platform-admin:{{{{SessionName}}}}"
              groups: [system:masters]
            - rolearn: arn:aws:iam::{account}:role/team-a
              username: team-a
              groups: [team-a]
            - rolearn: arn:aws:iam::{other}:role/team-a
              username: partner-team-a
              groups: [team-a]
"#
    );
    if bad {
        rows.push_str(&format!(
            "            - rolearn: arn:aws:iam::{account}:role/monitoring\n              username: monitoring\n              groups: [system:monitoring]\n"
        ));
    }
    rows
}

pub fn cluster(account: &str, name: &str, region: &str, bad: bool) -> String {
    format!(
        r#"      - name: {name}
        region: {region}
        mode: CONFIG_MAP
        creator: "arn:aws:iam::{account}:user/creator"
        nodegroups: [{{ name: ng1, node_role: "arn:aws:iam::{account}:role/eks-node" }}]
        rbac:
          - {{ subject_kind: Group, subject: eks-auth-migrator, role: edit, namespace: kube-system }}
          - {{ subject_kind: Group, subject: team-a, role: edit, namespace: team-a }}
        aws_auth:
          mapRoles: |
{rows}"#,
        rows = rows(account, bad)
    )
}

/// The VPCs of the private fleet: (account, VPC, whether its in-VPC agent is deployed).
pub const PRIVATE_VPCS: [(&str, &str, bool); 3] = [
    (A, "vpc-0a1", true),
    (B, "vpc-0b2", true),
    (B, "vpc-0b1", false),
];

/// The private fleet's clusters (us-east-1): (account, name, seed endpoint).
pub const PRIVATE_CLUSTERS: [(&str, &str, &str); 7] = [
    (A, "pay-prod", "{}"),
    // Restricted to 127.0.0.0/8: the worker's egress (127.0.0.1, network.egress_cidrs) is inside.
    (A, "pay-fenced", "{ public_cidrs: [127.0.0.0/8] }"),
    (
        A,
        "pay-private",
        "{ public: false, private: true, vpc: vpc-0a1 }",
    ),
    // Restricted to 203.0.113.0/24, outside the worker's egress; the private endpoint is on.
    (
        A,
        "pay-walled",
        "{ public_cidrs: [203.0.113.0/24], private: true, vpc: vpc-0a1 }",
    ),
    (B, "data-prod", "{}"),
    (
        B,
        "data-vault",
        "{ public: false, private: true, vpc: vpc-0b2 }",
    ),
    // Private, and its VPC has no agent yet.
    (
        B,
        "data-private",
        "{ public: false, private: true, vpc: vpc-0b1 }",
    ),
];

/// The role of the in-VPC agent of `vpc` in `account` (infra/cluster-agent.yaml names it so).
pub fn agent_role(account: &str, vpc: &str) -> String {
    format!(
        "arn:aws:iam::{account}:role/{}",
        eks_auth_core::reach::agent_function_name(vpc)
    )
}

/// A cluster of the private fleet: the usual rows plus its account's agent roles, RBAC exactly
/// infra/kubernetes/migrator-rbac.yaml, and its endpoint.
pub fn private_cluster(account: &str, name: &str, endpoint: &str) -> String {
    let agents: String = PRIVATE_VPCS
        .iter()
        .filter(|(a, _, _)| *a == account)
        .map(|(a, vpc, _)| {
            format!(
                "            - rolearn: {}\n              username: eks-auth-migrator-agent\n              groups: [eks-auth-migrator]\n",
                agent_role(a, vpc)
            )
        })
        .collect();
    format!(
        r#"      - name: {name}
        region: us-east-1
        mode: CONFIG_MAP
        creator: "arn:aws:iam::{account}:user/creator"
        endpoint: {endpoint}
        nodegroups: [{{ name: ng1, node_role: "arn:aws:iam::{account}:role/eks-node" }}]
        rbac:
          - {{ subject_kind: Group, subject: team-a, role: edit, namespace: team-a }}
        rbac_objects: {rbac}
        aws_auth:
          mapRoles: |
{rows}{agents}"#,
        rows = rows(account, false),
        rbac = eks_sim::seed::migrator_rbac(),
    )
}

/// Which fleet a pipeline runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fleet {
    /// Two accounts, four public clusters (the pipeline test and `scripts/demo`).
    Public,
    /// Public, restricted and private clusters; in-VPC agents in two of three VPCs
    /// (`private_fleet.rs`, `scripts/demo --private`).
    Private,
}

/// The IAM principals of `fleet`: the agents' roles too in the private one.
pub fn fleet_principals(fleet: Fleet) -> Vec<(&'static str, &'static str, &'static str, String)> {
    let mut v: Vec<_> = principals()
        .into_iter()
        .map(|(a, k, p, n)| (a, k, p, n.to_owned()))
        .collect();
    if fleet == Fleet::Private {
        for (account, vpc, _) in PRIVATE_VPCS {
            v.push((
                account,
                "role",
                "/",
                eks_auth_core::reach::agent_function_name(vpc),
            ));
        }
    }
    v
}

fn iam_yaml(fleet: Fleet, account: &str) -> String {
    fleet_principals(fleet)
        .iter()
        .filter(|p| p.0 == account)
        .map(|(a, k, p, n)| format!("      - \"arn:aws:iam::{a}:{k}{p}{n}\"\n"))
        .collect()
}

/// The private fleet's seed.
pub fn private_seed(moto: &str) -> Seed {
    let clusters = |account: &str| -> String {
        PRIVATE_CLUSTERS
            .iter()
            .filter(|(a, _, _)| *a == account)
            .map(|(a, name, endpoint)| private_cluster(a, name, endpoint))
            .collect()
    };
    let text = format!(
        "settings:\n  update_duration_ms: 150\n  sts_endpoint: \"{moto}\"\naccounts:\n  - id: \"{A}\"\n    iam:\n{}    clusters:\n{}  - id: \"{B}\"\n    iam:\n{}    clusters:\n{}",
        iam_yaml(Fleet::Private, A),
        clusters(A),
        iam_yaml(Fleet::Private, B),
        clusters(B),
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

pub fn seed(moto: &str) -> Seed {
    let iam = |account: &str| iam_yaml(Fleet::Public, account);
    let text = format!(
        "settings:\n  update_duration_ms: 150\n  sts_endpoint: \"{moto}\"\naccounts:\n  - id: \"{A}\"\n    iam:\n{}    clusters:\n{}{}{}  - id: \"{B}\"\n    iam:\n{}    clusters:\n{}",
        iam(A),
        cluster(A, "pay-prod", "us-east-1", false),
        cluster(A, "pay-legacy", "eu-west-1", true),
        cluster(A, "pay-new", "us-west-2", false),
        iam(B),
        cluster(B, "data-prod", "us-east-1", false),
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

/// The public fleet's configuration document: regions us-east-1 and eu-west-1 (not us-west-2,
/// where pay-new is), account B in migrate, new clusters in migrate.
pub const CONFIG: &str = r#"{"version":1,"default_mode":"finalize","regions":["us-east-1","eu-west-1"],"accounts":{"include":["111111111111","222222222222"]},"account_overrides":{"222222222222":{"mode":"migrate"}},"new_cluster_mode":"migrate","soak_hours":0}"#;

/// The private fleet's configuration document: the worker's egress is 127.0.0.1 (inside
/// pay-fenced's CIDRs, outside pay-walled's), agents are found by their conventional names (the
/// `discover_agents` opt-in).
const PRIVATE_CONFIG: &str = r#"{"version":1,"default_mode":"finalize","regions":["us-east-1"],"accounts":{"include":["111111111111","222222222222"]},"account_overrides":{"222222222222":{"mode":"migrate"}},"soak_hours":0,"network":{"egress_cidrs":["127.0.0.1/32"],"agent_timeout_seconds":10,"discover_agents":true}}"#;

/// The functions' configuration: moto for everything, the simulator for EKS.
pub async fn central_config(stack: &Stack, dir: &tempfile::TempDir) -> aws_config::SdkConfig {
    let moto = stack.moto.as_ref().map(|m| m.url()).expect("moto");
    let credentials = Credentials::new(
        "AKIACENTRALFUNCTION1",
        "central-secret",
        None,
        None,
        "central",
    );
    eks_sim::harness::sdk_config(&moto, &stack.sim.url(), dir.path(), credentials).await
}

/// Access keys of the three functions in the pipeline test (moto accepts any).
pub const FLEET_SCAN_KEY: &str = "AKIAFLEETSCANFUNCTN1";
pub const CLUSTER_EVENTS_KEY: &str = "AKIACLUSTEREVENTSFN1";
pub const CLUSTER_WORKER_KEY: &str = "AKIACLUSTERWORKERFN1";

/// `central` with the credentials of access key `key`.
pub fn signed_as(central: &aws_config::SdkConfig, key: &str) -> aws_config::SdkConfig {
    central
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                key, "secret", None, None, "function",
            )),
        )
        .build()
}

/// The configuration of `account` (a session of its member role, as the functions get).
pub async fn member(central: &aws_config::SdkConfig, account: &str) -> aws_config::SdkConfig {
    let out = aws_sdk_sts::Client::new(central)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{MEMBER_ROLE}"))
        .role_session_name("test-setup")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    central
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "member",
            )),
        )
        .build()
}

/// Creates an IAM role or user (`kind`) with `path` and `name` in the account of `iam`'s
/// credentials (moto keeps each assumed account's IAM apart).
pub async fn create_principal(iam: &aws_sdk_iam::Client, kind: &str, path: &str, name: &str) {
    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    if kind == "role" {
        iam.create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .expect("CreateRole");
    } else {
        iam.create_user()
            .user_name(name)
            .path(path)
            .send()
            .await
            .expect("CreateUser");
    }
}

/// [`create_principal`] for a full IAM ARN (`arn:aws:iam::A:role/path/name`).
pub async fn create_principal_arn(iam: &aws_sdk_iam::Client, arn: &str) {
    let resource = arn.splitn(6, ':').nth(5).expect("an IAM ARN");
    let (kind, rest) = resource.split_once('/').expect("kind/name");
    let (path, name) = match rest.rsplit_once('/') {
        Some((path, name)) => (format!("/{path}/"), name),
        None => ("/".to_owned(), rest),
    };
    create_principal(iam, kind, &path, name).await;
}

pub struct Pipeline {
    pub stack: Stack,
    pub central: aws_config::SdkConfig,
    pub queue_url: String,
    pub env: FunctionEnv,
    /// The queue a rule on the central bus copies every eks-auth-migrator event to.
    pub captured_url: String,
    /// The public key of the worker's agent signing key (base64), given to every agent.
    pub signing_public_key: String,
    _dir: tempfile::TempDir,
}

/// Overwrites the configuration document (the functions read it on every invocation).
pub async fn put_config(p: &Pipeline, document: &str) {
    aws_sdk_ssm::Client::new(&p.central)
        .put_parameter()
        .name(PARAMETER)
        .overwrite(true)
        .value(document)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
}

/// `cluster-events`' dependencies signed with `config`'s credentials, with the pipeline's table,
/// queue, write role, configuration document and regions.
pub fn events_deps(
    p: &Pipeline,
    config: &aws_config::SdkConfig,
    metrics: eks_auth_aws::notify::metrics::MetricsOut,
) -> cluster_events::Deps {
    cluster_events::Deps {
        store: StateStore::from_config(config, TABLE),
        queue: eks_auth_aws::fleet::queue::JobQueue::new(config, &p.queue_url),
        write_role_name: p.env.member_write_role_name.clone(),
        metrics,
        scope: cluster_events::ScopeSource {
            sdk: config.clone(),
            parameter: p.env.config_parameter.clone(),
            default_mode: p.env.default_mode,
            regions: p.env.regions.clone(),
        },
    }
}

/// The central bus the functions put phase-change events on.
pub const BUS: &str = "eam-events";
/// The metrics namespace.
pub const NAMESPACE: &str = "EksAuthMigrator";

pub async fn pipeline() -> Option<Pipeline> {
    pipeline_of(Fleet::Public).await
}

/// The local stack with `fleet` loaded, its IAM principals, the table, queues, bus and
/// configuration.
pub async fn pipeline_of(fleet: Fleet) -> Option<Pipeline> {
    let p = pipeline_without_bus(fleet).await?;
    create_bus(&p).await;
    Some(p)
}

/// Creates the central bus with a rule that copies every eks-auth-migrator event into the
/// capture queue (how the tests see what was put on the bus).
pub async fn create_bus(p: &Pipeline) {
    let events = aws_sdk_eventbridge::Client::new(&p.central);
    events
        .create_event_bus()
        .name(BUS)
        .send()
        .await
        .expect("CreateEventBus");
    events
        .put_rule()
        .name("capture")
        .event_bus_name(BUS)
        .event_pattern(r#"{"source":["eks-auth-migrator"]}"#)
        .send()
        .await
        .expect("PutRule");
    let arn = aws_sdk_sqs::Client::new(&p.central)
        .get_queue_attributes()
        .queue_url(&p.captured_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue ARN");
    events
        .put_targets()
        .rule("capture")
        .event_bus_name(BUS)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("capture")
                .arn(arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("PutTargets");
}

/// Every event captured since the last call (the capture queue drained).
pub async fn captured_events(p: &Pipeline) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(&p.central);
    let mut events = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(&p.captured_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        if out.messages().is_empty() {
            return events;
        }
        for m in out.messages() {
            events.push(serde_json::from_str(m.body().unwrap_or_default()).expect("event JSON"));
            sqs.delete_message()
                .queue_url(&p.captured_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
}

/// A writer the tests read back (the functions' EMF lines).
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The metric sets printed so far.
    pub fn metric_sets(&self) -> Vec<eks_auth_core::notify::emf::MetricSet> {
        let text = String::from_utf8(self.0.lock().expect("buffer").clone()).expect("UTF-8");
        text.lines()
            .map(|line| {
                let (namespace, set) = eks_auth_core::notify::emf::parse_line(line)
                    .unwrap_or_else(|| panic!("not an EMF line: {line}"));
                assert_eq!(namespace, NAMESPACE);
                set
            })
            .collect()
    }
}

/// The findings in `account`'s Security Hub (us-east-1 and eu-west-1), as (cluster ARN, record
/// state, compliance, severity label), read through its member role.
pub async fn findings(p: &Pipeline, account: &str) -> Vec<(String, String, String, String)> {
    let mut found = Vec::new();
    for region in ["us-east-1", "eu-west-1"] {
        let config = member(&p.central, account)
            .await
            .to_builder()
            .region(aws_config::Region::new(region))
            .build();
        // The debug build's GetFindings deserializer (every ASFF resource type) needs more stack
        // than a test thread has: read on a thread of its own.
        let out = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(
                        aws_sdk_securityhub::Client::new(&config)
                            .get_findings()
                            .send(),
                    )
                    .map_err(|e| format!("{e:?}"))
            })
            .expect("thread")
            .join()
            .expect("joined")
            .expect("GetFindings");
        for f in out.findings() {
            assert_eq!(f.aws_account_id(), Some(account));
            found.push((
                f.resources()[0].id().unwrap_or_default().to_owned(),
                f.record_state()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                f.compliance()
                    .and_then(|c| c.status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                f.finding_provider_fields()
                    .and_then(|p| p.severity())
                    .and_then(|s| s.label())
                    .map(|l| l.as_str().to_owned())
                    .unwrap_or_default(),
            ));
        }
    }
    found.sort();
    found
}

/// The pipeline of `fleet` with the bus not created yet (PutEvents fails until [`create_bus`]).
async fn pipeline_without_bus(fleet: Fleet) -> Option<Pipeline> {
    // The seed needs moto's URL: start with an empty seed, then load the fleet.
    let stack = Stack::start(Seed::default(), true).await.expect("stack");
    let Some(moto) = stack.moto.as_ref().map(|m| m.url()) else {
        assert!(
            std::env::var("EAM_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "moto_server is missing and EAM_REQUIRE_TOOLS=1"
        );
        return None;
    };
    let (fleet_seed, config_document) = match fleet {
        Fleet::Public => (seed(&moto), CONFIG),
        Fleet::Private => (private_seed(&moto), PRIVATE_CONFIG),
    };
    stack.sim.load_seed(fleet_seed).expect("fleet");
    let dir = tempfile::tempdir().expect("dir");
    let central = central_config(&stack, &dir).await;
    for account in [A, B] {
        let iam = aws_sdk_iam::Client::new(&member(&central, account).await);
        for (_, kind, path, name) in fleet_principals(fleet)
            .into_iter()
            .filter(|p| p.0 == account)
        {
            create_principal(&iam, kind, path, &name).await;
        }
    }
    StateStore::from_config(&central, TABLE)
        .create_table(Duration::from_secs(30))
        .await
        .expect("table");
    let queue_url = aws_sdk_sqs::Client::new(&central)
        .create_queue()
        .queue_name("eam-jobs")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("url")
        .to_owned();
    let captured_url = aws_sdk_sqs::Client::new(&central)
        .create_queue()
        .queue_name("eam-captured-events")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("url")
        .to_owned();
    aws_sdk_ssm::Client::new(&central)
        .put_parameter()
        .name(PARAMETER)
        .value(config_document)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    let key = eks_sim::signing_key::create(&central)
        .await
        .expect("the agent signing key in moto");
    let (signing_key, signing_public_key) = (key.arn, key.public_key);
    let vars: HashMap<&str, String> = HashMap::from([
        ("AGENT_SIGNING_KEY_ARN", signing_key),
        ("TABLE_NAME", TABLE.to_owned()),
        ("QUEUE_URL", queue_url.clone()),
        ("CONFIG_PARAMETER", PARAMETER.to_owned()),
        ("MEMBER_ROLE_NAME", MEMBER_ROLE.to_owned()),
        ("MEMBER_WRITE_ROLE_NAME", MEMBER_WRITE_ROLE.to_owned()),
        ("DEFAULT_MODE", "audit".to_owned()),
        ("REGIONS", "us-east-1".to_owned()),
        ("UPDATE_POLL_SECONDS", "1".to_owned()),
        ("EVENT_BUS_NAME", BUS.to_owned()),
        ("METRICS_NAMESPACE", NAMESPACE.to_owned()),
        ("SECURITY_HUB_FINDINGS", "true".to_owned()),
    ]);
    let env = FunctionEnv::from_lookup(|k| vars.get(k).cloned()).expect("env");
    Some(Pipeline {
        stack,
        central,
        queue_url,
        env,
        captured_url,
        signing_public_key,
        _dir: dir,
    })
}

/// Deploys the in-VPC agent of `vpc` in `account` (us-east-1): the agent function
/// (functions/cluster-agent) behind the simulator's Invoke API, with its role's credentials (a
/// moto STS session, as Lambda hands them over) and the VPC's gateway as its network. Returns
/// its access key, so that a test can tell its calls apart.
pub async fn deploy_agent(p: &Pipeline, account: &str, vpc: &str) -> String {
    let out = aws_sdk_sts::Client::new(&p.central)
        .assume_role()
        .role_arn(agent_role(account, vpc))
        .role_session_name("agent")
        .send()
        .await
        .expect("AssumeRole into the agent role");
    let c = out.credentials().expect("credentials");
    let vars: HashMap<&str, String> = HashMap::from([
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", c.access_key_id().to_owned()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key().to_owned()),
        ("AWS_SESSION_TOKEN", c.session_token().to_owned()),
        ("AGENT_ROLE_ARN", agent_role(account, vpc)),
        ("AGENT_SIGNING_PUBLIC_KEY", p.signing_public_key.clone()),
        // The simulator's clusters listen on 127.0.0.1 (the local stack's override).
        ("AGENT_ALLOW_LOOPBACK_ENDPOINTS", "true".to_owned()),
        (
            "KUBE_API_PROXY",
            p.stack.sim.vpc_gateway(vpc).expect("VPC gateway"),
        ),
    ]);
    let env = std::sync::Arc::new(
        cluster_agent::AgentEnv::from_lookup(|k| vars.get(k).cloned()).expect("agent env"),
    );
    p.stack.sim.register_function(
        account,
        "us-east-1",
        &eks_auth_core::reach::agent_function_name(vpc),
        std::sync::Arc::new(move |payload| {
            let env = std::sync::Arc::clone(&env);
            Box::pin(async move { cluster_agent::handle(&env, &payload).await })
        }),
    );
    c.access_key_id().to_owned()
}

/// The IAM action a recorded call needs (SQS's batch calls need their single action).
pub fn iam_action(call: &eks_sim::harness::RecordedCall) -> String {
    let operation = match call.operation.as_str() {
        "SendMessageBatch" => "SendMessage",
        "DeleteMessageBatch" => "DeleteMessage",
        "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
        other => other,
    };
    format!("{}:{operation}", call.service)
}

/// The `service:Action` items of `role`'s policies in template.yaml.
pub fn role_actions(role: &str) -> std::collections::BTreeSet<String> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
            .expect("template.yaml");
    let blocks = resource_blocks(&template);
    assert!(
        blocks.iter().any(|(name, _)| name == role),
        "{role} in template.yaml"
    );
    // The role's own policies, and those declared as their own resources
    // (AWS::IAM::RolePolicy with `RoleName: !Ref <role>`).
    blocks
        .iter()
        .filter(|(name, body)| {
            name == role
                || (body.contains("Type: AWS::IAM::RolePolicy")
                    && body.contains(&format!("RoleName: !Ref {role}\n")))
        })
        .flat_map(|(_, body)| actions_in(body))
        .collect()
}

/// Every top-level block of `template` (two-space indent: resources, parameters, outputs), by
/// name, with its body.
fn resource_blocks(template: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in template.lines() {
        let name = line
            .strip_prefix("  ")
            .filter(|l| l.chars().next().is_some_and(char::is_alphabetic))
            .and_then(|l| l.strip_suffix(':'));
        match (name, blocks.last_mut()) {
            (Some(name), _) => blocks.push((name.to_owned(), String::new())),
            (None, Some((_, body))) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The `service:Action` items a block lists.
fn actions_in(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("- ")
                .or_else(|| l.strip_prefix("Action: "))
                .map(str::trim)
        })
        .filter(|a| {
            a.split_once(':').is_some_and(|(service, action)| {
                !service.is_empty()
                    && service.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && action.chars().all(|c| c.is_ascii_alphanumeric())
            })
        })
        .map(str::to_owned)
        .collect()
}

pub fn sample(path: &str) -> Value {
    let file = format!("{}/../../events/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(file).expect("sample")).expect("JSON")
}

/// The deadline of the scans and worker batches the tests start (as `Instant::now() +
/// RUN_DEADLINE`): Lambda's longest timeout. A safety net against a hang, never a performance
/// bound: a scan or batch only stops out of time when it reaches it, however slow the machine.
pub const RUN_DEADLINE: Duration = Duration::from_secs(900);

/// A safety net against a hang, not a performance bound: each batch ends its jobs or puts them
/// back with SQS's delay, so a queue still busy after this many batches has a job the worker
/// re-enqueues forever. Counted in batches, never in time: a slow machine runs fewer batches.
const MAX_BATCHES: usize = 500;

/// The messages the queue still holds: visible, in flight or delayed (moto's counts are exact).
async fn queued(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as N;
    let names = [
        N::ApproximateNumberOfMessages,
        N::ApproximateNumberOfMessagesNotVisible,
        N::ApproximateNumberOfMessagesDelayed,
    ];
    let out = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .set_attribute_names(Some(names.to_vec()))
        .send()
        .await
        .expect("GetQueueAttributes");
    let attributes = out.attributes().expect("queue attributes");
    names
        .iter()
        .map(|name| {
            attributes
                .get(name)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{name:?} in {attributes:?}"))
        })
        .sum()
}

/// Runs the worker over the queue, the way the SQS event source mapping does, until the queue
/// holds no message (none visible, in flight or delayed); how many batches it ran. While only
/// delayed or in-flight messages remain, a long poll waits for them (no sleep).
pub async fn drain(p: &Pipeline, deps: &cluster_worker::Deps) -> usize {
    let sqs = aws_sdk_sqs::Client::new(&p.central);
    let mut batches = 0;
    while queued(&sqs, &p.queue_url).await > 0 {
        assert!(
            batches < MAX_BATCHES,
            "the queue still holds jobs after {MAX_BATCHES} worker batches: a job is re-enqueued forever"
        );
        if run_batch(p, deps).await {
            batches += 1;
        }
    }
    eprintln!("the queue drained in {batches} worker batches");
    batches
}

/// How many messages the job queue holds: visible, in flight or delayed.
pub async fn jobs_queued(p: &Pipeline) -> u64 {
    queued(&aws_sdk_sqs::Client::new(&p.central), &p.queue_url).await
}

/// One batch of the worker over what the queue delivers within a one-second long poll, deleting
/// what the worker did not report as failed; whether the poll delivered anything.
pub async fn run_batch(p: &Pipeline, deps: &cluster_worker::Deps) -> bool {
    let sqs = aws_sdk_sqs::Client::new(&p.central);
    let out = sqs
        .receive_message()
        .queue_url(&p.queue_url)
        .max_number_of_messages(10)
        .visibility_timeout(1)
        .wait_time_seconds(1)
        .message_system_attribute_names(
            aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
        )
        .send()
        .await
        .expect("ReceiveMessage");
    let messages = out.messages();
    if messages.is_empty() {
        return false;
    }
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let count = m
                .attributes()
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
                })
                .cloned()
                .unwrap_or_else(|| "1".to_owned());
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": { "ApproximateReceiveCount": count },
                "eventSource": "aws:sqs",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).expect("SQS event");
    let response = cluster_worker::handle(deps, event, Instant::now() + RUN_DEADLINE)
        .await
        .expect("worker handled the batch");
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for m in messages {
        if !failed.contains(&m.message_id().unwrap_or_default()) {
            sqs.delete_message()
                .queue_url(&p.queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
    true
}

pub fn sim_mode(p: &Pipeline, account: &str, region: &str, name: &str) -> String {
    p.stack.sim.with_world(|w| {
        w.clusters
            .values()
            .find(|c| c.key.account == account && c.key.region == region && c.key.name == name)
            .map(|c| c.mode.as_str().to_owned())
            .unwrap_or_default()
    })
}

pub async fn phase(
    store: &StateStore,
    account: &str,
    region: &str,
    name: &str,
) -> Option<(Phase, Mode)> {
    let key = eks_auth_aws::ClusterKey::from_pk(&format!("CLUSTER#{account}#{region}#{name}"))
        .expect("key");
    store
        .get_cluster(&key)
        .await
        .expect("GetItem")
        .map(|r| (r.state.phase, r.state.mode))
}

/// The sample CloudTrail DeleteAccessEntry event, for `principal` on `cluster` in `account`
/// (us-east-1), the principal URL-encoded as CloudTrail writes it.
pub fn deleted_entry_event(account: &str, cluster: &str, principal: &str) -> Value {
    let mut event = sample("cluster-events/delete-access-entry-out-of-band.json");
    event["account"] = json!(account);
    event["detail"]["recipientAccountId"] = json!(account);
    event["detail"]["userIdentity"]["accountId"] = json!(account);
    event["detail"]["requestParameters"]["name"] = json!(cluster);
    event["detail"]["requestParameters"]["principalArn"] =
        json!(principal.replace(':', "%3A").replace('/', "%2F"));
    event
}

/// The sample CloudTrail CreateCluster event, for `cluster` in `account` and `region`.
pub fn created_cluster_event(account: &str, region: &str, cluster: &str) -> Value {
    let mut event = sample("cluster-events/create-cluster.json");
    event["account"] = json!(account);
    event["region"] = json!(region);
    event["detail"]["awsRegion"] = json!(region);
    event["detail"]["recipientAccountId"] = json!(account);
    event["detail"]["userIdentity"]["accountId"] = json!(account);
    event["detail"]["requestParameters"]["name"] = json!(cluster);
    event
}
