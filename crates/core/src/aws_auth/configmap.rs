//! The ConfigMap document around aws-auth, as `kubectl get cm aws-auth -n kube-system -o yaml`
//! (or `-o json`) prints it.

use super::node::{self, Node};
use crate::finding::{Finding, FindingCode, Severity};
use crate::owner::metadata::ObjectMetadata;
use std::collections::BTreeMap;

/// Why a document is not a usable ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigMapError {
    /// The document is empty.
    #[error(
        "the input is empty; expected the output of `kubectl get cm aws-auth -n kube-system -o yaml`"
    )]
    Empty,
    /// The document is not valid YAML/JSON at all.
    #[error("the input is not YAML or JSON: {0}")]
    Syntax(String),
    /// The document is YAML but not a ConfigMap.
    #[error("the input is not a ConfigMap: {0}")]
    NotConfigMap(String),
    /// A data value is not a string, so the file is not what kubectl prints.
    #[error(
        "data.{key} is {found}, but ConfigMap data values are strings: write `{key}: |` followed by the indented YAML list"
    )]
    DataNotString {
        /// The data key.
        key: String,
        /// What was found instead.
        found: &'static str,
    },
}

/// A ConfigMap reduced to what matters here.
pub(super) struct Document {
    pub(super) data: BTreeMap<String, String>,
    pub(super) findings: Vec<Finding>,
    /// `metadata` as owner detection reads it; `None` when absent or not readable.
    pub(super) metadata: Option<ObjectMetadata>,
}

/// Parses the ConfigMap document, in named steps: the root mapping, its `kind`, its identity
/// (`metadata`), then its `data`.
pub(super) fn parse(text: &str) -> Result<Document, ConfigMapError> {
    if text.trim().is_empty() {
        return Err(ConfigMapError::Empty);
    }
    let root = node::parse(text).map_err(|e| {
        ConfigMapError::Syntax(e.to_string().lines().next().unwrap_or_default().to_owned())
    })?;
    let Node::Map(fields) = root.value else {
        return Err(ConfigMapError::NotConfigMap(format!(
            "the document is {}, not a mapping with `kind: ConfigMap` and `data`",
            root.value.kind()
        )));
    };
    check_kind(field(&fields, "kind"))?;
    let mut findings: Vec<Finding> = identity_finding(field(&fields, "metadata"))
        .into_iter()
        .collect();
    let data = data(field(&fields, "data"), field(&fields, "kind").is_some())?;
    let metadata = field(&fields, "metadata").and_then(object_metadata);
    if !["mapRoles", "mapUsers", "mapAccounts"]
        .iter()
        .any(|k| data.contains_key(*k))
    {
        findings.push(Finding::general(
            FindingCode::NotAwsAuth,
            Severity::Warning,
            "the ConfigMap has no mapRoles, mapUsers or mapAccounts key: aws-auth grants nothing, so there is nothing to migrate.",
        ));
    }
    Ok(Document {
        data,
        findings,
        metadata,
    })
}

/// `metadata` decoded as [`ObjectMetadata`] (labels, annotations, managedFields); `None` when it
/// is not a mapping or does not decode (owner detection then says the owner is unknown).
fn object_metadata(metadata: &Node) -> Option<ObjectMetadata> {
    match metadata {
        Node::Map(_) => serde_json::from_value(json(metadata)).ok(),
        _ => None,
    }
}

/// A YAML node as JSON: mapping keys as Kubernetes' decoder turns them into strings (the last of
/// duplicates wins), numbers as numbers where JSON can hold them.
fn json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Number(n) => serde_json::from_str::<serde_json::Number>(n)
            .map_or_else(|_| Value::String(n.clone()), Value::Number),
        Node::Str(s) => Value::String(s.clone()),
        Node::Seq(items) => Value::Array(items.iter().map(|i| json(&i.value)).collect()),
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.key_text()?, json(v))))
                .collect(),
        ),
    }
}

/// The value of a mapping's `name` key (the last one, as Kubernetes' decoder keeps it).
fn field<'a>(fields: &'a [(Node, Node)], name: &str) -> Option<&'a Node> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k.key_text().as_deref() == Some(name))
        .map(|(_, v)| v)
}

/// `kind`: absent or `ConfigMap`.
fn check_kind(kind: Option<&Node>) -> Result<(), ConfigMapError> {
    match kind {
        Some(Node::Str(kind)) if kind == "ConfigMap" => Ok(()),
        None => Ok(()),
        Some(Node::Str(kind)) => Err(ConfigMapError::NotConfigMap(format!(
            "kind is `{kind}`; pass one ConfigMap (`kubectl get cm aws-auth -n kube-system -o yaml`)"
        ))),
        Some(other) => Err(ConfigMapError::NotConfigMap(format!(
            "kind is {}",
            other.kind()
        ))),
    }
}

/// A warning when `metadata` names another ConfigMap than kube-system/aws-auth.
fn identity_finding(metadata: Option<&Node>) -> Option<Finding> {
    let Some(Node::Map(metadata)) = metadata else {
        return None;
    };
    let meta = |name: &str| {
        metadata.iter().rev().find_map(|(k, v)| match v {
            Node::Str(s) if k.key_text().as_deref() == Some(name) => Some(s.as_str()),
            _ => None,
        })
    };
    let name = meta("name");
    let namespace = meta("namespace");
    let elsewhere =
        name.is_some_and(|n| n != "aws-auth") || namespace.is_some_and(|n| n != "kube-system");
    elsewhere.then(|| {
        Finding::general(
            FindingCode::NotAwsAuth,
            Severity::Warning,
            format!(
                "this ConfigMap is {}/{}, but EKS reads only kube-system/aws-auth; the plan shows what these rows would do if they were there.",
                namespace.unwrap_or("(no namespace)"),
                name.unwrap_or("(no name)")
            ),
        )
    })
}

/// `data` as strings by key (a null value is empty); absent or null is empty only in a
/// document that says `kind`.
fn data(data: Option<&Node>, has_kind: bool) -> Result<BTreeMap<String, String>, ConfigMapError> {
    match data {
        Some(Node::Map(entries)) => {
            let mut data = BTreeMap::new();
            for (key, value) in entries {
                let Some(key) = key.key_text() else { continue };
                match value {
                    Node::Str(s) => {
                        data.insert(key, s.clone());
                    }
                    Node::Null => {
                        data.insert(key, String::new());
                    }
                    other => {
                        return Err(ConfigMapError::DataNotString {
                            key,
                            found: other.kind(),
                        });
                    }
                }
            }
            Ok(data)
        }
        Some(Node::Null) | None if has_kind => Ok(BTreeMap::new()),
        Some(Node::Null) | None => Err(ConfigMapError::NotConfigMap(
            "it has neither `kind: ConfigMap` nor a `data` mapping".to_owned(),
        )),
        Some(other) => Err(ConfigMapError::NotConfigMap(format!(
            "data is {}",
            other.kind()
        ))),
    }
}
