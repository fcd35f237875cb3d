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
/// YAML 1.1 booleans, leading-zero numbers kept as text, duplicate keys passed to us in order.
pub(crate) fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    options.leading_zero_numbers_as_strings = true;
    options.strict_booleans = false;
    options
}

/// Parses one document into a node tree.
pub(crate) fn parse(text: &str) -> Result<Spanned<Node>, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, options())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_types_duplicates_and_lines() {
        let doc = parse("- a: 1\n  a: x\n  b: yes\n-   \n- 012345678901\n").expect("parses");
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
}
