//! The JSON plan output conforms to docs/plan.schema.json, and the schema lists every code.

use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::ClusterFacts;
use eks_auth_core::finding::FindingCode;
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::render::{Format, RenderOptions, render};

const SCHEMA: &str = include_str!("../../../docs/plan.schema.json");
const EXAMPLE: &str = include_str!("../../../examples/aws-auth.yaml");
const FACTS: &str = include_str!("../../../examples/facts.json");
const POLICY: &str = include_str!("../../../examples/policy.yaml");

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_valid(json: &str) {
    let instance: serde_json::Value = serde_json::from_str(json).expect("plan is JSON");
    let validator = validator();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}

#[test]
fn example_plans_conform() {
    let auth = AwsAuth::parse_configmap(EXAMPLE).expect("example");
    let facts: ClusterFacts = serde_json::from_str(FACTS).expect("facts");
    let policy = MigrationPolicy::parse(POLICY).expect("policy");
    for (facts, policy) in [
        (None, MigrationPolicy::default()),
        (Some(&facts), MigrationPolicy::default()),
        (Some(&facts), policy),
    ] {
        let plan = eks_auth_core::plan(&auth, facts, &policy);
        assert_valid(&render(&plan, Format::Json, RenderOptions::default()));
    }
}

#[test]
fn plans_listing_eks_managed_entries_conform() {
    use eks_auth_core::facts::{AuthenticationMode, AutoModeFact, CapabilityFact, ExistingEntry};
    use eks_auth_core::plan::EntryType;
    let auth = AwsAuth::parse_configmap(EXAMPLE).expect("example");
    let mut facts: ClusterFacts = serde_json::from_str(FACTS).expect("facts");
    facts.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    let role = |name: &str| format!("arn:aws:iam::111122223333:role/{name}");
    for (name, entry_type) in [
        ("argocd", EntryType::Standard),
        ("auto-node", EntryType::Ec2),
        ("hyperpod", EntryType::HyperpodLinux),
    ] {
        facts.existing_entries.push(ExistingEntry {
            principal_arn: role(name),
            entry_type,
            username: None,
            kubernetes_groups: Vec::new(),
            access_policies: Vec::new(),
            managed_by_migrator: false,
        });
    }
    facts.eks_features.capabilities.push(CapabilityFact {
        name: "gitops".to_owned(),
        capability_type: "ARGOCD".to_owned(),
        role_arn: role("argocd"),
    });
    facts.eks_features.auto_mode = Some(AutoModeFact {
        cluster_role_arn: None,
        node_role_arn: Some(role("auto-node")),
    });
    let plan = eks_auth_core::plan(&auth, Some(&facts), &MigrationPolicy::default());
    assert_eq!(
        plan.eks_managed_entries.len(),
        3,
        "{:?}",
        plan.eks_managed_entries
    );
    let json = render(&plan, Format::Json, RenderOptions::default());
    assert!(json.contains("\"kind\": \"capability\""), "{json}");
    assert_valid(&json);
}

#[test]
fn the_schema_rejects_what_the_contract_forbids() {
    let auth = AwsAuth::parse_configmap(EXAMPLE).expect("example");
    let plan = eks_auth_core::plan(&auth, None, &MigrationPolicy::default());
    let mut value = serde_json::to_value(&plan).expect("json");
    value["entries"][0]["kubernetes_groups"] = serde_json::json!(["system:masters"]);
    assert!(!validator().is_valid(&value));
    let mut value = serde_json::to_value(&plan).expect("json");
    value["entries"][0]["action"] = serde_json::json!("update");
    assert!(!validator().is_valid(&value));
}

#[test]
fn the_schema_lists_exactly_the_finding_codes() {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let listed: Vec<&str> = schema["$defs"]["finding"]["properties"]["code"]["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    let known: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, known);
}

#[test]
fn plans_with_an_rbac_section_conform() {
    use eks_auth_core::rbac::{Rbac, bootstrap};
    use eks_auth_core::suggest::{RbacInput, plan_with_rbac};
    let auth = AwsAuth::parse_configmap(EXAMPLE).expect("example");
    let mut rbac = Rbac::parse(
        "kind: List\nitems:\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: ro}, roleRef: {kind: ClusterRole, name: view}, subjects: [{kind: Group, name: read-only}]}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: pay, namespace: payments}, roleRef: {kind: ClusterRole, name: edit}, subjects: [{kind: Group, name: payments-editors}, {kind: User, name: alice}]}\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n",
    )
    .expect("dump");
    rbac.add_missing_cluster_roles(bootstrap::cluster_role_list());
    let policy = MigrationPolicy::parse(POLICY).expect("policy");
    let plan = plan_with_rbac(
        &auth,
        None,
        &policy,
        &RbacInput {
            rbac: &rbac,
            listed_policies: None,
        },
    );
    let report = plan.rbac.as_ref().expect("rbac");
    assert!(report.subjects.iter().any(|s| s.mapping.is_some()));
    assert!(report.subjects.iter().any(|s| !s.candidates.is_empty()));
    assert_valid(&render(&plan, Format::Json, RenderOptions::default()));
}

#[test]
fn live_plans_with_their_reach_conform() {
    use eks_auth_core::reach::{ClusterPlace, ClusterReach, EndpointAccess, NetworkConfig};
    let auth = AwsAuth::parse_configmap(EXAMPLE).expect("example");
    let mut facts: ClusterFacts = serde_json::from_str(FACTS).expect("facts");
    let place = ClusterPlace {
        account: "111122223333",
        region: "eu-west-1",
        name: "prod-eu",
    };
    let access = |public, cidrs: &[&str]| EndpointAccess {
        public_access: public,
        private_access: true,
        public_access_cidrs: cidrs.iter().map(|c| (*c).to_owned()).collect(),
        vpc_id: Some("vpc-0123456789abcdef0".to_owned()),
        subnet_ids: vec!["subnet-1".to_owned()],
        cluster_security_group_id: Some("sg-1".to_owned()),
    };
    let egress = vec!["198.51.100.7/32".to_owned()];
    for (access, network) in [
        (access(true, &["0.0.0.0/0"]), NetworkConfig::default()),
        (access(true, &["203.0.113.0/24"]), NetworkConfig::default()),
        (
            access(true, &["198.51.100.0/24"]),
            NetworkConfig {
                egress_cidrs: egress.clone(),
                ..NetworkConfig::default()
            },
        ),
        (
            access(false, &[]),
            NetworkConfig {
                discover_agents: true,
                ..NetworkConfig::default()
            },
        ),
        (
            access(false, &[]),
            NetworkConfig {
                discover_agents: false,
                ..NetworkConfig::default()
            },
        ),
    ] {
        let reachability = eks_auth_core::reach::classify(&access, &network.egress_cidrs);
        let route = eks_auth_core::reach::route(&reachability, place, &network);
        facts.reach = Some(ClusterReach {
            reachability,
            route,
        });
        let plan = eks_auth_core::plan(&auth, Some(&facts), &MigrationPolicy::default());
        assert_valid(&render(&plan, Format::Json, RenderOptions::default()));
        let table = render(&plan, Format::Table, RenderOptions::default());
        assert!(table.contains("Kubernetes API: "), "{table}");
    }
}
