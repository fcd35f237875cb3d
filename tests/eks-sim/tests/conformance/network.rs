//! Endpoint access and the in-VPC path: DescribeCluster's `resourcesVpcConfig` as EKS shapes it;
//! a public endpoint restricted to CIDR blocks admits only those; a private-only endpoint admits
//! nothing from outside its VPC; a VPC's gateway reaches its own clusters' private endpoints and
//! nothing else; Lambda's Invoke API hosts in-process functions, with the real error shapes,
//! invocation records and faults.

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_lambda::primitives::Blob;
use eks_sim::Sim;
use eks_sim::lambda::LambdaFault;
use eks_sim::seed::Seed;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use serde_json::json;

use crate::helpers::*;

const VPC_A: &str = "vpc-0aaa";
const VPC_B: &str = "vpc-0bbb";

fn network_seed() -> Seed {
    let cluster = |name: &str, endpoint: &str| {
        format!(
            r#"      - name: {name}
        region: us-east-1
        endpoint: {endpoint}
        aws_auth:
          mapRoles: |
            - rolearn: arn:aws:iam::{ACCOUNT}:role/admin
              username: admin
              groups: [system:masters]
"#
        )
    };
    let text = format!(
        r#"accounts:
  - id: "{ACCOUNT}"
    credentials:
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice" }}
    iam: ["arn:aws:iam::{ACCOUNT}:role/admin"]
    clusters:
{}{}{}{}{}"#,
        ADMIN.0,
        ADMIN.1,
        cluster("open", "{}"),
        cluster("allowed", "{ public_cidrs: [127.0.0.0/8] }"),
        cluster(
            "fenced",
            &format!("{{ public_cidrs: [203.0.113.0/24], private: true, vpc: {VPC_A} }}")
        ),
        cluster(
            "private",
            &format!("{{ public: false, private: true, vpc: {VPC_A} }}")
        ),
        cluster(
            "elsewhere",
            &format!("{{ public: false, private: true, vpc: {VPC_B} }}")
        ),
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

async fn network_sim() -> Sim {
    Sim::start(network_seed()).await.expect("simulator")
}

/// A kube client for `cluster` as the admin, through `proxy` when given.
async fn kube_via(eks: &aws_sdk_eks::Client, cluster: &str, proxy: Option<&str>) -> Api<ConfigMap> {
    let described = eks
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .expect("DescribeCluster");
    let c = described.cluster().expect("cluster");
    let proxy_line = proxy
        .map(|p| format!("      proxy-url: {p}\n"))
        .unwrap_or_default();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n  - name: c\n    cluster:\n      server: {}\n      certificate-authority-data: {}\n{proxy_line}users:\n  - name: u\n    user:\n      token: {}\ncontexts:\n  - name: x\n    context: {{ cluster: c, user: u }}\ncurrent-context: x\n",
        c.endpoint().expect("endpoint"),
        c.certificate_authority()
            .and_then(|a| a.data())
            .expect("CA"),
        token(cluster, ADMIN),
    );
    let parsed = kube::config::Kubeconfig::from_yaml(&kubeconfig).expect("kubeconfig");
    let mut config = kube::Config::from_custom_kubeconfig(parsed, &Default::default())
        .await
        .expect("config");
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(Duration::from_secs(5));
    Api::namespaced(
        kube::Client::try_from(config).expect("client"),
        "kube-system",
    )
}

/// Whether reading aws-auth works through that path.
async fn reaches(eks: &aws_sdk_eks::Client, cluster: &str, proxy: Option<&str>) -> bool {
    match kube_via(eks, cluster, proxy).await.get("aws-auth").await {
        Ok(_) => true,
        Err(kube::Error::Api(status)) => panic!("{cluster}: the API answered {status:?}"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn describe_cluster_reports_resources_vpc_config() -> TestResult {
    let sim = network_sim().await;
    let eks = eks(&sim).await;
    let private = eks.describe_cluster().name("private").send().await?;
    let vpc = private
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .expect("resourcesVpcConfig");
    assert!(!vpc.endpoint_public_access());
    assert!(vpc.endpoint_private_access());
    assert_eq!(vpc.vpc_id(), Some(VPC_A));
    assert_eq!(vpc.subnet_ids().len(), 2);
    assert!(vpc.subnet_ids().iter().all(|s| s.starts_with("subnet-0")));
    assert!(
        vpc.cluster_security_group_id()
            .is_some_and(|g| g.starts_with("sg-0"))
    );
    assert_eq!(vpc.public_access_cidrs(), ["0.0.0.0/0"]);
    let fenced = eks.describe_cluster().name("fenced").send().await?;
    let vpc = fenced
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .expect("resourcesVpcConfig");
    assert!(vpc.endpoint_public_access() && vpc.endpoint_private_access());
    assert_eq!(vpc.public_access_cidrs(), ["203.0.113.0/24"]);
    let open = eks.describe_cluster().name("open").send().await?;
    let vpc = open
        .cluster()
        .and_then(|c| c.resources_vpc_config())
        .expect("resourcesVpcConfig");
    assert!(vpc.endpoint_public_access() && !vpc.endpoint_private_access());
    assert!(vpc.vpc_id().is_some_and(|v| v.starts_with("vpc-0")));
    Ok(())
}

#[tokio::test]
async fn endpoints_admit_only_what_their_access_allows() -> TestResult {
    let sim = network_sim().await;
    let eks = eks(&sim).await;
    // From outside every VPC (this process, 127.0.0.1).
    assert!(reaches(&eks, "open", None).await);
    assert!(
        reaches(&eks, "allowed", None).await,
        "127.0.0.1 is inside 127.0.0.0/8"
    );
    assert!(
        !reaches(&eks, "fenced", None).await,
        "127.0.0.1 is outside 203.0.113.0/24"
    );
    assert!(
        !reaches(&eks, "private", None).await,
        "a private-only endpoint"
    );
    assert!(!reaches(&eks, "elsewhere", None).await);
    // From inside VPC A: its private endpoints, whatever the public side says.
    let gateway_a = sim.vpc_gateway(VPC_A)?;
    assert_eq!(sim.vpc_gateway(VPC_A)?, gateway_a, "one gateway per VPC");
    assert!(reaches(&eks, "private", Some(&gateway_a)).await);
    assert!(reaches(&eks, "fenced", Some(&gateway_a)).await);
    assert!(
        !reaches(&eks, "elsewhere", Some(&gateway_a)).await,
        "another VPC"
    );
    assert!(
        !reaches(&eks, "open", Some(&gateway_a)).await,
        "no private endpoint"
    );
    let gateway_b = sim.vpc_gateway(VPC_B)?;
    assert!(reaches(&eks, "elsewhere", Some(&gateway_b)).await);
    assert!(!reaches(&eks, "private", Some(&gateway_b)).await);
    Ok(())
}

#[tokio::test]
async fn a_gateway_refuses_what_it_does_not_route_with_403() -> TestResult {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let sim = network_sim().await;
    let eks = eks(&sim).await;
    let endpoint = eks
        .describe_cluster()
        .name("elsewhere")
        .send()
        .await?
        .cluster()
        .and_then(|c| c.endpoint())
        .expect("endpoint")
        .trim_start_matches("https://")
        .to_owned();
    let gateway = sim.vpc_gateway(VPC_A)?;
    let mut stream = tokio::net::TcpStream::connect(gateway.trim_start_matches("http://")).await?;
    stream
        .write_all(format!("CONNECT {endpoint} HTTP/1.1\r\nHost: {endpoint}\r\n\r\n").as_bytes())
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden"), "{answer}");
    assert!(
        answer.contains(&format!("elsewhere is in {VPC_B}, not {VPC_A}")),
        "{answer}"
    );
    Ok(())
}

async fn lambda(sim: &Sim) -> aws_sdk_lambda::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(Credentials::new(ADMIN.0, ADMIN.1, None, None, "t"))
        .endpoint_url(sim.url())
        .retry_config(aws_sdk_eks::config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .load()
        .await;
    aws_sdk_lambda::Client::new(&config)
}

#[tokio::test]
async fn lambda_invoke_hosts_functions_records_calls_and_misbehaves_on_request() -> TestResult {
    let sim = network_sim().await;
    let client = lambda(&sim).await;
    let invoke = |name: &str| {
        client
            .invoke()
            .function_name(name)
            .payload(Blob::new(br#"{"question": 42}"#.to_vec()))
            .send()
    };
    let missing = invoke("agent").await.expect_err("no such function");
    let service = missing.as_service_error().expect("a service error");
    assert!(service.is_resource_not_found_exception(), "{service:?}");
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(service),
        Some("Function not found: arn:aws:lambda:us-east-1:111122223333:function:agent")
    );

    sim.register_function(
        ACCOUNT,
        REGION,
        "agent",
        Arc::new(|payload| Box::pin(async move { json!({ "echo": payload }) })),
    );
    let out = invoke("agent").await?;
    assert_eq!(out.function_error(), None);
    let body: serde_json::Value = serde_json::from_slice(out.payload().expect("payload").as_ref())?;
    assert_eq!(body, json!({ "echo": { "question": 42 } }));
    // A full ARN names the same function.
    invoke("arn:aws:lambda:us-east-1:111122223333:function:agent").await?;

    sim.arm_function_fault((ACCOUNT, REGION, "agent"), LambdaFault::Garbage, 1, None);
    let out = invoke("agent").await?;
    assert!(
        out.payload()
            .expect("payload")
            .as_ref()
            .starts_with(b"<html>")
    );
    sim.arm_function_fault((ACCOUNT, REGION, "agent"), LambdaFault::Crash, 1, None);
    let out = invoke("agent").await?;
    assert_eq!(out.function_error(), Some("Unhandled"));
    // Only payloads that ask for it.
    sim.arm_function_fault(
        (ACCOUNT, REGION, "agent"),
        LambdaFault::OtherVersion,
        1,
        Some("not in this payload"),
    );
    let out = invoke("agent").await?;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(out.payload().expect("payload").as_ref())?,
        json!({ "echo": { "question": 42 } })
    );
    sim.arm_function_fault(
        (ACCOUNT, REGION, "agent"),
        LambdaFault::OtherVersion,
        1,
        Some("question"),
    );
    let out = invoke("agent").await?;
    let body: serde_json::Value = serde_json::from_slice(out.payload().expect("payload").as_ref())?;
    assert_eq!(body["version"], 2);
    sim.arm_function_fault(
        (ACCOUNT, REGION, "agent"),
        LambdaFault::SlowAnswer(Duration::from_secs(5)),
        1,
        None,
    );
    let late = invoke("agent")
        .await
        .expect_err("the client gives up first");
    assert!(
        matches!(late, aws_sdk_lambda::error::SdkError::TimeoutError(_)),
        "{late:?}"
    );

    let calls = sim.invocations();
    assert_eq!(calls.len(), 7, "the unknown function's call is not one");
    assert!(calls.iter().all(|c| c.caller_arn
        == "arn:aws:sts::111122223333:assumed-role/admin/alice"
        && c.function == "agent"
        && c.account == ACCOUNT
        && c.payload == r#"{"question": 42}"#));
    assert_eq!(
        calls.iter().filter_map(|c| c.fault.clone()).count(),
        4,
        "{calls:?}"
    );
    Ok(())
}
