//! The YAML layer: the first document of a text as a tree of nodes that keep what Go's
//! yaml.v2 needs to type them (a scalar's text, whether it was plain, its explicit tag), with
//! aliases replaced by what they name. Syntax comes from granit-parser's events; typing is
//! left to [`crate::resolve`] and the consumers ([`crate::json`], `mapAccounts` in
//! [`crate::store`]).

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle};

/// One YAML node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A scalar as written (after escapes and folding).
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, pairs in document order (duplicates kept: consumers decide).
    Map(Vec<(Node, Node)>),
}

/// A scalar's text and how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The value after escape processing.
    pub text: String,
    /// Plain (unquoted, not a block scalar): only plain scalars are typed by their text.
    pub plain: bool,
    /// The explicit tag's suffix in the YAML core namespace (`str`, `int`, …), if any.
    pub core_tag: Option<String>,
    /// An explicit tag outside the core namespace (`!foo`, `!`).
    pub other_tag: bool,
}

/// A text that is not YAML (the whole key is lost, as in the authenticator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError(pub String);

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "YAML: {}", self.0)
    }
}

impl std::error::Error for YamlError {}

/// The first document of `text`, or `None` when the text holds no document (empty, comments
/// only): yaml.v2 reads that as null.
///
/// # Errors
///
/// [`YamlError`] when the text is not YAML up to the end of its first document.
pub fn first_document(text: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, _span) = event.map_err(|e| YamlError(e.to_string()))?;
        if builder.push(event)? {
            break;
        }
    }
    Ok(builder.root)
}

/// Builds nodes from events.
#[derive(Default)]
struct Builder {
    /// Open collections with their anchors: sequences collect items, mappings collect a
    /// flat list of keys and values.
    open: Vec<(Open, usize)>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
}

enum Open {
    Seq(Vec<Node>),
    Map(Vec<Node>),
}

impl Builder {
    /// Takes one event; `true` once the first document is complete.
    fn push(&mut self, event: Event<'_>) -> Result<bool, YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let (core_tag, other_tag) = match tag.as_deref() {
                    None => (None, false),
                    Some(t) if t.is_yaml_core_schema() || t.handle() == "tag:yaml.org,2002:" => {
                        (Some(t.suffix().to_owned()), false)
                    }
                    Some(_) => (None, true),
                };
                let node = Node::Scalar(Scalar {
                    text: text.into_owned(),
                    plain: style == ScalarStyle::Plain,
                    core_tag,
                    other_tag,
                });
                self.add(node, anchor);
            }
            Event::SequenceStart(_, anchor, _) => self.open.push((Open::Seq(Vec::new()), anchor)),
            Event::MappingStart(_, anchor, _) => self.open.push((Open::Map(Vec::new()), anchor)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (open, anchor) = self
                    .open
                    .pop()
                    .ok_or_else(|| YamlError("unbalanced collection end".to_owned()))?;
                let node = match open {
                    Open::Seq(items) => Node::Seq(items),
                    Open::Map(flat) => Node::Map(pairs(flat)),
                };
                self.add(node, anchor);
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| YamlError(format!("unknown anchor {id}")))?;
                self.add(node, 0);
            }
            Event::DocumentEnd => return Ok(true),
            _ => {}
        }
        Ok(false)
    }

    fn add(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.open.last_mut() {
            Some((Open::Seq(items) | Open::Map(items), _)) => items.push(node),
            None => self.root = Some(node),
        }
    }
}

fn pairs(flat: Vec<Node>) -> Vec<(Node, Node)> {
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str, plain: bool) -> Node {
        Node::Scalar(Scalar {
            text: text.to_owned(),
            plain,
            core_tag: None,
            other_tag: false,
        })
    }

    #[test]
    fn reads_the_first_document_with_aliases_resolved() {
        let doc = first_document("- &a x\n- 'y'\n- *a\n---\n- z\n")
            .expect("yaml")
            .expect("a document");
        assert_eq!(
            doc,
            Node::Seq(vec![
                scalar("x", true),
                scalar("y", false),
                scalar("x", true)
            ])
        );
    }

    #[test]
    fn empty_text_has_no_document_and_bad_syntax_is_an_error() {
        assert_eq!(first_document("# only a comment\n").expect("yaml"), None);
        assert!(first_document("- a: [b\n").is_err());
    }

    #[test]
    fn explicit_str_tags_are_kept() {
        let doc = first_document("!!str 123").expect("yaml").expect("doc");
        let Node::Scalar(s) = doc else {
            panic!("not a scalar: {doc:?}")
        };
        assert_eq!(s.core_tag.as_deref(), Some("str"));
    }
}
