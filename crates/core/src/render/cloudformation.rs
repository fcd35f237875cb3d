//! A CloudFormation template (JSON) of `AWS::EKS::AccessEntry` resources.
//!
//! CloudFormation cannot look up a role's IAM path, so a path-less role ARN becomes a template
//! parameter whose default is the path-less ARN (right for roles without a path); IAM Identity
//! Center roles always have a path and get no default, so the deployer must supply it.
//!
//! Entries that exist already are imported, not created: they carry `DeletionPolicy` and
//! `UpdateReplacePolicy` `Retain` (an import requires a deletion policy) and their principal as
//! EKS stores it, and [`super::cloudformation_import`] writes the resources-to-import file for
//! them. When the template also creates entries, those carry the condition `CreateNewEntries`:
//! an IMPORT change set may only add the imported resources, so it runs with the parameter
//! `false`, and a stack update with `true` creates the rest.

use super::common::{self, Labels, MANAGED_TAG, PrincipalRef};
use super::handoff::{Handoff, HandoffEntry};
use super::handoff_text;
use crate::access_entry::{AccessPolicy, ScopeType};
use serde_json::{Map, Value, json};

/// CloudFormation limits a template description to 1024 bytes.
const DESCRIPTION_LIMIT: usize = 1024;

/// The parameter and condition that leave the new entries out of an IMPORT change set.
pub(super) const CREATE_NEW_ENTRIES: &str = "CreateNewEntries";

pub(super) fn render(handoff: &Handoff) -> String {
    let template = template(handoff);
    let mut out = serde_json::to_string_pretty(&template)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

/// The logical ID of each declared entry, in handoff order.
pub(super) fn logical_ids(handoff: &Handoff) -> Vec<String> {
    let mut labels = Labels::default();
    handoff
        .entries
        .iter()
        .map(|e| labels.unique(common::pascal_label(&e.source, Some(&e.principal_arn)), "N"))
        .collect()
}

/// True when the template both imports and creates entries: the new ones are conditional.
fn mixed(handoff: &Handoff) -> bool {
    let existing = handoff
        .entries
        .iter()
        .filter(|e| e.existing.is_some())
        .count();
    existing > 0 && existing < handoff.entries.len()
}

fn template(handoff: &Handoff) -> Value {
    let mut parameters = Map::new();
    let mut cluster_name = json!({"Type": "String", "Description": "Name of the EKS cluster the access entries belong to."});
    if let (Some(name), Some(fields)) = (&handoff.cluster.name, cluster_name.as_object_mut()) {
        fields.insert("Default".to_owned(), json!(name));
    }
    parameters.insert("ClusterName".to_owned(), cluster_name);
    let mut resources = Map::new();
    let ids = logical_ids(handoff);
    let mut labels = Labels::default();
    for id in &ids {
        labels.unique(id.clone(), "N");
    }
    for (entry, logical_id) in handoff.entries.iter().zip(ids) {
        let principal = principal(handoff, entry, &logical_id, &mut labels, &mut parameters);
        resources.insert(logical_id, access_entry(entry, principal, mixed(handoff)));
    }
    if resources.is_empty() {
        resources.insert(
            "NothingToCreate".to_owned(),
            json!({
                "Type": "AWS::CloudFormation::WaitConditionHandle",
                "Metadata": {"Comment": "The plan has no access entries to create; a template needs at least one resource."}
            }),
        );
    }
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description(handoff),
        "Metadata": {"EksAuthMigrator": review_metadata(handoff)},
        "Parameters": parameters,
        "Resources": resources,
    });
    if let Some(fields) = template.as_object_mut() {
        if mixed(handoff) {
            parameters_for_import(fields);
        }
        if !handoff.imports_anything() {
            // An IMPORT change set may only add the imported resources: no outputs then.
            fields.insert(
                "Outputs".to_owned(),
                json!({"ClusterName": {
                    "Description": "The cluster the access entries belong to.",
                    "Value": {"Ref": "ClusterName"}
                }}),
            );
        }
    }
    template
}

/// The parameter and condition that leave the new entries out of the IMPORT change set.
fn parameters_for_import(template: &mut Map<String, Value>) {
    if let Some(Value::Object(parameters)) = template.get_mut("Parameters") {
        parameters.insert(
            CREATE_NEW_ENTRIES.to_owned(),
            json!({
                "Type": "String",
                "AllowedValues": ["true", "false"],
                "Default": "true",
                "Description": "false for the IMPORT change set (it may only add the imported entries); true afterwards, to create the new entries."
            }),
        );
    }
    template.insert(
        "Conditions".to_owned(),
        json!({CREATE_NEW_ENTRIES: {"Fn::Equals": [{"Ref": CREATE_NEW_ENTRIES}, "true"]}}),
    );
}

/// The entry's PrincipalArn: EKS's ARN for an entry that exists, the ARN when complete, else a
/// parameter for the role's full ARN.
fn principal(
    handoff: &Handoff,
    entry: &HandoffEntry,
    logical_id: &str,
    labels: &mut Labels,
    parameters: &mut Map<String, Value>,
) -> Value {
    if let Some(existing) = &entry.existing {
        return json!(existing.principal_arn);
    }
    match PrincipalRef::from_arn(&entry.principal_arn, handoff.principals_resolved) {
        PrincipalRef::Literal(arn) => json!(arn),
        PrincipalRef::PathlessRole {
            name,
            account,
            partition,
            arn,
        } => {
            let parameter = labels.unique(format!("{logical_id}PrincipalArn"), "N");
            let role = PathlessRole {
                name: &name,
                account: &account,
                partition: &partition,
                arn: &arn,
            };
            parameters.insert(parameter.clone(), principal_parameter(&role));
            json!({"Ref": parameter})
        }
    }
}

/// The template description: what it is, that it must be reviewed, and the plan's verdict.
fn description(handoff: &Handoff) -> String {
    let s = &handoff.summary;
    let mut text = format!(
        "eks-auth-migrator: EKS access entries for aws-auth rows. REVIEW BEFORE DEPLOYING. blocks_api_mode={}; {} create, {} skip, {} blocked; {} blocker(s), {} warning(s). Rows not created are listed under Metadata.EksAuthMigrator.",
        handoff.blocks_api_mode, s.create, s.skip, s.blocked, s.blockers, s.warnings
    );
    if text.len() > DESCRIPTION_LIMIT {
        let mut end = DESCRIPTION_LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The review header as template metadata (JSON has no comments).
fn review_metadata(handoff: &Handoff) -> Value {
    let rows: Vec<Value> = handoff
        .left_out
        .iter()
        .map(|row| {
            json!({
                "Source": common::source_text(&row.source),
                "Action": row.reason,
                "Findings": row.codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut metadata = json!({
        "Review": "Generated from a migration plan: review every principal, username, group and policy before deploying.",
        "BlocksApiMode": handoff.blocks_api_mode,
        "Summary": handoff.summary,
        "ClusterFindings": handoff.cluster_codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "NotCreated": rows,
        "AuthenticationMode": handoff_text::mode_lines(handoff, "AccessConfig.AuthenticationMode of the cluster's AWS::EKS::Cluster").join(" "),
    });
    if let (true, Some(fields)) = (handoff.imports_anything(), metadata.as_object_mut()) {
        fields.insert("Import".to_owned(), json!(import_steps(handoff)));
    }
    metadata
}

/// How to bring the entries that exist into the stack.
fn import_steps(handoff: &Handoff) -> Vec<String> {
    let mut steps = vec![
        "Entries that exist already (DeletionPolicy Retain) are imported, not created: aws cloudformation create-change-set --change-set-type IMPORT --stack-name STACK --change-set-name import-access-entries --template-body file://TEMPLATE --resources-to-import file://RESOURCES_TO_IMPORT (the file `plan --format cloudformation --resources-to-import FILE` writes), then execute the change set.".to_owned(),
    ];
    if mixed(handoff) {
        steps.push(format!(
            "Pass --parameters ParameterKey={CREATE_NEW_ENTRIES},ParameterValue=false to the IMPORT change set (it may only add the imported entries), then update the stack with {CREATE_NEW_ENTRIES}=true to create the others."
        ));
    }
    if handoff
        .entries
        .iter()
        .any(|e| e.existing.is_some() && e.policies.iter().any(|p| !p.exists))
    {
        steps.push("Some imported entries lack policies the template lists (ENTRY_INCOMPLETE): the migrator associates them; until then drift detection reports them.".to_owned());
    }
    steps
}

/// A role the plan knows only by its path-less ARN.
struct PathlessRole<'a> {
    name: &'a str,
    account: &'a str,
    partition: &'a str,
    arn: &'a str,
}

/// A parameter for the full ARN of a role the plan knows only without its path.
fn principal_parameter(role: &PathlessRole<'_>) -> Value {
    let PathlessRole {
        name,
        account,
        partition,
        arn,
    } = *role;
    let mut parameter = json!({
        "Type": "String",
        "Description": format!(
            "Full ARN, including its IAM path, of role {name} in account {account} (aws-auth writes it without the path, and EKS needs the real ARN). Find it with: aws iam get-role --role-name {name} --query Role.Arn --output text"
        ),
        "AllowedPattern": format!(
            "^arn:{}:iam::{account}:role/(.+/)?{}$",
            regex_escape(partition),
            regex_escape(name)
        ),
        "ConstraintDescription": format!("must be the ARN of role {name} in account {account}, with its IAM path"),
    });
    if !common::is_sso_role(name)
        && let Some(fields) = parameter.as_object_mut()
    {
        fields.insert("Default".to_owned(), json!(arn));
    }
    parameter
}

/// Escapes regular-expression metacharacters.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.|?*+()[]{}-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One `AWS::EKS::AccessEntry`; an entry that exists is retained (import needs a deletion
/// policy), a new one in a template that also imports is conditional.
fn access_entry(entry: &HandoffEntry, principal: Value, mixed: bool) -> Value {
    let mut properties = Map::new();
    properties.insert("ClusterName".to_owned(), json!({"Ref": "ClusterName"}));
    properties.insert("PrincipalArn".to_owned(), principal);
    properties.insert("Type".to_owned(), json!(entry.entry_type.as_str()));
    if let Some(username) = &entry.username {
        properties.insert("Username".to_owned(), json!(username));
    }
    if !entry.kubernetes_groups.is_empty() {
        properties.insert(
            "KubernetesGroups".to_owned(),
            json!(entry.kubernetes_groups),
        );
    }
    if !entry.policies.is_empty() {
        let policies: Vec<Value> = entry
            .policies
            .iter()
            .map(|p| access_policy(&p.policy))
            .collect();
        properties.insert("AccessPolicies".to_owned(), Value::Array(policies));
    }
    if handoff_text::tagged(entry) {
        let (key, value) = MANAGED_TAG;
        properties.insert("Tags".to_owned(), json!([{"Key": key, "Value": value}]));
    }
    let mut resource = json!({
        "Type": "AWS::EKS::AccessEntry",
        "Metadata": {"EksAuthMigrator": {
            "Source": common::source_text(&entry.source),
            "Findings": entry.codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        }},
        "Properties": properties,
    });
    if let Some(fields) = resource.as_object_mut() {
        if entry.existing.is_some() {
            fields.insert("DeletionPolicy".to_owned(), json!("Retain"));
            fields.insert("UpdateReplacePolicy".to_owned(), json!("Retain"));
        } else if mixed {
            fields.insert("Condition".to_owned(), json!(CREATE_NEW_ENTRIES));
        }
    }
    resource
}

fn access_policy(policy: &AccessPolicy) -> Value {
    let scope = match policy.access_scope.scope_type {
        ScopeType::Cluster => json!({"Type": "cluster"}),
        ScopeType::Namespace => {
            json!({"Type": "namespace", "Namespaces": policy.access_scope.namespaces})
        }
    };
    json!({"PolicyArn": policy.policy_arn, "AccessScope": scope})
}

#[cfg(test)]
mod tests {
    use super::super::common::fixtures::{cross_account_plan, plan_of, sample_plan};
    use super::super::handoff::Handoff;
    use super::regex_escape;
    use serde_json::{Value, json};
    use std::process::Command;

    /// The template for an offline plan (no facts: nothing exists yet).
    fn render(plan: &crate::plan::Plan) -> String {
        super::render(&Handoff::from_plan(plan, None))
    }

    fn template(plan: &crate::plan::Plan) -> Value {
        let text = render(plan);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid JSON: {e}\n{text}"))
    }

    fn names(object: &Value) -> Vec<String> {
        object
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn renders_access_entries() {
        let t = template(&sample_plan());
        assert_eq!(t["AWSTemplateFormatVersion"], "2010-09-09");
        let description = t["Description"].as_str().expect("description");
        assert!(description.contains("REVIEW BEFORE DEPLOYING"));
        assert!(description.contains("blocks_api_mode=true; 4 create, 1 skip, 1 blocked"));
        assert_eq!(t["Parameters"]["ClusterName"]["Type"], "String");
        assert_eq!(
            names(&t["Resources"]),
            [
                "MapRoles0Nodes",
                "MapRoles1Admin",
                "MapRoles2AWSReservedSSODev0123abcd",
                "MapUsers0Bob"
            ]
        );
        let admin = &t["Resources"]["MapRoles1Admin"];
        assert_eq!(admin["Type"], "AWS::EKS::AccessEntry");
        assert_eq!(
            admin["Properties"],
            json!({
                "ClusterName": {"Ref": "ClusterName"},
                "PrincipalArn": {"Ref": "MapRoles1AdminPrincipalArn"},
                "Type": "STANDARD",
                "Username": "admin:{{SessionName}}",
                "KubernetesGroups": ["platform"],
                "AccessPolicies": [{
                    "PolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    "AccessScope": {"Type": "cluster"}
                }],
                "Tags": [{"Key": "managed-by", "Value": "eks-auth-migrator"}]
            })
        );
        assert_eq!(
            admin["Metadata"]["EksAuthMigrator"],
            json!({
                "Source": "mapRoles[1] line 4 (arn:aws:iam::111122223333:role/admin)",
                "Findings": ["MASTERS_TO_CLUSTER_ADMIN"]
            })
        );
        let nodes = &t["Resources"]["MapRoles0Nodes"]["Properties"];
        assert_eq!(nodes["Type"], "EC2_LINUX");
        assert!(nodes.get("Username").is_none());
        assert!(nodes.get("KubernetesGroups").is_none());
        assert!(nodes.get("AccessPolicies").is_none());

        let bob = &t["Resources"]["MapUsers0Bob"]["Properties"];
        assert_eq!(
            bob["PrincipalArn"],
            "arn:aws:iam::111122223333:user/dev/bob"
        );
        assert_eq!(
            bob["AccessPolicies"],
            json!([{
                "PolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                "AccessScope": {"Type": "namespace", "Namespaces": ["team-a", "team-b-*"]}
            }])
        );
    }

    #[test]
    fn pathless_roles_become_parameters() {
        let t = template(&cross_account_plan());
        assert_eq!(
            names(&t["Parameters"]),
            [
                "ClusterName",
                "MapRoles0NodesPrincipalArn",
                "MapRoles1AdminPrincipalArn",
                "MapRoles2AWSReservedSSODev0123abcdPrincipalArn",
                "MapRoles5CiPrincipalArn"
            ]
        );
        let admin = &t["Parameters"]["MapRoles1AdminPrincipalArn"];
        assert_eq!(admin["Type"], "String");
        assert_eq!(admin["Default"], "arn:aws:iam::111122223333:role/admin");
        assert_eq!(
            admin["AllowedPattern"],
            "^arn:aws:iam::111122223333:role/(.+/)?admin$"
        );
        assert!(
            admin["Description"]
                .as_str()
                .expect("description")
                .contains("including its IAM path")
        );
        let ci = &t["Parameters"]["MapRoles5CiPrincipalArn"];
        assert_eq!(ci["Default"], "arn:aws:iam::444455556666:role/ci");
        let sso = &t["Parameters"]["MapRoles2AWSReservedSSODev0123abcdPrincipalArn"];
        assert!(sso.get("Default").is_none(), "SSO roles always have a path");
        assert_eq!(
            sso["AllowedPattern"],
            "^arn:aws:iam::111122223333:role/(.+/)?AWSReservedSSO_Dev_0123abcd$"
        );
        assert_eq!(
            t["Resources"]["MapRoles2AWSReservedSSODev0123abcd"]["Properties"]["PrincipalArn"],
            json!({"Ref": "MapRoles2AWSReservedSSODev0123abcdPrincipalArn"})
        );
    }

    #[test]
    fn metadata_lists_rows_not_created() {
        let t = template(&sample_plan());
        let meta = &t["Metadata"]["EksAuthMigrator"];
        assert_eq!(meta["BlocksApiMode"], true);
        assert_eq!(meta["Summary"]["create"], 4);
        assert_eq!(
            meta["ClusterFindings"],
            json!(["MAP_ACCOUNTS", "OWNER_UNKNOWN", "PATH_UNRESOLVED"])
        );
        assert_eq!(
            meta["NotCreated"],
            json!([
                {"Source": "mapRoles[3] line 10 (arn:aws:iam::111122223333:role/team/pathed)", "Action": "skip", "Findings": ["DEAD_ROLE_PATH"]},
                {"Source": "mapRoles[4] line 13 (arn:aws:iam::111122223333:role/weird)", "Action": "blocked", "Findings": ["SYSTEM_GROUP"]}
            ])
        );
        assert!(meta["Review"].as_str().expect("review").contains("review"));
    }

    #[test]
    fn logical_ids_are_alphanumeric_and_unique() {
        let mut plan = sample_plan();
        // Two principals whose names differ only in punctuation and case.
        let mut twin = plan.entries[1].clone();
        twin.source.index = 1;
        twin.principal_arn = Some("arn:aws:iam::111122223333:role/ADMIN".to_owned());
        plan.entries.insert(2, twin);
        let t = template(&plan);
        let mut ids = names(&t["Resources"]);
        ids.extend(names(&t["Parameters"]));
        let unique: std::collections::HashSet<String> =
            ids.iter().map(|id| id.to_ascii_lowercase()).collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(
            ids.iter()
                .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())),
            "{ids:?}"
        );
    }

    #[test]
    fn an_empty_plan_is_still_a_valid_template() {
        let plan = plan_of(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapAccounts: |\n    - \"444455556666\"\n",
        );
        let t = template(&plan);
        assert_eq!(names(&t["Resources"]), ["NothingToCreate"]);
        assert_eq!(
            t["Resources"]["NothingToCreate"]["Type"],
            "AWS::CloudFormation::WaitConditionHandle"
        );
    }

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(regex_escape("a.b+c=d,e@f-g_h"), "a\\.b\\+c=d,e@f\\-g_h");
    }

    /// Lints rendered templates with cfn-lint (it knows the AWS::EKS::AccessEntry spec).
    /// Required when EAM_REQUIRE_TOOLS=1; otherwise skipped when cfn-lint is not on PATH.
    #[test]
    fn cfn_lint_accepts_rendered_templates() {
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
        let empty = plan_of(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapAccounts: |\n    - \"444455556666\"\n",
        );
        for (name, plan) in [
            ("sample", sample_plan()),
            ("cross-account", cross_account_plan()),
            ("empty", empty),
        ] {
            let path = dir.path().join(format!("{name}.json"));
            std::fs::write(&path, render(&plan)).expect("write template");
            let output = Command::new("cfn-lint")
                .arg("--")
                .arg(&path)
                .output()
                .expect("run cfn-lint");
            assert!(
                output.status.success(),
                "cfn-lint rejected the {name} template:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}
