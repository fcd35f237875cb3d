//! Attacks on the in-VPC agent (issue 18, items 1 and 2), each by a principal of the member
//! account with no tie to the migrator: invoking the agent directly with a crafted write, with a
//! foreign endpoint, replaying a request the worker sent, sending one the worker signed after
//! it expired, and standing up a forged agent under the agent's name (pinning refuses it).

use super::listener::Listener;
use super::world::*;
use aws_sdk_lambda::primitives::Blob;
use base64::Engine as _;
use eks_auth_core::agent_auth::{SIGNING_ALGORITHM, hex, signing_bytes};
use eks_auth_core::agent_protocol::{AgentRequest, RequestAuth};
use serde_json::{Value, json};

/// The intruder's Lambda client (its own credentials, the simulator's Invoke API).
async fn intruder_lambda(w: &World) -> aws_sdk_lambda::Client {
    let dir = tempfile::tempdir().expect("dir");
    let config = eks_sim::harness::sdk_config(
        &w._moto.url,
        &w.sim.url(),
        dir.path(),
        Credentials::new(INTRUDER.0, INTRUDER.1, None, None, "intruder"),
    )
    .await;
    aws_sdk_lambda::Client::new(&config)
}

/// The intruder invokes `function` with `payload` and reads the answer.
async fn invoke(client: &aws_sdk_lambda::Client, function: &str, payload: &Value) -> Value {
    let out = client
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload.to_string()))
        .send()
        .await
        .expect("lambda:InvokeFunction");
    serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("JSON")
}

/// A request for `cluster` as DescribeCluster describes it (to anyone allowed to call it), with
/// `operation`.
async fn request(w: &World, cluster: &str, operation: Value) -> Value {
    aws_sdk_eks::Client::new(&w.config)
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .expect("DescribeCluster");
    let (endpoint, ca) = w.sim.with_world(|world| {
        let c = &world.clusters[&sim_key(cluster)];
        let kube = c.kube.as_ref().expect("the cluster's API is up");
        (
            kube.url.clone(),
            base64::engine::general_purpose::STANDARD.encode(&kube.ca_pem),
        )
    });
    json!({"version": 1,
           "cluster": {"name": cluster, "region": REGION, "endpoint": endpoint, "certificate_authority": ca},
           "operation": operation})
}

/// aws-auth's resourceVersion on `cluster`.
fn resource_version(w: &World, cluster: &str) -> String {
    w.sim.with_world(|world| {
        let c = &world.clusters[&sim_key(cluster)];
        c.configmaps[&("kube-system".to_owned(), "aws-auth".to_owned())].object["metadata"]
            ["resourceVersion"]
            .as_str()
            .expect("a resourceVersion")
            .to_owned()
    })
}

/// The intruder's identity as the simulator's oracle names it.
fn intruder_caller() -> String {
    format!("arn:aws:sts::{ACCOUNT}:assumed-role/intruder/session-1")
}

fn intruder_row() -> String {
    format!(
        "\n- rolearn: {}\n  username: intruder\n  groups: [system:masters]\n",
        role("intruder")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intruder_invoking_the_agent_with_a_crafted_write_changes_nothing() {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    let original = aws_auth(&w.sim, "inside");
    let client = intruder_lambda(&w).await;
    let function = agent_function_name(VPC);

    let read = invoke(
        &client,
        &function,
        &request(&w, "inside", json!({"kind": "read_aws_auth"})).await,
    )
    .await;
    assert_eq!(read["outcome"]["kind"], "failed", "{read}");
    assert_eq!(read["outcome"]["reason"], "unauthenticated", "{read}");

    let mut data = original.clone();
    data.entry("mapRoles".to_owned())
        .or_default()
        .push_str(&intruder_row());
    let write = invoke(
        &client,
        &function,
        &request(
            &w,
            "inside",
            json!({"kind": "write_aws_auth", "resource_version": resource_version(&w, "inside"),
                   "current": original, "data": data}),
        )
        .await,
    )
    .await;
    assert_eq!(write["outcome"]["kind"], "failed", "{write}");
    assert_eq!(write["outcome"]["reason"], "unauthenticated", "{write}");
    assert_eq!(aws_auth(&w.sim, "inside"), original, "aws-auth changed");
    assert_eq!(access_map(&w.sim, "inside")[&intruder_caller()], None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intruder_naming_its_own_host_receives_no_token() {
    let Some(w) = world().await else { return };
    deploy_agent_without_gateway(&w, VPC).await;
    let listener = Listener::start().await;
    let client = intruder_lambda(&w).await;
    let mut crafted = request(&w, "inside", json!({"kind": "read_aws_auth"})).await;
    crafted["cluster"]["endpoint"] = json!(listener.url);
    crafted["cluster"]["certificate_authority"] = json!(listener.ca_data);
    let answer = invoke(&client, &agent_function_name(VPC), &crafted).await;
    assert_eq!(answer["outcome"]["kind"], "failed", "{answer}");
    assert_eq!(
        listener.requests(),
        Vec::<String>::new(),
        "a request reached the intruder's host"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_the_worker_sent_cannot_be_replayed() {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    let s = settings(&w);
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = run(&engine, "inside", Mode::Audit).await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    let sent = w
        .sim
        .invocations()
        .into_iter()
        .find(|c| c.payload.contains("read_aws_auth"))
        .expect("the worker read aws-auth through the agent");
    let captured: Value = serde_json::from_str(&sent.payload).expect("JSON");
    let client = intruder_lambda(&w).await;
    let answer = invoke(&client, &agent_function_name(VPC), &captured).await;
    assert_eq!(answer["outcome"]["kind"], "failed", "{answer}");
    assert_eq!(answer["outcome"]["reason"], "unauthenticated", "{answer}");
}

/// Signs `request` with the worker's key (KMS, the migrator's credentials) as the worker
/// signs, as request `id` expiring at `expires_at`.
async fn sign_as_worker(w: &World, request: &mut AgentRequest, id: &str, expires_at: u64) {
    let message = signing_bytes(request, id, expires_at).expect("signable");
    let out = aws_sdk_kms::Client::new(&w.config)
        .sign()
        .key_id(&w.signing_key.0)
        .message(aws_sdk_kms::primitives::Blob::new(message))
        .message_type(aws_sdk_kms::types::MessageType::Raw)
        .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("kms:Sign");
    request.auth = Some(RequestAuth {
        key_id: w.signing_key.0.clone(),
        algorithm: SIGNING_ALGORITHM.to_owned(),
        request_id: id.to_owned(),
        expires_at,
        signature: hex(out.signature().expect("a signature").as_ref()),
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_the_worker_signed_is_refused_once_expired() {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    let mut payload = request(&w, "inside", json!({"kind": "read_aws_auth"})).await;
    payload["cluster"]["arn"] = json!(format!("arn:aws:eks:{REGION}:{ACCOUNT}:cluster/inside"));
    let mut signed: AgentRequest = serde_json::from_value(payload).expect("a request");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // Signed with the worker's key, as the worker signs, but expired a second ago.
    sign_as_worker(&w, &mut signed, "0123456789abcdef0123456789abcdef", now - 1).await;
    let client = intruder_lambda(&w).await;
    let function = agent_function_name(VPC);
    let answer = invoke(
        &client,
        &function,
        &serde_json::to_value(&signed).expect("JSON"),
    )
    .await;
    assert_eq!(answer["outcome"]["kind"], "failed", "{answer}");
    assert_eq!(answer["outcome"]["reason"], "unauthenticated", "{answer}");
    let message = answer["outcome"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("expired"), "{answer}");
    // The same request signed to expire a minute from now is carried out: what was refused
    // above was its expiry, nothing else.
    sign_as_worker(
        &w,
        &mut signed,
        "fedcba9876543210fedcba9876543210",
        now + 60,
    )
    .await;
    let answer = invoke(
        &client,
        &function,
        &serde_json::to_value(&signed).expect("JSON"),
    )
    .await;
    assert_eq!(answer["outcome"]["kind"], "aws_auth", "{answer}");
}
#[tokio::test(flavor = "multi_thread")]
async fn a_forged_agent_under_the_agents_name_gives_no_one_access() {
    let Some(w) = world().await else { return };
    // The intruder stands up a function with the agent's name (and tag) in the VPC without
    // one: it answers aws-auth with a row that makes the intruder cluster-admin.
    let mut forged = aws_auth(&w.sim, "nowhere");
    forged
        .entry("mapRoles".to_owned())
        .or_default()
        .push_str(&intruder_row());
    let answer = json!({"version": 1, "outcome": {"kind": "aws_auth",
        "config_map": {"data": forged, "resource_version": "1"}}});
    w.sim.register_function(
        ACCOUNT,
        REGION,
        &agent_function_name(BARE_VPC),
        Arc::new(move |_| {
            let answer = answer.clone();
            Box::pin(async move { answer })
        }),
    );
    let s = settings(&w);
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = converge(&engine, "nowhere", Mode::Migrate).await;
    let entries = w
        .sim
        .with_world(|x| x.clusters[&sim_key("nowhere")].entries.clone());
    assert!(
        !entries
            .values()
            .any(|e| e.principal_arn == role("intruder")),
        "the forged agent made the intruder an entry: {report:#?}"
    );
    let Outcome::Blocked(finding) = &report.outcome else {
        panic!("not blocked: {report:#?}");
    };
    // The finding says what was found and what would pin it.
    let found =
        eks_sim::lambda::FunctionConfig::conventional(ACCOUNT, &agent_function_name(BARE_VPC));
    for needle in [
        found.code_sha256.as_str(),
        &format!("not the pinned {AGENT_CODE}"),
        "network.agents",
    ] {
        assert!(finding.contains(needle), "{needle}: {finding}");
    }
    // Nothing was sent to the forged function.
    assert!(
        !w.sim
            .invocations()
            .iter()
            .any(|c| c.function == agent_function_name(BARE_VPC)),
        "the worker invoked the forged agent"
    );
}
