//! Reading and writing DynamoDB attribute values.

use super::error::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Milliseconds since the Unix epoch (0 before 1970).
pub(crate) fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The time `ms` milliseconds after the Unix epoch.
pub(crate) fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Typed access to one item's attributes, reporting missing or malformed ones as
/// [`StoreError::Corrupt`] with the item's keys.
pub(crate) struct Reader<'a> {
    item: &'a Item,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(item: &'a Item) -> Self {
        Self { item }
    }

    /// [`StoreError::Corrupt`] for `attribute` of this item.
    pub(crate) fn corrupt(&self, attribute: &'static str) -> StoreError {
        let key = |k: &str| {
            self.item
                .get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        StoreError::Corrupt {
            key: key("pk"),
            sk: key("sk"),
            attribute,
        }
    }

    pub(crate) fn opt_str(&self, name: &'static str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.as_str())),
            Some(_) => Err(self.corrupt(name)),
        }
    }

    pub(crate) fn str(&self, name: &'static str) -> Result<&'a str, StoreError> {
        self.opt_str(name)?.ok_or_else(|| self.corrupt(name))
    }

    pub(crate) fn parse<T: FromStr>(&self, name: &'static str) -> Result<T, StoreError> {
        self.str(name)?.parse().map_err(|_| self.corrupt(name))
    }

    pub(crate) fn json(&self, name: &'static str) -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(self.str(name)?).map_err(|_| self.corrupt(name))
    }

    pub(crate) fn opt_num<T: FromStr>(&self, name: &'static str) -> Result<Option<T>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| self.corrupt(name)),
            Some(_) => Err(self.corrupt(name)),
        }
    }

    pub(crate) fn num<T: FromStr>(&self, name: &'static str) -> Result<T, StoreError> {
        self.opt_num(name)?.ok_or_else(|| self.corrupt(name))
    }

    pub(crate) fn time(&self, name: &'static str) -> Result<SystemTime, StoreError> {
        self.num(name).map(from_millis)
    }

    pub(crate) fn opt_time(&self, name: &'static str) -> Result<Option<SystemTime>, StoreError> {
        Ok(self.opt_num(name)?.map(from_millis))
    }
}

/// An UpdateItem expression with placeholder names and values for every attribute, so no
/// attribute name can collide with a DynamoDB reserved word.
#[derive(Default)]
pub(crate) struct Update {
    sets: Vec<String>,
    removes: Vec<String>,
    adds: Vec<String>,
    conditions: Vec<String>,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: HashMap<String, AttributeValue>,
}

impl Update {
    /// The placeholder for attribute `attr` (`#attr`).
    pub(crate) fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#{attr}");
        self.names.insert(placeholder.clone(), attr.to_owned());
        placeholder
    }

    /// A fresh value placeholder bound to `value`.
    pub(crate) fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// `SET attr = value`.
    pub(crate) fn set(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        let (n, v) = (self.name(attr), self.value(value));
        self.sets.push(format!("{n} = {v}"));
        self
    }

    /// `SET attr = if_not_exists(attr, value)`.
    pub(crate) fn set_default(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        let (n, v) = (self.name(attr), self.value(value));
        self.sets.push(format!("{n} = if_not_exists({n}, {v})"));
        self
    }

    /// `SET attr = value` when present, `REMOVE attr` when not.
    pub(crate) fn set_opt(&mut self, attr: &str, value: Option<AttributeValue>) -> &mut Self {
        match value {
            Some(v) => self.set(attr, v),
            None => {
                let n = self.name(attr);
                self.removes.push(n);
                self
            }
        }
    }

    /// `ADD attr value` (numbers).
    pub(crate) fn add(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        let (n, v) = (self.name(attr), self.value(value));
        self.adds.push(format!("{n} {v}"));
        self
    }

    /// Add a clause to the condition (clauses are joined with AND).
    pub(crate) fn condition(&mut self, clause: String) -> &mut Self {
        self.conditions.push(clause);
        self
    }

    /// The update expression.
    pub(crate) fn expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.sets.is_empty() {
            parts.push(format!("SET {}", self.sets.join(", ")));
        }
        if !self.removes.is_empty() {
            parts.push(format!("REMOVE {}", self.removes.join(", ")));
        }
        if !self.adds.is_empty() {
            parts.push(format!("ADD {}", self.adds.join(", ")));
        }
        parts.join(" ")
    }

    /// The condition expression, if any.
    pub(crate) fn condition_expression(&self) -> Option<String> {
        (!self.conditions.is_empty()).then(|| {
            self.conditions
                .iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" AND ")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_expression_uses_placeholders() {
        let mut u = Update::default();
        u.set("status", s("VERIFIED"))
            .set_opt("last_error", None)
            .add("attempts", n(1))
            .set_default("created_at", n(5));
        let version = u.name("version");
        let expected = u.value(n(3));
        u.condition(format!("{version} = {expected}"));
        assert_eq!(
            u.expression(),
            "SET #status = :v0, #created_at = if_not_exists(#created_at, :v2) REMOVE #last_error ADD #attempts :v1"
        );
        assert_eq!(
            u.condition_expression().as_deref(),
            Some("(#version = :v3)")
        );
        assert_eq!(u.names.get("#status").map(String::as_str), Some("status"));
        assert_eq!(u.values.len(), 4);
    }

    #[test]
    fn reader_reports_missing_and_malformed_attributes() {
        let item: Item = [
            ("pk".to_owned(), s("CLUSTER#x")),
            ("sk".to_owned(), s("META")),
            ("version".to_owned(), s("not a number")),
            ("count".to_owned(), n(7)),
        ]
        .into_iter()
        .collect();
        let r = Reader::new(&item);
        assert_eq!(r.num::<u64>("count").ok(), Some(7));
        assert!(matches!(
            r.num::<u64>("version"),
            Err(StoreError::Corrupt { attribute: "version", ref sk, .. }) if sk == "META"
        ));
        assert!(matches!(r.str("missing"), Err(StoreError::Corrupt { .. })));
        assert_eq!(r.opt_str("missing").ok(), Some(None));
    }
}
