//! YAML → JSON as the authenticator does it for `mapRoles` and `mapUsers`
//! (sigs.k8s.io/yaml's `YAMLToJSON` over yaml.v2): plain scalars typed by the YAML 1.1 rules,
//! mapping keys turned into strings, duplicate keys collapsed (the later one wins), objects
//! with their keys in byte order (Go's `json.Marshal` sorts map keys, which decides which of
//! two case variants of a field a later decode sees last). A mapping or sequence used as a
//! key, a null key, or an infinite or NaN float anywhere makes the whole text fail.

use std::collections::BTreeMap;

use crate::resolve::{self, Kind};
use crate::yaml::{Node, Scalar, YamlError};

/// A JSON value as the authenticator's decoder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number (its text; only its being a number matters to the decoder).
    Number(String),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, keys in byte order.
    Object(BTreeMap<String, Value>),
}

/// Converts a YAML node to JSON the way `YAMLToJSON` does.
///
/// # Errors
///
/// [`YamlError`] for a collection or null as a mapping key, or a non-finite float.
pub fn from_yaml(node: &Node) -> Result<Value, YamlError> {
    match node {
        Node::Scalar(s) => scalar(s),
        Node::Seq(items) => items
            .iter()
            .map(from_yaml)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Node::Map(pairs) => {
            let mut object = BTreeMap::new();
            merge_pairs(pairs, &mut object)?;
            Ok(Value::Object(object))
        }
    }
}

/// Inserts `pairs` into `object` in order; `<<` merge keys insert the merged mapping(s) at
/// their place (yaml.v2 semantics: whatever comes later wins).
fn merge_pairs(
    pairs: &[(Node, Node)],
    object: &mut BTreeMap<String, Value>,
) -> Result<(), YamlError> {
    for (key, value) in pairs {
        if is_merge(key) {
            match value {
                Node::Map(inner) => merge_pairs(inner, object)?,
                Node::Seq(maps) => {
                    for m in maps {
                        let Node::Map(inner) = m else {
                            return Err(YamlError("merge of a non-mapping".to_owned()));
                        };
                        merge_pairs(inner, object)?;
                    }
                }
                Node::Scalar(_) => return Err(YamlError("merge of a scalar".to_owned())),
            }
            continue;
        }
        object.insert(key_string(key)?, from_yaml(value)?);
    }
    Ok(())
}

fn is_merge(key: &Node) -> bool {
    matches!(key, Node::Scalar(s) if s.plain && s.text == "<<" && s.core_tag.is_none())
}

/// The typing of one scalar: quoted, block and `!!str` scalars are text, plain ones follow
/// [`resolve::plain`] (an explicit core tag other than `str` does too).
pub fn kind(s: &Scalar) -> Kind {
    if s.core_tag.as_deref() == Some("str") || s.other_tag || !s.plain {
        Kind::Str
    } else {
        resolve::plain(&s.text)
    }
}

fn scalar(s: &Scalar) -> Result<Value, YamlError> {
    Ok(match kind(s) {
        Kind::Null => Value::Null,
        Kind::Bool(b) => Value::Bool(b),
        Kind::Number => Value::Number(s.text.clone()),
        Kind::NonFinite => return Err(YamlError(format!("json: unsupported value: {}", s.text))),
        Kind::Str => Value::Str(s.text.clone()),
    })
}

/// A mapping key as a JSON object key: text as is, booleans as `true`/`false`, numbers as
/// written (a simplification of Go's formatting that keeps distinct keys distinct).
fn key_string(key: &Node) -> Result<String, YamlError> {
    let Node::Scalar(s) = key else {
        return Err(YamlError("invalid map key: a collection".to_owned()));
    };
    match kind(s) {
        Kind::Str | Kind::Number | Kind::NonFinite => Ok(s.text.clone()),
        Kind::Bool(b) => Ok(b.to_string()),
        Kind::Null => Err(YamlError("unsupported map key: null".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::first_document;

    fn convert(text: &str) -> Result<Value, YamlError> {
        from_yaml(&first_document(text).expect("yaml").expect("doc"))
    }

    #[test]
    fn plain_scalars_are_typed_and_quoted_ones_are_text() {
        let v = convert("a: yes\nb: 'yes'\nc: 0123\nd: ~\ne: x\n").expect("json");
        let Value::Object(o) = v else { panic!("{v:?}") };
        assert_eq!(o["a"], Value::Bool(true));
        assert_eq!(o["b"], Value::Str("yes".to_owned()));
        assert_eq!(o["c"], Value::Number("0123".to_owned()));
        assert_eq!(o["d"], Value::Null);
        assert_eq!(o["e"], Value::Str("x".to_owned()));
    }

    #[test]
    fn the_later_duplicate_key_wins_and_merges_apply_in_place() {
        let v = convert("base: &b {u: 1}\nm:\n  u: 0\n  <<: *b\n  k: x\n  k: z\n").expect("json");
        let Value::Object(o) = v else { panic!("{v:?}") };
        let Value::Object(m) = &o["m"] else {
            panic!("{o:?}")
        };
        assert_eq!(m["u"], Value::Number("1".to_owned()));
        assert_eq!(m["k"], Value::Str("z".to_owned()));
    }

    #[test]
    fn collection_keys_and_infinities_fail_the_whole_text() {
        // `username: {{SessionName}}`: a flow mapping whose key is a mapping.
        assert!(convert("- username: {{SessionName}}\n").is_err());
        assert!(convert("- groups: [.inf]\n").is_err());
        assert!(convert("~: x\n").is_err());
    }
}
