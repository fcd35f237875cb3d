//! The ConfigMap document around aws-auth, as `kubectl get cm aws-auth -n kube-system -o yaml`
//! (or `-o json`) prints it.

use super::node::{self, Node};
use crate::finding::{Finding, FindingCode, Severity};
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
}

/// Parses the ConfigMap document.
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
    let get = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k.key_text().as_deref() == Some(name))
            .map(|(_, v)| v)
    };
    match get("kind") {
        Some(Node::Str(kind)) if kind == "ConfigMap" => {}
        None => {}
        Some(Node::Str(kind)) => {
            return Err(ConfigMapError::NotConfigMap(format!(
                "kind is `{kind}`; pass one ConfigMap (`kubectl get cm aws-auth -n kube-system -o yaml`)"
            )));
        }
        Some(other) => {
            return Err(ConfigMapError::NotConfigMap(format!(
                "kind is {}",
                other.kind()
            )));
        }
    }
    let mut findings = Vec::new();
    if let Some(Node::Map(metadata)) = get("metadata") {
        let meta = |name: &str| {
            metadata.iter().rev().find_map(|(k, v)| match v {
                Node::Str(s) if k.key_text().as_deref() == Some(name) => Some(s.as_str()),
                _ => None,
            })
        };
        let name = meta("name");
        let namespace = meta("namespace");
        if name.is_some_and(|n| n != "aws-auth") || namespace.is_some_and(|n| n != "kube-system") {
            findings.push(Finding::general(
                FindingCode::NotAwsAuth,
                Severity::Warning,
                format!(
                    "this ConfigMap is {}/{}, but EKS reads only kube-system/aws-auth; the plan shows what these rows would do if they were there.",
                    namespace.unwrap_or("(no namespace)"),
                    name.unwrap_or("(no name)")
                ),
            ));
        }
    }
    let data = match get("data") {
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
            data
        }
        Some(Node::Null) | None if get("kind").is_some() => BTreeMap::new(),
        Some(Node::Null) | None => {
            return Err(ConfigMapError::NotConfigMap(
                "it has neither `kind: ConfigMap` nor a `data` mapping".to_owned(),
            ));
        }
        Some(other) => {
            return Err(ConfigMapError::NotConfigMap(format!(
                "data is {}",
                other.kind()
            )));
        }
    };
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
    Ok(Document { data, findings })
}
