//! The migration policy file: the user's explicit choices (group → access-policy mappings, what
//! to do with usernames access entries cannot carry). Documented in docs/policy-file.md.
//! The default policy grants nothing beyond what each row implied.

use crate::access_entry::{AccessScope, ScopeType};
use crate::access_policies::Catalogue;
use serde::{Deserialize, Serialize};

/// Version of the policy file format.
pub const POLICY_FORMAT_VERSION: u32 = 1;

/// Why a policy file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not valid YAML/JSON or not the documented shape.
    #[error("policy file is not valid: {0}")]
    Syntax(String),
    /// A version this build does not understand.
    #[error("policy file has version {0}; this build understands version {POLICY_FORMAT_VERSION}")]
    Version(u32),
    /// A group mapping is inconsistent.
    #[error("policy file group_policies[{index}] ({group}): {reason}")]
    GroupPolicy {
        /// Index in `group_policies`.
        index: usize,
        /// The group.
        group: String,
        /// What is wrong.
        reason: String,
    },
}

/// What to do with a row whose username an access entry cannot carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedUsername {
    /// Block the row (default): RBAC bindings on the username would break.
    #[default]
    Block,
    /// Create the entry without a username (EKS assigns its default) and warn.
    Omit,
}

/// What to do with the cluster creator's admin entry once it is visible (after the first switch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatorEntry {
    /// Keep it (default): the creator keeps the admin rights it always had.
    #[default]
    Keep,
    /// Remove it in finalize, once the cluster is in API mode and a break-glass entry exists:
    /// the creator's implicit admin was never in aws-auth and nobody chose it.
    Remove,
}

/// What to do with an access entry the migrator did not create that is already exactly what a row
/// plans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExistingEntries {
    /// Leave it alone, untagged (default).
    #[default]
    Leave,
    /// Tag it as the migrator's (`managed-by`), so status, verification and rollback treat it as
    /// migrated. Only equivalent entries are adopted: an entry that differs overrides its row
    /// today, and changing it would change access, so it is always left alone.
    Adopt,
}

/// One group → access-policy mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPolicy {
    /// The Kubernetes group as aws-auth writes it.
    pub group: String,
    /// Access policy name (`AmazonEKSViewPolicy`) or full ARN.
    pub policy: String,
    /// Scope (default: cluster).
    #[serde(default = "AccessScope::cluster")]
    pub access_scope: AccessScope,
    /// Keep the group in kubernetesGroups as well (default true; `system:` groups are always dropped).
    #[serde(default = "yes")]
    pub keep_group: bool,
    /// Permission differences between the group's RBAC and the policy that the user accepts,
    /// each exactly as the plan's RBAC analysis prints it (`create pods/eviction in payments`).
    /// Checked only when the plan reads RBAC (`plan --suggest`, docs/rbac-suggestions.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept_differences: Vec<String>,
}

fn yes() -> bool {
    true
}

impl GroupPolicy {
    /// The policy's short name, whether written as a name or an ARN.
    pub fn policy_name(&self) -> &str {
        self.policy
            .rsplit_once("cluster-access-policy/")
            .map_or(self.policy.as_str(), |(_, name)| name)
    }
}

/// The whole policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationPolicy {
    /// [`POLICY_FORMAT_VERSION`].
    pub version: u32,
    /// What to do with unsupported usernames.
    #[serde(default)]
    pub unsupported_username: UnsupportedUsername,
    /// Group → access-policy mappings.
    #[serde(default)]
    pub group_policies: Vec<GroupPolicy>,
    /// The cluster creator's admin entry: keep (default) or remove once a break-glass entry exists.
    #[serde(default)]
    pub creator_entry: CreatorEntry,
    /// Equivalent entries the migrator did not create: leave (default) or adopt.
    #[serde(default)]
    pub existing_entries: ExistingEntries,
}

impl Default for MigrationPolicy {
    fn default() -> Self {
        MigrationPolicy {
            version: POLICY_FORMAT_VERSION,
            unsupported_username: UnsupportedUsername::Block,
            group_policies: Vec::new(),
            creator_entry: CreatorEntry::Keep,
            existing_entries: ExistingEntries::Leave,
        }
    }
}

impl MigrationPolicy {
    /// Parses and validates a policy file (YAML or JSON).
    ///
    /// # Errors
    /// [`PolicyError`] when the text is not the documented shape, has another version, or a
    /// mapping is inconsistent (bad policy name, namespace scope without namespaces, duplicate group).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let policy: MigrationPolicy =
            serde_saphyr::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks a policy already deserialized some other way (e.g. embedded in the configuration
    /// document) against the same rules as [`MigrationPolicy::parse`].
    ///
    /// # Errors
    /// [`PolicyError`] for another version or an inconsistent mapping.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let policy = self;
        if policy.version != POLICY_FORMAT_VERSION {
            return Err(PolicyError::Version(policy.version));
        }
        for (index, gp) in policy.group_policies.iter().enumerate() {
            let fail = |reason: &str| PolicyError::GroupPolicy {
                index,
                group: gp.group.clone(),
                reason: reason.to_owned(),
            };
            if gp.group.is_empty() {
                return Err(fail("group must not be empty"));
            }
            let name = gp.policy_name();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(fail(
                    "policy must be an access policy name like AmazonEKSViewPolicy or its full ARN",
                ));
            }
            match gp.access_scope.scope_type {
                ScopeType::Namespace if gp.access_scope.namespaces.is_empty() => {
                    return Err(fail("a namespace scope needs at least one namespace"));
                }
                ScopeType::Cluster if !gp.access_scope.namespaces.is_empty() => {
                    return Err(fail("a cluster scope takes no namespaces"));
                }
                _ => {}
            }
            if policy.group_policies[..index]
                .iter()
                .any(|other| other.group == gp.group)
            {
                return Err(fail("group is mapped twice; merge the mappings"));
            }
        }
        Ok(())
    }

    /// Checks every mapped policy name against `catalogue` (the bundled one offline,
    /// ListAccessPolicies live).
    ///
    /// # Errors
    /// [`PolicyError::GroupPolicy`] naming the first mapping whose policy the catalogue does not
    /// know (with the closest known name) or that only service-linked roles may use.
    pub fn check_policy_names(&self, catalogue: &Catalogue) -> Result<(), PolicyError> {
        for (index, gp) in self.group_policies.iter().enumerate() {
            catalogue
                .check(gp.policy_name())
                .map_err(|e| PolicyError::GroupPolicy {
                    index,
                    group: gp.group.clone(),
                    reason: e.to_string(),
                })?;
        }
        Ok(())
    }

    /// The mappings for a group.
    pub fn mapping_for(&self, group: &str) -> Option<&GroupPolicy> {
        self.group_policies.iter().find(|gp| gp.group == group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_example() {
        let p = MigrationPolicy::parse(
            "version: 1\nunsupported_username: omit\ngroup_policies:\n  - group: read-only\n    policy: AmazonEKSViewPolicy\n    access_scope: {type: namespace, namespaces: [team-a]}\n    keep_group: false\n",
        )
        .expect("valid");
        assert_eq!(p.unsupported_username, UnsupportedUsername::Omit);
        let gp = p.mapping_for("read-only").expect("mapped");
        assert_eq!(gp.policy_name(), "AmazonEKSViewPolicy");
        assert_eq!(gp.access_scope.namespaces, vec!["team-a".to_owned()]);
        assert!(!gp.keep_group);
    }

    #[test]
    fn default_maps_nothing() {
        let p = MigrationPolicy::parse("version: 1\n").expect("valid");
        assert_eq!(p, MigrationPolicy::default());
    }

    #[test]
    fn rejects_bad_files() {
        for (text, needle) in [
            ("version: 2\n", "version 2"),
            ("version: 1\nsurprise: true\n", "not valid"),
            (
                "version: 1\ngroup_policies: [{group: a, policy: 'not a name'}]\n",
                "access policy name",
            ),
            (
                "version: 1\ngroup_policies: [{group: a, policy: AmazonEKSViewPolicy, access_scope: {type: namespace}}]\n",
                "at least one namespace",
            ),
            (
                "version: 1\ngroup_policies: [{group: a, policy: AmazonEKSViewPolicy}, {group: a, policy: AmazonEKSEditPolicy}]\n",
                "mapped twice",
            ),
        ] {
            let err = MigrationPolicy::parse(text).expect_err(text).to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }

    #[test]
    fn policy_names_are_checked_against_a_catalogue() {
        let p = MigrationPolicy::parse(
            "version: 1\ngroup_policies:\n  - {group: a, policy: AmazonEKSViewPolicy}\n  - {group: b, policy: AmazonEKSReadOnlyPolicy}\n",
        )
        .expect("structurally valid");
        let err = p
            .check_policy_names(&Catalogue::bundled())
            .expect_err("unknown name")
            .to_string();
        assert!(
            err.starts_with("policy file group_policies[1] (b): `AmazonEKSReadOnlyPolicy` is not an EKS access policy"),
            "{err}"
        );
        let ok = MigrationPolicy::parse(
            "version: 1\ngroup_policies: [{group: s, policy: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSSecretReaderPolicy'}]\n",
        )
        .expect("valid");
        assert!(ok.check_policy_names(&Catalogue::bundled()).is_ok());
    }

    #[test]
    fn accepts_policy_arns() {
        let p = MigrationPolicy::parse(
            "version: 1\ngroup_policies: [{group: a, policy: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy'}]\n",
        )
        .expect("valid");
        assert_eq!(p.group_policies[0].policy_name(), "AmazonEKSEditPolicy");
    }
}
