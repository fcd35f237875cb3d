//! ClusterRole aggregation, resolved the way Kubernetes' clusterrole-aggregation controller does
//! it: an aggregated role's rules are, for each of its selectors in order, the rules of every
//! other ClusterRole the selector matches (sorted by name), without repeating an equal rule.
//! The controller reads each source role's stored rules, which for an aggregated source are its
//! own aggregated rules, so aggregation is transitive (`view` → `edit` → `admin`).
//!
//! Where the controller's result is not well defined, the role is unresolved instead of guessed:
//! aggregation cycles (the outcome depends on the order the controller happened to run in),
//! selectors with an unknown operator, and sources that could not be read.

use super::model::PolicyRule;
use super::model::Rbac;
use crate::finding::{Finding, FindingCode, Severity};
use std::collections::BTreeMap;

/// Every ClusterRole's effective rules, or why they are not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Effective rules per ClusterRole name; `Err` holds why they are unknown.
    pub cluster_roles: BTreeMap<String, Result<Vec<PolicyRule>, String>>,
    /// Cycles and unusable selectors.
    pub findings: Vec<Finding>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Visiting,
    Done,
}

/// Resolves every ClusterRole of `rbac`.
pub fn resolve(rbac: &Rbac) -> Resolved {
    let mut out = Resolved::default();
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for name in rbac.cluster_roles.keys() {
        let mut stack = Vec::new();
        visit(rbac, name, &mut marks, &mut stack, &mut out);
    }
    out
}

/// The roles aggregated role `name`'s selectors pick, in the controller's order, or why not.
fn sources<'a>(rbac: &'a Rbac, name: &str) -> Result<Vec<&'a str>, String> {
    let role = &rbac.cluster_roles[name];
    let selectors = role.aggregation.as_deref().unwrap_or_default();
    if let Some(why) = &rbac.unreadable.labels {
        return Err(format!(
            "it aggregates by labels, and {why}, so what it selects is unknown"
        ));
    }
    let mut picked = Vec::new();
    for selector in selectors {
        for (other, other_role) in &rbac.cluster_roles {
            if other == name {
                continue;
            }
            match selector.matches(&other_role.labels) {
                Ok(true) => picked.push(other.as_str()),
                Ok(false) => {}
                Err(e) => return Err(format!("its aggregation rule cannot be evaluated: {e}")),
            }
        }
        for (other, why) in &rbac.unreadable.cluster_roles {
            let labels = rbac.unreadable.cluster_role_labels.get(other);
            let may_match = labels.is_none_or(|l| selector.matches(l).unwrap_or(true));
            if may_match {
                return Err(format!(
                    "it may aggregate ClusterRole {other}, which cannot be read ({why})"
                ));
            }
        }
    }
    Ok(picked)
}

fn visit<'a>(
    rbac: &'a Rbac,
    name: &'a str,
    marks: &mut BTreeMap<&'a str, Mark>,
    stack: &mut Vec<&'a str>,
    out: &mut Resolved,
) {
    match marks.get(name) {
        Some(Mark::Done) => return,
        Some(Mark::Visiting) => {
            let start = stack.iter().position(|n| *n == name).unwrap_or(0);
            let mut cycle: Vec<&str> = stack[start..].to_vec();
            cycle.push(name);
            let path = cycle.join(" → ");
            out.findings.push(Finding::general(
                FindingCode::RbacAggregationCycle,
                Severity::Warning,
                format!("ClusterRole aggregation cycle {path}: each role's rules depend on the order the clusterrole-aggregation controller ran in, so they are not known; groups and users bound to these roles (or to roles aggregating them) get no suggestion. Remove a label or selector to break the cycle."),
            ));
            for member in &cycle {
                out.cluster_roles.insert(
                    (*member).to_owned(),
                    Err(format!("it is in the aggregation cycle {path}")),
                );
            }
            return;
        }
        None => {}
    }
    let role = &rbac.cluster_roles[name];
    if role.aggregation.is_none() {
        out.cluster_roles
            .insert(name.to_owned(), Ok(role.rules.clone()));
        marks.insert(name, Mark::Done);
        return;
    }
    marks.insert(name, Mark::Visiting);
    stack.push(name);
    let result = match sources(rbac, name) {
        Err(why) => {
            out.findings.push(Finding::general(
                FindingCode::RbacInvalid,
                Severity::Warning,
                format!(
                    "ClusterRole {name}: {why}; groups and users bound to it get no suggestion."
                ),
            ));
            Err(why)
        }
        Ok(picked) => {
            let mut rules: Vec<PolicyRule> = Vec::new();
            let mut failed = None;
            for source in picked {
                visit(rbac, source, marks, stack, out);
                match out.cluster_roles.get(source) {
                    Some(Ok(source_rules)) => {
                        for rule in source_rules {
                            if !rules.contains(rule) {
                                rules.push(rule.clone());
                            }
                        }
                    }
                    Some(Err(why)) => {
                        failed.get_or_insert_with(|| {
                            format!("it aggregates ClusterRole {source}, whose rules are unknown ({why})")
                        });
                    }
                    None => {}
                }
            }
            failed.map_or(Ok(rules), Err)
        }
    };
    stack.pop();
    marks.insert(name, Mark::Done);
    // A cycle found below already recorded this role as unresolved: keep that.
    if !matches!(out.cluster_roles.get(name), Some(Err(_))) {
        out.cluster_roles.insert(name.to_owned(), result);
    }
}
