//! The fixture fleet (tests/fixtures/fleet.json): 13 clusters in 3 accounts and 2 regions, every
//! phase and mode, each inventory digested from a real plan of a real aws-auth — the shipped
//! example, and small ConfigMaps with admins, a team role, a node role, a user, another
//! account's principals, rows that block — with access entries "applied" from the plan where the
//! cluster has left CONFIG_MAP. Plus scan marks (one failed, one skipped), a cluster the latest
//! scan missed, and an unreadable item.

use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::{AuthenticationMode, ClusterFacts, ExistingEntry, IamResolution};
use eks_auth_core::inventory::{ClusterInventory, RbacDigest};
use eks_auth_core::owner::acceptance::Acceptance;
use eks_auth_core::owner::detect::{aws_auth_owners, cluster_owners};
use eks_auth_core::owner::kind::ClusterOwnerKind;
use eks_auth_core::owner::ownership::{AwsAuthOwnership, MetadataSeen, Owners};
use eks_auth_core::plan::{AccessPolicy, AccessScope, Action, EntryType, Plan};
use eks_auth_core::plan_with_owners;
use eks_auth_core::policy::{CreatorEntry, MigrationPolicy};
use eks_auth_core::rbac::Rbac;
use eks_auth_core::reach::{
    ClusterPlace, EndpointAccess, NetworkConfig, Reachability, Route, classify, route,
};
use eks_auth_core::report::input::{
    ClusterView, FleetInput, RecordCounts, ScanOutcome, ScanView, Unreadable,
};
use eks_auth_core::state::{Mode, Phase};
use eks_auth_core::suggest::RbacInput;
use std::collections::BTreeMap;

/// When the fixture's report is built (2026-12-01T00:00:00Z).
pub const NOW_MS: u64 = 1_796_083_200_000;
const HOUR: u64 = 3_600_000;

/// Production account.
pub const PROD: &str = "111122223333";
/// Shared-services account.
pub const SHARED: &str = "444455556666";
/// Sandbox account.
pub const SANDBOX: &str = "777788889999";

const EXAMPLE: &str = include_str!("../../../../examples/aws-auth.yaml");
const EXAMPLE_FACTS: &str = include_str!("../../../../examples/facts.json");
const EXAMPLE_RBAC: &str = include_str!("../../../../examples/rbac/rbac.yaml");
const ARGO_CD_AWS_AUTH: &str = include_str!("../fixtures/owners/argocd-ssa-helm-chart.yaml");
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// How a fixture cluster is set up.
struct Spec {
    account: &'static str,
    region: &'static str,
    name: &'static str,
    phase: Phase,
    mode: Mode,
    auth: Option<AuthenticationMode>,
    /// The creator's principal, when the migrator recorded it.
    creator: Option<&'static str>,
    /// Whether the creator's entry still exists (API modes).
    creator_entry: bool,
    last_error: Option<&'static str>,
    /// Hours before [`NOW_MS`] a scan last saw it (`None`: never).
    seen_hours_ago: Option<u64>,
    planned: bool,
    extra_rows: &'static str,
}

/// The fixture fleet.
pub fn input() -> FleetInput {
    let clusters = specs().into_iter().map(view).collect();
    FleetInput {
        clusters,
        scans: scans(),
        unreadable: vec![Unreadable {
            item: format!("CLUSTER#{PROD}#eu-west-1#legacy-billing / META"),
            reason:
                "format_version 7 is newer than this version reads (1): upgrade eks-auth-migrator"
                    .to_owned(),
        }],
        creator_entry: CreatorEntry::Keep,
    }
}

fn spec(
    account: &'static str,
    region: &'static str,
    name: &'static str,
    phase: Phase,
    mode: Mode,
) -> Spec {
    Spec {
        account,
        region,
        name,
        phase,
        mode,
        auth: Some(AuthenticationMode::ApiAndConfigMap),
        creator: None,
        creator_entry: true,
        last_error: None,
        seen_hours_ago: Some(3),
        planned: true,
        extra_rows: "",
    }
}

const CROSS_ACCOUNT_ROWS: &str = "    - rolearn: arn:aws:iam::111122223333:role/platform-admin\n      username: platform-admin\n      groups: [system:masters]\n    - rolearn: arn:aws:iam::444455556666:role/metrics\n      username: metrics\n      groups: [system:monitoring]\n";

fn specs() -> Vec<Spec> {
    use AuthenticationMode::{Api, ConfigMap};
    let creator = Some("arn:aws:iam::111122223333:role/cluster-creator");
    vec![
        Spec {
            auth: Some(ConfigMap),
            seen_hours_ago: Some(1),
            ..spec(PROD, "eu-west-1", "prod-eu", Phase::Planned, Mode::Audit)
        },
        Spec {
            creator,
            seen_hours_ago: Some(1),
            ..spec(
                PROD,
                "eu-west-1",
                "payments",
                Phase::Verified,
                Mode::Migrate,
            )
        },
        Spec {
            auth: Some(Api),
            creator,
            seen_hours_ago: Some(1),
            ..spec(
                PROD,
                "us-east-1",
                "prod-us",
                Phase::Complete,
                Mode::Finalize,
            )
        },
        Spec {
            auth: Some(ConfigMap),
            seen_hours_ago: Some(1),
            ..spec(
                PROD,
                "us-east-1",
                "ml-training",
                Phase::ModeSwitching,
                Mode::Migrate,
            )
        },
        Spec {
            seen_hours_ago: Some(1),
            ..spec(
                PROD,
                "us-east-1",
                "batch",
                Phase::EntriesApplied,
                Mode::Migrate,
            )
        },
        Spec {
            creator: Some("arn:aws:iam::444455556666:user/ops-bootstrap"),
            creator_entry: false,
            last_error: Some(
                "BLOCKED: the plan has 3 blocker finding(s) that make API mode unsafe",
            ),
            extra_rows: CROSS_ACCOUNT_ROWS,
            ..spec(
                SHARED,
                "eu-west-1",
                "shared-tools",
                Phase::Blocked,
                Mode::Finalize,
            )
        },
        spec(
            SHARED,
            "eu-west-1",
            "observability",
            Phase::ConfigMapBackedUp,
            Mode::Finalize,
        ),
        Spec {
            last_error: Some(
                "CreateAccessEntry: AccessDeniedException: not authorized to perform eks:CreateAccessEntry <on purpose & \"quoted\">",
            ),
            ..spec(
                SHARED,
                "us-east-1",
                "analytics",
                Phase::Failed { retryable: true },
                Mode::Migrate,
            )
        },
        spec(
            SHARED,
            "us-east-1",
            "data-lake",
            Phase::ConfigMapPruned,
            Mode::Finalize,
        ),
        spec(
            SHARED,
            "us-east-1",
            "api-gateway",
            Phase::ApiSwitching,
            Mode::Finalize,
        ),
        Spec {
            auth: Some(ConfigMap),
            planned: false,
            seen_hours_ago: Some(26),
            ..spec(
                SANDBOX,
                "eu-west-1",
                "sandbox-1",
                Phase::Discovered,
                Mode::Audit,
            )
        },
        Spec {
            auth: Some(ConfigMap),
            seen_hours_ago: Some(24 * 9),
            ..spec(
                SANDBOX,
                "eu-west-1",
                "sandbox-old",
                Phase::Planned,
                Mode::Skip,
            )
        },
        Spec {
            auth: None,
            planned: false,
            seen_hours_ago: None,
            last_error: Some("DescribeCluster: AccessDeniedException from the member role"),
            ..spec(
                SANDBOX,
                "us-east-1",
                "legacy",
                Phase::Failed { retryable: false },
                Mode::Audit,
            )
        },
    ]
}

fn scans() -> Vec<ScanView> {
    let scanned = |account: &str, region: &str, hours: u64, clusters: u32| ScanView {
        account: account.to_owned(),
        region: region.to_owned(),
        scanned_at_ms: NOW_MS - hours * HOUR,
        started_at_ms: Some(NOW_MS - hours * HOUR - 60_000),
        outcome: ScanOutcome::Scanned { clusters },
    };
    let mut marks = vec![
        scanned(PROD, "eu-west-1", 1, 2),
        scanned(PROD, "us-east-1", 1, 3),
        scanned(SHARED, "eu-west-1", 3, 2),
        scanned(SHARED, "us-east-1", 3, 3),
        scanned(SANDBOX, "eu-west-1", 26, 1),
    ];
    marks.push(ScanView {
        outcome: ScanOutcome::Failed {
            reason: "AssumeRole arn:aws:iam::777788889999:role/eks-auth-migrator-member: AccessDenied (is the member role deployed in this account?)".to_owned(),
        },
        ..scanned(SANDBOX, "us-east-1", 26, 0)
    });
    marks.push(ScanView {
        outcome: ScanOutcome::Skipped {
            reason: "excluded by the configuration document".to_owned(),
        },
        ..scanned("999900001111", "eu-west-1", 1, 0)
    });
    marks
}

/// A small ConfigMap: nodes, an admin role, a team role, an admin user, another account's
/// reader, plus `extra` mapRoles rows.
fn small_configmap(account: &str, name: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::{account}:role/eks-nodes\n      username: system:node:{{{{EC2PrivateDNSName}}}}\n      groups: [system:bootstrappers, system:nodes]\n    - rolearn: arn:aws:iam::{account}:role/platform-admin\n      username: platform-admin\n      groups: [system:masters]\n    - rolearn: arn:aws:iam::{account}:role/team-{name}\n      username: team-{name}\n      groups: [{name}-editors, {name}-viewers]\n    - rolearn: arn:aws:iam::444455556666:role/observability-reader\n      username: observability:{{{{SessionName}}}}\n      groups: [read-only]\n{extra}  mapUsers: |\n    - userarn: arn:aws:iam::{account}:user/alice\n      username: alice\n      groups: [system:masters]\n{accounts}",
        accounts = if extra.is_empty() {
            ""
        } else {
            "  mapAccounts: |\n    - \"222233334444\"\n"
        },
    )
}

fn view(s: Spec) -> ClusterView {
    let (inventory, owners) = match s.planned.then(|| inventory(&s)) {
        Some((inventory, owners)) => (Some(inventory), Some(owners)),
        None => (None, None),
    };
    let counts = inventory.as_ref().map_or_else(RecordCounts::default, |i| {
        let applied = u32::from(!matches!(s.auth, Some(AuthenticationMode::ConfigMap)))
            * u32::try_from(i.summary.create).unwrap_or(0);
        RecordCounts {
            entries_planned: u32::try_from(i.summary.create).unwrap_or(0),
            entries_applied: applied,
            entries_verified: applied,
            blockers: u32::try_from(i.summary.blockers).unwrap_or(0),
        }
    });
    let tags = BTreeMap::from([
        (
            "team".to_owned(),
            s.name.split('-').next().unwrap_or("platform").to_owned(),
        ),
        (
            "environment".to_owned(),
            if s.account == SANDBOX {
                "sandbox"
            } else {
                "production"
            }
            .to_owned(),
        ),
    ]);
    ClusterView {
        account: s.account.to_owned(),
        region: s.region.to_owned(),
        name: s.name.to_owned(),
        phase: s.phase,
        mode: s.mode,
        authentication_mode: s.auth,
        kubernetes_version: s
            .auth
            .map(|_| if s.account == SANDBOX { "1.29" } else { "1.33" }.to_owned()),
        tags,
        creator_principal: s.creator.map(str::to_owned),
        last_error: s.last_error.map(str::to_owned),
        what_to_do: None,
        counts,
        updated_at_ms: NOW_MS - 2 * HOUR,
        last_seen_ms: s.seen_hours_ago.map(|h| NOW_MS - h * HOUR),
        inventory_at_ms: inventory.as_ref().map(|_| NOW_MS - 2 * HOUR),
        inventory,
        reachability: reach_of(&s).map(|(r, _)| r),
        route: reach_of(&s).map(|(_, route)| route),
        owners,
    }
}

/// The fixture's reachability: payments is private and reached through its VPC's agent, batch
/// is restricted to CIDRs its egress is inside of, sandbox-1 is private with no agent; the
/// cluster never described has none; the rest are public.
fn reach_of(s: &Spec) -> Option<(Reachability, Route)> {
    let vpc = format!("vpc-0{}", s.name.replace('-', ""));
    let access = |public, private, cidrs: &[&str]| EndpointAccess {
        public_access: public,
        private_access: private,
        public_access_cidrs: cidrs.iter().map(|c| (*c).to_owned()).collect(),
        vpc_id: Some(vpc.clone()),
        subnet_ids: Vec::new(),
        cluster_security_group_id: Some(format!("sg-0{}", s.name.replace('-', ""))),
    };
    let network = NetworkConfig {
        egress_cidrs: vec!["198.51.100.7/32".to_owned()],
        discover_agents: s.name != "sandbox-1",
        ..NetworkConfig::default()
    };
    let reachability = match s.name {
        "legacy" => return None,
        "payments" | "sandbox-1" => classify(&access(false, true, &[]), &network.egress_cidrs),
        "batch" => classify(
            &access(true, true, &["198.51.100.0/24"]),
            &network.egress_cidrs,
        ),
        _ => classify(&access(true, false, &["0.0.0.0/0"]), &network.egress_cidrs),
    };
    let place = ClusterPlace {
        account: s.account,
        region: s.region,
        name: s.name,
    };
    let route = route(&reachability, place, &network);
    Some((reachability, route))
}

/// Plans the cluster's aws-auth with its facts; outside CONFIG_MAP, applies the plan's entries
/// (and EKS's node and creator entries) and plans again, as the engine would see it.
fn inventory(s: &Spec) -> (ClusterInventory, Owners) {
    let (text, mut facts) = if s.name == "prod-eu" {
        let facts: ClusterFacts = serde_json::from_str(EXAMPLE_FACTS).expect("example facts");
        (EXAMPLE.to_owned(), facts)
    } else {
        let text = small_configmap(s.account, s.name, s.extra_rows);
        (text.clone(), facts_for(s, &text))
    };
    facts.authentication_mode = s.auth;
    let (owners, accepted) = owners_of(s);
    if owners.is_some() {
        facts.owners = owners;
    }
    let auth = AwsAuth::parse_configmap(&text).expect("fixture ConfigMap parses");
    let policy = MigrationPolicy::default();
    let plan = plan_with_owners(&auth, Some(&facts), &policy, &accepted);
    if s.auth.is_some_and(|m| m != AuthenticationMode::ConfigMap) {
        // The entries were created while the cluster was in API_AND_CONFIG_MAP.
        let mut before = facts.clone();
        before.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
        let plan = plan_with_owners(&auth, Some(&before), &policy, &accepted);
        facts.existing_entries = entries_after(s, &plan, &facts);
        let again = plan_with_owners(&auth, Some(&facts), &policy, &accepted);
        let owners = again.owners.clone();
        return (
            ClusterInventory::from_plan(&auth, &again, Some(&facts)),
            owners,
        );
    }
    let mut inventory = ClusterInventory::from_plan(&auth, &plan, Some(&facts));
    inventory.rbac = rbac(s, &auth, &facts, &plan, &policy);
    (inventory, plan.owners.clone())
}

/// The owners a live run would have detected, and what the configuration accepts: payments'
/// aws-auth is synced by Argo CD (the metadata, tests/fixtures/owners), not accepted;
/// prod-us belongs to a terraform-aws-eks module the configuration accepts; shared-tools has
/// no owner at all. The others keep what their file shows (labels, no managedFields: unknown).
fn owners_of(s: &Spec) -> (Option<Owners>, Acceptance) {
    let live = |aws_auth: AwsAuthOwnership, tags: &[(&str, &str)]| {
        let tags: BTreeMap<String, String> = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Some(Owners {
            aws_auth,
            cluster: Some(cluster_owners(&tags, &[])),
        })
    };
    let nobody = AwsAuthOwnership {
        metadata: MetadataSeen::Live,
        owners: Vec::new(),
    };
    match s.name {
        "payments" => {
            let argo = AwsAuth::parse_configmap(ARGO_CD_AWS_AUTH).expect("owner fixture parses");
            let found = aws_auth_owners(argo.metadata.as_ref(), MetadataSeen::Live);
            (live(found, &[]), Acceptance::default())
        }
        "prod-us" => (
            live(nobody, &[("terraform-aws-modules", "eks")]),
            Acceptance {
                cluster: vec![ClusterOwnerKind::TerraformAwsEks],
                ..Acceptance::default()
            },
        ),
        "shared-tools" => (live(nobody, &[]), Acceptance::default()),
        _ => (None, Acceptance::default()),
    }
}

/// The RBAC analysis of two CONFIG_MAP clusters: `prod-eu` with the RBAC of the shipped RBAC
/// example (docs/rbac-suggestions.md), `ml-training` whose RBAC the migrator may not read.
fn rbac(
    s: &Spec,
    auth: &AwsAuth,
    facts: &ClusterFacts,
    plan: &Plan,
    policy: &MigrationPolicy,
) -> Option<RbacDigest> {
    match s.name {
        "prod-eu" => {
            let rbac = Rbac::parse(EXAMPLE_RBAC).expect("the RBAC example parses");
            let mut analysed = plan.clone();
            eks_auth_core::suggest::attach(
                &mut analysed,
                auth,
                Some(facts),
                policy,
                &RbacInput {
                    rbac: &rbac,
                    listed_policies: None,
                },
            );
            analysed.rbac.as_ref().map(RbacDigest::of)
        }
        "ml-training" => Some(RbacDigest::Unreadable {
            reason: "cannot list clusterroles.rbac.authorization.k8s.io: 403 Forbidden; grant get and list (infra/kubernetes/migrator-rbac.yaml)".to_owned(),
        }),
        _ => None,
    }
}

fn facts_for(s: &Spec, text: &str) -> ClusterFacts {
    let auth = AwsAuth::parse_configmap(text).expect("fixture ConfigMap parses");
    let iam = auth
        .rows
        .iter()
        .map(|r| r.arn.clone())
        .filter(|arn| !arn.is_empty())
        .map(|arn| {
            let answer = if arn.ends_with(":role/metrics-scraper")
                || arn.ends_with(":role/team-analytics")
            {
                IamResolution::NotFound
            } else {
                IamResolution::Found { arn: arn.clone() }
            };
            (arn, answer)
        })
        .collect();
    ClusterFacts {
        cluster_name: Some(s.name.to_owned()),
        partition: Some("aws".to_owned()),
        account_id: Some(s.account.to_owned()),
        region: Some(s.region.to_owned()),
        node_group_roles: vec![format!("arn:aws:iam::{}:role/eks-nodes", s.account)],
        iam,
        ..ClusterFacts::default()
    }
}

/// The entries a cluster has once the plan is applied: the migrator's (every `create`, except
/// on a cluster whose run failed), EKS's node-group entry and the creator's admin entry.
fn entries_after(s: &Spec, plan: &Plan, facts: &ClusterFacts) -> Vec<ExistingEntry> {
    let failed = matches!(s.phase, Phase::Failed { .. });
    let mut entries: Vec<ExistingEntry> = plan
        .entries
        .iter()
        .filter(|e| e.action == Action::Create && !failed)
        .filter_map(|e| {
            Some(ExistingEntry {
                principal_arn: e.principal_arn.clone()?,
                entry_type: e.entry_type?,
                username: e.username.clone(),
                kubernetes_groups: e.kubernetes_groups.clone(),
                access_policies: e.access_policies.clone(),
                managed_by_migrator: true,
            })
        })
        .collect();
    entries.extend(facts.node_group_roles.iter().map(|role| ExistingEntry {
        principal_arn: role.clone(),
        entry_type: EntryType::Ec2Linux,
        username: None,
        kubernetes_groups: Vec::new(),
        access_policies: Vec::new(),
        managed_by_migrator: false,
    }));
    let creator = s.creator.map_or_else(
        || format!("arn:aws:iam::{}:role/cluster-creator", s.account),
        str::to_owned,
    );
    if s.creator_entry {
        entries.push(ExistingEntry {
            principal_arn: creator,
            entry_type: EntryType::Standard,
            username: None,
            kubernetes_groups: Vec::new(),
            access_policies: vec![AccessPolicy {
                policy_arn: ADMIN_POLICY.to_owned(),
                access_scope: AccessScope::cluster(),
            }],
            managed_by_migrator: false,
        });
    }
    entries
}
