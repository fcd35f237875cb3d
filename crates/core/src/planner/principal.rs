//! Which IAM principal a row names, whether it can ever match a caller, and its real ARN.

use super::Context;
use crate::arn::{Arn, Principal};
use crate::aws_auth::Row;
use crate::facts::IamResolution;
use crate::finding::{Finding, FindingCode, Severity};
use crate::plan::Section;

/// Kind of a principal an access entry can be made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Role,
    User,
}

/// A principal that matches callers today.
pub(super) struct Resolved {
    pub(super) kind: Kind,
    /// The ARN to use as the access entry's principal.
    pub(super) arn: String,
    /// The principal's account.
    pub(super) account: String,
}

/// What the planner learns about a row's ARN.
pub(super) enum Outcome {
    /// A role or user that matches callers; findings may still need attention.
    Resolved(Resolved),
    /// The row grants nothing today: skip it.
    Dead,
    /// The row grants access an access entry cannot carry: block it.
    Blocked,
}

/// Classifies a row's ARN and resolves its real ARN from the facts.
pub(super) fn resolve(row: &Row, ctx: &Context<'_>, findings: &mut Vec<Finding>) -> Outcome {
    let loc = row.location();
    let mut say = |code, severity, message: String| {
        findings.push(Finding::at(loc.clone(), code, severity, message));
    };
    let arn: Arn = match row.arn.parse() {
        Ok(arn) => arn,
        Err(error) => {
            say(
                FindingCode::InvalidEntry,
                Severity::Warning,
                format!(
                    "{error}; it never matches a caller, so the row grants nothing and is not migrated. Fix or delete the row."
                ),
            );
            return Outcome::Dead;
        }
    };
    let (kind, name, path) = match arn.principal() {
        Principal::AssumedRole { role } => {
            say(
                FindingCode::DeadStsArn,
                Severity::Warning,
                format!(
                    "`{arn}` is an STS session ARN; the authenticator compares callers' role ARNs (arn:{p}:iam::{a}:role/{role}), so this row never matched and grants nothing. It is not migrated; if role {role} should have access, map its role ARN instead.",
                    p = arn.partition(),
                    a = arn.account()
                ),
            );
            return Outcome::Dead;
        }
        Principal::Role { path, name } if !path.is_empty() => {
            let slr = if path.starts_with("aws-service-role/") {
                " (it is a service-linked role, which access entries cannot name anyway)"
            } else {
                ""
            };
            say(
                FindingCode::DeadRolePath,
                Severity::Warning,
                format!(
                    "role ARN includes the IAM path `/{path}`{slr}; the authenticator compares callers' path-less role ARNs, so this row never matched and grants nothing. It is not migrated, because that would grant new access; if it was meant to work, map arn:{p}:iam::{a}:role/{name} instead.",
                    p = arn.partition(),
                    a = arn.account()
                ),
            );
            return Outcome::Dead;
        }
        Principal::Role { name, .. } => (Kind::Role, name, ""),
        Principal::User { path, name } => (Kind::User, name, path),
        Principal::Root => {
            say(
                FindingCode::UnsupportedPrincipal,
                Severity::Blocker,
                format!(
                    "`{arn}` is the account root; aws-auth authenticates it, but an access entry cannot name it. Grant an IAM role instead, then delete this row."
                ),
            );
            return Outcome::Blocked;
        }
        Principal::Other => {
            if arn.service() == "sts" && arn.resource().starts_with("federated-user/") {
                say(
                    FindingCode::UnsupportedPrincipal,
                    Severity::Blocker,
                    format!(
                        "`{arn}` is an STS federated user; aws-auth authenticates it, but access entries cannot name STS principals. Move these callers to an IAM role, then delete this row."
                    ),
                );
                return Outcome::Blocked;
            }
            say(
                FindingCode::InvalidEntry,
                Severity::Warning,
                format!(
                    "`{arn}` names no IAM role or user (IAM groups and other resources never authenticate), so the row grants nothing and is not migrated. Map the role or users instead."
                ),
            );
            return Outcome::Dead;
        }
    };

    match (row.section, kind) {
        (Section::MapUsers, Kind::Role) => say(
            FindingCode::RoleUnderMapUsers,
            Severity::Info,
            "a role ARN under mapUsers; the authenticator matches it like a mapRoles row, so its entry is planned the same way. Move it to mapRoles for clarity.".to_owned(),
        ),
        (Section::MapRoles, Kind::User) => say(
            FindingCode::UserUnderMapRoles,
            Severity::Info,
            "a user ARN under mapRoles; the authenticator matches it all the same, so its entry is planned. Move it to mapUsers for clarity.".to_owned(),
        ),
        _ => {}
    }

    if kind == Kind::Role && name.starts_with("AWSServiceRoleFor") {
        say(
            FindingCode::ServiceLinkedRole,
            Severity::Blocker,
            format!(
                "`{name}` is a service-linked role; aws-auth authenticates it, but EKS refuses access entries for service-linked roles, so switching to API mode would remove its access. {}",
                service_linked_advice(name)
            ),
        );
        return Outcome::Blocked;
    }

    let Some(facts) = ctx.facts else {
        if name.starts_with("AWSReservedSSO_") {
            say(
                FindingCode::PathUnresolved,
                Severity::Warning,
                format!(
                    "IAM Identity Center role `{name}` lives under /aws-reserved/sso.amazonaws.com/, and EKS rejects the path-less ARN; pass --facts (or run the live plan) to resolve it. The aws-cli and terraform outputs look the path up at run time."
                ),
            );
        }
        return Outcome::Resolved(Resolved {
            kind,
            arn: arn.to_string(),
            account: arn.account().to_owned(),
        });
    };

    match facts.resolution(&row.arn) {
        Some(IamResolution::Found { arn: real }) => {
            let real_arn: Arn = match real.parse() {
                Ok(a) => a,
                Err(error) => {
                    say(
                        FindingCode::PathUnresolved,
                        Severity::Blocker,
                        format!(
                            "the facts resolve this principal to an unusable ARN ({error}); re-gather the facts."
                        ),
                    );
                    return Outcome::Blocked;
                }
            };
            if !same_principal(&arn, &real_arn) {
                say(
                    FindingCode::PathUnresolved,
                    Severity::Blocker,
                    format!(
                        "the facts resolve `{}` to `{real}`, which is not the same principal (partition, account, kind and name must match; only the path may differ). Using it would grant someone else access; re-gather the facts.",
                        row.arn
                    ),
                );
                return Outcome::Blocked;
            }
            if let Principal::Role { path, .. } = real_arn.principal()
                && path.starts_with("aws-service-role/")
            {
                say(
                    FindingCode::ServiceLinkedRole,
                    Severity::Blocker,
                    format!(
                        "`{real}` is a service-linked role; EKS refuses access entries for it, so switching to API mode would remove its access. {}",
                        service_linked_advice(real)
                    ),
                );
                return Outcome::Blocked;
            }
            if kind == Kind::User && !real.eq_ignore_ascii_case(&row.arn) {
                say(
                    FindingCode::DeadUserPath,
                    Severity::Warning,
                    format!(
                        "the user's real ARN is `{real}` (IAM path `/{path}` written here), and the authenticator compares user ARNs with their path, so this row never matched and grants nothing. It is not migrated; map `{real}` if this user should have access."
                    ),
                );
                return Outcome::Dead;
            }
            Outcome::Resolved(Resolved {
                kind,
                arn: real_arn.to_string(),
                account: real_arn.account().to_owned(),
            })
        }
        Some(IamResolution::NotFound) => {
            say(
                FindingCode::PrincipalNotFound,
                Severity::Blocker,
                format!(
                    "IAM in account {} has no {} `{name}`. The row grants nothing today but would grant again if someone re-created the principal; EKS cannot create an entry for a missing principal. Delete the row if the principal is gone for good.",
                    arn.account(),
                    kind_name(kind)
                ),
            );
            Outcome::Blocked
        }
        Some(IamResolution::Unresolvable { reason }) => {
            say(
                FindingCode::PathUnresolved,
                Severity::Blocker,
                format!(
                    "the real ARN (with IAM path) of `{}` could not be looked up: {reason}. EKS needs the full ARN; deploy the member role in account {} (or grant it iam:Get{}) and plan again.",
                    row.arn,
                    arn.account(),
                    if kind == Kind::Role { "Role" } else { "User" }
                ),
            );
            Outcome::Blocked
        }
        None => {
            say(
                FindingCode::PathUnresolved,
                Severity::Blocker,
                format!(
                    "the facts carry no IAM resolution for `{}`; EKS needs the principal's full ARN with its IAM path. Re-gather the facts (the live plan does this) and plan again.",
                    row.arn
                ),
            );
            Outcome::Blocked
        }
    }
}

/// True when `resolved` names the principal `written` names: same partition, account, kind and
/// name (IAM names are case-insensitive), whatever the path.
fn same_principal(written: &Arn, resolved: &Arn) -> bool {
    let identity = |arn: &Arn| match arn.principal() {
        Principal::Role { name, .. } => Some((Kind::Role, name.to_lowercase())),
        Principal::User { name, .. } => Some((Kind::User, name.to_lowercase())),
        _ => None,
    };
    written.partition() == resolved.partition()
        && written.account() == resolved.account()
        && identity(written).is_some()
        && identity(written) == identity(resolved)
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Role => "role",
        Kind::User => "user",
    }
}

/// What actually works for a service-linked role mapped in aws-auth.
fn service_linked_advice(role: &str) -> &'static str {
    if role.ends_with("AWSServiceRoleForAmazonEMRContainers") {
        // EMR on EKS told users to map this role path-less in aws-auth. Its access-entry
        // integration only covers virtual clusters created on a cluster that already uses access
        // entries (EMR then creates the entry itself).
        "EMR on EKS: existing EMR virtual clusters cannot move to access entries; they keep working only while aws-auth is read (CONFIG_MAP or API_AND_CONFIG_MAP). Once this cluster is in API_AND_CONFIG_MAP, re-create each virtual cluster: a virtual cluster created on a cluster that uses access entries gets its access entry from EMR. Then delete the old virtual clusters and this row."
    } else {
        "Find the service that needs cluster access and grant it another way (many AWS services now create their own access entry when set up on a cluster in API_AND_CONFIG_MAP or API mode), then delete this row."
    }
}
