//! The read-only live path end to end: `live::gather` through the real SDK and kube clients
//! against the EKS simulator (EKS + per-cluster Kubernetes APIs) and moto (IAM, STS), pointed at
//! them only through standard configuration (a shared config file with `endpoint_url` and a
//! `services` section).

mod common;

// The non-deprecated names live in aws-runtime, which this crate does not otherwise depend on.
use aws_credential_types::Credentials;
use eks_auth_aws::live::{self, GatherError, GatherOptions};
use eks_auth_core::facts::{AuthenticationMode, ClusterFacts, ExistingEntry, IamResolution};
use eks_auth_core::owner::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use eks_auth_core::owner::marker::Marker;
use eks_auth_core::owner::ownership::{
    AwsAuthOwner, AwsAuthOwnership, ClusterOwner, ClusterOwnership, MetadataSeen, Owners,
};
use eks_auth_core::plan::{AccessPolicy, AccessScope, EntryType, ScopeType};
use eks_sim::harness::Stack;
use eks_sim::seed::Seed;
use std::collections::BTreeMap;

const ACCOUNT: &str = "123456789012";
const PARTNER: &str = "999988887777";
const MIGRATOR: (&str, &str) = ("AKIALIVEMIGRATOR0001", "live-migrator-secret");
const STRANGER: (&str, &str) = ("AKIALIVESTRANGER0001", "live-stranger-secret");
const LIMITED: (&str, &str) = ("AKIALIVELIMITED00001", "live-limited-secret");
const SSO: &str = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef";
const ENTRY_USERS: usize = 130;

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn policy(name: &str) -> String {
    format!("arn:aws:eks::aws:cluster-access-policy/{name}")
}

const MAP_ROLES: &str = r#"- rolearn: arn:aws:iam::123456789012:role/eks-node
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
    - system:masters
- rolearn: arn:aws:iam::123456789012:role/admin
  username: admin:{{SessionName}}
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
- rolearn: arn:aws:iam::123456789012:role/teams/team-b
  username: team-b
  groups:
    - team-b
- rolearn: arn:aws:iam::123456789012:role/ghost
  username: ghost
  groups:
    - readers
- rolearn: arn:aws:iam::123456789012:role/limited
  username: limited
  groups:
    - no-rbac-binding
- rolearn: arn:aws:iam::999988887777:role/partner
  username: partner
  groups:
    - readers
"#;

const MAP_USERS: &str = r#"- userarn: arn:aws:iam::123456789012:user/alice
  username: alice
  groups:
    - readers
"#;

/// Roles and users that exist (in the simulator's IAM view and in moto): (kind, path, name).
const PRINCIPALS: [(&str, &str, &str); 8] = [
    ("role", "/", "limited"),
    ("role", "/", "eks-node"),
    ("role", "/", "eks-fargate"),
    ("role", "/", "eks-auth-migrator"),
    ("role", "/", "admin"),
    (
        "role",
        "/aws-reserved/sso.amazonaws.com/",
        "AWSReservedSSO_Admin_0123456789abcdef",
    ),
    ("role", "/teams/", "team-a"),
    ("user", "/people/", "alice"),
];

fn full_arn(kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}{path}{name}")
}

fn seed() -> Seed {
    let indent = |text: &str, n: usize| {
        text.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(n)))
            .collect::<String>()
    };
    let mut iam = String::new();
    for (kind, path, name) in PRINCIPALS {
        iam.push_str(&format!("      - \"{}\"\n", full_arn(kind, path, name)));
    }
    iam.push_str(&format!("      - \"{}\"\n", role("teams/team-b")));
    iam.push_str(&format!("      - \"{}\"\n", role("stranger")));
    iam.push_str(&format!("      - \"{}\"\n", role("tagged")));
    let mut entries = String::new();
    entries.push_str(&format!(
        "          - {{ principal_arn: \"{}\", username: eks-auth-migrator, policies: [{{ policy_arn: \"{}\", scope: {{ type: namespace, namespaces: [kube-system] }} }}] }}\n",
        role("eks-auth-migrator"),
        policy("AmazonEKSViewPolicy")
    ));
    for u in 0..ENTRY_USERS {
        iam.push_str(&format!("      - \"{}\"\n", user(&format!("u-{u:03}"))));
        let policies = if u % 10 == 0 {
            format!(
                ", policies: [{{ policy_arn: \"{}\" }}, {{ policy_arn: \"{}\", scope: {{ type: namespace, namespaces: [team-{u}, \"apps-*\"] }} }}]",
                policy("AmazonEKSViewPolicy"),
                policy("AmazonEKSEditPolicy")
            )
        } else {
            String::new()
        };
        entries.push_str(&format!(
            "          - {{ principal_arn: \"{}\", username: u-{u:03}, groups: [team-{}]{policies} }}\n",
            user(&format!("u-{u:03}")),
            u % 3
        ));
    }
    let text = format!(
        r#"settings:
  update_duration_ms: 100
accounts:
  - id: "{ACCOUNT}"
    credentials:
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/eks-auth-migrator/run-1" }}
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/stranger/eve" }}
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/limited/carol" }}
    iam:
{iam}    clusters:
      - name: legacy
        region: us-east-1
        mode: CONFIG_MAP
        nodegroups: [{{ name: ng1, node_role: "{}" }}]
        fargate_profiles: [{{ name: fp1, pod_execution_role_arn: "{}" }}]
        tags: {{ "alpha.eksctl.io/cluster-name": legacy, "aws:cloudformation:stack-name": eksctl-legacy-cluster }}
        aws_auth_metadata:
          managedFields:
            - {{ manager: eksctl, operation: Update, apiVersion: v1, time: "2025-11-04T16:20:00Z", fieldsType: FieldsV1, fieldsV1: {{ "f:data": {{ "f:mapRoles": {{}}, "f:mapUsers": {{}} }} }} }}
        aws_auth:
          mapRoles: |
{}          mapUsers: |
{}      - name: hybrid
        region: us-east-1
        mode: API_AND_CONFIG_MAP
        nodegroups: [{{ name: ng1, node_role: "{}" }}]
        access_entries:
{entries}"#,
        MIGRATOR.0,
        MIGRATOR.1,
        STRANGER.0,
        STRANGER.1,
        LIMITED.0,
        LIMITED.1,
        role("eks-node"),
        role("eks-fargate"),
        indent(MAP_ROLES, 12),
        indent(MAP_USERS, 12),
        role("eks-node"),
    );
    match Seed::parse(&text) {
        Ok(seed) => seed,
        Err(e) => panic!("seed does not parse: {e:?}\n{text}"),
    }
}

/// The stack, or `None` (test skipped) when moto is missing.
async fn stack() -> Option<(Stack, tempfile::TempDir)> {
    let stack = Stack::start(seed(), true).await.expect("stack starts");
    if stack.moto.is_none() {
        common::missing("moto_server (.venv)");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    Some((stack, dir))
}

/// Shared configuration for `creds` through a standard config file: moto as the global
/// endpoint, the simulator as the EKS endpoint.
async fn config(
    stack: &Stack,
    dir: &tempfile::TempDir,
    creds: (&str, &str),
) -> aws_config::SdkConfig {
    let moto = stack.moto.as_ref().map(|m| m.url()).expect("moto");
    let credentials = Credentials::new(creds.0, creds.1, None, None, "live-test");
    eks_sim::harness::sdk_config(&moto, &stack.sim.url(), dir.path(), credentials).await
}

/// Creates the seed's roles and users in moto IAM (with their paths).
async fn create_in_moto(iam: &aws_sdk_iam::Client) {
    for (kind, path, name) in PRINCIPALS {
        common::create_principal(iam, kind, path, name).await;
    }
}

/// What the gather detects of `legacy`'s owners: eksctl wrote aws-auth (its managedFields entry,
/// as the seed sets it) and owns the cluster (its tags; the CloudFormation stack is eksctl's).
fn eksctl_owners() -> Owners {
    let tag = |key: &str, value: &str| Marker::Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    };
    Owners {
        aws_auth: AwsAuthOwnership {
            metadata: MetadataSeen::Live,
            owners: vec![AwsAuthOwner {
                kind: AwsAuthOwnerKind::Eksctl,
                name: None,
                namespace: None,
                evidence: vec![Marker::ManagedFields {
                    manager: "eksctl".to_owned(),
                    operation: "Update".to_owned(),
                    time: Some("2025-11-04T16:20:00Z".to_owned()),
                }],
            }],
        },
        cluster: Some(ClusterOwnership {
            owners: vec![ClusterOwner {
                kind: ClusterOwnerKind::Eksctl,
                name: Some("legacy".to_owned()),
                evidence: vec![
                    tag("alpha.eksctl.io/cluster-name", "legacy"),
                    tag("aws:cloudformation:stack-name", "eksctl-legacy-cluster"),
                ],
            }],
        }),
    }
}

fn expected_legacy_iam(partner: IamResolution) -> BTreeMap<String, IamResolution> {
    let found = |arn: String| IamResolution::Found { arn };
    BTreeMap::from([
        (role("eks-node"), found(role("eks-node"))),
        (role("eks-fargate"), found(role("eks-fargate"))),
        (role("eks-auth-migrator"), found(role("eks-auth-migrator"))),
        (role("admin"), found(role("admin"))),
        (
            role("AWSReservedSSO_Admin_0123456789abcdef"),
            found(SSO.to_owned()),
        ),
        (role("team-a"), found(role("teams/team-a"))),
        (role("ghost"), IamResolution::NotFound),
        (role("limited"), found(role("limited"))),
        (format!("arn:aws:iam::{PARTNER}:role/partner"), partner),
        (user("alice"), found(user("people/alice"))),
    ])
}

#[tokio::test]
async fn gathers_a_config_map_cluster_with_iam_resolutions() {
    let Some((stack, dir)) = stack().await else {
        return;
    };
    let config = config(&stack, &dir, MIGRATOR).await;
    create_in_moto(&aws_sdk_iam::Client::new(&config)).await;

    let gathered = live::gather(&config, "legacy", &GatherOptions::default())
        .await
        .expect("gather legacy");

    let cm = gathered.configmap.expect("aws-auth exists");
    assert_eq!(
        cm.data,
        BTreeMap::from([
            ("mapRoles".to_owned(), MAP_ROLES.to_owned()),
            ("mapUsers".to_owned(), MAP_USERS.to_owned()),
        ])
    );
    assert!(!cm.resource_version.is_empty());
    let no_member_role = IamResolution::Unresolvable {
        reason: format!(
            "the principal is in account {PARTNER}, not the cluster's, and no member role is configured to look it up there; configure a member role deployed in that account (e.g. --member-role) so its real ARN (with IAM path) can be resolved"
        ),
    };
    assert_eq!(
        gathered.facts,
        ClusterFacts {
            format_version: eks_auth_core::facts::FACTS_FORMAT_VERSION,
            cluster_name: Some("legacy".to_owned()),
            partition: Some("aws".to_owned()),
            account_id: Some(ACCOUNT.to_owned()),
            region: Some("us-east-1".to_owned()),
            authentication_mode: Some(AuthenticationMode::ConfigMap),
            node_group_roles: vec![role("eks-node")],
            fargate_profile_roles: vec![role("eks-fargate")],
            existing_entries: Vec::new(),
            iam: expected_legacy_iam(no_member_role),
            eks_features: Default::default(),
            reach: public_and_direct(&gathered.facts),
            owners: Some(eksctl_owners()),
        }
    );

    // With a member role, the partner account's principal is looked up there (moto: AssumeRole
    // into the partner account, where the role lives under a path).
    let sts = aws_sdk_sts::Client::new(&config);
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{PARTNER}:role/member"))
        .role_session_name("setup")
        .send()
        .await
        .expect("AssumeRole in moto");
    let c = assumed.credentials().expect("credentials");
    let partner_iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&config)
            .credentials_provider(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "partner",
            ))
            .build(),
    );
    common::create_principal(&partner_iam, "role", "/partners/", "partner").await;
    let options = GatherOptions {
        member_role_name: Some("member".to_owned()),
        assume_from: None,
        route: Default::default(),
        owner_tags: Vec::new(),
        agent_signer: None,
    };
    let with_member = live::gather(&config, "legacy", &options)
        .await
        .expect("gather legacy with member role");
    assert_eq!(
        with_member.facts.iam,
        expected_legacy_iam(IamResolution::Found {
            arn: format!("arn:aws:iam::{PARTNER}:role/partners/partner")
        })
    );
}

#[tokio::test]
async fn gathers_every_page_of_access_entries_and_their_policies() {
    let Some((stack, dir)) = stack().await else {
        return;
    };
    let config = config(&stack, &dir, MIGRATOR).await;
    // One entry the migrator created (it carries the migrator's tag).
    aws_sdk_eks::Client::new(&config)
        .create_access_entry()
        .cluster_name("hybrid")
        .principal_arn(role("tagged"))
        .username("tagged")
        .kubernetes_groups("tagged-group")
        .tags("managed-by", "eks-auth-migrator")
        .send()
        .await
        .expect("CreateAccessEntry");

    let gathered = live::gather(&config, "hybrid", &GatherOptions::default())
        .await
        .expect("gather hybrid");
    assert_eq!(gathered.configmap, None, "no aws-auth on this cluster");

    let standard = |arn: String, username: &str, groups: Vec<String>| ExistingEntry {
        principal_arn: arn,
        entry_type: EntryType::Standard,
        username: Some(username.to_owned()),
        kubernetes_groups: groups,
        access_policies: Vec::new(),
        managed_by_migrator: false,
    };
    let mut expected = vec![
        ExistingEntry {
            access_policies: vec![AccessPolicy {
                policy_arn: policy("AmazonEKSViewPolicy"),
                access_scope: AccessScope {
                    scope_type: ScopeType::Namespace,
                    namespaces: vec!["kube-system".to_owned()],
                },
            }],
            ..standard(role("eks-auth-migrator"), "eks-auth-migrator", Vec::new())
        },
        ExistingEntry {
            managed_by_migrator: true,
            ..standard(role("tagged"), "tagged", vec!["tagged-group".to_owned()])
        },
    ];
    for u in 0..ENTRY_USERS {
        let mut e = standard(
            user(&format!("u-{u:03}")),
            &format!("u-{u:03}"),
            vec![format!("team-{}", u % 3)],
        );
        if u % 10 == 0 {
            e.access_policies = vec![
                AccessPolicy {
                    policy_arn: policy("AmazonEKSEditPolicy"),
                    access_scope: AccessScope {
                        scope_type: ScopeType::Namespace,
                        namespaces: vec![format!("team-{u}"), "apps-*".to_owned()],
                    },
                },
                AccessPolicy {
                    policy_arn: policy("AmazonEKSViewPolicy"),
                    access_scope: AccessScope::cluster(),
                },
            ];
        }
        expected.push(e);
    }
    // The entry EKS made for the managed node group when the cluster left CONFIG_MAP.
    let node_entry = gathered
        .facts
        .existing_entry(&role("eks-node"))
        .expect("node-group entry")
        .clone();
    assert_eq!(node_entry.entry_type, EntryType::Ec2Linux);
    assert!(node_entry.access_policies.is_empty());
    expected.push(node_entry);
    expected.sort_by(|a, b| a.principal_arn.cmp(&b.principal_arn));
    assert!(expected.len() > 100);

    assert_eq!(
        gathered.facts,
        ClusterFacts {
            format_version: eks_auth_core::facts::FACTS_FORMAT_VERSION,
            cluster_name: Some("hybrid".to_owned()),
            partition: Some("aws".to_owned()),
            account_id: Some(ACCOUNT.to_owned()),
            region: Some("us-east-1".to_owned()),
            authentication_mode: Some(AuthenticationMode::ApiAndConfigMap),
            node_group_roles: vec![role("eks-node")],
            fargate_profile_roles: Vec::new(),
            existing_entries: expected,
            iam: BTreeMap::new(),
            eks_features: Default::default(),
            reach: public_and_direct(&gathered.facts),
            owners: Some(Owners {
                aws_auth: AwsAuthOwnership {
                    metadata: MetadataSeen::NoConfigMap,
                    owners: Vec::new(),
                },
                cluster: Some(ClusterOwnership::default()),
            }),
        }
    );
    let stats = stack.sim.stats();
    assert!(
        stats.get("ListAccessEntries").copied().unwrap_or(0) >= 2,
        "more than one page read: {stats:?}"
    );
}

/// A principal that cannot read aws-auth gets the Kubernetes answer, who it runs as and what to
/// grant, and no secret.
async fn refused(creds: (&str, &str), answer: &str) {
    let Some((stack, dir)) = stack().await else {
        return;
    };
    let config = config(&stack, &dir, creds).await;
    let caller = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity")
        .arn()
        .expect("arn")
        .to_owned();

    let err = live::gather(&config, "legacy", &GatherOptions::default())
        .await
        .expect_err("an unmapped principal cannot read aws-auth");
    assert!(matches!(err, GatherError::KubeForbidden(_)), "{err:?}");
    let message = err.to_string();
    for part in [
        &format!(
            "cannot read kube-system/aws-auth on cluster `legacy` (account 123456789012, region us-east-1): the Kubernetes API answered {answer}"
        ),
        &format!("The migrator runs as {caller}."),
        "on a CONFIG_MAP cluster map that principal in aws-auth",
        "an access entry with an access policy that allows get on configmaps in kube-system",
    ] {
        assert!(message.contains(part), "missing {part:?} in: {message}");
    }
    for secret in [
        STRANGER.1,
        "k8s-aws-v1.",
        "X-Amz-Signature",
        "X-Amz-Credential",
    ] {
        assert!(!message.contains(secret), "leaks {secret:?}: {message}");
        assert!(
            !format!("{err:?}").contains(secret),
            "Debug leaks {secret:?}"
        );
    }
}

#[tokio::test]
async fn an_unmapped_principal_is_told_what_to_grant() {
    // Unknown to the authenticator: 401.
    refused(STRANGER, "401 Unauthorized: Unauthorized.").await;
}

#[tokio::test]
async fn a_principal_without_rbac_is_told_what_to_grant() {
    // Authenticated through aws-auth, but its group has no binding: 403.
    refused(
        LIMITED,
        "403 Forbidden: configmaps \"aws-auth\" is forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_kubernetes_api_is_reported() {
    let Some((stack, dir)) = stack().await else {
        return;
    };
    let config = config(&stack, &dir, MIGRATOR).await;
    stack.sim.set_faults(eks_sim::faults::FaultConfig {
        seed: 1,
        rules: vec![eks_sim::faults::FaultRule {
            operation: "Kubernetes:*".to_owned(),
            reset_probability: 1.0,
            ..Default::default()
        }],
    });
    let err = live::gather(&config, "legacy", &GatherOptions::default())
        .await
        .expect_err("the Kubernetes API drops every connection");
    assert!(
        matches!(err, GatherError::KubeUnreachable { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("cannot reach the Kubernetes API of cluster `legacy` (account 123456789012, region us-east-1) at https://127.0.0.1:"),
        "{message}"
    );
    assert!(
        message.contains("run the migrator inside its VPC"),
        "{message}"
    );
    assert!(!message.contains("k8s-aws-v1."), "{message}");
}

#[tokio::test]
async fn a_missing_cluster_is_named() {
    let Some((stack, dir)) = stack().await else {
        return;
    };
    let config = config(&stack, &dir, MIGRATOR).await;
    let err = live::gather(&config, "nope", &GatherOptions::default())
        .await
        .expect_err("no such cluster");
    assert!(
        matches!(err, GatherError::ClusterNotFound { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("cluster `nope` not found in region us-east-1"),
        "{err}"
    );
}

/// The reach a gather records for a simulated cluster with a public endpoint, reached directly
/// as the CLI's default route chooses (checked here, returned for the whole-facts comparison).
fn public_and_direct(facts: &ClusterFacts) -> Option<eks_auth_core::reach::ClusterReach> {
    use eks_auth_core::reach::{DirectVia, ReachClass, Route};
    let reach = facts
        .reach
        .clone()
        .expect("a live gather records the reach");
    assert_eq!(reach.reachability.class, ReachClass::Public);
    assert_eq!(
        reach.route,
        Route::Direct {
            via: DirectVia::Chosen
        }
    );
    Some(reach)
}
