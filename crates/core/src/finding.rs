//! Findings: every problem or noteworthy decision, with where it is, what it means and what to do.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How much a finding matters for the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: a decision the planner made that a reviewer should know about.
    Info,
    /// Something is wrong or surprising but switching to API mode loses nothing because of it.
    Warning,
    /// Switching the cluster to API mode would lose access someone has today.
    Blocker,
}

impl Severity {
    /// The lower-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Blocker => "blocker",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! finding_codes {
    ($($(#[doc = $doc:expr])* $variant:ident => $name:literal,)*) => {
        /// Stable machine-readable finding codes (documented in docs/plan-format.md).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum FindingCode {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant,)*
        }

        impl FindingCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];

            /// The SCREAMING_SNAKE_CASE name used in JSON output.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $name,)*
                }
            }
        }
    };
}

finding_codes! {
    /// A data key is not valid YAML (or not a list): EKS ignores the whole key.
    YamlSyntax => "YAML_SYNTAX",
    /// A row EKS drops or that can never match (missing ARN, not a mapping, bad field type, not an IAM principal).
    InvalidEntry => "INVALID_ENTRY",
    /// A row shadowed by a later row (or a mapRoles row) for the same principal: last wins, roles first.
    DuplicatePrincipal => "DUPLICATE_PRINCIPAL",
    /// A role ARN written with an IAM path never matches: the authenticator compares path-less ARNs.
    DeadRolePath => "DEAD_ROLE_PATH",
    /// A user ARN whose path differs from the user's real path never matches.
    DeadUserPath => "DEAD_USER_PATH",
    /// An sts assumed-role ARN never matches: the authenticator compares the role ARN.
    DeadStsArn => "DEAD_STS_ARN",
    /// mapAccounts has no access-entry equivalent.
    MapAccounts => "MAP_ACCOUNTS",
    /// An `sso:` matcher row: alpha upstream, not known to work on EKS; never guessed.
    SsoMatcher => "SSO_MATCHER",
    /// Service-linked roles cannot have access entries.
    ServiceLinkedRole => "SERVICE_LINKED_ROLE",
    /// A `system:` group on a non-node principal that no access policy expresses.
    SystemGroup => "SYSTEM_GROUP",
    /// A node role row (EC2_LINUX / EC2_WINDOWS / HYBRID_LINUX), managed or not.
    NodeRole => "NODE_ROLE",
    /// A Fargate pod-execution role row: EKS creates FARGATE_LINUX entries itself.
    FargateRole => "FARGATE_ROLE",
    /// `system:masters` expressed as AmazonEKSClusterAdminPolicy at cluster scope.
    MastersToClusterAdmin => "MASTERS_TO_CLUSTER_ADMIN",
    /// A group mapped to an access policy by the user's policy file.
    GroupMappedToPolicy => "GROUP_MAPPED_TO_POLICY",
    /// The username uses a template access entries do not support.
    UsernameTemplateUnsupported => "USERNAME_TEMPLATE_UNSUPPORTED",
    /// The username starts with a prefix access entries reserve.
    UsernameReservedPrefix => "USERNAME_RESERVED_PREFIX",
    /// `{{SessionName}}` / `{{SessionNameRaw}}` need a `:` somewhere before them in an access-entry username.
    SessionNameNeedsColon => "SESSION_NAME_NEEDS_COLON",
    /// The row has no username: the entry gets EKS's default username.
    UsernameDefaulted => "USERNAME_DEFAULTED",
    /// A group uses a template: access entries do not expand templates in groups.
    GroupTemplateUnsupported => "GROUP_TEMPLATE_UNSUPPORTED",
    /// A role ARN under mapUsers (it works there; the entry is created all the same).
    RoleUnderMapUsers => "ROLE_UNDER_MAP_USERS",
    /// A user ARN under mapRoles (it works there; the entry is created all the same).
    UserUnderMapRoles => "USER_UNDER_MAP_ROLES",
    /// The principal's real ARN (with its IAM path) is not known.
    PathUnresolved => "PATH_UNRESOLVED",
    /// IAM says the principal does not exist (any more).
    PrincipalNotFound => "PRINCIPAL_NOT_FOUND",
    /// The principal is valid in aws-auth but cannot be an access-entry principal (e.g. an account root).
    UnsupportedPrincipal => "UNSUPPORTED_PRINCIPAL",
    /// An equivalent access entry already exists.
    EntryExists => "ENTRY_EXISTS",
    /// An equivalent entry the migrator did not create will be tagged as the migrator's (policy: adopt).
    EntryAdopted => "ENTRY_ADOPTED",
    /// An access entry exists for the principal and differs from what aws-auth grants.
    EntryConflict => "ENTRY_CONFLICT",
    /// A migrator-created entry lacks some planned policy associations.
    EntryIncomplete => "ENTRY_INCOMPLETE",
    /// The ConfigMap is not kube-system/aws-auth, or has no mapping keys.
    NotAwsAuth => "NOT_AWS_AUTH",
    /// An access policy grants exactly what a group's (or username's) RBAC grants.
    GroupPolicyExact => "GROUP_POLICY_EXACT",
    /// The closest access policy (or the policy file's mapping) loses permissions the RBAC grants.
    GroupPolicyLossy => "GROUP_POLICY_LOSSY",
    /// The closest access policy (or the policy file's mapping) grants more than the RBAC.
    GroupPolicyBroader => "GROUP_POLICY_BROADER",
    /// No access policy is equal to, a subset of or a (non-cluster-admin) superset of the RBAC.
    GroupPolicyNone => "GROUP_POLICY_NONE",
    /// An aws-auth group no binding names: it grants nothing.
    GroupUnbound => "GROUP_UNBOUND",
    /// A binding names a group no aws-auth row carries.
    BindingGroupUnmapped => "BINDING_GROUP_UNMAPPED",
    /// An RBAC object (or what a subject depends on) could not be read, or is not RBAC.
    RbacInvalid => "RBAC_INVALID",
    /// ClusterRoles aggregate each other in a cycle: their rules are not well defined.
    RbacAggregationCycle => "RBAC_AGGREGATION_CYCLE",
    /// A binding names a role that does not exist (it grants nothing).
    RbacRoleNotFound => "RBAC_ROLE_NOT_FOUND",
    /// A rule uses a verb the Kubernetes API server does not use.
    RbacUnknownVerb => "RBAC_UNKNOWN_VERB",
    /// An access policy whose Kubernetes rules this build does not know.
    AccessPolicyUnknown => "ACCESS_POLICY_UNKNOWN",
    /// aws-auth has an owner (GitOps controller, Helm, Terraform, eksctl, kubectl, an unknown
    /// field manager); one that would undo a prune blocks finalize until accepted.
    AwsAuthOwner => "AWS_AUTH_OWNER",
    /// The cluster belongs to an IaC tool (CloudFormation/CDK, eksctl, terraform-aws-eks, a
    /// configured tag) whose code must say API before the switch; blocks finalize until accepted.
    ClusterOwner => "CLUSTER_OWNER",
    /// Who writes aws-auth could not be read (a file without metadata or managedFields).
    OwnerUnknown => "OWNER_UNKNOWN",
    /// A partial RBAC dump lacked bootstrap ClusterRoles; Kubernetes' definitions were assumed.
    RbacBootstrapAssumed => "RBAC_BOOTSTRAP_ASSUMED",
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the ConfigMap a finding points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The data key (`mapRoles`, `mapUsers`, `mapAccounts`).
    pub key: String,
    /// 0-based row index within the key, when the finding is about one row.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<usize>,
    /// 1-based line within the key's value, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        if let Some(line) = self.line {
            write!(f, " (line {line} of {})", self.key)?;
        }
        Ok(())
    }
}

/// One problem or decision. `message` is complete on its own: where, what, why, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable machine-readable code.
    pub code: FindingCode,
    /// How much it matters.
    pub severity: Severity,
    /// Human-readable explanation, prefixed with its location when it has one.
    pub message: String,
    /// Structured location, when the finding is about a key or a row.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<Location>,
}

impl Finding {
    /// A finding about a place in the ConfigMap; the location is written into the message too.
    pub fn at(
        location: Location,
        code: FindingCode,
        severity: Severity,
        message: impl fmt::Display,
    ) -> Self {
        Finding {
            code,
            severity,
            message: format!("{location}: {message}"),
            location: Some(location),
        }
    }

    /// A finding about the cluster or the ConfigMap as a whole.
    pub fn general(code: FindingCode, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity,
            message: message.into(),
            location: None,
        }
    }
}
