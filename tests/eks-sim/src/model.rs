//! The simulator's in-memory world: accounts, IAM principals, clusters and everything in them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// Authentication mode of a cluster (`accessConfig.authenticationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AuthMode {
    /// aws-auth only.
    #[serde(rename = "CONFIG_MAP")]
    ConfigMap,
    /// Access entries first, then aws-auth.
    #[serde(rename = "API_AND_CONFIG_MAP")]
    ApiAndConfigMap,
    /// Access entries only.
    #[serde(rename = "API")]
    Api,
}

impl AuthMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigMap => "CONFIG_MAP",
            Self::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            Self::Api => "API",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CONFIG_MAP" => Some(Self::ConfigMap),
            "API_AND_CONFIG_MAP" => Some(Self::ApiAndConfigMap),
            "API" => Some(Self::Api),
            _ => None,
        }
    }

    /// True when aws-auth is read in this mode.
    pub fn reads_config_map(self) -> bool {
        self != Self::Api
    }

    /// True when access entries are read in this mode.
    pub fn reads_entries(self) -> bool {
        self != Self::ConfigMap
    }
}

/// Identifies one cluster in the fleet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterKey {
    /// 12-digit account ID.
    pub account: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Cluster name.
    pub name: String,
}

impl ClusterKey {
    /// The cluster ARN.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:eks:{}:{}:cluster/{}",
            self.region, self.account, self.name
        )
    }

    /// Parses a cluster ARN back into a key.
    pub fn from_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (_, _, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let name = resource.strip_prefix("cluster/")?;
        (service == "eks" && !name.is_empty() && !name.contains('/')).then(|| Self {
            account: account.to_owned(),
            region: region.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// An access scope of an associated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessScope {
    /// `cluster` or `namespace`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Namespaces for a `namespace` scope (`prefix-*` wildcards allowed).
    #[serde(default)]
    pub namespaces: Vec<String>,
}

impl AccessScope {
    /// True when this scope covers `namespace`.
    pub fn covers(&self, namespace: &str) -> bool {
        self.kind == "cluster"
            || self.namespaces.iter().any(|n| match n.strip_suffix('*') {
                Some(prefix) => namespace.starts_with(prefix),
                None => n == namespace,
            })
    }
}

/// A policy associated with an access entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssociatedPolicy {
    /// Policy ARN.
    pub policy_arn: String,
    /// Scope of the association.
    pub scope: AccessScope,
    /// Epoch seconds of the first association.
    pub associated_at: f64,
    /// Epoch seconds of the last change.
    pub modified_at: f64,
}

/// One access entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// Full principal ARN (with IAM path).
    pub principal_arn: String,
    /// Entry type (`STANDARD`, `EC2_LINUX`, ...).
    pub kind: String,
    /// Username template (the default when none was given).
    pub username: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// Associated policies, keyed by policy ARN.
    pub policies: BTreeMap<String, AssociatedPolicy>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Entry ARN.
    pub arn: String,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// Epoch seconds of the last change.
    pub modified_at: f64,
    /// Until when AssociateAccessPolicy still answers "could not be found" (eventual consistency).
    #[serde(skip)]
    pub consistent_after: Option<Instant>,
    /// How many more AssociateAccessPolicy calls still answer "could not be found".
    #[serde(skip)]
    pub inconsistent_calls: u32,
}

/// A managed node group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nodegroup {
    /// Name.
    pub name: String,
    /// Node IAM role ARN.
    pub node_role: String,
}

/// A Fargate profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FargateProfile {
    /// Name.
    pub name: String,
    /// Pod execution role ARN.
    pub pod_execution_role_arn: String,
}

/// Status of a cluster update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    /// Still running.
    InProgress,
    /// Done.
    Successful,
}

/// An asynchronous cluster update (only authentication-mode updates are simulated).
#[derive(Debug, Clone)]
pub struct ClusterUpdate {
    /// Update ID (a UUID).
    pub id: String,
    /// Target mode.
    pub target: AuthMode,
    /// Epoch seconds when requested.
    pub created_at: f64,
    /// When the update completes.
    pub completes_at: Instant,
    /// Current status.
    pub status: UpdateStatus,
}

/// A stored Kubernetes object (ConfigMaps only) in its JSON form.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// The whole object, `metadata.resourceVersion` kept current.
    pub object: serde_json::Value,
}

/// A simple RBAC binding on a cluster: a subject bound to a built-in ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleBinding {
    /// `Group` or `User`.
    pub subject_kind: String,
    /// Group or user name.
    pub subject: String,
    /// `cluster-admin`, `admin`, `edit` or `view`.
    pub role: String,
    /// Namespace for a RoleBinding; none for a ClusterRoleBinding.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Where a cluster's Kubernetes API listens, once started.
#[derive(Clone)]
pub struct KubeEndpoint {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The listener's port (what a VPC gateway's `CONNECT 127.0.0.1:PORT` names).
    pub port: u16,
    /// CA certificate, PEM.
    pub ca_pem: String,
    /// Serves TLS with the cluster's certificate (the listener's and the VPC gateways').
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Aborts the listener task.
    pub abort: tokio::task::AbortHandle,
}

impl std::fmt::Debug for KubeEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeEndpoint")
            .field("url", &self.url)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// A cluster's network placement and endpoint access (DescribeCluster's `resourcesVpcConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterNetwork {
    /// The VPC.
    pub vpc_id: String,
    /// Its subnets.
    pub subnet_ids: Vec<String>,
    /// Additional security groups.
    pub security_group_ids: Vec<String>,
    /// The cluster security group EKS creates.
    pub cluster_security_group_id: String,
    /// `endpointPublicAccess`: the listener admits connections from `public_access_cidrs`.
    pub public_access: bool,
    /// `endpointPrivateAccess`: the cluster's VPC gateway reaches it.
    pub private_access: bool,
    /// `publicAccessCidrs`.
    pub public_access_cidrs: Vec<String>,
}

/// One EKS cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Where it lives.
    pub key: ClusterKey,
    /// Kubernetes version, e.g. `1.31`.
    pub version: String,
    /// Platform version, e.g. `eks.20`.
    pub platform_version: String,
    /// `ACTIVE`, `UPDATING`, `CREATING`, ...
    pub status: String,
    /// Current authentication mode.
    pub mode: AuthMode,
    /// Creator ARN (gets admin; EKS makes it an entry on the first switch).
    pub creator: Option<String>,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Managed node groups by name.
    pub nodegroups: BTreeMap<String, Nodegroup>,
    /// Fargate profiles by name.
    pub fargate_profiles: BTreeMap<String, FargateProfile>,
    /// Access entries by principal ARN.
    pub entries: BTreeMap<String, AccessEntry>,
    /// Updates by ID, plus the order they were made in.
    pub updates: Vec<ClusterUpdate>,
    /// ConfigMaps by (namespace, name).
    pub configmaps: BTreeMap<(String, String), StoredObject>,
    /// Last resourceVersion handed out.
    pub resource_version: u64,
    /// RBAC objects (bootstrap roles, the seed's objects and bindings), aggregated.
    pub rbac: crate::rbac_store::ClusterRbac,
    /// The Kubernetes API endpoint, started lazily.
    pub kube: Option<KubeEndpoint>,
    /// Its VPC and who may reach its Kubernetes API.
    pub network: ClusterNetwork,
    /// The cluster IAM role (DescribeCluster `roleArn`).
    pub role_arn: String,
    /// EKS Auto Mode (DescribeCluster `computeConfig`), when enabled.
    pub auto_mode: Option<AutoMode>,
    /// EKS Capabilities by name.
    pub capabilities: BTreeMap<String, Capability>,
    /// SageMaker HyperPod execution roles attached to this cluster.
    pub hyperpod_roles: Vec<String>,
}

/// EKS Auto Mode's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoMode {
    /// The node role of the built-in node pools.
    pub node_role_arn: String,
}

/// An EKS Capability (ACK, Argo CD, kro).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    /// Its name.
    pub name: String,
    /// `ACK`, `ARGOCD` or `KRO`.
    pub kind: String,
    /// The capability role EKS makes an access entry for.
    pub role_arn: String,
    /// Epoch seconds of creation.
    pub created_at: f64,
}

impl Cluster {
    /// The aws-auth `data` map (empty when the ConfigMap or its data is absent).
    pub fn aws_auth_data(&self) -> BTreeMap<String, String> {
        self.configmaps
            .get(&("kube-system".to_owned(), "aws-auth".to_owned()))
            .and_then(|o| o.object.get("data"))
            .and_then(|d| d.as_object())
            .map(|d| {
                d.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The in-progress update, if any.
    pub fn update_in_progress(&self) -> Option<&ClusterUpdate> {
        self.updates
            .iter()
            .find(|u| u.status == UpdateStatus::InProgress)
    }
}

/// An IAM role or user known to the simulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamPrincipal {
    /// Full ARN with path.
    pub arn: String,
}

/// Credentials the simulator accepts, with the identity they belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Access key ID.
    pub access_key_id: String,
    /// Secret key (used to verify Kubernetes bearer tokens).
    pub secret_access_key: String,
    /// Account the key belongs to.
    pub account: String,
    /// Caller ARN as STS GetCallerIdentity reports it (user ARN or assumed-role session ARN).
    pub arn: String,
    /// Learned from the STS endpoint rather than the seed: no secret, signatures not checked.
    #[serde(default)]
    pub sts_resolved: bool,
}

/// Tunables that are not part of any AWS resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How long an UpdateClusterConfig stays InProgress, in milliseconds.
    pub update_duration_ms: u64,
    /// While true, no update completes, however long it has run: a test holds updates, observes
    /// the cluster UPDATING (or whatever it waits for), then releases them by setting this back
    /// to false; held updates that are due then complete on the next request.
    pub hold_updates: bool,
    /// After CreateAccessEntry, AssociateAccessPolicy answers 404 for this many calls...
    pub eventual_consistency_calls: u32,
    /// ...and for this many milliseconds.
    pub eventual_consistency_ms: u64,
    /// Account of requests signed with an access key the seed does not list.
    pub default_account: String,
    /// An STS endpoint (moto, `http://host:port`) that names the identity of access keys the
    /// seed does not list (see `sts.rs`); unset: such keys belong to `default_account`.
    pub sts_endpoint: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            update_duration_ms: 2_000,
            hold_updates: false,
            eventual_consistency_calls: 0,
            eventual_consistency_ms: 0,
            default_account: crate::seed::DEFAULT_ACCOUNT.to_owned(),
            sts_endpoint: None,
        }
    }
}

/// The whole simulated fleet.
#[derive(Debug, Default)]
pub struct World {
    /// Clusters.
    pub clusters: BTreeMap<ClusterKey, Cluster>,
    /// IAM principals per account, keyed by lower-cased full ARN.
    pub iam: BTreeMap<String, IamPrincipal>,
    /// Credentials by access key ID.
    pub credentials: BTreeMap<String, Credential>,
    /// Tunables.
    pub settings: Settings,
    /// Counter for generated IDs.
    pub id_counter: u64,
}

impl World {
    /// A fresh pseudo-UUID, unique within this process.
    pub fn next_uuid(&mut self) -> String {
        self.id_counter += 1;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let n = nanos ^ u128::from(self.id_counter).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let h = format!("{n:032x}");
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    /// Looks up an IAM principal by its full ARN (case-insensitive).
    pub fn iam_principal(&self, arn: &str) -> Option<&IamPrincipal> {
        self.iam.get(&arn.to_lowercase())
    }

    /// Finds the full ARN of role `name` in `account` (whatever its path).
    pub fn role_by_name(&self, account: &str, name: &str) -> Option<&IamPrincipal> {
        let prefix = format!("arn:aws:iam::{account}:role/");
        let suffix = format!("/{}", name.to_lowercase());
        self.iam
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .find(|(k, _)| k.ends_with(&suffix) || k[prefix.len()..] == name.to_lowercase())
            .map(|(_, p)| p)
    }
}

/// Current time as epoch seconds with millisecond precision.
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or_default()
}

/// The duration an update takes under `settings`.
pub fn update_duration(settings: &Settings) -> Duration {
    Duration::from_millis(settings.update_duration_ms)
}
