//! Shared setup: a seeded simulator, SDK clients, Kubernetes clients and bearer tokens.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_eks::config::retry::RetryConfig;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use eks_sim::Sim;
use eks_sim::seed::Seed;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub const ACCOUNT: &str = "111122223333";
pub const PARTNER: &str = "444455556666";
pub const REGION: &str = "us-east-1";

/// (access key, secret) of principals in the seed.
pub const ADMIN: (&str, &str) = ("AKIAADMIN0000000001", "admin-secret");
pub const VIEWER: (&str, &str) = ("AKIAVIEWER000000001", "viewer-secret");
pub const STRANGER: (&str, &str) = ("AKIASTRANGER0000001", "stranger-secret");
pub const PARTNER_KEY: (&str, &str) = ("AKIAPARTNER00000001", "partner-secret");

pub fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

pub const SSO_ROLE: &str = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef";

const AWS_AUTH: &str = r#"
          mapRoles: |
            - rolearn: arn:aws:iam::111122223333:role/admin
              username: admin:{{SessionName}}
              groups:
                - system:masters
            - rolearn: arn:aws:iam::111122223333:role/viewer
              username: viewer
              groups:
                - readers
            - rolearn: arn:aws:iam::111122223333:role/node-role
              username: system:node:{{EC2PrivateDNSName}}
              groups:
                - system:bootstrappers
                - system:nodes
"#;

/// The seed every conformance test starts from: three clusters, one per mode.
pub fn seed() -> Seed {
    let mut iam = String::new();
    for r in [
        "admin",
        "viewer",
        "stranger",
        "node-role",
        "fargate-role",
        "team",
    ] {
        iam.push_str(&format!("      - {}\n", role(r)));
    }
    for u in 0..150 {
        iam.push_str(&format!("      - arn:aws:iam::{ACCOUNT}:user/u-{u}\n"));
    }
    let cluster = |name: &str, mode: &str| {
        format!(
            r#"      - name: {name}
        region: us-east-1
        mode: {mode}
        tags: {{ env: prod }}
        nodegroups: [{{ name: ng1, node_role: "arn:aws:iam::111122223333:role/node-role" }}]
        fargate_profiles: [{{ name: fp1, pod_execution_role_arn: "arn:aws:iam::111122223333:role/fargate-role" }}]
        rbac: [{{ subject_kind: Group, subject: readers, role: view }}]
        aws_auth:{AWS_AUTH}"#
        )
    };
    let text = format!(
        r#"
settings:
  update_duration_ms: 300
accounts:
  - id: "{ACCOUNT}"
    credentials:
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice@example.com" }}
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/viewer/bob" }}
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/stranger/eve" }}
    iam:
      - "{SSO_ROLE}"
      - "arn:aws:iam::{ACCOUNT}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"
{iam}    clusters:
{}
{}
{}
      - name: west
        region: us-west-2
  - id: "{PARTNER}"
    credentials:
      - {{ access_key_id: {}, secret_access_key: {} }}
    iam:
      - "arn:aws:iam::{PARTNER}:role/partner"
"#,
        ADMIN.0,
        ADMIN.1,
        VIEWER.0,
        VIEWER.1,
        STRANGER.0,
        STRANGER.1,
        cluster("legacy", "CONFIG_MAP"),
        cluster("hybrid", "API_AND_CONFIG_MAP"),
        cluster("modern", "API"),
        PARTNER_KEY.0,
        PARTNER_KEY.1,
    );
    match Seed::parse(&text) {
        Ok(seed) => seed,
        Err(e) => panic!("test seed does not parse: {e:?}\n{text}"),
    }
}

/// A simulator loaded with [`seed`].
pub async fn sim() -> Sim {
    match Sim::start(seed()).await {
        Ok(sim) => sim,
        Err(e) => panic!("simulator did not start: {e:?}"),
    }
}

/// An EKS client for `creds` in `region`, endpoint from standard configuration.
pub async fn eks_as(
    sim: &Sim,
    creds: (&str, &str),
    region: &str,
    attempts: u32,
) -> aws_sdk_eks::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(
            creds.0,
            creds.1,
            None,
            None,
            "conformance",
        ))
        .endpoint_url(sim.url())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .load()
        .await;
    aws_sdk_eks::Client::new(&config)
}

/// An EKS client as the seed's admin, us-east-1, no retries.
pub async fn eks(sim: &Sim) -> aws_sdk_eks::Client {
    eks_as(sim, ADMIN, REGION, 1).await
}

/// A SigV4-presigned STS GetCallerIdentity URL for `cluster` on `host`, as a token encodes it.
pub fn presign(
    cluster: &str,
    creds: (&str, &str),
    time: SystemTime,
    host: &str,
    expires: u64,
) -> String {
    let identity = Credentials::new(creds.0, creds.1, None, None, "token").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    let params = match v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
    {
        Ok(p) => p.into(),
        Err(e) => panic!("signing params: {e}"),
    };
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let headers = [("x-k8s-aws-id", cluster)];
    let signable =
        match SignableRequest::new("GET", &url, headers.into_iter(), SignableBody::Bytes(&[])) {
            Ok(s) => s,
            Err(e) => panic!("signable request: {e}"),
        };
    let instructions = match sign(signable, &params) {
        Ok(out) => out.into_parts().0,
        Err(e) => panic!("signing: {e}"),
    };
    let mut presigned = url;
    for (k, v) in instructions.params() {
        let v = percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC);
        presigned.push_str(&format!("&{k}={v}"));
    }
    presigned
}

/// Wraps a presigned URL as a bearer token.
pub fn wrap(presigned: &str) -> String {
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned)
    )
}

/// An EKS bearer token for `cluster`, signed by `creds` at `time`.
pub fn token_at(cluster: &str, creds: (&str, &str), time: SystemTime) -> String {
    wrap(&presign(
        cluster,
        creds,
        time,
        &format!("sts.{REGION}.amazonaws.com"),
        60,
    ))
}

/// A fresh token for `cluster` signed by `creds`.
pub fn token(cluster: &str, creds: (&str, &str)) -> String {
    token_at(cluster, creds, SystemTime::now())
}

/// A kube client for `cluster` built from DescribeCluster's endpoint and CA, with `token`.
pub async fn kube_with_token(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    token: &str,
) -> kube::Client {
    let described = match eks.describe_cluster().name(cluster).send().await {
        Ok(d) => d,
        Err(e) => panic!("DescribeCluster {cluster}: {e:?}"),
    };
    let c = described
        .cluster()
        .cloned()
        .unwrap_or_else(|| panic!("no cluster"));
    let endpoint = c.endpoint().unwrap_or_default().to_owned();
    let ca = c
        .certificate_authority()
        .and_then(|ca| ca.data())
        .unwrap_or_default()
        .to_owned();
    let kubeconfig = format!(
        r#"apiVersion: v1
kind: Config
clusters:
  - name: {cluster}
    cluster:
      server: {endpoint}
      certificate-authority-data: {ca}
users:
  - name: tester
    user:
      token: {token}
contexts:
  - name: ctx
    context: {{ cluster: {cluster}, user: tester }}
current-context: ctx
"#
    );
    let parsed = match kube::config::Kubeconfig::from_yaml(&kubeconfig) {
        Ok(k) => k,
        Err(e) => panic!("kubeconfig: {e}"),
    };
    let config = match kube::Config::from_custom_kubeconfig(parsed, &Default::default()).await {
        Ok(c) => c,
        Err(e) => panic!("kube config: {e}"),
    };
    match kube::Client::try_from(config) {
        Ok(c) => c,
        Err(e) => panic!("kube client: {e}"),
    }
}

/// A kube client for `cluster` authenticated as `creds`.
pub async fn kube_as(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    creds: (&str, &str),
) -> kube::Client {
    kube_with_token(eks, cluster, &token(cluster, creds)).await
}

/// The error code and message of a failed SDK call.
pub fn code_and_message<E, R>(
    result: Result<impl std::fmt::Debug, aws_sdk_eks::error::SdkError<E, R>>,
) -> (String, String)
where
    E: aws_sdk_eks::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let service = e
                .as_service_error()
                .unwrap_or_else(|| panic!("not a service error: {e:?}"));
            (
                service.code().unwrap_or_default().to_owned(),
                service.message().unwrap_or_default().to_owned(),
            )
        }
    }
}

/// The HTTP status of a failed kube call.
pub fn kube_code<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> u16 {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(kube::Error::Api(status)) => status.code,
        Err(e) => panic!("expected an API error, got {e:?}"),
    }
}

/// Waits until the cluster's last update is Successful (at most 5 s).
/// Creates a plain STANDARD access entry for `principal` on `cluster`.
pub async fn create_entry(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    principal: impl Into<String>,
) -> TestResult {
    eks.create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await?;
    Ok(())
}

pub async fn wait_for_update(eks: &aws_sdk_eks::Client, cluster: &str, id: &str) -> TestResult {
    for _ in 0..100 {
        let u = eks
            .describe_update()
            .name(cluster)
            .update_id(id)
            .send()
            .await?;
        if u.update().and_then(|u| u.status()).map(|s| s.as_str()) == Some("Successful") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("update {id} of {cluster} did not finish").into())
}

/// A minimal HTTP/1.1 request over a plain TCP socket (the admin API is plain HTTP); the body
/// of a 200 response.
pub async fn http(
    method: &str,
    url: &str,
    body: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let rest = url.strip_prefix("http://").ok_or("http only")?;
    let (host, path) = rest.split_once('/').ok_or("no path")?;
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let request = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no body")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("unexpected response: {head}\n{body}").into());
    }
    Ok(body.to_owned())
}
