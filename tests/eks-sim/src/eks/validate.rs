//! Validation of access-entry inputs: principal ARNs, usernames, Kubernetes groups, types.

use super::EksError;
use crate::model::{ClusterKey, World};

/// Access-entry types EKS accepts.
pub const ENTRY_TYPES: [&str; 7] = [
    "STANDARD",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "HYBRID_LINUX",
    "EC2",
    "HYPERPOD_LINUX",
];

/// What a principal ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An IAM role.
    Role,
    /// An IAM user.
    User,
}

/// The message EKS returns for a principal it cannot resolve.
pub const INVALID_PRINCIPAL: &str = "The specified principalArn is invalid: invalid principal.";

/// Checks `arn` names an existing IAM role or user (full ARN, path included) that may hold
/// an access entry; returns its kind and account.
///
/// # Errors
///
/// `InvalidParameterException` for STS ARNs, path-stripped or unknown principals, and
/// service-linked roles (each with the real service's message).
pub fn principal(world: &World, arn: &str) -> Result<(PrincipalKind, String), EksError> {
    let invalid = || EksError::invalid_parameter(INVALID_PRINCIPAL);
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_arn, _partition, service, _region, account, resource] = parts.as_slice() else {
        return Err(invalid());
    };
    if *service != "iam" {
        return Err(invalid());
    }
    let kind = if resource.starts_with("role/") {
        PrincipalKind::Role
    } else if resource.starts_with("user/") {
        PrincipalKind::User
    } else {
        return Err(invalid());
    };
    if resource.starts_with("role/aws-service-role/") {
        return Err(EksError::invalid_parameter(
            "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role",
        ));
    }
    match world.iam_principal(arn) {
        Some(p) if p.arn == arn => Ok((kind, (*account).to_owned())),
        _ => Err(invalid()),
    }
}

/// Checks the type and what it allows: non-STANDARD entries need a role of the cluster's own
/// account and take no username or groups.
///
/// # Errors
///
/// `InvalidParameterException` describing the violation.
pub fn entry_type(
    kind: &str,
    principal: (PrincipalKind, &str),
    cluster: &ClusterKey,
    username: Option<&str>,
    groups: &[String],
) -> Result<(), EksError> {
    if !ENTRY_TYPES.contains(&kind) {
        return Err(EksError::invalid_parameter(format!(
            "The type {kind} is invalid. Valid types are {}.",
            ENTRY_TYPES.join(", ")
        )));
    }
    if kind == "STANDARD" {
        return Ok(());
    }
    if principal.0 != PrincipalKind::Role {
        return Err(EksError::invalid_parameter(format!(
            "The principalArn must be an IAM role for an access entry of type {kind}."
        )));
    }
    if principal.1 != cluster.account {
        return Err(EksError::invalid_parameter(format!(
            "The principalArn must be in the same account as the cluster for an access entry of type {kind}."
        )));
    }
    if username.is_some() {
        return Err(EksError::invalid_parameter(format!(
            "A username cannot be specified for an access entry of type {kind}."
        )));
    }
    if !groups.is_empty() {
        return Err(EksError::invalid_parameter(format!(
            "Kubernetes groups cannot be specified for an access entry of type {kind}."
        )));
    }
    Ok(())
}

/// Checks a username: no reserved prefix, `{{SessionName}}` and `{{SessionNameRaw}}` only
/// after a `:`.
///
/// # Errors
///
/// `InvalidParameterException` (`The username must not begin with system:` and kin).
pub fn username(name: &str) -> Result<(), EksError> {
    for prefix in ["system:", "eks:", "aws:", "amazon:", "iam:"] {
        if name.starts_with(prefix) {
            return Err(EksError::invalid_parameter(format!(
                "The username must not begin with {prefix}"
            )));
        }
    }
    if name.is_empty() {
        return Err(EksError::invalid_parameter(
            "The username must not be empty.",
        ));
    }
    // EKS user guide (set-custom-username): "If you add either {{SessionName}} or
    // {{SessionNameRaw}} to your username, the username must include a colon before".
    for template in ["{{SessionName}}", "{{SessionNameRaw}}"] {
        if let Some(at) = name.find(template)
            && !name[..at].contains(':')
        {
            return Err(EksError::invalid_parameter(format!(
                "The username template {template} must be preceded by a ':' somewhere in the username."
            )));
        }
    }
    Ok(())
}

/// Checks Kubernetes group names: none may start with `system:`.
///
/// # Errors
///
/// `InvalidParameterException: The kubernetes group name G is invalid, it cannot start with system:`.
pub fn groups(groups: &[String]) -> Result<(), EksError> {
    if let Some(g) = groups.iter().find(|g| g.starts_with("system:")) {
        return Err(EksError::invalid_parameter(format!(
            "The kubernetes group name {g} is invalid, it cannot start with system:"
        )));
    }
    if groups.iter().any(String::is_empty) {
        return Err(EksError::invalid_parameter(
            "The kubernetes group name must not be empty.",
        ));
    }
    Ok(())
}
