//! aws-auth's `data` read into what the authenticator keeps, and its lookup of a caller.
//!
//! Each key is read on its own; a key that cannot be read is lost whole ([`KeyError`]) while
//! the others load. Valid roles are kept by lower-cased ARN (the last row wins), valid users
//! by their exact ARN (the last of identical ARNs wins), accounts as a set of strings.
//! A lookup lower-cases the caller's canonical ARN and tries roles, then users (a role ARN
//! under `mapUsers` works too), then `mapAccounts`.

use std::collections::BTreeMap;

use crate::arn::{ArnError, canonicalize};
use crate::decode::{role_rows, user_rows};
use crate::json::{self, Value};
use crate::mapping::{Invalid, RoleRow, UserRow};
use crate::yaml::{self, Node, YamlError};

/// Which key a row is in and where (0-based position in that key's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowRef {
    /// `mapRoles` or `mapUsers`.
    pub key: Source,
    /// Position of the row in the key's list.
    pub index: usize,
}

/// Where an identity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A `mapRoles` row.
    MapRoles,
    /// A `mapUsers` row.
    MapUsers,
    /// `mapAccounts`.
    MapAccounts,
}

/// The Kubernetes identity a lookup gives, templates not rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Where it comes from.
    pub source: Source,
    /// The row, for `mapRoles`/`mapUsers`.
    pub row: Option<RowRef>,
    /// The username template (the canonical ARN for `mapAccounts`).
    pub username: String,
    /// The group templates (none for `mapAccounts`).
    pub groups: Vec<String>,
}

/// The answer to "who is this caller on the cluster".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Exactly one identity.
    Mapped(Identity),
    /// Several `mapUsers` rows whose ARNs differ only in case match: the authenticator takes
    /// whichever its (randomly ordered) map yields first, so any of these, per request.
    Ambiguous(Vec<Identity>),
    /// Not mapped: the caller is refused.
    NotMapped,
}

/// A key the authenticator could not read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// The key.
    pub key: &'static str,
    /// Why.
    pub error: YamlError,
}

/// A row the authenticator dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The row.
    pub row: RowRef,
    /// Why.
    pub reason: Invalid,
}

/// aws-auth as the authenticator holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsAuth {
    /// Valid `mapRoles` rows with their positions, in order.
    pub roles: Vec<(usize, RoleRow)>,
    /// Valid `mapUsers` rows with their positions, in order.
    pub users: Vec<(usize, UserRow)>,
    /// `mapAccounts` items.
    pub accounts: Vec<String>,
    /// Keys lost whole.
    pub key_errors: Vec<KeyError>,
    /// Rows dropped by validation.
    pub dropped: Vec<Dropped>,
}

impl AwsAuth {
    /// Reads a ConfigMap's `data` (only `mapRoles`, `mapUsers` and `mapAccounts` matter; key
    /// names are case-sensitive).
    pub fn from_data(data: &BTreeMap<String, String>) -> Self {
        let mut auth = Self::default();
        if let Some(text) = data.get("mapUsers").filter(|t| !skippable(t)) {
            match rows_json(text) {
                Ok(v) => auth.keep_users(user_rows(&v)),
                Err(error) => auth.key_errors.push(KeyError {
                    key: "mapUsers",
                    error,
                }),
            }
        }
        if let Some(text) = data.get("mapRoles").filter(|t| !skippable(t)) {
            match rows_json(text) {
                Ok(v) => auth.keep_roles(role_rows(&v)),
                Err(error) => auth.key_errors.push(KeyError {
                    key: "mapRoles",
                    error,
                }),
            }
        }
        if let Some(text) = data.get("mapAccounts").filter(|t| !skippable(t)) {
            match yaml::first_document(text) {
                Ok(doc) => auth.accounts = accounts(doc.as_ref()),
                Err(error) => auth.key_errors.push(KeyError {
                    key: "mapAccounts",
                    error,
                }),
            }
        }
        auth
    }

    fn keep_roles(&mut self, rows: Vec<RoleRow>) {
        for (index, row) in rows.into_iter().enumerate() {
            match row.validate() {
                Ok(()) => self.roles.push((index, row)),
                Err(reason) => self.dropped.push(Dropped {
                    row: RowRef {
                        key: Source::MapRoles,
                        index,
                    },
                    reason,
                }),
            }
        }
    }

    fn keep_users(&mut self, rows: Vec<UserRow>) {
        for (index, row) in rows.into_iter().enumerate() {
            match row.validate() {
                Ok(()) => self.users.push((index, row)),
                Err(reason) => self.dropped.push(Dropped {
                    row: RowRef {
                        key: Source::MapUsers,
                        index,
                    },
                    reason,
                }),
            }
        }
    }

    /// Who the caller STS names `arn` is on the cluster.
    ///
    /// # Errors
    ///
    /// [`ArnError`] when the authenticator would not accept `arn` as an identity.
    pub fn lookup(&self, arn: &str) -> Result<Lookup, ArnError> {
        let caller = canonicalize(arn)?;
        Ok(self.lookup_canonical(&caller.canonical_arn, &caller.account))
    }

    /// Who the caller with canonical ARN `canonical_arn` in `account` is on the cluster.
    pub fn lookup_canonical(&self, canonical_arn: &str, account: &str) -> Lookup {
        let subject = canonical_arn.to_lowercase();
        if let Some(identity) = self.role(&subject) {
            return Lookup::Mapped(identity);
        }
        let mut users = self.users_matching(&subject);
        if users.len() > 1 {
            return Lookup::Ambiguous(users);
        }
        if let Some(identity) = users.pop() {
            return Lookup::Mapped(identity);
        }
        if self.accounts.iter().any(|a| a == account) {
            return Lookup::Mapped(Identity {
                source: Source::MapAccounts,
                row: None,
                username: canonical_arn.to_owned(),
                groups: Vec::new(),
            });
        }
        Lookup::NotMapped
    }

    /// The role row kept for `subject` (already lower-cased): the last valid `rolearn` row with
    /// that ARN in any case. `sso` rows never match.
    fn role(&self, subject: &str) -> Option<Identity> {
        self.roles
            .iter()
            .rev()
            .find(|(_, r)| r.sso.is_none() && r.role_arn.to_lowercase() == subject)
            .map(|(index, r)| Identity {
                source: Source::MapRoles,
                row: Some(RowRef {
                    key: Source::MapRoles,
                    index: *index,
                }),
                username: r.username.clone(),
                groups: r.groups.clone(),
            })
    }

    /// One identity per distinct exact `userarn` equal to `subject` ignoring case, each from
    /// the last row with that exact ARN.
    fn users_matching(&self, subject: &str) -> Vec<Identity> {
        let mut by_exact: BTreeMap<&str, (usize, &UserRow)> = BTreeMap::new();
        for (index, row) in &self.users {
            if row.user_arn.to_lowercase() == subject {
                by_exact.insert(&row.user_arn, (*index, row));
            }
        }
        let mut found: Vec<Identity> = by_exact
            .into_values()
            .map(|(index, r)| Identity {
                source: Source::MapUsers,
                row: Some(RowRef {
                    key: Source::MapUsers,
                    index,
                }),
                username: r.username.clone(),
                groups: r.groups.clone(),
            })
            .collect();
        found.sort_by_key(|i| i.row);
        found
    }

    /// Every distinct ARN a row names (roles and users, as written), for callers that want to
    /// ask about each.
    pub fn row_arns(&self) -> Vec<String> {
        let mut arns: Vec<String> = self
            .roles
            .iter()
            .map(|(_, r)| r.role_arn.clone())
            .filter(|a| !a.is_empty())
            .chain(self.users.iter().map(|(_, u)| u.user_arn.clone()))
            .collect();
        arns.sort();
        arns.dedup();
        arns
    }
}

/// The authenticator's "nothing there": empty after trimming, or `""`, `''`, two backticks.
fn skippable(text: &str) -> bool {
    matches!(text.trim(), "" | "\"\"" | "''" | "``")
}

/// A rows key as JSON (a text without a document is JSON `null`: no rows).
fn rows_json(text: &str) -> Result<Value, YamlError> {
    match yaml::first_document(text)? {
        Some(node) => json::from_yaml(&node),
        None => Ok(Value::Null),
    }
}

/// `mapAccounts` as yaml.v2 decodes it into a list of strings: every scalar item as written
/// (so `123456789012` and `'123456789012'` are the same, and `yes` stays `yes`), null as `""`;
/// an item that is a list or mapping is skipped; anything but a list gives nothing.
fn accounts(doc: Option<&Node>) -> Vec<String> {
    let Some(Node::Seq(items)) = doc else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Node::Scalar(s) if s.plain && json::kind(s) == crate::resolve::Kind::Null => {
                Some(String::new())
            }
            Node::Scalar(s) => Some(s.text.clone()),
            _ => None,
        })
        .collect()
}
