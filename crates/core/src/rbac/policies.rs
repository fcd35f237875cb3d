//! The Kubernetes rules of each EKS access policy, as dated data from the EKS user guide
//! (`data/eks-access-policies.yaml`), extended at run time with the names ListAccessPolicies
//! returns: a policy whose rules the data does not hold is known to exist and never suggested.

use super::model::PolicyRule;
use serde::Deserialize;
use std::sync::OnceLock;

/// The data file.
pub const ACCESS_POLICIES_YAML: &str = include_str!("../../data/eks-access-policies.yaml");

/// One access policy with its rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicyRules {
    /// Its name (`AmazonEKSViewPolicy`).
    pub name: String,
    /// False for policies the guide reserves for service-linked roles: never suggested.
    pub customer_use: bool,
    /// Its rules, as the guide's table lists them.
    pub rules: Vec<PolicyRule>,
}

/// Every access policy the data knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// The page the rules come from.
    pub source: String,
    /// The page's source file and commit.
    pub source_file: String,
    /// The date of the newest change the page records.
    pub as_of: String,
    /// Policies with rules.
    pub policies: Vec<AccessPolicyRules>,
    /// Policies the guide names without rules.
    pub described_without_rules: Vec<String>,
    /// Why the data could not be read (a build defect a test guards against); no policy is
    /// suggested then.
    #[serde(skip)]
    pub load_error: Option<String>,
}

impl Catalogue {
    /// The bundled data, read once.
    pub fn bundled() -> &'static Catalogue {
        static DATA: OnceLock<Catalogue> = OnceLock::new();
        DATA.get_or_init(|| {
            serde_saphyr::from_str(ACCESS_POLICIES_YAML).unwrap_or_else(|e: serde_saphyr::Error| {
                Catalogue {
                    load_error: Some(e.to_string()),
                    ..Catalogue::default()
                }
            })
        })
    }

    /// The policy called `name`, if the data has its rules.
    pub fn get(&self, name: &str) -> Option<&AccessPolicyRules> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The policies a suggestion may name: those with rules, meant for customers, and (when the
    /// cluster's ListAccessPolicies answer is known) offered on the cluster.
    pub fn candidates<'a>(
        &'a self,
        listed: Option<&'a [String]>,
    ) -> impl Iterator<Item = &'a AccessPolicyRules> + 'a {
        self.policies
            .iter()
            .filter(|p| p.customer_use)
            .filter(move |p| listed.is_none_or(|names| names.contains(&p.name)))
    }

    /// Names ListAccessPolicies returned whose rules the data does not hold.
    pub fn unknown<'a>(&self, listed: &'a [String]) -> Vec<&'a str> {
        listed
            .iter()
            .filter(|n| self.get(n).is_none())
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::aggregate::resolve;
    use crate::rbac::bootstrap;
    use crate::rbac::grant::{Expander, Ns};

    #[test]
    fn the_data_reads_and_every_rule_is_valid() {
        let c = Catalogue::bundled();
        assert_eq!(c.load_error, None);
        assert_eq!(c.as_of, "2025-11-06");
        assert_eq!(c.policies.len(), 7);
        for p in &c.policies {
            for r in &p.rules {
                assert_eq!(r.invalid_reason(false), None, "{}: {r:?}", p.name);
            }
        }
        let listed = vec!["AmazonEKSViewPolicy".to_owned(), "AmazonEKSNew".to_owned()];
        let names: Vec<&str> = c
            .candidates(Some(&listed))
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, vec!["AmazonEKSViewPolicy"]);
        assert_eq!(c.unknown(&listed), vec!["AmazonEKSNew"]);
        assert!(
            c.candidates(None)
                .all(|p| p.name != "AmazonEKSHybridPolicy")
        );
    }

    /// The EKS policies against Kubernetes' own roles: View is `view`; Edit and Admin are `edit`
    /// and `admin` without pods/eviction, serviceaccounts/token and leases (domain.md §7).
    #[test]
    fn eks_policies_against_the_bootstrap_roles() {
        let c = Catalogue::bundled();
        let resolved = resolve(&bootstrap::cluster_roles());
        let mut x = Expander::default();
        let all = [Ns::All];
        let role = |x: &mut Expander, name: &str| {
            let rules = resolved.cluster_roles[name].clone().expect("resolved");
            x.grant(&rules, &all)
        };
        let policy =
            |x: &mut Expander, name: &str| x.grant(&c.get(name).expect("policy").rules, &all);
        let (view, view_policy) = (role(&mut x, "view"), policy(&mut x, "AmazonEKSViewPolicy"));
        assert_eq!(view, view_policy);
        let lost_by = |x: &mut Expander, k8s: &str, eks: &str| {
            let (r, p) = (role(x, k8s), policy(x, eks));
            assert!(x.minus(&p, &r).is_empty(), "{eks} adds to {k8s}");
            x.minus(&r, &p)
                .describe(&x.symbols)
                .into_iter()
                .map(|d| d.text)
                .collect::<Vec<_>>()
        };
        let expected = vec![
            "create pods/eviction cluster-wide".to_owned(),
            "create serviceaccounts/token cluster-wide".to_owned(),
            "create,delete,deletecollection,get,list,patch,update,watch leases.coordination.k8s.io cluster-wide".to_owned(),
        ];
        assert_eq!(lost_by(&mut x, "edit", "AmazonEKSEditPolicy"), expected);
        assert_eq!(lost_by(&mut x, "admin", "AmazonEKSAdminPolicy"), expected);
        assert_eq!(
            role(&mut x, "cluster-admin"),
            policy(&mut x, "AmazonEKSClusterAdminPolicy")
        );
    }
}
