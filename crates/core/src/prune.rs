//! The aws-auth prune of the finalize phase: once every migrated principal has a verified access
//! entry, the rows those entries now represent are removed from `kube-system/aws-auth`, and
//! nothing else changes.
//!
//! # Guarantees
//! - [`prunable_rows`](crate::prune::prunable_rows) only names rows of principals whose
//!   effective row the plan marks as already carried by an equivalent access entry that `facts`
//!   shows exists: `skip` with `ENTRY_EXISTS`, or `skip` of an EKS-managed node-group
//!   (`NODE_ROLE`) / Fargate (`FARGATE_ROLE`) role whose entry of that type exists. It then names
//!   every loaded row of that principal (shadowed duplicates too, so nothing is un-shadowed). It
//!   never names a row of a principal with a `create` or `blocked` entry, a dropped row, an `sso:`
//!   row or mapAccounts.
//! - [`prune`](crate::prune::prune) leaves every key other than mapRoles/mapUsers, and every
//!   section without removed rows, byte-identical. In a block-style section the kept rows keep
//!   their exact text (header comments too); any other style is re-emitted as a block list of
//!   JSON-style flow items. The result is re-parsed and must decode to exactly the kept rows, or
//!   nothing is pruned.
//! - A section whose rows are all removed becomes `[]`: the authenticator loads no rows from it,
//!   exactly as for an absent key, and the key stays where tools that manage aws-auth expect it.

mod emit;

use crate::access_entry::{Action, EntryType};
use crate::aws_auth::Section;
use crate::aws_auth::node::{self, Node};
use crate::aws_auth::{AwsAuth, Row, RowStatus, is_skippable};
use crate::facts::{ClusterFacts, same_role};
use crate::finding::{FindingCode, Severity};
use crate::plan::{Plan, PlannedEntry};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet};

/// A row of mapRoles or mapUsers by position: the section and 0-based item index the parser
/// ([`crate::aws_auth::Row`]) and the plan ([`crate::plan::Source`]) use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowRef {
    /// The section.
    pub section: Section,
    /// 0-based index in the section's list, counting every item as written.
    pub index: usize,
}

/// Why [`prune`] left the ConfigMap unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PruneError {
    /// A row to remove does not exist.
    #[error(
        "cannot prune {section}[{index}]: {section} has {len} rows, so the plan was made from a different aws-auth. Nothing was pruned; plan again from the current ConfigMap and finalize again."
    )]
    IndexOutOfRange {
        /// The section.
        section: Section,
        /// The index asked for.
        index: usize,
        /// How many rows the section has.
        len: usize,
    },
    /// The section does not parse as a list, so its rows cannot be located.
    #[error(
        "cannot prune {section}: {detail}. Nothing was pruned; fix {section} by hand (EKS ignores the whole key while it is so), then plan and finalize again."
    )]
    NotASequence {
        /// The section.
        section: Section,
        /// What is wrong with it.
        detail: String,
    },
    /// The kept rows could not be written back in a form EKS reads identically.
    #[error(
        "cannot prune {section}: the remaining rows cannot be rewritten so that EKS reads them unchanged ({detail}). Nothing was pruned; remove the migrated rows from {section} by hand."
    )]
    Unrepresentable {
        /// The section.
        section: Section,
        /// What could not be written.
        detail: String,
    },
}

/// The key the authenticator matches a loaded, non-sso row by: its ARN, lower-cased.
fn principal_key(row: &Row) -> Option<String> {
    (row.status != RowStatus::Dropped && row.sso.is_none() && !row.arn.is_empty())
        .then(|| row.arn.to_lowercase())
}

/// True when two ARNs name the same principal (roles by account and name, whatever their paths).
fn same_principal(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || same_role(a, b)
}

/// True when the planned entry's access is already carried by an existing, equivalent entry.
fn represented(entry: &PlannedEntry, facts: &ClusterFacts) -> bool {
    if entry.action != Action::Skip
        || entry
            .findings
            .iter()
            .any(|f| f.severity == Severity::Blocker)
    {
        return false;
    }
    let (Some(principal), Some(entry_type)) = (entry.principal_arn.as_deref(), entry.entry_type)
    else {
        return false;
    };
    if facts
        .existing_entry(principal)
        .is_none_or(|e| e.entry_type != entry_type)
    {
        return false;
    }
    let has = |code| {
        entry
            .findings
            .iter()
            .any(|f| f.code == code && f.severity == Severity::Info)
    };
    has(FindingCode::EntryExists)
        || (matches!(entry_type, EntryType::Ec2Linux | EntryType::Ec2Windows)
            && has(FindingCode::NodeRole))
        || (entry_type == EntryType::FargateLinux && has(FindingCode::FargateRole))
}

/// Rows whose access is now carried by an equivalent access entry and may be removed, in
/// ConfigMap order.
///
/// A principal qualifies when its effective row's plan entry is `skip` because an equivalent
/// entry exists (`ENTRY_EXISTS`) or because EKS manages its node-group / Fargate entry, and
/// `facts` (listed after the switch) shows that entry with the planned type; then all its loaded
/// rows are returned, shadowed duplicates included. Rows of principals with a `create` or
/// `blocked` entry, dropped rows, `sso:` rows and mapAccounts are never returned. The plan must
/// be a live plan (made with facts) from `aws_auth`: an offline plan yields nothing, and a row
/// whose plan entry names a different ARN is left alone.
pub fn prunable_rows(aws_auth: &AwsAuth, plan: &Plan, facts: &ClusterFacts) -> Vec<RowRef> {
    if !plan.principals_resolved {
        // An offline plan verified nothing against the cluster.
        return Vec::new();
    }
    let entry_of = |row: &Row| {
        plan.entries.iter().find(|e| {
            e.source.section == row.section
                && e.source.index == row.index
                && e.source.arn.as_deref().unwrap_or_default() == row.arn
        })
    };
    // Principals that must keep their rows: a create/blocked entry names them.
    let pending: Vec<&str> = plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Skip)
        .flat_map(|e| [e.source.arn.as_deref(), e.principal_arn.as_deref()])
        .flatten()
        .collect();
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for row in &aws_auth.rows {
        let (Some(key), Some(entry)) = (principal_key(row), entry_of(row)) else {
            continue;
        };
        if row.status == RowStatus::Effective && represented(entry, facts) {
            keys.insert(key);
        }
    }
    keys.retain(|key| {
        aws_auth
            .rows
            .iter()
            .filter(|r| principal_key(r).as_deref() == Some(key.as_str()))
            .all(|r| {
                entry_of(r).is_some_and(|e| {
                    e.action == Action::Skip
                        && [Some(r.arn.as_str()), e.principal_arn.as_deref()]
                            .into_iter()
                            .flatten()
                            .all(|arn| !pending.iter().any(|p| same_principal(p, arn)))
                })
            })
    });
    aws_auth
        .rows
        .iter()
        .filter(|r| principal_key(r).is_some_and(|k| keys.contains(&k)))
        .map(|r| RowRef {
            section: r.section,
            index: r.index,
        })
        .collect()
}

/// The ConfigMap `data` with `rows` removed.
///
/// Keys other than mapRoles/mapUsers, and sections with no removed rows, are returned
/// byte-identical. In a block-style section the kept items keep their exact lines; otherwise the
/// kept items are re-emitted one per line as `- {…}` flow mappings (JSON-style, which the
/// authenticator reads identically). A section left without rows becomes `[]`, which the
/// authenticator treats exactly like an absent key. Duplicate refs are ignored.
///
/// # Errors
/// [`PruneError`] when a ref is out of range, a section with rows to remove is not a YAML list,
/// or the kept rows cannot be written back faithfully; nothing is pruned then.
pub fn prune(
    data: &BTreeMap<String, String>,
    rows: &[RowRef],
) -> Result<BTreeMap<String, String>, PruneError> {
    let mut out = data.clone();
    for section in [Section::MapRoles, Section::MapUsers] {
        let remove: BTreeSet<usize> = rows
            .iter()
            .filter(|r| r.section == section)
            .map(|r| r.index)
            .collect();
        let Some(&last) = remove.last() else {
            continue;
        };
        let text = data.get(section.as_str()).map_or("", String::as_str);
        let items = if is_skippable(text) {
            Vec::new()
        } else {
            parse_items(section, text)?
        };
        if last >= items.len() {
            return Err(PruneError::IndexOutOfRange {
                section,
                index: last,
                len: items.len(),
            });
        }
        let kept: Vec<&Node> = items
            .iter()
            .enumerate()
            .filter(|(i, _)| !remove.contains(i))
            .map(|(_, item)| &item.value)
            .collect();
        let pruned = if kept.is_empty() {
            "[]".to_owned()
        } else if let Some(cut) = cut_block(text, &items, &remove).filter(|t| reads_as(t, &kept)) {
            cut
        } else {
            let emitted = emit::block_of_flow_items(&kept)
                .map_err(|detail| PruneError::Unrepresentable { section, detail })?;
            if !reads_as(&emitted, &kept) {
                return Err(PruneError::Unrepresentable {
                    section,
                    detail: "the re-emitted YAML does not read back as the same rows".to_owned(),
                });
            }
            emitted
        };
        out.insert(section.as_str().to_owned(), pruned);
    }
    Ok(out)
}

/// The section's list items, as the authenticator's parse sees them.
fn parse_items(section: Section, text: &str) -> Result<Vec<Spanned<Node>>, PruneError> {
    let fail = |detail: String| PruneError::NotASequence { section, detail };
    match node::parse(text) {
        Ok(doc) => match doc.value {
            Node::Seq(items) if items.iter().any(|i| i.value.has_complex_key()) => Err(fail(
                "a row uses a mapping as a key (usually an unquoted `{{SessionName}}`)".to_owned(),
            )),
            Node::Seq(items) => Ok(items),
            Node::Null => Ok(Vec::new()),
            other => Err(fail(format!(
                "the value is {} instead of a list",
                other.kind()
            ))),
        },
        Err(error) => Err(fail(format!(
            "YAML syntax error: {}",
            error.to_string().lines().next().unwrap_or_default()
        ))),
    }
}

/// True when `text` parses to exactly the `kept` items, in order.
fn reads_as(text: &str, kept: &[&Node]) -> bool {
    match node::parse(text).map(|doc| doc.value) {
        Ok(Node::Seq(items)) => {
            !items.iter().any(|i| i.value.has_complex_key())
                && items.len() == kept.len()
                && items.iter().zip(kept).all(|(a, b)| same(&a.value, b))
        }
        _ => false,
    }
}

/// Node equality ignoring where list items are (their spans).
fn same(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Seq(x), Node::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(&p.value, &q.value))
        }
        (Node::Map(x), Node::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
        }
        _ => a == b,
    }
}

/// The indentation of a line that starts a block-sequence item (`-` then a space or the end).
fn dash_indent(line: &str) -> Option<usize> {
    let rest = line.trim_start_matches(' ');
    let after = rest.strip_prefix('-')?;
    (after.is_empty() || after.starts_with([' ', '\t', '\r', '\n']))
        .then(|| line.len() - rest.len())
}

/// `text` without the lines of the removed items, when it is a block sequence whose item lines
/// can be told apart; `None` otherwise (the caller then re-emits).
fn cut_block(text: &str, items: &[Spanned<Node>], remove: &BTreeSet<usize>) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let line_of =
        |item: &Spanned<Node>| usize::try_from(item.referenced.line()).ok()?.checked_sub(1);
    let first_line = line_of(items.first()?)?;
    let first_dash = (0..=first_line.min(lines.len().checked_sub(1)?))
        .rev()
        .find(|&l| dash_indent(lines[l]).is_some())?;
    let indent = dash_indent(lines[first_dash]);
    let dashes: Vec<usize> = (first_dash..lines.len())
        .filter(|&l| dash_indent(lines[l]) == indent)
        .collect();
    if dashes.len() != items.len() {
        return None;
    }
    for (i, item) in items.iter().enumerate() {
        let line = line_of(item)?;
        if line < dashes[i] || dashes.get(i + 1).is_some_and(|&next| line >= next) {
            return None;
        }
    }
    let mut out: String = lines[..first_dash].concat();
    for (i, &start) in dashes.iter().enumerate() {
        if !remove.contains(&i) {
            let end = dashes.get(i + 1).copied().unwrap_or(lines.len());
            out.push_str(&lines[start..end].concat());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
