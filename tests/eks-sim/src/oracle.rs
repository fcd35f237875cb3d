//! The effective-access oracle: what Kubernetes identity and access policies a principal gets
//! on a cluster right now, from the current mode, access entries and aws-auth.
//!
//! aws-auth is read by `aws-auth-reference` (tests/authenticator), the independent reader
//! written from aws-iam-authenticator's behaviour: nothing here comes from eks-auth-core's
//! reader, so the oracle can judge it.

use aws_auth_reference::template::{self, Context, RenderError};
use aws_auth_reference::{AwsAuth, Lookup};
use serde::Serialize;

use crate::model::{AccessScope, AuthMode, Cluster, World};

/// Where the effective identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An access entry.
    AccessEntry,
    /// A mapRoles / mapUsers row of aws-auth.
    AwsAuth,
    /// A mapAccounts item of aws-auth.
    AwsAuthAccount,
    /// The cluster creator's implicit admin rights in CONFIG_MAP mode.
    Creator,
}

/// An access policy granted through an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyGrant {
    /// Policy ARN.
    pub policy_arn: String,
    /// Scope.
    pub scope: AccessScope,
}

/// What a principal gets on a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveAccess {
    /// Where it came from.
    pub source: Source,
    /// Username template as configured (`{{SessionName}}` etc. not rendered).
    pub username: String,
    /// Group templates as configured.
    pub groups: Vec<String>,
    /// Access policies (entries only).
    pub policies: Vec<PolicyGrant>,
    /// Username rendered for the session given, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_username: Option<String>,
    /// Groups rendered for the session given, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_groups: Option<Vec<String>>,
}

/// A caller as the authenticator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Account ID.
    pub account: String,
    /// Canonical ARN used to match aws-auth (`arn:aws:iam::A:role/NAME`, no path, or user ARN).
    pub canonical_arn: String,
    /// Full IAM ARN (with path) used to match access entries.
    pub full_arn: String,
    /// Session name for assumed roles.
    pub session_name: Option<String>,
    /// Access key ID, when known.
    pub access_key_id: Option<String>,
}

/// Failure to interpret an oracle question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OracleError {
    /// The principal is not an IAM role/user ARN or an STS assumed-role ARN.
    #[error("not a principal ARN: {0}")]
    Principal(String),
}

impl Principal {
    /// Interprets `arn`: an IAM role (with or without path), an IAM user, or an STS
    /// assumed-role session ARN. Path-less role ARNs are resolved through the IAM view.
    ///
    /// # Errors
    ///
    /// [`OracleError::Principal`] for anything else.
    pub fn from_arn(world: &World, arn: &str) -> Result<Self, OracleError> {
        let bad = || OracleError::Principal(arn.to_owned());
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, partition, service, _, account, resource] = parts.as_slice() else {
            return Err(bad());
        };
        let account = (*account).to_owned();
        let (role, session) = match (*service, resource.split_once('/')) {
            ("sts", Some(("assumed-role", rest))) => {
                let (role, session) = rest.split_once('/').ok_or_else(bad)?;
                (role.to_owned(), Some(session.to_owned()))
            }
            ("iam", Some(("role", rest))) => {
                (rest.rsplit('/').next().unwrap_or(rest).to_owned(), None)
            }
            ("iam", Some(("user", _))) => {
                return Ok(Self {
                    account,
                    canonical_arn: arn.to_owned(),
                    full_arn: arn.to_owned(),
                    session_name: None,
                    access_key_id: None,
                });
            }
            _ => return Err(bad()),
        };
        let canonical_arn = format!("arn:{partition}:iam::{account}:role/{role}");
        // A role ARN with a path names the role exactly; a session or a path-less ARN is
        // resolved to the role's full ARN through the IAM view (when it knows the role).
        let full_arn = if *service == "iam" && arn != canonical_arn {
            arn.to_owned()
        } else {
            world
                .role_by_name(&account, &role)
                .map_or_else(|| canonical_arn.clone(), |p| p.arn.clone())
        };
        Ok(Self {
            account,
            canonical_arn,
            full_arn,
            session_name: session,
            access_key_id: None,
        })
    }
}

/// The username EKS gives an entry when none is set: the user ARN, or
/// `arn:aws:sts::A:assumed-role/NAME/{{SessionName}}` for a role.
pub fn default_username(principal_arn: &str) -> String {
    let parts: Vec<&str> = principal_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, partition, "iam", _, account, resource] if resource.starts_with("role/") => {
            let name = resource.rsplit('/').next().unwrap_or(resource);
            format!("arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}")
        }
        _ => principal_arn.to_owned(),
    }
}

/// Renders the authenticator templates in `s` for `p` as the authenticator would
/// (`aws_auth_reference::template`).
///
/// # Errors
///
/// [`RenderError`] for `{{EC2PrivateDNSName}}` when `p`'s session is not an EC2 instance ID:
/// the authenticator refuses such a caller.
pub fn render_strict(s: &str, p: &Principal) -> Result<String, RenderError> {
    template::render(
        s,
        &Context {
            account: p.account.clone(),
            session_name: p.session_name.clone().unwrap_or_default(),
            access_key_id: p.access_key_id.clone(),
            private_dns_name: None,
        },
    )
}

/// Renders the templates in `s` for `p` for display (the oracle's `rendered_*` fields): like
/// [`render_strict`], but a template that cannot be rendered is shown as configured. The
/// simulator has no EC2, so `{{EC2PrivateDNSName}}` always stays as written.
pub fn render(s: &str, p: &Principal) -> String {
    render_strict(s, p).unwrap_or_else(|_| s.to_owned())
}

/// What `principal` gets on `cluster` right now, or `None`.
pub fn effective_access(cluster: &Cluster, principal: &Principal) -> Option<EffectiveAccess> {
    let mut access = lookup(cluster, principal)?;
    if principal.session_name.is_some() || principal.access_key_id.is_some() {
        access.rendered_username = Some(render(&access.username, principal));
        access.rendered_groups = Some(access.groups.iter().map(|g| render(g, principal)).collect());
    }
    Some(access)
}

fn lookup(cluster: &Cluster, principal: &Principal) -> Option<EffectiveAccess> {
    if cluster.mode.reads_entries()
        && let Some(e) = cluster.entries.get(&principal.full_arn).or_else(|| {
            cluster
                .entries
                .values()
                .find(|e| e.principal_arn.eq_ignore_ascii_case(&principal.full_arn))
        })
    {
        return Some(EffectiveAccess {
            source: Source::AccessEntry,
            username: e.username.clone(),
            groups: e.groups.clone(),
            policies: e
                .policies
                .values()
                .map(|p| PolicyGrant {
                    policy_arn: p.policy_arn.clone(),
                    scope: p.scope.clone(),
                })
                .collect(),
            rendered_username: None,
            rendered_groups: None,
        });
    }
    if cluster.mode == AuthMode::ConfigMap
        && cluster
            .creator
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(&principal.full_arn))
    {
        return Some(EffectiveAccess {
            source: Source::Creator,
            username: "kubernetes-admin".to_owned(),
            groups: vec!["system:masters".to_owned()],
            policies: Vec::new(),
            rendered_username: None,
            rendered_groups: None,
        });
    }
    if !cluster.mode.reads_config_map() {
        return None;
    }
    let aws_auth = AwsAuth::from_data(&cluster.aws_auth_data());
    let mapped = match aws_auth.lookup_canonical(&principal.canonical_arn, &principal.account) {
        Lookup::Mapped(identity) => identity,
        // Case-variant `mapUsers` ARNs: the authenticator answers with any of them, per
        // request (Go map order); the simulator settles on the first row.
        Lookup::Ambiguous(candidates) => candidates.into_iter().next()?,
        Lookup::NotMapped => return None,
    };
    Some(EffectiveAccess {
        source: if mapped.row.is_some() {
            Source::AwsAuth
        } else {
            Source::AwsAuthAccount
        },
        username: mapped.username,
        groups: mapped.groups,
        policies: Vec::new(),
        rendered_username: None,
        rendered_groups: None,
    })
}
