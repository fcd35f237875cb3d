//! The EKS access-policy catalogue: which policy names exist, which of them EKS reserves for its
//! own service roles, and the check of a policy file's names against a catalogue.
//!
//! Two catalogues answer "does this policy exist": [`Catalogue::bundled`], a dated copy that
//! works offline, and a live one built from ListAccessPolicies ([`Catalogue::listed`]) by the
//! adapters. The live one wins where both are at hand: AWS adds policies (4 in 2023, more than
//! 30 by 2026).

/// The date of the bundled catalogue (the newest source it was checked against).
pub const BUNDLED_DATE: &str = "2026-04-06";

/// Who an access policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Audience {
    /// People and workloads: associate it with any STANDARD entry.
    Anyone,
    /// An EKS feature's own role (Auto Mode, capabilities, HyperPod, EMR, …): EKS or the service
    /// associates it itself. Associating it by hand is possible but unusual.
    Service,
    /// "Designated for AWS service-linked roles only and cannot be used with customer-managed
    /// roles" (EKS user guide, access-policy reference).
    ServiceLinkedOnly,
}

/// One access policy of a catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyInfo {
    /// Its name (the last part of `arn:<partition>:eks::aws:cluster-access-policy/<name>`).
    pub name: &'static str,
    /// Who it is for.
    pub audience: Audience,
}

const fn anyone(name: &'static str) -> PolicyInfo {
    PolicyInfo {
        name,
        audience: Audience::Anyone,
    }
}

const fn service(name: &'static str) -> PolicyInfo {
    PolicyInfo {
        name,
        audience: Audience::Service,
    }
}

const fn slr_only(name: &'static str) -> PolicyInfo {
    PolicyInfo {
        name,
        audience: Audience::ServiceLinkedOnly,
    }
}

/// The bundled catalogue, sorted by name. Sources: the EKS user guide's access-policy
/// reference (access-policy-permissions, whose change log ends with AmazonEKSSecretReaderPolicy
/// on 2025-11-06), its EKS Capabilities security page (AmazonEKSACKPolicy,
/// AmazonEKSArgoCDClusterPolicy, AmazonEKSArgoCDPolicy, AmazonEKSKROPolicy) and a
/// ListAccessPolicies answer of April 2026 (33 policies).
pub const BUNDLED: &[PolicyInfo] = &[
    service("AIDevOpsAgentAccessPolicy"),
    service("AmazonAIOpsAssistantPolicy"),
    service("AmazonARCRegionSwitchScalingPolicy"),
    service("AmazonEKSACKPolicy"),
    anyone("AmazonEKSAdminPolicy"),
    anyone("AmazonEKSAdminViewPolicy"),
    service("AmazonEKSArgoCDClusterPolicy"),
    service("AmazonEKSArgoCDPolicy"),
    service("AmazonEKSAutoNodePolicy"),
    slr_only("AmazonEKSBlockStorageClusterPolicy"),
    slr_only("AmazonEKSBlockStoragePolicy"),
    anyone(CLUSTER_ADMIN_POLICY),
    slr_only("AmazonEKSClusterInsightsPolicy"),
    slr_only("AmazonEKSComputeClusterPolicy"),
    slr_only("AmazonEKSComputePolicy"),
    anyone("AmazonEKSEditPolicy"),
    service("AmazonEKSEventPolicy"),
    slr_only("AmazonEKSHybridPolicy"),
    service("AmazonEKSKROPolicy"),
    service("AmazonEKSLoadBalancingClusterPolicy"),
    service("AmazonEKSLoadBalancingPolicy"),
    service("AmazonEKSNetworkingClusterPolicy"),
    service("AmazonEKSNetworkingPolicy"),
    service("AmazonEKSPodIdentityPolicy"),
    anyone("AmazonEKSSecretAdminPolicy"),
    anyone("AmazonEKSSecretReaderPolicy"),
    anyone("AmazonEKSViewPolicy"),
    service("AmazonEMRJobPolicy"),
    service("AmazonSagemakerHyperpodClusterPolicy"),
    service("AmazonSagemakerHyperpodControllerPolicy"),
    service("AmazonSagemakerHyperpodSpacePolicy"),
    service("AmazonSagemakerHyperpodSpaceTemplatePolicy"),
    service("AmazonSagemakerHyperpodSystemNamespacePolicy"),
    service("AmazonSagemakerHyperpodUserClusterPolicy"),
];

/// The access policy that makes an entry a cluster administrator (what `system:masters` becomes).
pub const CLUSTER_ADMIN_POLICY: &str = "AmazonEKSClusterAdminPolicy";

/// The policies EKS associates with the cluster IAM role's entry when Auto Mode is enabled.
pub const AUTO_MODE_CLUSTER_POLICIES: &[&str] = &[
    "AmazonEKSBlockStorageClusterPolicy",
    "AmazonEKSComputeClusterPolicy",
    "AmazonEKSLoadBalancingClusterPolicy",
    "AmazonEKSNetworkingClusterPolicy",
];

/// The policy EKS associates with Auto Mode's node role (an entry of type `EC2`).
pub const AUTO_MODE_NODE_POLICY: &str = "AmazonEKSAutoNodePolicy";

/// The prefix of SageMaker HyperPod's access policies.
pub const HYPERPOD_POLICY_PREFIX: &str = "AmazonSagemakerHyperpod";

/// A set of known access-policy names and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    names: Vec<String>,
    source: String,
}

/// A policy name a catalogue does not know, or one only service-linked roles may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownPolicy {
    /// No such access policy.
    #[error(
        "`{name}` is not an EKS access policy ({catalogue}: {count} policies){hint}. Use a policy name such as AmazonEKSViewPolicy (the list: `aws eks list-access-policies`)"
    )]
    Unknown {
        /// The name as written.
        name: String,
        /// Which catalogue said so.
        catalogue: String,
        /// How many policies it knows.
        count: usize,
        /// `; did you mean X?` when a known name is close.
        hint: String,
    },
    /// A policy EKS reserves for service-linked roles.
    #[error(
        "`{name}` is designated for AWS service-linked roles only and cannot be associated with the roles and users aws-auth maps (EKS user guide, access-policy reference); choose a policy such as AmazonEKSViewPolicy or AmazonEKSEditPolicy"
    )]
    ServiceLinkedOnly {
        /// The name.
        name: String,
    },
}

impl Catalogue {
    /// The bundled catalogue ([`BUNDLED`], dated [`BUNDLED_DATE`]).
    pub fn bundled() -> Self {
        Catalogue {
            names: BUNDLED.iter().map(|p| p.name.to_owned()).collect(),
            source: format!("the bundled catalogue of {BUNDLED_DATE}"),
        }
    }

    /// A catalogue of the names ListAccessPolicies returned (`source` says where, e.g.
    /// `ListAccessPolicies in eu-west-1`).
    pub fn listed(names: impl IntoIterator<Item = String>, source: impl Into<String>) -> Self {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        names.dedup();
        Catalogue {
            names,
            source: source.into(),
        }
    }

    /// The names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Where the names came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Checks that `name` may be associated with a role or user aws-auth maps.
    ///
    /// # Errors
    ///
    /// [`UnknownPolicy::Unknown`] when the catalogue does not have it (with the closest known
    /// name), [`UnknownPolicy::ServiceLinkedOnly`] for a policy EKS reserves for service-linked
    /// roles.
    pub fn check(&self, name: &str) -> Result<(), UnknownPolicy> {
        if !self.names.iter().any(|n| n == name) {
            return Err(UnknownPolicy::Unknown {
                name: name.to_owned(),
                catalogue: self.source.clone(),
                count: self.names.len(),
                hint: closest(name, &self.names)
                    .map(|n| format!("; did you mean {n}?"))
                    .unwrap_or_default(),
            });
        }
        if info(name).is_some_and(|p| p.audience == Audience::ServiceLinkedOnly) {
            return Err(UnknownPolicy::ServiceLinkedOnly {
                name: name.to_owned(),
            });
        }
        Ok(())
    }
}

/// What the bundled catalogue says about `name`.
pub fn info(name: &str) -> Option<&'static PolicyInfo> {
    BUNDLED.iter().find(|p| p.name == name)
}

/// The known name closest to `name` (case-insensitive equality first, then the smallest edit
/// distance up to a third of the name's length).
fn closest<'a>(name: &str, names: &'a [String]) -> Option<&'a str> {
    if let Some(same) = names.iter().find(|n| n.eq_ignore_ascii_case(name)) {
        return Some(same);
    }
    let limit = name.chars().count() / 3;
    names
        .iter()
        .map(|n| (distance(&name.to_lowercase(), &n.to_lowercase()), n))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n.as_str())
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_is_sorted_without_duplicates() {
        let names: Vec<&str> = BUNDLED.iter().map(|p| p.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(names.len() > 30, "{}", names.len());
        for name in AUTO_MODE_CLUSTER_POLICIES
            .iter()
            .chain([&AUTO_MODE_NODE_POLICY])
        {
            assert!(info(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_documented_policies_for_people_pass() {
        let c = Catalogue::bundled();
        for name in [
            "AmazonEKSClusterAdminPolicy",
            "AmazonEKSAdminPolicy",
            "AmazonEKSAdminViewPolicy",
            "AmazonEKSEditPolicy",
            "AmazonEKSViewPolicy",
            "AmazonEKSSecretReaderPolicy",
        ] {
            assert_eq!(c.check(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn unknown_names_say_which_catalogue_and_the_closest_name() {
        let err = Catalogue::bundled()
            .check("AmazonEKSViewPolicyy")
            .expect_err("unknown")
            .to_string();
        assert!(err.contains("`AmazonEKSViewPolicyy` is not an EKS access policy"));
        assert!(err.contains(BUNDLED_DATE), "{err}");
        assert!(err.contains("did you mean AmazonEKSViewPolicy?"), "{err}");
        let err = Catalogue::bundled()
            .check("amazoneksadminpolicy")
            .expect_err("case matters")
            .to_string();
        assert!(err.contains("did you mean AmazonEKSAdminPolicy?"), "{err}");
        let err = Catalogue::bundled()
            .check("ReadOnly")
            .expect_err("unknown")
            .to_string();
        assert!(!err.contains("did you mean"), "{err}");
    }

    #[test]
    fn service_linked_only_policies_are_refused() {
        let err = Catalogue::bundled()
            .check("AmazonEKSComputePolicy")
            .expect_err("slr only");
        assert!(matches!(err, UnknownPolicy::ServiceLinkedOnly { .. }));
    }

    #[test]
    fn a_listed_catalogue_knows_what_the_service_listed() {
        let live = Catalogue::listed(
            [
                "AmazonEKSViewPolicy".to_owned(),
                "AmazonEKSNewPolicy".to_owned(),
            ],
            "ListAccessPolicies in eu-west-1",
        );
        assert_eq!(live.check("AmazonEKSNewPolicy"), Ok(()));
        let err = live.check("AmazonEKSEditPolicy").expect_err("not listed");
        assert!(
            err.to_string()
                .contains("ListAccessPolicies in eu-west-1: 2 policies")
        );
    }
}
