//! A CloudFormation template (JSON) of `AWS::EKS::AccessEntry` resources.
//!
//! CloudFormation cannot look up a role's IAM path, so a path-less role ARN becomes a template
//! parameter whose default is the path-less ARN (right for roles without a path); IAM Identity
//! Center roles always have a path and get no default, so the deployer must supply it.

use super::common::{self, Labels, MANAGED_TAG, NotRendered, PrincipalRef, Rendered};
use crate::access_entry::{AccessPolicy, ScopeType};
use crate::plan::Plan;
use serde_json::{Map, Value, json};

/// CloudFormation limits a template description to 1024 bytes.
const DESCRIPTION_LIMIT: usize = 1024;

pub(super) fn render(plan: &Plan) -> String {
    let template = template(plan);
    let mut out = serde_json::to_string_pretty(&template)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

fn template(plan: &Plan) -> Value {
    let split = common::split(plan);
    let mut parameters = Map::new();
    parameters.insert(
        "ClusterName".to_owned(),
        json!({"Type": "String", "Description": "Name of the EKS cluster the access entries belong to."}),
    );
    let mut resources = Map::new();
    let mut labels = Labels::default();
    for rendered in &split.rendered {
        let logical_id = labels.unique(common::pascal_label(rendered.entry), "N");
        let principal = match &rendered.principal {
            PrincipalRef::Literal(arn) => json!(arn),
            PrincipalRef::PathlessRole {
                name,
                account,
                partition,
                arn,
            } => {
                let parameter = labels.unique(format!("{logical_id}PrincipalArn"), "N");
                let role = PathlessRole {
                    name,
                    account,
                    partition,
                    arn,
                };
                parameters.insert(parameter.clone(), principal_parameter(&role));
                json!({"Ref": parameter})
            }
        };
        resources.insert(logical_id, access_entry(rendered, principal));
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
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description(plan),
        "Metadata": {"EksAuthMigrator": review_metadata(plan, &split.not_rendered)},
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {"ClusterName": {
            "Description": "The cluster the access entries belong to.",
            "Value": {"Ref": "ClusterName"}
        }},
    })
}

/// The template description: what it is, that it must be reviewed, and the plan's verdict.
fn description(plan: &Plan) -> String {
    let s = &plan.summary;
    let mut text = format!(
        "eks-auth-migrator: EKS access entries for aws-auth rows. REVIEW BEFORE DEPLOYING. blocks_api_mode={}; {} create, {} skip, {} blocked; {} blocker(s), {} warning(s). Rows not created are listed under Metadata.EksAuthMigrator.",
        plan.blocks_api_mode, s.create, s.skip, s.blocked, s.blockers, s.warnings
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
fn review_metadata(plan: &Plan, not_rendered: &[NotRendered<'_>]) -> Value {
    let rows: Vec<Value> = not_rendered
        .iter()
        .map(|row| {
            json!({
                "Source": common::source_text(row.entry),
                "Action": row.reason,
                "Findings": codes(&row.entry.findings),
            })
        })
        .collect();
    json!({
        "Review": "Generated from a migration plan: review every principal, username, group and policy before deploying.",
        "BlocksApiMode": plan.blocks_api_mode,
        "Summary": plan.summary,
        "ClusterFindings": codes(&plan.findings),
        "NotCreated": rows,
    })
}

fn codes(findings: &[crate::finding::Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
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

/// One `AWS::EKS::AccessEntry`.
fn access_entry(rendered: &Rendered<'_>, principal: Value) -> Value {
    let entry = rendered.entry;
    let mut properties = Map::new();
    properties.insert("ClusterName".to_owned(), json!({"Ref": "ClusterName"}));
    properties.insert("PrincipalArn".to_owned(), principal);
    properties.insert("Type".to_owned(), json!(rendered.entry_type.as_str()));
    if let Some(username) = &entry.username {
        properties.insert("Username".to_owned(), json!(username));
    }
    if !entry.kubernetes_groups.is_empty() {
        properties.insert(
            "KubernetesGroups".to_owned(),
            json!(entry.kubernetes_groups),
        );
    }
    if !entry.access_policies.is_empty() {
        let policies: Vec<Value> = entry.access_policies.iter().map(access_policy).collect();
        properties.insert("AccessPolicies".to_owned(), Value::Array(policies));
    }
    let (key, value) = MANAGED_TAG;
    properties.insert("Tags".to_owned(), json!([{"Key": key, "Value": value}]));
    json!({
        "Type": "AWS::EKS::AccessEntry",
        "Metadata": {"EksAuthMigrator": {
            "Source": common::source_text(entry),
            "Findings": codes(&entry.findings),
        }},
        "Properties": properties,
    })
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
    use super::{regex_escape, render};
    use serde_json::{Value, json};
    use std::process::Command;

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
