//! Access policies: the catalogue, and associating them with entries.

use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use super::access_entries::{entry, not_found_message};
use super::{Call, EksError, cluster_mut, pagination};
use crate::model::{AccessScope, AssociatedPolicy, World, epoch_now};

/// Names of the access policies ListAccessPolicies returns: the service's answer of April 2026
/// (33 policies; the EKS user guide's access-policy reference documents the ones for people,
/// Auto Mode, Hybrid Nodes and Cluster Insights, its EKS Capabilities pages the ACK, Argo CD and
/// kro ones).
pub const POLICY_NAMES: [&str; 33] = [
    "AIDevOpsAgentAccessPolicy",
    "AmazonAIOpsAssistantPolicy",
    "AmazonARCRegionSwitchScalingPolicy",
    "AmazonEKSACKPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSArgoCDClusterPolicy",
    "AmazonEKSArgoCDPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStorageClusterPolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSComputeClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSEventPolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSKROPolicy",
    "AmazonEKSLoadBalancingClusterPolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingClusterPolicy",
    "AmazonEKSNetworkingPolicy",
    "AmazonEKSPodIdentityPolicy",
    "AmazonEKSSecretAdminPolicy",
    "AmazonEKSSecretReaderPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEMRJobPolicy",
    "AmazonSagemakerHyperpodClusterPolicy",
    "AmazonSagemakerHyperpodControllerPolicy",
    "AmazonSagemakerHyperpodSpacePolicy",
    "AmazonSagemakerHyperpodSpaceTemplatePolicy",
    "AmazonSagemakerHyperpodSystemNamespacePolicy",
    "AmazonSagemakerHyperpodUserClusterPolicy",
];

/// The ARN of access policy `name`.
pub fn policy_arn(name: &str) -> String {
    format!("arn:aws:eks::aws:cluster-access-policy/{name}")
}

/// The policy name of `arn`, when it is a known access policy.
pub fn policy_name(arn: &str) -> Option<&'static str> {
    let name = arn.strip_prefix("arn:aws:eks::aws:cluster-access-policy/")?;
    POLICY_NAMES.iter().copied().find(|n| *n == name)
}

/// ListAccessPolicies.
pub fn list_policies(call: &Call<'_>) -> Result<Value, EksError> {
    let all: Vec<Value> = POLICY_NAMES
        .iter()
        .map(|n| json!({ "name": n, "arn": policy_arn(n) }))
        .collect();
    let (page, next) = pagination::page(&all, call.query)?;
    Ok(json!({ "accessPolicies": page, "nextToken": next }))
}

fn policy_json(p: &AssociatedPolicy) -> Value {
    json!({
        "policyArn": p.policy_arn,
        "accessScope": { "type": p.scope.kind, "namespaces": p.scope.namespaces },
        "associatedAt": p.associated_at,
        "modifiedAt": p.modified_at,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssociateBody {
    policy_arn: String,
    access_scope: AccessScope,
}

fn is_namespace_name(ns: &str) -> bool {
    let body = ns.strip_suffix('*').unwrap_or(ns);
    !body.is_empty()
        && body.len() <= 63
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !body.starts_with('-')
}

fn check_scope(scope: &AccessScope) -> Result<(), EksError> {
    match scope.kind.as_str() {
        "cluster" if scope.namespaces.is_empty() => Ok(()),
        "cluster" => Err(EksError::invalid_parameter(
            "Namespaces cannot be specified for an access scope of type cluster.",
        )),
        "namespace" if scope.namespaces.is_empty() => Err(EksError::invalid_parameter(
            "At least one namespace must be specified for an access scope of type namespace.",
        )),
        "namespace" => match scope.namespaces.iter().find(|n| !is_namespace_name(n)) {
            Some(bad) => Err(EksError::invalid_parameter(format!(
                "The namespace {bad} is invalid."
            ))),
            None => Ok(()),
        },
        other => Err(EksError::invalid_parameter(format!(
            "The access scope type {other} is invalid. Valid types are cluster, namespace."
        ))),
    }
}

/// AssociateAccessPolicy: STANDARD entries only, one association per policy (re-associating
/// replaces the scope); 404 while the new entry is not yet visible (eventual consistency).
pub fn associate(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    let body: AssociateBody = call.body_json()?;
    let existing = entry(world, call)?;
    if existing.kind != "STANDARD" {
        return Err(EksError::invalid_parameter(
            "This operation can only be performed on Access Entries with a type of \"STANDARD\".",
        ));
    }
    if policy_name(&body.policy_arn).is_none() {
        return Err(EksError::invalid_parameter(format!(
            "The specified policyArn {} is invalid.",
            body.policy_arn
        )));
    }
    check_scope(&body.access_scope)?;
    let key = call.cluster_key();
    let c = cluster_mut(world, call)?;
    let e = c
        .entries
        .get_mut(call.segment(3))
        .ok_or_else(|| EksError::not_found(not_found_message()))?;
    if e.inconsistent_calls > 0 {
        e.inconsistent_calls -= 1;
        return Err(EksError::not_found(not_found_message()));
    }
    if e.consistent_after.is_some_and(|t| Instant::now() < t) {
        return Err(EksError::not_found(not_found_message()));
    }
    let now = epoch_now();
    let associated_at = e
        .policies
        .get(&body.policy_arn)
        .map_or(now, |p| p.associated_at);
    let policy = AssociatedPolicy {
        policy_arn: body.policy_arn.clone(),
        scope: body.access_scope,
        associated_at,
        modified_at: now,
    };
    let out = json!({
        "clusterName": key.name,
        "principalArn": e.principal_arn,
        "associatedAccessPolicy": policy_json(&policy),
    });
    e.policies.insert(body.policy_arn, policy);
    Ok(out)
}

/// DisassociateAccessPolicy.
pub fn disassociate(world: &mut World, call: &Call<'_>) -> Result<Value, EksError> {
    entry(world, call)?;
    let policy = call.segment(5).to_owned();
    let c = cluster_mut(world, call)?;
    let e = c
        .entries
        .get_mut(call.segment(3))
        .ok_or_else(|| EksError::not_found(not_found_message()))?;
    if e.policies.remove(&policy).is_none() {
        return Err(EksError::not_found(format!(
            "The specified policyArn {policy} is not associated with this access entry."
        )));
    }
    Ok(json!({}))
}

/// ListAssociatedAccessPolicies.
pub fn list_associated(world: &World, call: &Call<'_>) -> Result<Value, EksError> {
    let e = entry(world, call)?;
    let all: Vec<Value> = e.policies.values().map(policy_json).collect();
    let (page, next) = pagination::page(&all, call.query)?;
    Ok(json!({
        "clusterName": call.cluster_key().name,
        "principalArn": e.principal_arn,
        "associatedAccessPolicies": page,
        "nextToken": next,
    }))
}
