//! A generator of large, realistic fleets (as a [`Seed`]) for scale tests and demos.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{FargateProfile, Nodegroup};
use crate::seed::{Seed, SeedAccount, SeedCluster, SeedCredential, SeedEndpoint};

/// Regions handed out in order.
const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
];

/// Shape of a generated fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSpec {
    /// Number of accounts.
    pub accounts: usize,
    /// Regions per account (at most 8).
    pub regions: usize,
    /// Clusters per account and region.
    pub clusters: usize,
    /// Fewest aws-auth rows per cluster.
    pub rows_min: usize,
    /// Most aws-auth rows per cluster.
    pub rows_max: usize,
    /// Seed of the pseudo-random choices.
    pub seed: u64,
    /// Every this many clusters, one whose Kubernetes API is private only (0: none), in the
    /// account-region's shared VPC ([`shared_vpc`]).
    pub private_every: usize,
    /// Every this many clusters, one whose public endpoint admits only 203.0.113.0/24 (outside
    /// the local stack's 127.0.0.1) and whose private endpoint is on (0: none).
    pub restricted_every: usize,
}

/// The VPC generated private and restricted clusters of `account` in `region` share.
pub fn shared_vpc(account: &str, region: &str) -> String {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(
        format!("{account}/{region}").as_bytes(),
    ));
    format!("vpc-0{}", &digest[..16])
}

/// The endpoint of the `index`-th generated cluster.
fn endpoint(spec: &FleetSpec, index: usize, account: &str, region: &str) -> SeedEndpoint {
    let every = |n: usize| n > 0 && index.is_multiple_of(n);
    if every(spec.private_every) {
        SeedEndpoint {
            public: false,
            private: true,
            public_cidrs: vec!["0.0.0.0/0".to_owned()],
            vpc: Some(shared_vpc(account, region)),
        }
    } else if every(spec.restricted_every) {
        SeedEndpoint {
            public: true,
            private: true,
            public_cidrs: vec!["203.0.113.0/24".to_owned()],
            vpc: Some(shared_vpc(account, region)),
        }
    } else {
        SeedEndpoint::default()
    }
}

/// The role every generated account lets the migrator assume (mapped to system:masters).
pub const MIGRATOR_ROLE: &str = "eks-auth-migrator";

/// Access key ID of the generated credentials of `account`.
pub fn access_key_id(account: &str) -> String {
    format!("AKIASIM{account}")
}

/// Secret key of the generated credentials of `account`.
pub fn secret_access_key(account: &str) -> String {
    format!("sim-secret-{account}")
}

/// Generates the fleet `spec` describes. Per account: node, Fargate, SSO-admin (with its
/// `/aws-reserved/sso.amazonaws.com/` path) and team roles (half under `/teams/`), users, and
/// credentials assuming the migrator role. Every 7th cluster is already in
/// API_AND_CONFIG_MAP; `private_every` and `restricted_every` make some endpoints private or
/// restricted.
pub fn generate(spec: &FleetSpec) -> Seed {
    let mut rng = spec
        .seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1);
    let mut next = move |n: usize| -> usize {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        if n == 0 {
            0
        } else {
            ((rng >> 33) as usize) % n
        }
    };
    let span = spec.rows_max.saturating_sub(spec.rows_min) + 1;
    let mut cluster_index = 0usize;
    let accounts = (0..spec.accounts)
        .map(|a| {
            let id = format!("{:012}", 100_000_000_000u64 + a as u64);
            let team_roles = spec.rows_max.max(1);
            let sso = format!(
                "arn:aws:iam::{id}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_{:016x}",
                a as u64 * 7_919 + 13
            );
            let mut iam = vec![
                format!("arn:aws:iam::{id}:role/eks-node-role"),
                format!("arn:aws:iam::{id}:role/eks-fargate-pod-execution"),
                format!("arn:aws:iam::{id}:role/{MIGRATOR_ROLE}"),
                sso.clone(),
            ];
            for k in 0..team_roles {
                iam.push(team_role_arn(&id, k));
                iam.push(format!("arn:aws:iam::{id}:user/dev-{k}"));
            }
            let mut clusters = Vec::new();
            for region in REGIONS.iter().take(spec.regions.min(REGIONS.len())) {
                for c in 0..spec.clusters {
                    cluster_index += 1;
                    let rows = spec.rows_min + next(span);
                    clusters.push(SeedCluster {
                        name: format!("cluster-{c:02}"),
                        region: (*region).to_owned(),
                        version: "1.31".to_owned(),
                        platform_version: "eks.20".to_owned(),
                        status: "ACTIVE".to_owned(),
                        mode: if cluster_index.is_multiple_of(7) {
                            "API_AND_CONFIG_MAP"
                        } else {
                            "CONFIG_MAP"
                        }
                        .to_owned(),
                        creator: None,
                        tags: BTreeMap::from([
                            ("env".to_owned(), if c % 2 == 0 { "prod" } else { "staging" }.to_owned()),
                            ("team".to_owned(), format!("team-{}", c % 5)),
                        ]),
                        nodegroups: vec![Nodegroup {
                            name: "default".to_owned(),
                            node_role: format!("arn:aws:iam::{id}:role/eks-node-role"),
                        }],
                        fargate_profiles: if c % 3 == 0 {
                            vec![FargateProfile {
                                name: "fp-default".to_owned(),
                                pod_execution_role_arn: format!(
                                    "arn:aws:iam::{id}:role/eks-fargate-pod-execution"
                                ),
                            }]
                        } else {
                            Vec::new()
                        },
                        aws_auth: Some(aws_auth(&id, &sso, rows, team_roles)),
                        aws_auth_metadata: None,
                        access_entries: Vec::new(),
                        rbac: Vec::new(),
                        rbac_objects: Vec::new(),
                        role_arn: None,
                        auto_mode: None,
                        capabilities: Vec::new(),
                        hyperpod_roles: Vec::new(),
                        endpoint: endpoint(spec, cluster_index, &id, region),
                    });
                }
            }
            SeedAccount {
                credentials: vec![SeedCredential {
                    access_key_id: access_key_id(&id),
                    secret_access_key: secret_access_key(&id),
                    arn: Some(format!("arn:aws:sts::{id}:assumed-role/{MIGRATOR_ROLE}/sim")),
                }],
                id,
                iam,
                clusters,
            }
        })
        .collect();
    Seed {
        settings: None,
        accounts,
    }
}

fn team_role_arn(account: &str, k: usize) -> String {
    if k.is_multiple_of(2) {
        format!("arn:aws:iam::{account}:role/teams/team-{k}")
    } else {
        format!("arn:aws:iam::{account}:role/team-{k}")
    }
}

/// aws-auth data with `rows` rows: the fixed node/Fargate/SSO/migrator rows, then team roles
/// (path-stripped, as aws-auth must have them) and users.
fn aws_auth(account: &str, sso: &str, rows: usize, team_roles: usize) -> BTreeMap<String, String> {
    let sso_name = sso.rsplit('/').next().unwrap_or_default();
    let mut roles = format!(
        "- rolearn: arn:aws:iam::{account}:role/eks-node-role\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n\
         - rolearn: arn:aws:iam::{account}:role/eks-fargate-pod-execution\n  username: system:node:{{{{SessionName}}}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n    - system:node-proxier\n\
         - rolearn: arn:aws:iam::{account}:role/{sso_name}\n  username: sso-admin:{{{{SessionName}}}}\n  groups:\n    - system:masters\n\
         - rolearn: arn:aws:iam::{account}:role/{MIGRATOR_ROLE}\n  username: eks-auth-migrator\n  groups:\n    - system:masters\n"
    );
    let mut users = String::new();
    for k in 0..rows.saturating_sub(4) {
        if k % 4 == 3 {
            let _ = write!(
                users,
                "- userarn: arn:aws:iam::{account}:user/dev-{k}\n  username: dev-{k}\n  groups:\n    - developers\n"
            );
        } else {
            let _ = write!(
                roles,
                "- rolearn: arn:aws:iam::{account}:role/team-{}\n  username: team-{}:{{{{SessionName}}}}\n  groups:\n    - team-{}-editors\n",
                k % team_roles,
                k % team_roles,
                k % team_roles
            );
        }
    }
    let mut data = BTreeMap::from([("mapRoles".to_owned(), roles)]);
    if !users.is_empty() {
        data.insert("mapUsers".to_owned(), users);
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthMode, ClusterKey};
    use crate::oracle::{Principal, Source, effective_access};

    fn spec() -> FleetSpec {
        FleetSpec {
            accounts: 3,
            regions: 2,
            clusters: 7,
            rows_min: 20,
            rows_max: 60,
            seed: 9,
            private_every: 5,
            restricted_every: 3,
        }
    }

    #[test]
    fn generated_fleet_has_the_requested_shape_and_is_deterministic()
    -> Result<(), crate::seed::SeedError> {
        assert_eq!(generate(&spec()), generate(&spec()));
        let world = generate(&spec()).into_world()?;
        assert_eq!(world.clusters.len(), 3 * 2 * 7);
        let api = world
            .clusters
            .values()
            .filter(|c| c.mode == AuthMode::ApiAndConfigMap)
            .count();
        assert_eq!(api, 42 / 7);
        let private = world
            .clusters
            .values()
            .filter(|c| !c.network.public_access)
            .count();
        let restricted = world
            .clusters
            .values()
            .filter(|c| c.network.public_access && c.network.public_access_cidrs != ["0.0.0.0/0"])
            .count();
        assert_eq!((private, restricted), (42 / 5, 42 / 3 - 42 / 15));
        for c in world.clusters.values() {
            let data = c.aws_auth_data();
            let rows = data
                .values()
                .map(|v| v.matches("arn: ").count())
                .sum::<usize>();
            assert!((20..=60).contains(&rows), "{} has {rows} rows", c.key.name);
        }
        Ok(())
    }

    #[test]
    fn generated_credentials_are_mapped_admins_and_sso_rows_resolve()
    -> Result<(), Box<dyn std::error::Error>> {
        let world = generate(&spec()).into_world()?;
        let account = "100000000001";
        let key = ClusterKey {
            account: account.to_owned(),
            region: "us-west-2".to_owned(),
            name: "cluster-03".to_owned(),
        };
        let cluster = world.clusters.get(&key).ok_or("no cluster")?;
        let credential = world
            .credentials
            .get(&access_key_id(account))
            .ok_or("no credential")?;
        let migrator = Principal::from_arn(&world, &credential.arn)?;
        let access = effective_access(cluster, &migrator).ok_or("migrator not mapped")?;
        assert_eq!(access.groups, ["system:masters"]);
        let sso = world
            .iam
            .values()
            .find(|p| p.arn.contains(account) && p.arn.contains("/aws-reserved/sso.amazonaws.com/"))
            .ok_or("no SSO role")?;
        let admin = effective_access(cluster, &Principal::from_arn(&world, &sso.arn)?)
            .ok_or("SSO admin not mapped")?;
        assert_eq!(admin.source, Source::AwsAuth);
        assert_eq!(admin.username, "sso-admin:{{SessionName}}");
        Ok(())
    }
}
