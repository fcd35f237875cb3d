//! aws-auth as EKS's authenticator effectively reads it.
//!
//! # Guarantees
//! Parsing never fails on the data keys: every problem becomes a [`Finding`] on the key or row it
//! concerns, and what the authenticator would still load is kept. The semantics reproduced here
//! (kubernetes-sigs/aws-iam-authenticator, `pkg/mapper/configmap`) are:
//! - each of `mapRoles`, `mapUsers`, `mapAccounts` is parsed on its own (key names are
//!   case-sensitive); a YAML error loses that key only; `""`/`''` count as absent;
//! - rows decode like Go's `encoding/json`: field names case-insensitive, unknown fields ignored,
//!   a wrongly typed field is left empty and the row kept;
//! - an invalid row (no ARN, both rolearn and sso, bad sso fields) is dropped, the rest kept;
//! - mapRoles is keyed by the lower-cased ARN and the last row wins; mapUsers is keyed by the
//!   ARN as written (last wins), and lookups compare case-insensitively; roles are matched
//!   before users;
//! - `sso:` matchers are behind an alpha feature gate that is off by default and reportedly not
//!   enabled on EKS: [`AwsAuth::map_identity`] never matches them.

mod configmap;
pub mod mapping;
pub(crate) mod node;
mod rows;

pub use configmap::ConfigMapError;
pub use mapping::{AccountRow, MappedIdentity, Row, RowStatus, Section, SsoMatcher};

use crate::finding::{Finding, FindingCode, Location, Severity};
use node::Node;
use std::collections::{BTreeMap, HashMap};

/// The parsed aws-auth ConfigMap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsAuth {
    /// mapRoles rows then mapUsers rows, each in order.
    pub rows: Vec<Row>,
    /// mapAccounts items.
    pub accounts: Vec<AccountRow>,
    /// Key-level findings (YAML errors, keys EKS ignores, ConfigMap identity).
    pub findings: Vec<Finding>,
    /// The ConfigMap's metadata (labels, annotations, managedFields) when a whole document was
    /// parsed and had readable metadata; `None` for `data` alone. Owner detection reads it.
    pub metadata: Option<crate::owner::metadata::ObjectMetadata>,
}

/// True for values the authenticator treats as an absent key.
pub(crate) fn is_skippable(value: &str) -> bool {
    matches!(value.trim(), "" | "``" | "\"\"" | "''")
}

impl AwsAuth {
    /// Parses a whole ConfigMap document (`kubectl get cm aws-auth -o yaml` or `-o json`).
    ///
    /// # Errors
    /// [`ConfigMapError`] when the text is not a ConfigMap at all; problems inside the data keys
    /// are findings, never errors.
    pub fn parse_configmap(text: &str) -> Result<Self, ConfigMapError> {
        let document = configmap::parse(text)?;
        let mut auth = AwsAuth::parse_data(&document.data);
        auth.findings.splice(0..0, document.findings);
        auth.metadata = document.metadata;
        Ok(auth)
    }

    /// Parses a ConfigMap's `data` map. Never fails.
    pub fn parse_data(data: &BTreeMap<String, String>) -> Self {
        let mut auth = AwsAuth::default();
        for (key, _) in data.iter() {
            let known = ["mapRoles", "mapUsers", "mapAccounts"];
            if !known.contains(&key.as_str()) && known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                auth.findings.push(Finding::at(
                    Location { key: key.clone(), index: None, line: None },
                    FindingCode::InvalidEntry,
                    Severity::Warning,
                    "EKS reads data keys case-sensitively (mapRoles, mapUsers, mapAccounts), so it ignores this key and everything in it. Rename the key if its rows were meant to apply.",
                ));
            }
        }
        for section in [Section::MapRoles, Section::MapUsers] {
            if let Some(items) = data
                .get(section.as_str())
                .filter(|v| !is_skippable(v))
                .and_then(|v| auth.parse_list(section.as_str(), v))
            {
                for (index, item) in items.iter().enumerate() {
                    auth.rows.push(rows::decode_row(
                        section,
                        index,
                        item.referenced.line(),
                        &item.value,
                    ));
                }
            }
        }
        if let Some(items) = data
            .get("mapAccounts")
            .filter(|v| !is_skippable(v))
            .and_then(|v| auth.parse_list("mapAccounts", v))
        {
            auth.decode_accounts(&items);
        }
        auth.resolve_shadowing();
        auth
    }

    /// Parses one key's YAML into list items, recording a finding when the key is lost.
    fn parse_list(&mut self, key: &str, text: &str) -> Option<Vec<serde_saphyr::Spanned<Node>>> {
        let lost = |line: Option<u64>, detail: String| {
            Finding::at(
                Location {
                    key: key.to_owned(),
                    index: None,
                    line,
                },
                FindingCode::YamlSyntax,
                Severity::Warning,
                format!(
                    "{detail}. EKS ignores all of {key} while this is so: none of its rows grant access today, and after a switch to API mode they never will. Fix the YAML if these rows were meant to apply."
                ),
            )
        };
        let finding = match if key == "mapAccounts" {
            node::parse_accounts(text)
        } else {
            node::parse(text)
        } {
            Ok(doc) => match doc.value {
                Node::Seq(items) => match items.iter().find(|i| i.value.has_complex_key()) {
                    None => return Some(items),
                    Some(bad) => lost(
                        Some(bad.referenced.line()),
                        "the row starting here uses a mapping as a key, which EKS's YAML decoder rejects; this is usually an unquoted template such as `username: {{SessionName}}` — write it in quotes".to_owned(),
                    ),
                },
                Node::Null => return None,
                other => lost(None, format!("the value is {} where EKS expects a list", other.kind())),
            },
            Err(error) => {
                let message = error.to_string();
                let first_line = message.lines().next().unwrap_or_default();
                let first_line = first_line.strip_prefix("error: ").unwrap_or(first_line);
                lost(error_line(&message), format!("YAML syntax error: {first_line}"))
            }
        };
        self.findings.push(finding);
        None
    }

    fn decode_accounts(&mut self, items: &[serde_saphyr::Spanned<Node>]) {
        for (index, item) in items.iter().enumerate() {
            let line = item.referenced.line();
            let location = Location {
                key: "mapAccounts".to_owned(),
                index: Some(index),
                line: Some(line),
            };
            match &item.value {
                Node::Str(s) | Node::Number(s) => self.accounts.push(AccountRow {
                    index,
                    line,
                    account_id: s.clone(),
                }),
                other => self.findings.push(Finding::at(
                    location,
                    FindingCode::InvalidEntry,
                    Severity::Warning,
                    format!(
                        "the item is {} instead of an account ID; EKS ignores it.",
                        other.kind()
                    ),
                )),
            }
        }
    }

    /// Marks rows the authenticator never consults: later duplicates win, roles beat users,
    /// and mapUsers ARNs differing only in case are ambiguous.
    fn resolve_shadowing(&mut self) {
        let keys: Vec<Option<String>> = self.rows.iter().map(storage_key).collect();
        let mut winners: HashMap<(Section, &str), usize> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            if let Some(key) = key {
                winners.insert((self.rows[i].section, key.as_str()), i);
            }
        }
        let mut user_spellings: HashMap<String, usize> = HashMap::new();
        for (section, key) in winners.keys() {
            if *section == Section::MapUsers {
                *user_spellings.entry(key.to_lowercase()).or_default() += 1;
            }
        }
        let positions: Vec<(Section, usize)> =
            self.rows.iter().map(|r| (r.section, r.index)).collect();
        let shadowed_by = |winner: usize| RowStatus::Shadowed {
            section: positions[winner].0,
            index: positions[winner].1,
        };
        let statuses: Vec<Option<RowStatus>> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let key = key.as_deref()?;
                let section = self.rows[i].section;
                let winner = winners[&(section, key)];
                let lower = key.to_lowercase();
                Some(if winner != i {
                    shadowed_by(winner)
                } else if section == Section::MapRoles {
                    RowStatus::Effective
                } else if let Some(&role) = winners.get(&(Section::MapRoles, lower.as_str())) {
                    shadowed_by(role)
                } else if user_spellings[&lower] > 1 {
                    RowStatus::Ambiguous
                } else {
                    RowStatus::Effective
                })
            })
            .collect();
        for (row, status) in self.rows.iter_mut().zip(statuses) {
            if let Some(status) = status {
                row.status = status;
            }
        }
    }

    /// The identity the authenticator gives a caller whose canonical ARN is `canonical_arn`
    /// (`arn:aws:iam::A:role/NAME` for an assumed role, the user ARN for a user), or `None`
    /// when aws-auth does not authenticate it. `caller_account` is checked against mapAccounts.
    pub fn map_identity(
        &self,
        canonical_arn: &str,
        caller_account: &str,
    ) -> Option<MappedIdentity> {
        let lower = canonical_arn.to_lowercase();
        let pick = |section: Section, matches: &dyn Fn(&str) -> bool| {
            self.rows
                .iter()
                .filter(|r| r.section == section)
                .filter(|r| matches!(r.status, RowStatus::Effective | RowStatus::Ambiguous))
                .filter(|r| r.sso.is_none() && matches(&r.arn))
                .last()
                .map(|r| MappedIdentity {
                    username: r.username.clone(),
                    groups: r.groups.clone(),
                    row: Some((r.section, r.index)),
                })
        };
        pick(Section::MapRoles, &|arn| arn.to_lowercase() == lower)
            .or_else(|| {
                pick(Section::MapUsers, &|arn| {
                    arn.eq_ignore_ascii_case(canonical_arn)
                })
            })
            .or_else(|| {
                self.accounts
                    .iter()
                    .any(|a| a.account_id == caller_account)
                    .then(|| MappedIdentity {
                        username: canonical_arn.to_owned(),
                        groups: Vec::new(),
                        row: None,
                    })
            })
    }

    /// The account IDs in mapAccounts.
    pub fn account_ids(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(|a| a.account_id.as_str())
    }
}

/// The key the authenticator files a loaded row under (`None` for a dropped row): mapRoles by
/// lower-cased ARN, mapUsers by the ARN as written, sso rows by their pattern.
fn storage_key(row: &Row) -> Option<String> {
    if row.status == RowStatus::Dropped {
        return None;
    }
    Some(match (&row.sso, row.section) {
        (Some(sso), _) => sso_key(sso),
        (None, Section::MapRoles) => row.arn.to_lowercase(),
        (None, Section::MapUsers) => row.arn.clone(),
    })
}

/// The key the authenticator files an sso row under. Upstream sets the partition only when the
/// row leaves it empty (then `aws`), so an explicit partition yields `arn::iam::…`, which never
/// matches; that is reproduced here.
fn sso_key(sso: &SsoMatcher) -> String {
    let partition = if sso.partition.is_empty() { "aws" } else { "" };
    format!(
        "arn:{partition}:iam::{}:role/awsreservedsso_{}_*",
        sso.account_id,
        sso.permission_set_name.to_lowercase()
    )
}

/// Pulls "line N" out of a YAML error message, when it has one.
fn error_line(message: &str) -> Option<u64> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests;
