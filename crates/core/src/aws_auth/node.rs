//! A YAML value tree that keeps what the authenticator's decoder cares about: the scalar's type
//! (a string and a number are not the same to Go's `encoding/json`), every mapping entry in order
//! (duplicates included), and the line each list item starts on.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// One YAML node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A short noun for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// True when some mapping inside uses a list or mapping as a key. The authenticator's YAML→JSON
    /// conversion rejects the whole document then (an unquoted `{{SessionName}}` is such a key).
    pub(crate) fn has_complex_key(&self) -> bool {
        match self {
            Node::Seq(items) => items.iter().any(|i| i.value.has_complex_key()),
            Node::Map(entries) => entries
                .iter()
                .any(|(k, v)| k.key_text().is_none() || v.has_complex_key()),
            _ => false,
        }
    }

    /// The key text as `sigs.k8s.io/yaml` turns mapping keys into JSON object keys.
    pub(crate) fn key_text(&self) -> Option<String> {
        match self {
            Node::Str(s) | Node::Number(s) => Some(s.clone()),
            Node::Bool(b) => Some(b.to_string()),
            Node::Null => Some("null".to_owned()),
            Node::Seq(_) | Node::Map(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }
}

/// Parser options matching what the authenticator's YAML 1.1 decoder (yaml.v2) accepts:
/// YAML 1.1 booleans, duplicate keys passed to us in order. Leading-zero numbers are kept as text
/// only where the authenticator decodes into strings straight from YAML (`mapAccounts`); in
/// `mapRoles`/`mapUsers` its YAML→JSON step makes `0123` a number like any other.
pub(crate) fn options(leading_zeros_as_text: bool) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    options.leading_zero_numbers_as_strings = leading_zeros_as_text;
    options.strict_booleans = false;
    options
}

/// Parses the first document of a `mapRoles`/`mapUsers` value (or a whole ConfigMap) into a
/// node tree. Like the authenticator's yaml.v2, which reads one document and never looks past it,
/// later documents are ignored, errors in them included.
pub(crate) fn parse(text: &str) -> Result<Spanned<Node>, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(first_document(text), options(false))
}

/// [`parse`] for a `mapAccounts` value, whose numbers the authenticator reads as written.
pub(crate) fn parse_accounts(text: &str) -> Result<Spanned<Node>, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(first_document(text), options(true))
}

/// `text` up to the document marker (`---` or `...` at the start of a line) that ends its first
/// document. Markers are only ever recognised there, never inside a scalar.
fn first_document(text: &str) -> &str {
    let mut started = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.trim_end().is_empty() || rest.starts_with([' ', '\t']))
        };
        let trimmed = line.trim();
        if marker("---") || marker("...") {
            if started {
                return &text[..offset];
            }
            started = marker("---");
        } else if !(trimmed.is_empty()
            || trimmed.starts_with('#')
            || (!started && trimmed.starts_with('%')))
        {
            started = true;
        }
        offset += line.len();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_types_duplicates_and_lines() {
        let doc =
            parse_accounts("- a: 1\n  a: x\n  b: yes\n-   \n- 012345678901\n").expect("parses");
        let Node::Seq(items) = doc.value else {
            panic!("a list")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].referenced.line(), 1);
        assert_eq!(items[2].referenced.line(), 5);
        assert_eq!(
            items[0].value,
            Node::Map(vec![
                (Node::Str("a".into()), Node::Number("1".into())),
                (Node::Str("a".into()), Node::Str("x".into())),
                (Node::Str("b".into()), Node::Bool(true)),
            ])
        );
        assert_eq!(items[1].value, Node::Null);
        assert_eq!(items[2].value, Node::Str("012345678901".into()));
    }

    #[test]
    fn reads_the_first_document_only() {
        let doc = parse("# c\n---\n- a\n---\n- b: [\n").expect("the second document is not read");
        let Node::Seq(items) = doc.value else {
            panic!("a list")
        };
        assert_eq!(items.len(), 1);
        let first = |text| parse(text).map(|d| d.value).ok();
        assert_eq!(first("- a\n...\n- b\n"), first("- a\n"));
        assert_eq!(first("---\n---\n- a\n"), Some(Node::Null));
    }

    #[test]
    fn leading_zero_numbers_are_numbers_in_rows_and_text_in_accounts() {
        let item = |text, as_text| match if as_text {
            parse_accounts(text)
        } else {
            parse(text)
        }
        .expect("parses")
        .value
        {
            Node::Seq(items) => items[0].value.clone(),
            other => other,
        };
        assert!(matches!(item("- 0123\n", false), Node::Number(_)));
        assert_eq!(item("- 0123\n", true), Node::Str("0123".into()));
    }
}
