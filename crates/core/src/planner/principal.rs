//! Which IAM principal a row names, whether it can ever match a caller, and its real ARN.

use super::context::Context;
use crate::arn::{Arn, Principal};
use crate::aws_auth::mapping::{Row, Section};
use crate::facts::IamResolution;
use crate::finding::{Finding, FindingCode, Location, Severity};

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

/// Classifies a row's ARN and resolves its real ARN from the facts, in named steps: parse it,
/// tell what kind of principal it names (or why it never matched), note a section it is not
/// usually in, refuse service-linked roles, then resolve it offline or through the facts.
pub(super) fn resolve(row: &Row, ctx: &Context<'_>, findings: &mut Vec<Finding>) -> Outcome {
    let mut say = Say {
        loc: row.location(),
        findings,
    };
    let Some(arn) = parse_arn(row, &mut say) else {
        return Outcome::Dead;
    };
    let (kind, name, path) = match classify(&arn, &mut say) {
        Ok(named) => named,
        Err(outcome) => return outcome,
    };
    note_section(row.section, kind, &mut say);
    if kind == Kind::Role && name.starts_with("AWSServiceRoleFor") {
        say.say(
            FindingCode::ServiceLinkedRole,
            Severity::Blocker,
            format!(
                "`{name}` is a service-linked role; aws-auth authenticates it, but EKS refuses access entries for service-linked roles, so switching to API mode would remove its access. {}",
                service_linked_advice(name)
            ),
        );
        return Outcome::Blocked;
    }
    let named = Named {
        row,
        arn: &arn,
        kind,
        name,
        path,
    };
    match ctx.facts {
        None => offline(&named, &mut say),
        Some(facts) => match facts.resolution(&row.arn) {
            Some(IamResolution::Found { arn: real }) => found(&named, real, &mut say),
            Some(IamResolution::NotFound) => missing(&named, &mut say),
            Some(IamResolution::Unresolvable { reason }) => {
                unresolved(&named, Some(reason), &mut say)
            }
            None => unresolved(&named, None, &mut say),
        },
    }
}

/// Findings about one row: each carries the row's location.
struct Say<'f> {
    loc: Location,
    findings: &'f mut Vec<Finding>,
}

impl Say<'_> {
    fn say(&mut self, code: FindingCode, severity: Severity, message: String) {
        self.findings
            .push(Finding::at(self.loc.clone(), code, severity, message));
    }
}

/// A row's principal once its kind is known.
struct Named<'a> {
    row: &'a Row,
    arn: &'a Arn,
    kind: Kind,
    name: &'a str,
    path: &'a str,
}

/// The row's ARN, or `None` (with a finding) when it does not parse: the row never matches.
fn parse_arn(row: &Row, say: &mut Say<'_>) -> Option<Arn> {
    match row.arn.parse() {
        Ok(arn) => Some(arn),
        Err(error) => {
            say.say(
                FindingCode::InvalidEntry,
                Severity::Warning,
                format!(
                    "{error}; it never matches a caller, so the row grants nothing and is not migrated. Fix or delete the row."
                ),
            );
            None
        }
    }
}

/// The kind, name and path of the role or user `arn` names, or the outcome (with its finding)
/// of an ARN that never matches (sessions, role ARNs with a path, non-principals) or that an
/// access entry cannot name (the account root, federated users).
fn classify<'a>(arn: &'a Arn, say: &mut Say<'_>) -> Result<(Kind, &'a str, &'a str), Outcome> {
    match arn.principal() {
        Principal::AssumedRole { role } => {
            say.say(
                FindingCode::DeadStsArn,
                Severity::Warning,
                format!(
                    "`{arn}` is an STS session ARN; the authenticator compares callers' role ARNs (arn:{p}:iam::{a}:role/{role}), so this row never matched and grants nothing. It is not migrated; if role {role} should have access, map its role ARN instead.",
                    p = arn.partition(),
                    a = arn.account()
                ),
            );
            Err(Outcome::Dead)
        }
        Principal::Role { path, name } if !path.is_empty() => {
            let slr = if path.starts_with("aws-service-role/") {
                " (it is a service-linked role, which access entries cannot name anyway)"
            } else {
                ""
            };
            say.say(
                FindingCode::DeadRolePath,
                Severity::Warning,
                format!(
                    "role ARN includes the IAM path `/{path}`{slr}; the authenticator compares callers' path-less role ARNs, so this row never matched and grants nothing. It is not migrated, because that would grant new access; if it was meant to work, map arn:{p}:iam::{a}:role/{name} instead.",
                    p = arn.partition(),
                    a = arn.account()
                ),
            );
            Err(Outcome::Dead)
        }
        Principal::Role { name, .. } => Ok((Kind::Role, name, "")),
        Principal::User { path, name } => Ok((Kind::User, name, path)),
        Principal::Root => {
            say.say(
                FindingCode::UnsupportedPrincipal,
                Severity::Blocker,
                format!(
                    "`{arn}` is the account root; aws-auth authenticates it, but an access entry cannot name it. Grant an IAM role instead, then delete this row."
                ),
            );
            Err(Outcome::Blocked)
        }
        Principal::Other
            if arn.service() == "sts" && arn.resource().starts_with("federated-user/") =>
        {
            say.say(
                FindingCode::UnsupportedPrincipal,
                Severity::Blocker,
                format!(
                    "`{arn}` is an STS federated user; aws-auth authenticates it, but access entries cannot name STS principals. Move these callers to an IAM role, then delete this row."
                ),
            );
            Err(Outcome::Blocked)
        }
        Principal::Other => {
            say.say(
                FindingCode::InvalidEntry,
                Severity::Warning,
                format!(
                    "`{arn}` names no IAM role or user (IAM groups and other resources never authenticate), so the row grants nothing and is not migrated. Map the role or users instead."
                ),
            );
            Err(Outcome::Dead)
        }
    }
}

/// A role under mapUsers or a user under mapRoles works all the same: say so.
fn note_section(section: Section, kind: Kind, say: &mut Say<'_>) {
    match (section, kind) {
        (Section::MapUsers, Kind::Role) => say.say(
            FindingCode::RoleUnderMapUsers,
            Severity::Info,
            "a role ARN under mapUsers; the authenticator matches it like a mapRoles row, so its entry is planned the same way. Move it to mapRoles for clarity.".to_owned(),
        ),
        (Section::MapRoles, Kind::User) => say.say(
            FindingCode::UserUnderMapRoles,
            Severity::Info,
            "a user ARN under mapRoles; the authenticator matches it all the same, so its entry is planned. Move it to mapUsers for clarity.".to_owned(),
        ),
        _ => {}
    }
}

/// Without facts the ARN is used as written (an IAM Identity Center role's path is known to be
/// missing: say so).
fn offline(named: &Named<'_>, say: &mut Say<'_>) -> Outcome {
    if named.name.starts_with("AWSReservedSSO_") {
        say.say(
            FindingCode::PathUnresolved,
            Severity::Warning,
            format!(
                "IAM Identity Center role `{}` lives under /aws-reserved/sso.amazonaws.com/, and EKS rejects the path-less ARN; pass --facts (or run the live plan) to resolve it. The aws-cli and terraform outputs look the path up at run time.",
                named.name
            ),
        );
    }
    Outcome::Resolved(Resolved {
        kind: named.kind,
        arn: named.arn.to_string(),
        account: named.arn.account().to_owned(),
    })
}

/// IAM knows the principal as `real`: resolved, unless `real` is unusable, names someone else,
/// is a service-linked role, or shows that a user row's path never matched.
fn found(named: &Named<'_>, real: &str, say: &mut Say<'_>) -> Outcome {
    let real_arn: Arn = match real.parse() {
        Ok(a) => a,
        Err(error) => {
            say.say(
                FindingCode::PathUnresolved,
                Severity::Blocker,
                format!(
                    "the facts resolve this principal to an unusable ARN ({error}); re-gather the facts."
                ),
            );
            return Outcome::Blocked;
        }
    };
    if !same_principal(named.arn, &real_arn) {
        say.say(
            FindingCode::PathUnresolved,
            Severity::Blocker,
            format!(
                "the facts resolve `{}` to `{real}`, which is not the same principal (partition, account, kind and name must match; only the path may differ). Using it would grant someone else access; re-gather the facts.",
                named.row.arn
            ),
        );
        return Outcome::Blocked;
    }
    if let Principal::Role { path, .. } = real_arn.principal()
        && path.starts_with("aws-service-role/")
    {
        say.say(
            FindingCode::ServiceLinkedRole,
            Severity::Blocker,
            format!(
                "`{real}` is a service-linked role; EKS refuses access entries for it, so switching to API mode would remove its access. {}",
                service_linked_advice(real)
            ),
        );
        return Outcome::Blocked;
    }
    if named.kind == Kind::User && !real.eq_ignore_ascii_case(&named.row.arn) {
        say.say(
            FindingCode::DeadUserPath,
            Severity::Warning,
            format!(
                "the user's real ARN is `{real}` (IAM path `/{}` written here), and the authenticator compares user ARNs with their path, so this row never matched and grants nothing. It is not migrated; map `{real}` if this user should have access.",
                named.path
            ),
        );
        return Outcome::Dead;
    }
    Outcome::Resolved(Resolved {
        kind: named.kind,
        arn: real_arn.to_string(),
        account: real_arn.account().to_owned(),
    })
}

/// IAM says the principal does not exist: blocked (re-creating it would revive the row).
fn missing(named: &Named<'_>, say: &mut Say<'_>) -> Outcome {
    say.say(
        FindingCode::PrincipalNotFound,
        Severity::Blocker,
        format!(
            "IAM in account {} has no {} `{}`. The row grants nothing today but would grant again if someone re-created the principal; EKS cannot create an entry for a missing principal. Delete the row if the principal is gone for good.",
            named.arn.account(),
            kind_name(named.kind),
            named.name
        ),
    );
    Outcome::Blocked
}

/// The principal's real ARN is not known — the lookup failed (`reason`) or the facts say
/// nothing: blocked, since EKS needs the full ARN.
fn unresolved(named: &Named<'_>, reason: Option<&str>, say: &mut Say<'_>) -> Outcome {
    let written = &named.row.arn;
    let message = match reason {
        Some(reason) => format!(
            "the real ARN (with IAM path) of `{written}` could not be looked up: {reason}. EKS needs the full ARN; deploy the member role in account {} (or grant it iam:Get{}) and plan again.",
            named.arn.account(),
            if named.kind == Kind::Role {
                "Role"
            } else {
                "User"
            }
        ),
        None => format!(
            "the facts carry no IAM resolution for `{written}`; EKS needs the principal's full ARN with its IAM path. Re-gather the facts (the live plan does this) and plan again."
        ),
    };
    say.say(FindingCode::PathUnresolved, Severity::Blocker, message);
    Outcome::Blocked
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
