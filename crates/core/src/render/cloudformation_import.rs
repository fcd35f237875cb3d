//! The resources-to-import file of a CloudFormation rendering: one item per access entry that
//! exists already, identified by `AWS::EKS::AccessEntry`'s primary identifier (`PrincipalArn`,
//! `ClusterName` in its registry schema), for `aws cloudformation create-change-set
//! --change-set-type IMPORT --resources-to-import file://…`.

use super::cloudformation;
use super::handoff::Handoff;
use serde_json::{Value, json};

/// What stands for the cluster's name when the handoff does not know it.
pub(super) const CLUSTER_NAME_PLACEHOLDER: &str = "CLUSTER_NAME";

/// The resources-to-import JSON, or `None` when no declared entry exists yet.
pub(super) fn render(handoff: &Handoff) -> Option<String> {
    let cluster = handoff
        .cluster
        .name
        .as_deref()
        .unwrap_or(CLUSTER_NAME_PLACEHOLDER);
    let items: Vec<Value> = handoff
        .entries
        .iter()
        .zip(cloudformation::logical_ids(handoff))
        .filter_map(|(entry, logical_id)| {
            let existing = entry.existing.as_ref()?;
            Some(json!({
                "ResourceType": "AWS::EKS::AccessEntry",
                "LogicalResourceId": logical_id,
                "ResourceIdentifier": {
                    "PrincipalArn": existing.principal_arn,
                    "ClusterName": cluster,
                },
            }))
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    let mut out = serde_json::to_string_pretty(&Value::Array(items))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    Some(out)
}
