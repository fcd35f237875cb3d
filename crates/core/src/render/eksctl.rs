//! An eksctl ClusterConfig fragment (YAML): `metadata` and `accessConfig` with the
//! authentication mode and the access entries (`principalARN`, `type`, `kubernetesGroups`,
//! `kubernetesUsername`, `accessPolicies` with `policyARN` and `accessScope`), as eksctl's
//! `pkg/apis/eksctl.io/v1alpha5` defines them — for `eksctl create accessentry -f` and for the
//! team's ClusterConfig in git. Every string is written double-quoted with escapes, so no value
//! can change the document's structure.

use super::common::{self, PrincipalRef};
use super::handoff::{Handoff, HandoffEntry, HandoffPolicy};
use super::handoff_text;
use crate::access_entry::ScopeType;

/// What stands for an unknown cluster name or region.
const NAME_PLACEHOLDER: &str = "CLUSTER_NAME";
const REGION_PLACEHOLDER: &str = "REGION";

pub(super) fn render(handoff: &Handoff) -> String {
    let mut header = handoff_text::review(handoff, "eksctl ClusterConfig fragment");
    header.push(String::new());
    header.extend(usage_lines(handoff));
    header.push(String::new());
    header.extend(handoff_text::mode_lines(
        handoff,
        "accessConfig.authenticationMode",
    ));
    header.push("eksctl applies it to an existing cluster with `eksctl utils update-authentication-mode -f FILE`.".to_owned());
    let mut out = common::hash_comments(&header);
    out.push_str("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n");
    out.push_str(&format!(
        "  name: {}\n  region: {}\n",
        yaml_string(handoff.cluster.name.as_deref().unwrap_or(NAME_PLACEHOLDER)),
        yaml_string(
            handoff
                .cluster
                .region
                .as_deref()
                .unwrap_or(REGION_PLACEHOLDER)
        ),
    ));
    out.push_str(&format!(
        "accessConfig:\n  authenticationMode: {}\n",
        yaml_string(handoff.authentication_mode().as_str())
    ));
    if handoff.entries.is_empty() {
        out.push_str("  accessEntries: []\n");
        return out;
    }
    out.push_str("  accessEntries:\n");
    for entry in &handoff.entries {
        out.push_str(&entry_item(handoff, entry));
    }
    out
}

/// How the fragment is used, and what exists already.
fn usage_lines(handoff: &Handoff) -> Vec<String> {
    let existing = handoff
        .entries
        .iter()
        .filter(|e| e.existing.is_some())
        .count();
    let mut lines = vec![
        "For your ClusterConfig in git: merge accessConfig into it, and remove the rows migrated here from its iamIdentityMappings (they are aws-auth rows: eksctl would map them again).".to_owned(),
        "For `eksctl create accessentry -f FILE`: eksctl creates each entry through a CloudFormation stack of its own (eksctl-CLUSTER-accessentry-…), and the stack of an entry that exists already fails.".to_owned(),
    ];
    lines.push(match existing {
        0 => "No entry exists yet: give the file as it is.".to_owned(),
        n if n == handoff.entries.len() => "Every entry exists already (marked `exists:`): nothing to create; the file is for your ClusterConfig.".to_owned(),
        n => format!(
            "{n} of {} entries exist already (marked `exists:`): leave them out of the file you give eksctl create accessentry.",
            handoff.entries.len()
        ),
    });
    if handoff.cluster.name.is_none() || handoff.cluster.region.is_none() {
        lines.push(format!(
            "The plan did not name the cluster or its region: replace {NAME_PLACEHOLDER} / {REGION_PLACEHOLDER} in metadata."
        ));
    }
    lines
}

/// One `accessEntries` item with its comment.
fn entry_item(handoff: &Handoff, entry: &HandoffEntry) -> String {
    let mut comment = handoff_text::entry_comment(entry);
    let arn = match &entry.existing {
        Some(existing) => existing.principal_arn.clone(),
        None => match PrincipalRef::from_arn(&entry.principal_arn, handoff.principals_resolved) {
            PrincipalRef::Literal(arn) => arn,
            PrincipalRef::PathlessRole { name, arn, .. } => {
                comment.push(format!(
                    "the plan knows this role without its IAM path; if it has one, write its full ARN (aws iam get-role --role-name {name} --query Role.Arn --output text){}.",
                    if common::is_sso_role(&name) {
                        " - IAM Identity Center roles always have one"
                    } else {
                        ""
                    }
                ));
                arn
            }
        },
    };
    let mut out: String = comment
        .iter()
        .map(|line| format!("    # {}\n", common::one_line(line)))
        .collect();
    out.push_str(&format!("    - principalARN: {}\n", yaml_string(&arn)));
    out.push_str(&format!(
        "      type: {}\n",
        yaml_string(entry.entry_type.as_str())
    ));
    if !entry.kubernetes_groups.is_empty() {
        out.push_str(&format!(
            "      kubernetesGroups: {}\n",
            yaml_list(&entry.kubernetes_groups)
        ));
    }
    if let Some(username) = &entry.username {
        out.push_str(&format!(
            "      kubernetesUsername: {}\n",
            yaml_string(username)
        ));
    }
    if !entry.policies.is_empty() {
        out.push_str("      accessPolicies:\n");
        for policy in &entry.policies {
            out.push_str(&policy_item(policy));
        }
    }
    out
}

/// One `accessPolicies` item.
fn policy_item(policy: &HandoffPolicy) -> String {
    let scope = &policy.policy.access_scope;
    let mut out = format!(
        "        - policyARN: {}\n          accessScope:\n",
        yaml_string(&policy.policy.policy_arn)
    );
    match scope.scope_type {
        ScopeType::Cluster => out.push_str("            type: \"cluster\"\n"),
        ScopeType::Namespace => out.push_str(&format!(
            "            type: \"namespace\"\n            namespaces: {}\n",
            yaml_list(&scope.namespaces)
        )),
    }
    out
}

/// A flow sequence of double-quoted strings.
fn yaml_list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| yaml_string(v)).collect();
    format!("[{}]", items.join(", "))
}

/// A YAML double-quoted scalar: `\` and `"` escaped, and every character a YAML reader may not
/// take literally (control characters, line and paragraph separators, the byte-order mark)
/// written as `\uXXXX`.
fn yaml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::yaml_string;

    #[test]
    fn strings_round_trip_through_a_yaml_reader() {
        for value in [
            "admin:{{SessionName}}",
            "quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} c1 \u{85}",
            "# not a comment: [not, a, list] {not: a map} &anchor *alias !tag",
            "line\u{2028}separator\u{feff}",
            "",
        ] {
            let yaml = format!("v: {}\n", yaml_string(value));
            let parsed: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
            assert_eq!(parsed["v"], value, "{yaml}");
        }
    }
}
