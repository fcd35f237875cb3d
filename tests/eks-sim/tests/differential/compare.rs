//! The comparison: for one ConfigMap's data, ask both readers who every caller the ConfigMap
//! could concern is, and name every disagreement with the caller, both answers and the rows.
//!
//! The callers asked: for every ARN any row of either reader names, the canonical ARN a caller
//! of that principal has (a role's session: `arn:P:iam::A:role/NAME`, its path dropped; a user:
//! the ARN itself) in its own case, lower case and upper case; an unmapped user of every account
//! `mapAccounts` lists (either reader's list; a real caller's account is never empty); and a
//! caller nothing maps.
//!
//! One deliberate difference is not one: the authenticator keeps a list item that is not a
//! string (or is `""`) as an empty group name, the product drops it with a finding. Kubernetes
//! cannot bind a group named "" (an RBAC subject needs a name, an access entry refuses it), so
//! empty group names are left out on both sides before comparing.

use std::collections::BTreeMap;

use aws_auth_reference::{AwsAuth as Reference, Identity, Lookup, Source};
use eks_auth_core::aws_auth::{AwsAuth as Product, MappedIdentity};
use eks_auth_core::plan::Section;

/// Every disagreement between the readers on `data`, one line each, naming `name`.
pub fn disagreements(name: &str, data: &BTreeMap<String, String>) -> Vec<String> {
    let product = Product::parse_data(data);
    let reference = Reference::from_data(data);
    let mut out = Vec::new();
    for (caller, account) in callers(&product, &reference) {
        let ours = product.map_identity(&caller, &account);
        let theirs = reference.lookup_canonical(&caller, &account);
        if let Some(why) = differ(ours.as_ref(), &theirs) {
            out.push(format!(
                "{name}: caller {caller} (account {account}): {why}\n  product:   {}\n  reference: {}\n  row text:  {}",
                product_answer(ours.as_ref()),
                reference_answer(&theirs),
                row_text(&product, ours.as_ref(), &theirs),
            ));
        }
    }
    out
}

/// Panics with every disagreement on `data`.
pub fn assert_agree(name: &str, data: &BTreeMap<String, String>) {
    assert_none(&disagreements(name, data));
}

/// Panics listing `found` unless it is empty.
pub fn assert_none(found: &[String]) {
    assert!(
        found.is_empty(),
        "the product's aws-auth reader and the reference disagree ({}):\n{}",
        found.len(),
        found.join("\n")
    );
}

fn callers(product: &Product, reference: &Reference) -> Vec<(String, String)> {
    let mut arns: Vec<String> = product.rows.iter().map(|r| r.arn.clone()).collect();
    arns.extend(reference.row_arns());
    let mut out = Vec::new();
    for arn in arns {
        let Some((canonical, account)) = canonical_caller(&arn) else {
            continue;
        };
        for variant in [
            canonical.clone(),
            canonical.to_lowercase(),
            canonical.to_uppercase(),
        ] {
            out.push((variant, account.clone()));
        }
    }
    let accounts = product
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .chain(reference.accounts.iter().cloned())
        .filter(|a| !a.is_empty());
    for account in accounts {
        out.push((
            format!("arn:aws:iam::{account}:user/differential-nobody"),
            account,
        ));
    }
    out.push((
        "arn:aws:iam::999999999999:user/differential-nobody".to_owned(),
        "999999999999".to_owned(),
    ));
    out.sort();
    out.dedup();
    out
}

/// The canonical ARN a caller of the principal `arn` names has, with its account.
fn canonical_caller(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts.as_slice() else {
        return None;
    };
    let (kind, rest) = resource.split_once('/')?;
    let canonical = match (service.to_ascii_lowercase().as_str(), kind) {
        ("iam", "role") => {
            let name = rest.rsplit('/').next()?;
            format!("arn:{partition}:iam::{account}:role/{name}")
        }
        ("iam", "user") => arn.to_owned(),
        ("sts", "assumed-role") => {
            let (role, _) = rest.split_once('/')?;
            format!("arn:{partition}:iam::{account}:role/{role}")
        }
        _ => return None,
    };
    Some((canonical, (*account).to_owned()))
}

fn differ(ours: Option<&MappedIdentity>, theirs: &Lookup) -> Option<&'static str> {
    match (ours, theirs) {
        (None, Lookup::NotMapped) => None,
        (Some(_), Lookup::NotMapped) => Some("the product maps a caller the authenticator refuses"),
        (None, Lookup::Mapped(_) | Lookup::Ambiguous(_)) => {
            Some("the product refuses a caller the authenticator maps")
        }
        (Some(o), Lookup::Mapped(t)) => {
            if !same_identity(o, t) {
                Some("different identities")
            } else {
                None
            }
        }
        (Some(o), Lookup::Ambiguous(all)) => {
            if all.iter().any(|t| same_identity(o, t)) {
                None
            } else {
                Some("the product's identity is none of those the authenticator may give")
            }
        }
    }
}

fn same_identity(o: &MappedIdentity, t: &Identity) -> bool {
    let row = t.row.map(|r| {
        let section = match r.key {
            Source::MapRoles => Section::MapRoles,
            _ => Section::MapUsers,
        };
        (section, r.index)
    });
    o.username == t.username && named(&o.groups) == named(&t.groups) && o.row == row
}

/// The group names RBAC can bind: all but empty ones.
fn named(groups: &[String]) -> Vec<&String> {
    groups.iter().filter(|g| !g.is_empty()).collect()
}

fn product_answer(ours: Option<&MappedIdentity>) -> String {
    match ours {
        None => "not mapped".to_owned(),
        Some(m) => format!(
            "{:?} username={:?} groups={:?}",
            m.row, m.username, m.groups
        ),
    }
}

fn reference_answer(theirs: &Lookup) -> String {
    let one = |i: &Identity| {
        format!(
            "{:?} username={:?} groups={:?}",
            i.row.map(|r| (r.key, r.index)),
            i.username,
            i.groups
        )
    };
    match theirs {
        Lookup::NotMapped => "not mapped".to_owned(),
        Lookup::Mapped(i) => one(i),
        Lookup::Ambiguous(all) => format!(
            "any of [{}]",
            all.iter().map(one).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// The product's parsed row(s) either answer points at, to name the row.
fn row_text(product: &Product, ours: Option<&MappedIdentity>, theirs: &Lookup) -> String {
    let mut refs: Vec<(Section, usize)> = ours.and_then(|m| m.row).into_iter().collect();
    let theirs_rows: Vec<Identity> = match theirs {
        Lookup::Mapped(i) => vec![i.clone()],
        Lookup::Ambiguous(all) => all.clone(),
        Lookup::NotMapped => Vec::new(),
    };
    for i in theirs_rows {
        if let Some(r) = i.row {
            let section = if r.key == Source::MapRoles {
                Section::MapRoles
            } else {
                Section::MapUsers
            };
            refs.push((section, r.index));
        }
    }
    refs.dedup();
    refs.iter()
        .map(|(section, index)| {
            product
                .rows
                .iter()
                .find(|r| r.section == *section && r.index == *index)
                .map_or_else(
                    || format!("{}[{index}] (no such row in the product)", section.as_str()),
                    |r| {
                        format!(
                            "{}[{index}] line {}: arn={:?} username={:?} groups={:?} status={:?}",
                            section.as_str(),
                            r.line,
                            r.arn,
                            r.username,
                            r.groups,
                            r.status
                        )
                    },
                )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
