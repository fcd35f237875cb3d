//! Terraform (HCL) for a module: `aws_eks_access_entry` and `aws_eks_access_policy_association`
//! resources, with `aws_iam_role` data sources that resolve path-less role ARNs at plan time,
//! `import` blocks (Terraform 1.5+) for the entries and associations that exist already, and the
//! cluster's `access_config` as a comment for the cluster's own resource.
//!
//! Import identifiers are the AWS provider's: `CLUSTER:PRINCIPAL_ARN` for an access entry and
//! `CLUSTER#PRINCIPAL_ARN#POLICY_ARN` for an association (hashicorp/terraform-provider-aws,
//! `internal/service/eks/access_entry.go` and `access_policy_association.go`; docs/plan-format.md).

use super::common::{self, Labels, MANAGED_TAG, PrincipalRef};
use super::handoff::{Handoff, HandoffEntry, HandoffPolicy};
use super::handoff_text;
use super::hcl_text::{
    aligned, entry_attributes, import_block, interpolated, scope_attributes, string,
};
use std::collections::BTreeSet;

pub(super) fn render(handoff: &Handoff) -> String {
    let home = handoff_text::home_account(handoff);
    let aliases: BTreeSet<String> = handoff
        .entries
        .iter()
        .filter_map(|e| provider_alias(&principal_ref(handoff, e), home.as_deref()))
        .collect();
    let mut header = handoff_text::review(handoff, "Terraform module");
    header.push(String::new());
    header.extend(usage_lines(handoff, home.as_deref(), !aliases.is_empty()));
    header.push(String::new());
    header.extend(cluster_resource_lines(handoff));
    let mut out = common::hash_comments(&header);
    out.push_str(&terraform_block(aliases));
    out.push_str(&variable_block(handoff));
    let mut labels = Labels::default();
    for entry in &handoff.entries {
        let wanted = common::snake_label(&entry.source, Some(&entry.principal_arn));
        let label = labels.unique(wanted, "_");
        out.push_str(&entry_blocks(handoff, &label, entry, home.as_deref()));
    }
    out
}

/// How the module is used: its input, the provider aliases, where import blocks may live.
fn usage_lines(handoff: &Handoff, home: Option<&str>, aliases: bool) -> Vec<String> {
    let mut lines = vec!["Module input: cluster_name.".to_owned()];
    if let (Some(home), true) = (home, aliases) {
        lines.push(format!(
            "Roles of other accounts are looked up through provider aliases: pass them as `providers = {{ aws.acct_ACCOUNT = aws.that_account }}`. The default aws provider must be for account {home} (the account of most principals)."
        ));
    }
    if handoff.imports_anything() {
        lines.push("Import blocks (Terraform 1.5+) adopt the entries and associations that exist already, so the first apply creates nothing twice. Terraform reads import blocks only in the root module: used as a child module, move them to the root and prefix each `to` with the module's address (module.NAME.).".to_owned());
    }
    lines
}

/// The comment block for the cluster's own `aws_eks_cluster` resource.
fn cluster_resource_lines(handoff: &Handoff) -> Vec<String> {
    let mut lines = handoff_text::mode_lines(handoff, "access_config.authentication_mode");
    lines.extend([
        "In the cluster's own resource:".to_owned(),
        String::new(),
        "  resource \"aws_eks_cluster\" \"this\" {".to_owned(),
        "    access_config {".to_owned(),
        format!(
            "      authentication_mode = \"{}\"",
            handoff.authentication_mode().as_str()
        ),
        "      # bootstrap_cluster_creator_admin_permissions: keep what your configuration says. EKS".to_owned(),
        "      # does not report it and changing it replaces the cluster (the provider marks it ForceNew).".to_owned(),
        "    }".to_owned(),
        "  }".to_owned(),
    ]);
    lines
}

/// How an entry names its principal: an entry that exists is named by EKS's ARN.
fn principal_ref(handoff: &Handoff, entry: &HandoffEntry) -> PrincipalRef {
    match &entry.existing {
        Some(existing) => PrincipalRef::Literal(existing.principal_arn.clone()),
        None => PrincipalRef::from_arn(&entry.principal_arn, handoff.principals_resolved),
    }
}

/// The provider alias for roles looked up in another account than the home account, if any.
fn provider_alias(principal: &PrincipalRef, home: Option<&str>) -> Option<String> {
    match principal {
        PrincipalRef::PathlessRole { account, .. } if Some(account.as_str()) != home => {
            Some(format!("aws.acct_{}", common::snake_words(account)))
        }
        _ => None,
    }
}

/// `terraform { required_providers { aws = … } }`, with the aliases of foreign accounts.
fn terraform_block(aliases: BTreeSet<String>) -> String {
    let mut attributes = vec![("source", string("hashicorp/aws"))];
    if !aliases.is_empty() {
        let list: Vec<String> = aliases.into_iter().collect();
        attributes.push(("configuration_aliases", format!("[{}]", list.join(", "))));
    }
    format!(
        "\nterraform {{\n  required_providers {{\n    aws = {{\n{}    }}\n  }}\n}}\n",
        aligned(&attributes, 3)
    )
}

/// `variable "cluster_name"`, defaulting to the plan's cluster when it is known (the import
/// identifiers name it).
fn variable_block(handoff: &Handoff) -> String {
    let mut attributes = vec![
        (
            "description",
            string("Name of the EKS cluster the access entries belong to."),
        ),
        ("type", "string".to_owned()),
    ];
    if let Some(name) = &handoff.cluster.name {
        attributes.push(("default", string(name)));
    }
    format!(
        "\nvariable \"cluster_name\" {{\n{}}}\n",
        aligned(&attributes, 1)
    )
}

/// An import identifier: the cluster's name (literal when known, else the variable's value,
/// which needs Terraform 1.6+) followed by `suffix`.
fn import_id(handoff: &Handoff, suffix: &str) -> String {
    match &handoff.cluster.name {
        Some(name) => string(&format!("{name}{suffix}")),
        None => interpolated("var.cluster_name", suffix),
    }
}

/// The data source (when needed), the access entry, its policy associations and their imports.
fn entry_blocks(
    handoff: &Handoff,
    label: &str,
    entry: &HandoffEntry,
    home: Option<&str>,
) -> String {
    let mut out = format!(
        "\n{}",
        common::hash_comments(&handoff_text::entry_comment(entry))
    );
    let principal_ref = principal_ref(handoff, entry);
    let principal = match &principal_ref {
        PrincipalRef::Literal(arn) => string(arn),
        PrincipalRef::PathlessRole { name, .. } => {
            let mut attributes = Vec::new();
            if let Some(alias) = provider_alias(&principal_ref, home) {
                attributes.push(("provider", alias));
            }
            attributes.push(("name", string(name)));
            out.push_str(&format!(
                "data \"aws_iam_role\" \"{label}\" {{\n{}}}\n\n",
                aligned(&attributes, 1)
            ));
            format!("data.aws_iam_role.{label}.arn")
        }
    };
    out.push_str(&entry_resource(label, entry, principal));
    if let Some(existing) = &entry.existing {
        out.push_str(&import_block(
            &format!("aws_eks_access_entry.{label}"),
            &import_id(handoff, &format!(":{}", existing.principal_arn)),
        ));
    }
    let mut policy_labels = Labels::default();
    for policy in &entry.policies {
        let wanted = format!("{label}_{}", common::snake_words(policy.policy.name()));
        let policy_label = policy_labels.unique(wanted, "_");
        out.push_str(&association(label, &policy_label, policy));
        if let (true, Some(existing)) = (policy.exists, &entry.existing) {
            out.push_str(&import_block(
                &format!("aws_eks_access_policy_association.{policy_label}"),
                &import_id(
                    handoff,
                    &format!("#{}#{}", existing.principal_arn, policy.policy.policy_arn),
                ),
            ));
        }
    }
    out
}

/// One `aws_eks_access_entry`.
fn entry_resource(label: &str, entry: &HandoffEntry, principal: String) -> String {
    let mut attributes = vec![
        ("cluster_name", "var.cluster_name".to_owned()),
        ("principal_arn", principal),
    ];
    attributes.extend(entry_attributes(entry));
    let tags = if handoff_text::tagged(entry) {
        let (key, value) = MANAGED_TAG;
        format!(
            "  tags = {{\n    {} = {}\n  }}\n",
            string(key),
            string(value)
        )
    } else {
        String::new()
    };
    format!(
        "resource \"aws_eks_access_entry\" \"{label}\" {{\n{}{tags}}}\n",
        aligned(&attributes, 1)
    )
}

/// One `aws_eks_access_policy_association`.
fn association(entry_label: &str, label: &str, policy: &HandoffPolicy) -> String {
    let attributes = [
        ("cluster_name", "var.cluster_name".to_owned()),
        (
            "principal_arn",
            format!("aws_eks_access_entry.{entry_label}.principal_arn"),
        ),
        ("policy_arn", string(&policy.policy.policy_arn)),
    ];
    let scope = &policy.policy.access_scope;
    let scope_attributes = scope_attributes(scope);
    format!(
        "\nresource \"aws_eks_access_policy_association\" \"{label}\" {{\n{}\n  access_scope {{\n{}  }}\n}}\n",
        aligned(&attributes, 1),
        aligned(&scope_attributes, 2)
    )
}

#[cfg(test)]
mod tests {
    use super::super::common::fixtures::{cross_account_plan, plan_of, sample_plan};
    use super::super::handoff::Handoff;
    use hcl::{Block, Body, Expression};

    /// The module for an offline plan (no facts: nothing exists yet).
    fn render(plan: &crate::plan::Plan) -> String {
        super::render(&Handoff::from_plan(plan, None))
    }

    fn parse(plan: &crate::plan::Plan) -> Body {
        let text = render(plan);
        hcl::parse(&text).unwrap_or_else(|e| panic!("invalid HCL: {e}\n{text}"))
    }

    fn blocks<'a>(body: &'a Body, kind: &str, resource_type: &str) -> Vec<&'a Block> {
        body.blocks()
            .filter(|b| {
                b.identifier() == kind
                    && b.labels().first().map(|l| l.as_str()) == Some(resource_type)
            })
            .collect()
    }

    fn block<'a>(body: &'a Body, kind: &str, resource_type: &str, label: &str) -> &'a Block {
        blocks(body, kind, resource_type)
            .into_iter()
            .find(|b| b.labels().get(1).map(|l| l.as_str()) == Some(label))
            .unwrap_or_else(|| panic!("no {kind} {resource_type}.{label}"))
    }

    fn attr<'a>(block: &'a Block, key: &str) -> Option<&'a Expression> {
        block
            .body()
            .attributes()
            .find(|a| a.key() == key)
            .map(|a| a.expr())
    }

    /// An expression's literal string value, or its HCL source text (references; lists on one
    /// line).
    fn expr_text(expr: &Expression) -> String {
        match expr {
            Expression::String(s) => s.clone(),
            Expression::Array(items) => {
                let items: Vec<String> = items.iter().map(expr_text).collect();
                format!("[{}]", items.join(", "))
            }
            other => other.to_string(),
        }
    }

    /// An attribute as [`expr_text`].
    fn text(block: &Block, key: &str) -> String {
        expr_text(attr(block, key).unwrap_or_else(|| panic!("no attribute {key}")))
    }

    /// A list attribute's items as [`expr_text`].
    fn items(block: &Block, key: &str) -> Vec<String> {
        match attr(block, key) {
            Some(Expression::Array(items)) => items.iter().map(expr_text).collect(),
            other => panic!("{key} is not a list: {other:?}"),
        }
    }

    /// An object expression's (key, value) pairs as [`expr_text`].
    fn pairs(expr: &Expression) -> Vec<(String, String)> {
        match expr {
            Expression::Object(object) => object
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        hcl::ObjectKey::Expression(e) => expr_text(e),
                        hcl::ObjectKey::Identifier(i) => i.to_string(),
                        other => other.to_string(),
                    };
                    (key, expr_text(v))
                })
                .collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    fn labels(blocks: &[&Block]) -> Vec<String> {
        blocks
            .iter()
            .map(|b| b.labels()[1].as_str().to_owned())
            .collect()
    }

    #[test]
    fn renders_entries_data_sources_and_associations() {
        let body = parse(&sample_plan());
        let variable = body
            .blocks()
            .find(|b| b.identifier() == "variable")
            .expect("variable");
        assert_eq!(variable.labels()[0].as_str(), "cluster_name");
        assert_eq!(text(variable, "type"), "string");

        let entries = blocks(&body, "resource", "aws_eks_access_entry");
        assert_eq!(
            labels(&entries),
            [
                "maproles_0_nodes",
                "maproles_1_admin",
                "maproles_2_awsreservedsso_dev_0123abcd",
                "mapusers_0_bob"
            ]
        );
        let roles = blocks(&body, "data", "aws_iam_role");
        assert_eq!(
            labels(&roles),
            [
                "maproles_0_nodes",
                "maproles_1_admin",
                "maproles_2_awsreservedsso_dev_0123abcd"
            ]
        );
        for role in &roles {
            assert!(attr(role, "provider").is_none(), "home-account role");
        }
        assert_eq!(
            text(
                block(&body, "data", "aws_iam_role", "maproles_1_admin"),
                "name"
            ),
            "admin"
        );

        let admin = block(
            &body,
            "resource",
            "aws_eks_access_entry",
            "maproles_1_admin",
        );
        assert_eq!(text(admin, "cluster_name"), "var.cluster_name");
        assert_eq!(
            text(admin, "principal_arn"),
            "data.aws_iam_role.maproles_1_admin.arn"
        );
        assert_eq!(text(admin, "type"), "STANDARD");
        assert_eq!(text(admin, "user_name"), "admin:{{SessionName}}");
        assert_eq!(items(admin, "kubernetes_groups"), ["platform"]);
        let tags = pairs(attr(admin, "tags").expect("tags"));
        assert_eq!(tags, [pair("managed-by", "eks-auth-migrator")]);

        let nodes = block(
            &body,
            "resource",
            "aws_eks_access_entry",
            "maproles_0_nodes",
        );
        assert_eq!(text(nodes, "type"), "EC2_LINUX");
        assert!(attr(nodes, "user_name").is_none());
        assert!(attr(nodes, "kubernetes_groups").is_none());

        let bob = block(&body, "resource", "aws_eks_access_entry", "mapusers_0_bob");
        assert_eq!(
            text(bob, "principal_arn"),
            "arn:aws:iam::111122223333:user/dev/bob"
        );

        let associations = blocks(&body, "resource", "aws_eks_access_policy_association");
        assert_eq!(
            labels(&associations),
            [
                "maproles_1_admin_amazoneksclusteradminpolicy",
                "mapusers_0_bob_amazoneksviewpolicy"
            ]
        );
        let view = associations[1];
        assert_eq!(
            text(view, "principal_arn"),
            "aws_eks_access_entry.mapusers_0_bob.principal_arn"
        );
        assert_eq!(
            text(view, "policy_arn"),
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        );
        let scope = view
            .body()
            .blocks()
            .find(|b| b.identifier() == "access_scope")
            .expect("access_scope");
        assert_eq!(text(scope, "type"), "namespace");
        assert_eq!(items(scope, "namespaces"), ["team-a", "team-b-*"]);
        let admin_scope = associations[0]
            .body()
            .blocks()
            .next()
            .expect("access_scope");
        assert_eq!(text(admin_scope, "type"), "cluster");
        assert!(attr(admin_scope, "namespaces").is_none());
    }

    #[test]
    fn roles_of_other_accounts_use_provider_aliases() {
        let text_out = render(&cross_account_plan());
        let body = parse(&cross_account_plan());
        let ci = block(&body, "data", "aws_iam_role", "maproles_5_ci");
        assert_eq!(text(ci, "provider"), "aws.acct_444455556666");
        let terraform = body
            .blocks()
            .find(|b| b.identifier() == "terraform")
            .expect("terraform block");
        let providers = terraform
            .body()
            .blocks()
            .find(|b| b.identifier() == "required_providers")
            .expect("required_providers");
        let aws = pairs(attr(providers, "aws").expect("aws provider"));
        assert_eq!(
            aws,
            [
                pair("source", "hashicorp/aws"),
                pair("configuration_aliases", "[aws.acct_444455556666]")
            ]
        );
        assert!(text_out.contains(
            "The default aws provider must be for account 111122223333 (the account of most principals)."
        ));
        assert!(!render(&sample_plan()).contains("provider aliases"));
        for label in ["maproles_0_nodes", "maproles_1_admin"] {
            assert!(attr(block(&body, "data", "aws_iam_role", label), "provider").is_none());
        }
    }

    #[test]
    fn header_comments_list_rows_not_created() {
        let out = render(&sample_plan());
        assert!(out.starts_with("# eks-auth-migrator Terraform module"));
        assert!(out.contains("# REVIEW BEFORE APPLYING"));
        assert!(out.contains("# blocks_api_mode: true"));
        assert!(out.contains("# summary: 4 create, 1 skip, 1 blocked;"));
        assert!(out.contains(
            "#   mapRoles[4] line 13 (arn:aws:iam::111122223333:role/weird): blocked [SYSTEM_GROUP]"
        ));
        assert!(
            out.contains("# cluster-level findings: MAP_ACCOUNTS, OWNER_UNKNOWN, PATH_UNRESOLVED")
        );
        assert!(!out.contains("role/weird\""));
    }

    #[test]
    fn an_empty_plan_is_a_valid_module() {
        let plan = plan_of(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapAccounts: |\n    - \"444455556666\"\n",
        );
        let body = parse(&plan);
        assert!(blocks(&body, "resource", "aws_eks_access_entry").is_empty());
        assert!(body.blocks().any(|b| b.identifier() == "variable"));
    }

    /// Checks rendered modules with `terraform fmt -check` (Terraform's own parser and style).
    /// Terraform cannot be installed on our CI machines (not in Debian, PyPI or npm), so the test
    /// is ignored rather than passing without testing: run it where terraform is on PATH with
    /// `cargo nextest run -p eks-auth-core --run-ignored only terraform_fmt`.
    #[test]
    #[ignore = "needs terraform on PATH, which CI cannot install"]
    fn terraform_fmt_accepts_rendered_modules() {
        use std::process::Command;
        for plan in [sample_plan(), cross_account_plan()] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("main.tf");
            std::fs::write(&path, render(&plan)).expect("write module");
            let output = Command::new("terraform")
                .args(["fmt", "-check", "-diff", "-no-color"])
                .arg(&path)
                .output()
                .expect("run terraform fmt");
            assert!(
                output.status.success(),
                "terraform fmt -check:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}
