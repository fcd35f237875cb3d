//! A whole ConfigMap document (`kubectl get cm aws-auth -o yaml` or `-o json`) reduced to its
//! `data`, the string map the authenticator receives from the API server.

use std::collections::BTreeMap;

use crate::store::AwsAuth;
use crate::yaml::{self, Node, YamlError};

/// The `data` of a ConfigMap document: every key whose value is a scalar, with its text.
///
/// # Errors
///
/// [`YamlError`] when the document is not YAML/JSON, or is not a mapping with a `data`
/// mapping (the API server would hold no such ConfigMap).
pub fn data(document: &str) -> Result<BTreeMap<String, String>, YamlError> {
    let Some(Node::Map(top)) = yaml::first_document(document)? else {
        return Err(YamlError("a ConfigMap is a mapping".to_owned()));
    };
    let data = top
        .iter()
        .find(|(k, _)| matches!(k, Node::Scalar(s) if s.text == "data"))
        .map(|(_, v)| v);
    let Some(Node::Map(pairs)) = data else {
        return Err(YamlError("the ConfigMap has no data mapping".to_owned()));
    };
    Ok(pairs
        .iter()
        .filter_map(|(k, v)| match (k, v) {
            (Node::Scalar(k), Node::Scalar(v)) => Some((k.text.clone(), v.text.clone())),
            _ => None,
        })
        .collect())
}

impl AwsAuth {
    /// Reads a whole ConfigMap document.
    ///
    /// # Errors
    ///
    /// As [`data`].
    pub fn from_configmap(document: &str) -> Result<Self, YamlError> {
        Ok(Self::from_data(&data(document)?))
    }
}
