//! The owner formats checked by their owners' own readers: the Terraform outputs through an HCL2
//! parser (hcl-rs) with every import address checked against the resources and `for_each` keys
//! the terraform-aws-eks module defines (tests/data/owner-formats keeps its source), the
//! module's `access_entries` against the variable's declared object type, the eksctl fragment
//! against eksctl's published ClusterConfig schema, CloudFormation (template and
//! resources-to-import file) through cfn-lint; a round trip (each rendering, re-read, declares
//! exactly the handoff's entries and imports exactly what exists); and snapshots of each format
//! on the example plan.

use eks_auth_core::access_entry::{AccessPolicy, AccessScope, EntryType, ScopeType};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::facts::{AuthenticationMode, ClusterFacts, ExistingEntry};
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::render::handoff::Handoff;
use eks_auth_core::render::owner_format::{EksModule, ModuleAddress, ModuleVersion, OwnerFormat};
use eks_auth_core::render::{OwnerRendering, render_owner};
use hcl::{Block, Body, Expression, ObjectKey, Traversal, TraversalOperator};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const AWS_AUTH: &str = include_str!("../../../examples/aws-auth.yaml");
const FACTS: &str = include_str!("../../../examples/facts.json");
const POLICY: &str = include_str!("../../../examples/policy.yaml");
const EKSCTL_SCHEMA: &str = include_str!("data/owner-formats/eksctl-clusterconfig-schema.json");
/// The module's access-entry section and variables at each supported major version.
const MODULE_VERSIONS: [(ModuleVersion, &str, &str); 2] = [
    (
        ModuleVersion::V20,
        include_str!("data/owner-formats/terraform-aws-eks-v20.37.2-access-entry.tf"),
        include_str!("data/owner-formats/terraform-aws-eks-v20.37.2-variables.tf"),
    ),
    (
        ModuleVersion::V21,
        include_str!("data/owner-formats/terraform-aws-eks-v21.19.0-access-entry.tf"),
        include_str!("data/owner-formats/terraform-aws-eks-v21.19.0-variables.tf"),
    ),
];
const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const PLATFORM_ADMIN: &str = "arn:aws:iam::111122223333:role/platform-admin";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

// ---------------------------------------------------------------------------------------------
// The handoffs every test renders.

fn example_facts() -> ClusterFacts {
    serde_json::from_str(FACTS).expect("example facts")
}

fn handoff_of(facts: Option<&ClusterFacts>) -> Handoff {
    let auth = AwsAuth::parse_configmap(AWS_AUTH).expect("example parses");
    let policy = MigrationPolicy::parse(POLICY).expect("example policy");
    let plan = eks_auth_core::plan(&auth, facts, &policy);
    Handoff::from_plan(&plan, facts)
}

fn made_by_migrator(arn: &str, username: &str, groups: &[&str], policies: bool) -> ExistingEntry {
    ExistingEntry {
        principal_arn: arn.to_owned(),
        entry_type: EntryType::Standard,
        username: Some(username.to_owned()),
        kubernetes_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        access_policies: if policies {
            vec![AccessPolicy {
                policy_arn: ADMIN.to_owned(),
                access_scope: AccessScope::cluster(),
            }]
        } else {
            Vec::new()
        },
        managed_by_migrator: true,
    }
}

/// The example cluster half migrated: API_AND_CONFIG_MAP, platform-admin's entry complete,
/// alice's entry made but without its association (ENTRY_INCOMPLETE).
fn half_migrated_facts() -> ClusterFacts {
    let mut facts = example_facts();
    facts.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    facts.existing_entries = vec![
        made_by_migrator(PLATFORM_ADMIN, "platform-admin", &["platform-oncall"], true),
        made_by_migrator(ALICE, "alice", &[], false),
    ];
    facts
}

/// The handoffs the tests render: offline (no facts), planned with the example facts (nothing
/// exists), and half migrated (entries to import, one association missing).
fn handoffs() -> Vec<(&'static str, Handoff)> {
    vec![
        ("offline", handoff_of(None)),
        ("fresh", handoff_of(Some(&example_facts()))),
        ("half-migrated", handoff_of(Some(&half_migrated_facts()))),
    ]
}

fn module(version: ModuleVersion, address: &str) -> OwnerFormat {
    OwnerFormat::TerraformAwsEks(EksModule {
        version,
        address: address.parse::<ModuleAddress>().expect("module address"),
    })
}

fn render(handoff: &Handoff, format: &OwnerFormat) -> OwnerRendering {
    render_owner(handoff, format)
}

// ---------------------------------------------------------------------------------------------
// The access a rendering declares, re-read from its text, in one comparable shape.

/// A policy association: (policy ARN, scope type, namespaces).
type Policy = (String, String, Vec<String>);

/// One access entry as a rendering declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Declared {
    principal: String,
    entry_type: String,
    username: Option<String>,
    groups: Vec<String>,
    policies: BTreeSet<Policy>,
}

/// An access scope's type as every format writes it.
fn scope_name(scope: ScopeType) -> String {
    match scope {
        ScopeType::Cluster => "cluster",
        ScopeType::Namespace => "namespace",
    }
    .to_owned()
}

/// What the handoff says each rendering must declare, and which principals exist (imported).
fn expected(handoff: &Handoff) -> (BTreeSet<Declared>, BTreeSet<String>) {
    let declared = handoff
        .entries
        .iter()
        .map(|e| Declared {
            principal: e
                .existing
                .as_ref()
                .map_or_else(|| e.principal_arn.clone(), |x| x.principal_arn.clone()),
            entry_type: e.entry_type.as_str().to_owned(),
            username: e.username.clone(),
            groups: e.kubernetes_groups.clone(),
            policies: e
                .policies
                .iter()
                .map(|p| {
                    (
                        p.policy.policy_arn.clone(),
                        scope_name(p.policy.access_scope.scope_type),
                        p.policy.access_scope.namespaces.clone(),
                    )
                })
                .collect(),
        })
        .collect();
    let existing = handoff
        .entries
        .iter()
        .filter_map(|e| e.existing.as_ref().map(|x| x.principal_arn.clone()))
        .collect();
    (declared, existing)
}

/// The (principal, policy ARN) pairs of the associations that exist (imported).
fn existing_associations(handoff: &Handoff) -> BTreeSet<(String, String)> {
    handoff
        .entries
        .iter()
        .filter_map(|e| e.existing.as_ref().map(|x| (e, x)))
        .flat_map(|(e, x)| {
            e.policies
                .iter()
                .filter(|p| p.exists)
                .map(|p| (x.principal_arn.clone(), p.policy.policy_arn.clone()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// HCL reading.

fn parse_hcl(text: &str) -> Body {
    hcl::parse(text).unwrap_or_else(|e| panic!("invalid HCL: {e}\n{text}"))
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

/// A string literal's value.
fn string(expr: &Expression) -> String {
    match expr {
        Expression::String(s) => s.clone(),
        other => panic!("not a string literal: {other:?}"),
    }
}

fn strings(expr: &Expression) -> Vec<String> {
    match expr {
        Expression::Array(items) => items.iter().map(string).collect(),
        other => panic!("not a list: {other:?}"),
    }
}

/// An object's entries by key (identifiers and string keys alike).
fn object(expr: &Expression) -> BTreeMap<String, &Expression> {
    match expr {
        Expression::Object(object) => object
            .iter()
            .map(|(k, v)| {
                let key = match k {
                    ObjectKey::Identifier(i) => i.to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.clone(),
                    other => panic!("unexpected object key {other:?}"),
                };
                (key, v)
            })
            .collect(),
        other => panic!("not an object: {other:?}"),
    }
}

/// A traversal's segments: `module.eks.aws_eks_access_entry.this["k"]` →
/// `[module, eks, aws_eks_access_entry, this, k]`.
fn segments(expr: &Expression) -> Vec<String> {
    let Expression::Traversal(traversal) = expr else {
        panic!("not a reference: {expr:?}");
    };
    let Traversal { expr, operators } = traversal.as_ref();
    let Expression::Variable(root) = expr else {
        panic!("not a reference: {expr:?}");
    };
    let mut out = vec![root.to_string()];
    for operator in operators {
        out.push(match operator {
            TraversalOperator::GetAttr(name) => name.to_string(),
            TraversalOperator::Index(Expression::String(key)) => key.clone(),
            other => panic!("unexpected traversal step {other:?}"),
        });
    }
    out
}

fn blocks<'a>(body: &'a Body, kind: &'a str) -> impl Iterator<Item = &'a Block> {
    body.blocks().filter(move |b| b.identifier() == kind)
}

fn resources<'a>(body: &'a Body, resource_type: &'a str) -> BTreeMap<String, &'a Block> {
    blocks(body, "resource")
        .filter(|b| b.labels()[0].as_str() == resource_type)
        .map(|b| (b.labels()[1].as_str().to_owned(), b))
        .collect()
}

/// Every `import` block's (`to` segments, `id`).
fn imports(body: &Body) -> Vec<(Vec<String>, String)> {
    blocks(body, "import")
        .map(|b| {
            let to = segments(attr(b.body(), "to").expect("import.to"));
            let id = string(attr(b.body(), "id").expect("import.id"));
            (to, id)
        })
        .collect()
}

/// The policies of an HCL `access_scope` (a block or an object) and its policy ARN.
fn scoped(policy_arn: String, scope_type: String, namespaces: Option<Vec<String>>) -> Policy {
    (policy_arn, scope_type, namespaces.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// --format terraform

/// The plain Terraform module's declarations and imports, re-read.
fn read_terraform(
    text: &str,
) -> (
    BTreeSet<Declared>,
    BTreeSet<String>,
    BTreeSet<(String, String)>,
) {
    let body = parse_hcl(text);
    let entries = resources(&body, "aws_eks_access_entry");
    let associations = resources(&body, "aws_eks_access_policy_association");
    let mut declared: BTreeMap<String, Declared> = entries
        .iter()
        .map(|(label, block)| {
            let b = block.body();
            let principal = match attr(b, "principal_arn").expect("principal_arn") {
                Expression::String(s) => s.clone(),
                other => {
                    panic!("{label}: a resolved plan names its principal literally: {other:?}")
                }
            };
            assert_eq!(
                segments(attr(b, "cluster_name").expect("cluster_name")),
                ["var", "cluster_name"]
            );
            let declared = Declared {
                principal,
                entry_type: string(attr(b, "type").expect("type")),
                username: attr(b, "user_name").map(string),
                groups: attr(b, "kubernetes_groups")
                    .map(strings)
                    .unwrap_or_default(),
                policies: BTreeSet::new(),
            };
            (label.clone(), declared)
        })
        .collect();
    for (label, block) in &associations {
        let b = block.body();
        let target = segments(attr(b, "principal_arn").expect("principal_arn"));
        assert_eq!(target[0], "aws_eks_access_entry", "{label}");
        assert_eq!(target[2], "principal_arn", "{label}");
        let scope = b
            .blocks()
            .find(|s| s.identifier() == "access_scope")
            .expect("access_scope");
        let policy = scoped(
            string(attr(b, "policy_arn").expect("policy_arn")),
            string(attr(scope.body(), "type").expect("scope type")),
            attr(scope.body(), "namespaces").map(strings),
        );
        declared
            .get_mut(&target[1])
            .unwrap_or_else(|| panic!("{label} names an entry that is not declared"))
            .policies
            .insert(policy);
    }
    let cluster = blocks(&body, "variable")
        .find(|v| v.labels()[0].as_str() == "cluster_name")
        .and_then(|v| attr(v.body(), "default"))
        .map(string)
        .expect("the cluster's name is known");
    let mut imported_entries = BTreeSet::new();
    let mut imported_associations = BTreeSet::new();
    for (to, id) in imports(&body) {
        assert_eq!(to.len(), 2, "{to:?}: a root-module resource");
        match to[0].as_str() {
            "aws_eks_access_entry" => {
                let entry = &declared[&to[1]];
                // The provider's identifier: CLUSTER:PRINCIPAL_ARN.
                assert_eq!(id, format!("{cluster}:{}", entry.principal), "{to:?}");
                imported_entries.insert(entry.principal.clone());
            }
            "aws_eks_access_policy_association" => {
                let block = associations[&to[1]].body();
                let entry =
                    &declared[&segments(attr(block, "principal_arn").expect("principal"))[1]];
                let policy_arn = string(attr(block, "policy_arn").expect("policy_arn"));
                // The provider's identifier: CLUSTER#PRINCIPAL_ARN#POLICY_ARN.
                assert_eq!(
                    id,
                    format!("{cluster}#{}#{policy_arn}", entry.principal),
                    "{to:?}"
                );
                imported_associations.insert((entry.principal.clone(), policy_arn));
            }
            other => panic!("import of an unexpected resource type {other}"),
        }
    }
    (
        declared.into_values().collect(),
        imported_entries,
        imported_associations,
    )
}

#[test]
fn terraform_round_trips_and_imports_what_exists() {
    for (name, handoff) in handoffs().into_iter().skip(1) {
        let text = render(&handoff, &OwnerFormat::Terraform).text;
        let (declared, imported, associations) = read_terraform(&text);
        let (want, existing) = expected(&handoff);
        assert_eq!(declared, want, "{name}");
        assert_eq!(imported, existing, "{name}");
        assert_eq!(associations, existing_associations(&handoff), "{name}");
    }
    let half = handoff_of(Some(&half_migrated_facts()));
    let (_, imported, associations) = read_terraform(&render(&half, &OwnerFormat::Terraform).text);
    assert_eq!(
        imported,
        BTreeSet::from([PLATFORM_ADMIN.to_owned(), ALICE.to_owned()])
    );
    // alice's association does not exist yet: created, not imported.
    assert_eq!(
        associations,
        BTreeSet::from([(PLATFORM_ADMIN.to_owned(), ADMIN.to_owned())])
    );
}

#[test]
fn terraform_says_the_cluster_mode_change_as_a_comment() {
    let half = handoff_of(Some(&half_migrated_facts()));
    let text = render(&half, &OwnerFormat::Terraform).text;
    assert!(
        text.contains(
            "#     access_config {\n#       authentication_mode = \"API_AND_CONFIG_MAP\""
        )
    );
    let body = parse_hcl(&text);
    assert!(
        resources(&body, "aws_eks_cluster").is_empty(),
        "the cluster's resource is the owner's: only a comment"
    );
}

// ---------------------------------------------------------------------------------------------
// --format terraform-aws-eks

/// The attribute names of an HCL `object({…})` type expression, with whether each is
/// `optional(…)`, and the nested object types.
fn object_type(expr: &Expression) -> BTreeMap<String, (bool, Expression)> {
    let Expression::FuncCall(call) = expr else {
        panic!("not a type constructor: {expr:?}");
    };
    assert_eq!(call.name.to_string(), "object");
    object(&call.args[0])
        .into_iter()
        .map(|(key, value)| match value {
            Expression::FuncCall(f) if f.name.to_string() == "optional" => {
                (key, (true, f.args[0].clone()))
            }
            other => (key, (false, other.clone())),
        })
        .collect()
}

/// The type constructor's single argument (`map(X)` → X).
fn type_argument(expr: &Expression, constructor: &str) -> Expression {
    match expr {
        Expression::FuncCall(f) if f.name.to_string() == constructor => f.args[0].clone(),
        other => panic!("not {constructor}(…): {other:?}"),
    }
}

/// Checks `value` (an object expression) against an `object({…})` type: only declared
/// attributes, every required one present; recurses into nested object and map-of-object types.
fn check_against_type(value: &Expression, ty: &Expression, at: &str) {
    let declared = object_type(ty);
    let given = object(value);
    for key in given.keys() {
        assert!(
            declared.contains_key(key),
            "{at}.{key} is not in the module's type"
        );
    }
    for (key, (optional, inner)) in &declared {
        let Some(value) = given.get(key) else {
            assert!(optional, "{at}.{key} is required by the module's type");
            continue;
        };
        match inner {
            Expression::FuncCall(f) if f.name.to_string() == "object" => {
                check_against_type(value, inner, &format!("{at}.{key}"));
            }
            Expression::FuncCall(f) if f.name.to_string() == "map" => {
                let element = type_argument(inner, "map");
                if matches!(&element, Expression::FuncCall(e) if e.name.to_string() == "object") {
                    for (k, v) in object(value) {
                        check_against_type(v, &element, &format!("{at}.{key}.{k}"));
                    }
                }
            }
            _ => {}
        }
    }
}

/// The module's resource names and `for_each` key expressions, read from its source.
struct ModuleResources {
    entry_for_each: String,
    association_for_each: String,
}

fn module_resources(source: &str) -> ModuleResources {
    let body = parse_hcl(source);
    let for_each = |resource_type: &str| {
        let found = resources(&body, resource_type);
        let block = found
            .get("this")
            .unwrap_or_else(|| panic!("the module declares {resource_type}.this"));
        attr(block.body(), "for_each")
            .expect("for_each")
            .to_string()
    };
    ModuleResources {
        entry_for_each: for_each("aws_eks_access_entry"),
        association_for_each: for_each("aws_eks_access_policy_association"),
    }
}

/// The module's `access_entries` type (v21 declares it; v20's is `any`).
fn access_entries_type(variables: &str) -> Option<Expression> {
    let body = parse_hcl(variables);
    let variable = blocks(&body, "variable")
        .find(|v| v.labels()[0].as_str() == "access_entries")
        .expect("variable access_entries");
    match attr(variable.body(), "type").expect("type") {
        Expression::Variable(v) if v.as_str() == "any" => None,
        ty => Some(type_argument(ty, "map")),
    }
}

/// The module inputs' declarations and the imports, re-read and checked against the module.
fn read_module(
    text: &str,
    version: ModuleVersion,
    address: &[&str],
    source: &str,
    variables: &str,
) -> (
    BTreeSet<Declared>,
    BTreeSet<String>,
    BTreeSet<(String, String)>,
) {
    let resources = module_resources(source);
    // The addresses below rest on these keys: the entry's map key, and ENTRY_POLICY.
    assert!(
        resources
            .entry_for_each
            .contains("local.merged_access_entries : k => v"),
        "{version:?}: {}",
        resources.entry_for_each
    );
    assert!(
        resources
            .association_for_each
            .contains("\"${v.entry_key}_${v.pol_key}\" => v"),
        "{version:?}: {}",
        resources.association_for_each
    );
    let body = parse_hcl(text);
    let locals = blocks(&body, "locals").next().expect("locals").body();
    let mode = string(attr(locals, "eks_auth_migrator_authentication_mode").expect("mode"));
    assert!(["API_AND_CONFIG_MAP", "API"].contains(&mode.as_str()));
    let entries = object(attr(locals, "eks_auth_migrator_access_entries").expect("entries"));
    let ty = access_entries_type(variables);
    assert_eq!(ty.is_some(), version == ModuleVersion::V21);
    let mut declared = BTreeMap::new();
    for (key, value) in &entries {
        assert_ne!(key, "cluster_creator", "the module's own key");
        if let Some(ty) = &ty {
            check_against_type(value, ty, &format!("access_entries.{key}"));
        }
        let fields = object(value);
        let policies = object(fields["policy_associations"])
            .into_iter()
            .map(|(pol_key, policy)| {
                let policy = object(policy);
                let scope = object(policy["access_scope"]);
                (
                    pol_key,
                    scoped(
                        string(policy["policy_arn"]),
                        string(scope["type"]),
                        scope.get("namespaces").map(|n| strings(n)),
                    ),
                )
            })
            .collect::<BTreeMap<_, _>>();
        let principal = match fields["principal_arn"] {
            Expression::String(s) => s.clone(),
            other => panic!("{key}: a resolved plan names its principal literally: {other:?}"),
        };
        declared.insert(
            key.clone(),
            (
                Declared {
                    principal,
                    entry_type: string(fields["type"]),
                    username: fields.get("user_name").map(|u| string(u)),
                    groups: fields
                        .get("kubernetes_groups")
                        .map(|g| strings(g))
                        .unwrap_or_default(),
                    policies: policies.values().cloned().collect(),
                },
                policies,
            ),
        );
    }
    let mut imported_entries = BTreeSet::new();
    let mut imported_associations = BTreeSet::new();
    let cluster = "prod-eu";
    for (to, id) in imports(&body) {
        let (prefix, resource) = to.split_at(address.len());
        assert_eq!(prefix, address, "{to:?}");
        assert_eq!(resource.len(), 3, "{to:?}");
        assert_eq!(
            resource[1], "this",
            "{to:?}: the module names its resources `this`"
        );
        match resource[0].as_str() {
            "aws_eks_access_entry" => {
                let (entry, _) = declared
                    .get(&resource[2])
                    .unwrap_or_else(|| panic!("{to:?}: no such key in access_entries"));
                assert_eq!(id, format!("{cluster}:{}", entry.principal));
                imported_entries.insert(entry.principal.clone());
            }
            "aws_eks_access_policy_association" => {
                // The key is ENTRY_POLICY for exactly one (entry, policy) of the map.
                let matches: Vec<(&Declared, &Policy)> = declared
                    .iter()
                    .flat_map(|(key, (entry, policies))| {
                        policies
                            .iter()
                            .filter(move |(pol_key, _)| format!("{key}_{pol_key}") == resource[2])
                            .map(move |(_, p)| (entry, p))
                    })
                    .collect();
                assert_eq!(matches.len(), 1, "{to:?}");
                let (entry, policy) = matches[0];
                assert_eq!(id, format!("{cluster}#{}#{}", entry.principal, policy.0));
                imported_associations.insert((entry.principal.clone(), policy.0.clone()));
            }
            other => panic!("import of an unexpected resource type {other}"),
        }
    }
    // Association keys are unique across the whole module (its for_each map).
    let mut keys = BTreeSet::new();
    for (key, (_, policies)) in &declared {
        for pol_key in policies.keys() {
            assert!(
                keys.insert(format!("{key}_{pol_key}")),
                "{key}_{pol_key} twice"
            );
        }
    }
    (
        declared.into_values().map(|(d, _)| d).collect(),
        imported_entries,
        imported_associations,
    )
}

#[test]
fn terraform_aws_eks_fits_each_module_version_and_round_trips() {
    for (version, source, variables) in MODULE_VERSIONS {
        for (address, segments) in [
            ("module.eks", vec!["module", "eks"]),
            (
                "module.platform.module.eks_main",
                vec!["module", "platform", "module", "eks_main"],
            ),
        ] {
            for (name, handoff) in handoffs().into_iter().skip(1) {
                let text = render(&handoff, &module(version, address)).text;
                let (declared, imported, associations) =
                    read_module(&text, version, &segments, source, variables);
                let (want, existing) = expected(&handoff);
                assert_eq!(declared, want, "{version:?} {name}");
                assert_eq!(imported, existing, "{version:?} {name}");
                assert_eq!(
                    associations,
                    existing_associations(&handoff),
                    "{version:?} {name}"
                );
                assert!(
                    text.contains(&format!(
                        "    {} = \"prod-eu\"",
                        version.cluster_name_input()
                    )),
                    "{version:?}: the module block's cluster input"
                );
            }
        }
    }
}

#[test]
fn terraform_aws_eks_offline_looks_up_pathless_roles() {
    let handoff = handoff_of(None);
    let text = render(&handoff, &module(ModuleVersion::V21, "eks")).text;
    let body = parse_hcl(&text);
    let roles: Vec<&Block> = blocks(&body, "data")
        .filter(|b| b.labels()[0].as_str() == "aws_iam_role")
        .collect();
    assert!(!roles.is_empty());
    let locals = blocks(&body, "locals").next().expect("locals").body();
    let entries = object(attr(locals, "eks_auth_migrator_access_entries").expect("entries"));
    for role in roles {
        let label = role.labels()[1].as_str();
        let used = entries.values().any(|e| {
            matches!(object(e)["principal_arn"], Expression::Traversal(_))
                && segments(object(e)["principal_arn"]) == ["data", "aws_iam_role", label, "arn"]
        });
        assert!(used, "data source {label} is used by an entry");
    }
    assert!(imports(&body).is_empty(), "offline: nothing exists");
}

// ---------------------------------------------------------------------------------------------
// --format eksctl

fn eksctl_document(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{text}"))
}

/// eksctl's schema as published, with `|` in definition names (and the `$ref`s naming them)
/// spelt `.`: eksctl's generator names the definitions of Go packages like
/// `github.com|aws|aws-sdk-go-v2|aws|arn.ARN`, and a `$ref` with `|` is not a URI reference,
/// so draft-07's meta-schema (which the validator checks first) refuses the schema as it is.
fn eksctl_schema() -> Value {
    fn renamed(value: Value) -> Value {
        match value {
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(key, value)| match (key.as_str(), value) {
                        ("$ref", Value::String(target)) => {
                            (key, Value::String(target.replace('|', ".")))
                        }
                        (_, value) => (key.replace('|', "."), renamed(value)),
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(renamed).collect()),
            other => other,
        }
    }
    renamed(serde_json::from_str(EKSCTL_SCHEMA).expect("schema is JSON"))
}

fn eksctl_violations(document: &Value) -> Vec<String> {
    let schema = eksctl_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn eksctl_fragments_conform_to_eksctls_schema() {
    for (name, handoff) in handoffs() {
        let document = eksctl_document(&render(&handoff, &OwnerFormat::Eksctl).text);
        let violations = eksctl_violations(&document);
        assert!(violations.is_empty(), "{name}: {violations:#?}");
    }
}

#[test]
fn the_eksctl_schema_rejects_what_eksctl_rejects() {
    // The validation can fail: a misspelt field and a missing metadata.region are refused.
    let handoff = handoff_of(Some(&example_facts()));
    let text = render(&handoff, &OwnerFormat::Eksctl).text;
    let misspelt = text.replacen("kubernetesUsername", "kubernetesUserName", 1);
    assert!(!eksctl_violations(&eksctl_document(&misspelt)).is_empty());
    let mut document = eksctl_document(&text);
    document["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("region");
    assert!(!eksctl_violations(&document).is_empty());
}

fn read_eksctl(text: &str) -> BTreeSet<Declared> {
    let document = eksctl_document(text);
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().expect("string").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    document["accessConfig"]["accessEntries"]
        .as_array()
        .expect("accessEntries")
        .iter()
        .map(|e| Declared {
            principal: e["principalARN"].as_str().expect("principalARN").to_owned(),
            entry_type: e["type"].as_str().expect("type").to_owned(),
            username: e["kubernetesUsername"].as_str().map(str::to_owned),
            groups: strings(&e["kubernetesGroups"]),
            policies: e["accessPolicies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    scoped(
                        p["policyARN"].as_str().expect("policyARN").to_owned(),
                        p["accessScope"]["type"].as_str().expect("type").to_owned(),
                        Some(strings(&p["accessScope"]["namespaces"])),
                    )
                })
                .collect(),
        })
        .collect()
}

#[test]
fn eksctl_round_trips() {
    for (name, handoff) in handoffs().into_iter().skip(1) {
        let text = render(&handoff, &OwnerFormat::Eksctl).text;
        assert_eq!(read_eksctl(&text), expected(&handoff).0, "{name}");
        let document = eksctl_document(&text);
        assert_eq!(document["metadata"]["name"], "prod-eu");
        assert_eq!(document["metadata"]["region"], "eu-west-1");
        assert_eq!(
            document["accessConfig"]["authenticationMode"],
            "API_AND_CONFIG_MAP"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// --format cloudformation

fn read_cloudformation(template: &Value) -> BTreeSet<Declared> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().expect("string").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    template["Resources"]
        .as_object()
        .expect("Resources")
        .values()
        .filter(|r| r["Type"] == "AWS::EKS::AccessEntry")
        .map(|r| {
            let p = &r["Properties"];
            Declared {
                principal: p["PrincipalArn"]
                    .as_str()
                    .expect("a resolved plan names its principal literally")
                    .to_owned(),
                entry_type: p["Type"].as_str().expect("Type").to_owned(),
                username: p["Username"].as_str().map(str::to_owned),
                groups: strings(&p["KubernetesGroups"]),
                policies: p["AccessPolicies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        scoped(
                            a["PolicyArn"].as_str().expect("PolicyArn").to_owned(),
                            a["AccessScope"]["Type"].as_str().expect("Type").to_owned(),
                            Some(strings(&a["AccessScope"]["Namespaces"])),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn cloudformation_round_trips_and_its_import_file_names_what_exists() {
    for (name, handoff) in handoffs().into_iter().skip(1) {
        let rendering = render(&handoff, &OwnerFormat::Cloudformation);
        let template: Value = serde_json::from_str(&rendering.text).expect("template is JSON");
        let (want, existing) = expected(&handoff);
        assert_eq!(read_cloudformation(&template), want, "{name}");
        let Some(file) = rendering.resources_to_import else {
            assert!(
                existing.is_empty(),
                "{name}: entries exist but no import file"
            );
            continue;
        };
        let items: Vec<Value> = serde_json::from_str(&file).expect("import file is JSON");
        let mut imported = BTreeSet::new();
        for item in &items {
            assert_eq!(item["ResourceType"], "AWS::EKS::AccessEntry");
            let id = item["LogicalResourceId"].as_str().expect("logical id");
            let resource = &template["Resources"][id];
            assert_eq!(resource["Type"], "AWS::EKS::AccessEntry", "{id}");
            // An import needs a deletion policy on the imported resource.
            assert_eq!(resource["DeletionPolicy"], "Retain", "{id}");
            assert!(resource.get("Condition").is_none(), "{id}");
            let identifier = item["ResourceIdentifier"].as_object().expect("identifier");
            assert_eq!(
                identifier.keys().collect::<Vec<_>>(),
                ["ClusterName", "PrincipalArn"],
                "AWS::EKS::AccessEntry's primary identifier"
            );
            assert_eq!(identifier["ClusterName"], "prod-eu");
            assert_eq!(
                identifier["PrincipalArn"],
                resource["Properties"]["PrincipalArn"]
            );
            imported.insert(identifier["PrincipalArn"].as_str().expect("arn").to_owned());
        }
        assert_eq!(imported, existing, "{name}");
        // Entries still to create wait for the stack update after the import.
        for (id, resource) in template["Resources"].as_object().expect("resources") {
            if !items.iter().any(|i| i["LogicalResourceId"] == id.as_str()) {
                assert_eq!(resource["Condition"], "CreateNewEntries", "{id}");
            }
        }
    }
}

/// Lints the CloudFormation templates of every handoff (the one with imports has a parameter,
/// a condition and retained resources) with cfn-lint. Required when EAM_REQUIRE_TOOLS=1;
/// otherwise skipped when cfn-lint is not on PATH.
#[test]
fn cfn_lint_accepts_templates_with_imports() {
    use std::process::Command;
    let required = std::env::var("EAM_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let available = Command::new("cfn-lint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            !required,
            "EAM_REQUIRE_TOOLS=1 but cfn-lint is not on PATH: install it (pip install cfn-lint) and put it on PATH"
        );
        eprintln!(
            "note: cfn-lint is not on PATH; skipping (set EAM_REQUIRE_TOOLS=1 to require it)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut paths = Vec::new();
    for (name, handoff) in handoffs() {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, render(&handoff, &OwnerFormat::Cloudformation).text)
            .expect("write template");
        paths.push(path);
    }
    let output = Command::new("cfn-lint")
        .arg("--")
        .args(&paths)
        .output()
        .expect("run cfn-lint");
    assert!(
        output.status.success(),
        "cfn-lint rejected a template:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Every format

#[test]
fn left_out_rows_are_comments_in_every_format() {
    let handoff = handoff_of(Some(&half_migrated_facts()));
    assert!(!handoff.left_out.is_empty());
    for format in [
        OwnerFormat::Terraform,
        module(ModuleVersion::V21, "eks"),
        OwnerFormat::Eksctl,
    ] {
        let text = render(&handoff, &format).text;
        for row in &handoff.left_out {
            let arn = row.source.arn.as_deref().unwrap_or("");
            let mentions: Vec<&str> = text
                .lines()
                .filter(|l| !arn.is_empty() && l.contains(arn))
                .collect();
            assert!(
                mentions.iter().all(|l| l.trim_start().starts_with('#')),
                "{format:?}: {arn} appears outside a comment: {mentions:?}"
            );
            assert!(
                text.contains(&format!(": {} [", row.reason)),
                "{format:?}: the reason of {arn}"
            );
        }
    }
    let template: Value =
        serde_json::from_str(&render(&handoff, &OwnerFormat::Cloudformation).text).expect("JSON");
    assert_eq!(
        template["Metadata"]["EksAuthMigrator"]["NotCreated"]
            .as_array()
            .expect("NotCreated")
            .len(),
        handoff.left_out.len()
    );
}

#[test]
fn snapshots_of_each_format() {
    let half = handoff_of(Some(&half_migrated_facts()));
    let offline = handoff_of(None);
    for (name, handoff) in [("half_migrated", &half), ("offline", &offline)] {
        insta::assert_snapshot!(
            format!("terraform_{name}"),
            render(handoff, &OwnerFormat::Terraform).text
        );
        insta::assert_snapshot!(
            format!("terraform_aws_eks_v21_{name}"),
            render(handoff, &module(ModuleVersion::V21, "eks")).text
        );
        insta::assert_snapshot!(
            format!("eksctl_{name}"),
            render(handoff, &OwnerFormat::Eksctl).text
        );
        let cloudformation = render(handoff, &OwnerFormat::Cloudformation);
        insta::assert_snapshot!(format!("cloudformation_{name}"), cloudformation.text);
        insta::assert_snapshot!(
            format!("cloudformation_import_{name}"),
            cloudformation
                .resources_to_import
                .unwrap_or_else(|| "(none: nothing exists)\n".to_owned())
        );
    }
    insta::assert_snapshot!(
        "terraform_aws_eks_v20_half_migrated",
        render(
            &half,
            &module(ModuleVersion::V20, "module.platform.module.eks")
        )
        .text
    );
}
