//! The seed: a YAML or JSON description of accounts, credentials, IAM principals and clusters,
//! and how it becomes a [`World`]. See docs/local-stack.md for the format.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    AccessEntry, AccessScope, AssociatedPolicy, AuthMode, AutoMode, Capability, Cluster,
    ClusterKey, ClusterNetwork, Credential, FargateProfile, IamPrincipal, Nodegroup, RoleBinding,
    Settings, StoredObject, World, epoch_now,
};

/// Account of the default credentials (moto's default account, so IAM in moto lines up).
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// Access key ID of the always-present default credentials.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAEKSSIMDEFAULT000";
/// Secret key of the default credentials.
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "eks-sim-default-secret-access-key";
/// Caller ARN of the default credentials.
pub const DEFAULT_CALLER_ARN: &str = "arn:aws:iam::123456789012:user/eks-sim-admin";

/// Errors in a seed document.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Neither valid YAML nor JSON of the expected shape.
    #[error("reading the seed")]
    Parse(#[source] serde_saphyr::Error),
    /// An account ID that is not 12 digits.
    #[error("account ID {0:?} is not 12 digits")]
    Account(String),
    /// The same cluster twice.
    #[error("cluster {0} is defined twice")]
    DuplicateCluster(String),
    /// An RBAC object the simulator cannot serve.
    #[error("cluster {cluster}: rbac_objects: {reason}")]
    Rbac {
        /// Cluster name.
        cluster: String,
        /// What is wrong.
        reason: String,
    },
    /// A feature EKS refuses on a CONFIG_MAP cluster (Auto Mode, capabilities, HyperPod).
    #[error(
        "cluster {cluster}: {feature} needs access entries; EKS refuses it on a CONFIG_MAP cluster (seed mode API_AND_CONFIG_MAP or API)"
    )]
    NeedsAccessEntries {
        /// Cluster name.
        cluster: String,
        /// The feature.
        feature: &'static str,
    },
    /// Endpoint access EKS would refuse, or a CIDR block that is not one.
    #[error("cluster {cluster}: endpoint: {reason}")]
    Endpoint {
        /// Cluster name.
        cluster: String,
        /// What is wrong.
        reason: String,
    },
    /// An unknown authentication mode.
    #[error("cluster {cluster}: unknown authentication mode {mode:?}")]
    Mode {
        /// Cluster name.
        cluster: String,
        /// The value given.
        mode: String,
    },
}

/// The whole seed document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Tunables (update duration, eventual consistency, default account).
    #[serde(default)]
    pub settings: Option<Settings>,
    /// Accounts.
    #[serde(default)]
    pub accounts: Vec<SeedAccount>,
}

/// One account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    /// 12-digit account ID.
    pub id: String,
    /// Credentials belonging to this account.
    #[serde(default)]
    pub credentials: Vec<SeedCredential>,
    /// Full ARNs (with paths) of the IAM roles and users that exist in this account.
    #[serde(default)]
    pub iam: Vec<String>,
    /// Clusters.
    #[serde(default)]
    pub clusters: Vec<SeedCluster>,
}

/// Credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCredential {
    /// Access key ID.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Caller ARN (STS GetCallerIdentity); default `arn:aws:iam::ACCOUNT:user/<access key>`.
    #[serde(default)]
    pub arn: Option<String>,
}

/// One cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCluster {
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Kubernetes version.
    #[serde(default = "default_version")]
    pub version: String,
    /// Platform version.
    #[serde(default = "default_platform_version")]
    pub platform_version: String,
    /// Status (`ACTIVE` unless said otherwise).
    #[serde(default = "default_status")]
    pub status: String,
    /// Authentication mode.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// Creator ARN (implicit admin; an entry with ClusterAdmin after the first switch).
    #[serde(default)]
    pub creator: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Managed node groups.
    #[serde(default)]
    pub nodegroups: Vec<Nodegroup>,
    /// Fargate profiles.
    #[serde(default)]
    pub fargate_profiles: Vec<FargateProfile>,
    /// The aws-auth ConfigMap's `data` (mapRoles/mapUsers/mapAccounts as YAML strings);
    /// absent means no ConfigMap.
    #[serde(default)]
    pub aws_auth: Option<BTreeMap<String, String>>,
    /// The aws-auth ConfigMap's own metadata besides its identity: `labels`, `annotations` and
    /// `managedFields`, as the owner that wrote it left them (a GitOps controller, Helm,
    /// Terraform, eksctl…); merged into `metadata`. Ignored without `aws_auth`.
    #[serde(default)]
    pub aws_auth_metadata: Option<serde_json::Value>,
    /// Existing access entries.
    #[serde(default)]
    pub access_entries: Vec<SeedEntry>,
    /// Simple bindings of a group or user to a ClusterRole.
    #[serde(default)]
    pub rbac: Vec<RoleBinding>,
    /// RBAC objects as Kubernetes writes them (ClusterRole, Role, ClusterRoleBinding,
    /// RoleBinding), besides Kubernetes' bootstrap ClusterRoles every cluster has.
    #[serde(default)]
    pub rbac_objects: Vec<serde_json::Value>,
    /// The cluster IAM role (default `arn:aws:iam::ACCOUNT:role/eks-cluster-role`).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// EKS Auto Mode: EKS creates the node role's `EC2` entry and the cluster role's entry.
    #[serde(default)]
    pub auto_mode: Option<AutoMode>,
    /// EKS Capabilities: EKS creates an entry for each capability role.
    #[serde(default)]
    pub capabilities: Vec<SeedCapability>,
    /// SageMaker HyperPod execution roles: each gets a `HYPERPOD_LINUX` entry.
    #[serde(default)]
    pub hyperpod_roles: Vec<String>,
    /// The Kubernetes API endpoint's access (default: public to everyone, no private endpoint,
    /// a VPC of the cluster's own).
    #[serde(default)]
    pub endpoint: SeedEndpoint,
}

/// A cluster's endpoint access in the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedEndpoint {
    /// `endpointPublicAccess` (default true).
    #[serde(default = "yes")]
    pub public: bool,
    /// `endpointPrivateAccess` (default false).
    #[serde(default)]
    pub private: bool,
    /// `publicAccessCidrs` (default `0.0.0.0/0`).
    #[serde(default = "everywhere")]
    pub public_cidrs: Vec<String>,
    /// The VPC (default `vpc-` and a hash of the cluster's ARN).
    #[serde(default)]
    pub vpc: Option<String>,
}

impl Default for SeedEndpoint {
    fn default() -> Self {
        Self {
            public: true,
            private: false,
            public_cidrs: everywhere(),
            vpc: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn everywhere() -> Vec<String> {
    vec!["0.0.0.0/0".to_owned()]
}

/// `prefix-` and 17 hex digits of a hash of `seed` (stable across runs, like EC2's IDs).
fn resource_id(prefix: &str, seed: &str) -> String {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(seed.as_bytes()));
    format!("{prefix}-0{}", &digest[..16])
}

/// The network of a seeded cluster.
fn network(key: &ClusterKey, endpoint: SeedEndpoint) -> Result<ClusterNetwork, SeedError> {
    if !endpoint.public && !endpoint.private {
        return Err(SeedError::Endpoint {
            cluster: key.name.clone(),
            reason: "the public and the private endpoint cannot both be off (EKS refuses it)"
                .to_owned(),
        });
    }
    if let Some(bad) = endpoint
        .public_cidrs
        .iter()
        .find(|c| crate::network::Cidr::parse(c).is_none())
    {
        return Err(SeedError::Endpoint {
            cluster: key.name.clone(),
            reason: format!("public_cidrs: `{bad}` is not an IPv4 CIDR block"),
        });
    }
    let vpc_id = endpoint
        .vpc
        .unwrap_or_else(|| resource_id("vpc", &key.arn()));
    Ok(ClusterNetwork {
        subnet_ids: vec![
            resource_id("subnet", &format!("{vpc_id}/a")),
            resource_id("subnet", &format!("{vpc_id}/b")),
        ],
        security_group_ids: Vec::new(),
        cluster_security_group_id: resource_id("sg", &key.arn()),
        vpc_id,
        public_access: endpoint.public,
        private_access: endpoint.private,
        public_access_cidrs: endpoint.public_cidrs,
    })
}

/// An EKS Capability in the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCapability {
    /// Its name.
    pub name: String,
    /// `ACK`, `ARGOCD` or `KRO`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The capability role (full ARN).
    pub role_arn: String,
}

/// An existing access entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedEntry {
    /// Full principal ARN.
    pub principal_arn: String,
    /// Type (default STANDARD).
    #[serde(default = "default_entry_type", rename = "type")]
    pub kind: String,
    /// Username (default as EKS would set it).
    #[serde(default)]
    pub username: Option<String>,
    /// Kubernetes groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Associated policies.
    #[serde(default)]
    pub policies: Vec<SeedPolicy>,
}

/// An associated policy in the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPolicy {
    /// Policy ARN.
    pub policy_arn: String,
    /// Scope (default cluster).
    #[serde(default = "cluster_scope")]
    pub scope: AccessScope,
}

fn default_version() -> String {
    "1.31".to_owned()
}
fn default_platform_version() -> String {
    "eks.20".to_owned()
}
fn default_status() -> String {
    "ACTIVE".to_owned()
}
fn default_mode() -> String {
    "CONFIG_MAP".to_owned()
}
fn default_entry_type() -> String {
    "STANDARD".to_owned()
}
fn cluster_scope() -> AccessScope {
    AccessScope {
        kind: "cluster".to_owned(),
        namespaces: Vec::new(),
    }
}

impl Seed {
    /// Parses a YAML (or JSON, which is YAML) seed document.
    ///
    /// # Errors
    ///
    /// [`SeedError::Parse`] when the text is not a seed.
    pub fn parse(text: &str) -> Result<Self, SeedError> {
        serde_saphyr::from_str(text).map_err(SeedError::Parse)
    }

    /// Builds the world this seed describes.
    ///
    /// # Errors
    ///
    /// [`SeedError`] for bad account IDs, duplicate clusters or unknown modes.
    pub fn into_world(self) -> Result<World, SeedError> {
        let mut world = World {
            settings: self.settings.unwrap_or_default(),
            ..World::default()
        };
        let default_arn = if world.settings.default_account == DEFAULT_ACCOUNT {
            DEFAULT_CALLER_ARN.to_owned()
        } else {
            format!(
                "arn:aws:iam::{}:user/eks-sim-admin",
                world.settings.default_account
            )
        };
        world.credentials.insert(
            DEFAULT_ACCESS_KEY_ID.to_owned(),
            Credential {
                access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
                secret_access_key: DEFAULT_SECRET_ACCESS_KEY.to_owned(),
                account: world.settings.default_account.clone(),
                arn: default_arn.clone(),
                sts_resolved: false,
            },
        );
        world.iam.insert(
            default_arn.to_lowercase(),
            IamPrincipal { arn: default_arn },
        );
        let now = epoch_now();
        for account in self.accounts {
            if account.id.len() != 12 || !account.id.chars().all(|c| c.is_ascii_digit()) {
                return Err(SeedError::Account(account.id));
            }
            for c in account.credentials {
                let arn = c.arn.unwrap_or_else(|| {
                    format!("arn:aws:iam::{}:user/{}", account.id, c.access_key_id)
                });
                world.credentials.insert(
                    c.access_key_id.clone(),
                    Credential {
                        access_key_id: c.access_key_id,
                        secret_access_key: c.secret_access_key,
                        account: account.id.clone(),
                        arn,
                        sts_resolved: false,
                    },
                );
            }
            for arn in account.iam {
                world.iam.insert(arn.to_lowercase(), IamPrincipal { arn });
            }
            for sc in account.clusters {
                let key = ClusterKey {
                    account: account.id.clone(),
                    region: sc.region.clone(),
                    name: sc.name.clone(),
                };
                let cluster = build_cluster(key.clone(), sc, now, &world.iam)?;
                if world.clusters.insert(key.clone(), cluster).is_some() {
                    return Err(SeedError::DuplicateCluster(key.arn()));
                }
            }
        }
        Ok(world)
    }
}

fn build_cluster(
    key: ClusterKey,
    sc: SeedCluster,
    now: f64,
    iam: &BTreeMap<String, IamPrincipal>,
) -> Result<Cluster, SeedError> {
    let mode = AuthMode::parse(&sc.mode).ok_or_else(|| SeedError::Mode {
        cluster: sc.name.clone(),
        mode: sc.mode.clone(),
    })?;
    let feature = if sc.auto_mode.is_some() {
        Some("EKS Auto Mode")
    } else if !sc.capabilities.is_empty() {
        Some("an EKS Capability")
    } else if !sc.hyperpod_roles.is_empty() {
        Some("SageMaker HyperPod")
    } else {
        None
    };
    if let Some(feature) = feature.filter(|_| mode == AuthMode::ConfigMap) {
        return Err(SeedError::NeedsAccessEntries {
            cluster: sc.name.clone(),
            feature,
        });
    }
    let mut cluster = Cluster {
        key: key.clone(),
        version: sc.version,
        platform_version: sc.platform_version,
        status: sc.status,
        mode,
        creator: sc.creator,
        created_at: now,
        tags: sc.tags,
        nodegroups: sc
            .nodegroups
            .into_iter()
            .map(|n| (n.name.clone(), n))
            .collect(),
        fargate_profiles: sc
            .fargate_profiles
            .into_iter()
            .map(|f| (f.name.clone(), f))
            .collect(),
        entries: BTreeMap::new(),
        updates: Vec::new(),
        configmaps: BTreeMap::new(),
        resource_version: 1000,
        rbac: crate::rbac_store::ClusterRbac::build(&sc.rbac, &sc.rbac_objects).map_err(
            |reason| SeedError::Rbac {
                cluster: sc.name.clone(),
                reason,
            },
        )?,
        kube: None,
        network: network(&key, sc.endpoint)?,
        role_arn: sc
            .role_arn
            .unwrap_or_else(|| format!("arn:aws:iam::{}:role/eks-cluster-role", key.account)),
        auto_mode: sc.auto_mode,
        capabilities: sc
            .capabilities
            .into_iter()
            .map(|c| {
                (
                    c.name.clone(),
                    Capability {
                        name: c.name,
                        kind: c.kind,
                        role_arn: c.role_arn,
                        created_at: now,
                    },
                )
            })
            .collect(),
        hyperpod_roles: sc.hyperpod_roles,
    };
    for e in sc.access_entries {
        let username = e
            .username
            .unwrap_or_else(|| crate::oracle::default_username(&e.principal_arn));
        let policies = e
            .policies
            .into_iter()
            .map(|p| {
                (
                    p.policy_arn.clone(),
                    AssociatedPolicy {
                        policy_arn: p.policy_arn,
                        scope: p.scope,
                        associated_at: now,
                        modified_at: now,
                    },
                )
            })
            .collect();
        cluster.entries.insert(
            e.principal_arn.clone(),
            AccessEntry {
                arn: crate::eks::access_entries::entry_arn(&key, &e.principal_arn),
                principal_arn: e.principal_arn,
                kind: e.kind,
                username,
                groups: e.groups,
                policies,
                tags: BTreeMap::new(),
                created_at: now,
                modified_at: now,
                consistent_after: None,
                inconsistent_calls: 0,
            },
        );
    }
    if mode != AuthMode::ConfigMap {
        crate::updates::create_service_entries(&mut cluster, iam);
        crate::updates::create_feature_entries(&mut cluster, iam);
    }
    if let Some(data) = sc.aws_auth {
        let rv = crate::kube_store::next_resource_version(&mut cluster);
        let mut object =
            crate::kube_store::new_configmap("kube-system", "aws-auth", &data, rv, now);
        if let Some(metadata) = &sc.aws_auth_metadata {
            crate::kube_store::merge(&mut object["metadata"], metadata);
        }
        cluster.configmaps.insert(
            ("kube-system".to_owned(), "aws-auth".to_owned()),
            StoredObject { object },
        );
    }
    Ok(cluster)
}

/// The objects of infra/kubernetes/migrator-rbac.yaml (the migrator's documented Kubernetes
/// access) as a JSON flow list, ready for a seed cluster's `rbac_objects`.
///
/// # Panics
///
/// When the file is missing or one of its documents is not YAML: the repository is broken.
pub fn migrator_rbac() -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/kubernetes/migrator-rbac.yaml"
    ))
    .expect("infra/kubernetes/migrator-rbac.yaml");
    let objects: Vec<String> = text
        .split("\n---\n")
        .map(|doc| {
            serde_saphyr::from_str::<serde_json::Value>(doc)
                .expect("a Kubernetes object")
                .to_string()
        })
        .collect();
    format!("[{}]", objects.join(", "))
}
