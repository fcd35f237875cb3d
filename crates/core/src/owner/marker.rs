//! The evidence of ownership: which `managedFields` entry, annotation, label or cluster tag
//! said who owns what. Every detected owner carries the markers that named it, so a reader can
//! check the claim on the object itself.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest annotation value a marker repeats (`kubectl.kubernetes.io/last-applied-configuration`
/// holds a whole object; only its presence matters).
pub const MAX_MARKER_VALUE: usize = 200;

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Marker {
    /// A `metadata.managedFields` entry whose manager owns aws-auth's rows.
    ManagedFields {
        /// The field manager's name.
        manager: String,
        /// `Apply` or `Update`.
        operation: String,
        /// When it last wrote (RFC 3339), when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time: Option<String>,
    },
    /// A `metadata.annotations` entry.
    Annotation {
        /// The annotation key.
        key: String,
        /// Its value; absent when longer than [`MAX_MARKER_VALUE`] characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A `metadata.labels` entry.
    Label {
        /// The label key.
        key: String,
        /// Its value.
        value: String,
    },
    /// A tag on the EKS cluster (DescribeCluster `tags`).
    Tag {
        /// The tag key.
        key: String,
        /// Its value.
        value: String,
    },
}

impl Marker {
    /// An annotation marker, its value dropped when it is longer than [`MAX_MARKER_VALUE`].
    pub fn annotation(key: &str, value: &str) -> Self {
        Marker::Annotation {
            key: key.to_owned(),
            value: (value.chars().count() <= MAX_MARKER_VALUE).then(|| value.to_owned()),
        }
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Marker::ManagedFields {
                manager, operation, ..
            } => write!(f, "managedFields manager `{manager}` ({operation})"),
            Marker::Annotation {
                key,
                value: Some(value),
            } => write!(f, "annotation `{key}: {value}`"),
            Marker::Annotation { key, value: None } => write!(f, "annotation `{key}`"),
            Marker::Label { key, value } => write!(f, "label `{key}: {value}`"),
            Marker::Tag { key, value } => write!(f, "cluster tag `{key}={value}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_serialize_with_their_source() {
        let m = Marker::ManagedFields {
            manager: "argocd-controller".to_owned(),
            operation: "Apply".to_owned(),
            time: None,
        };
        assert_eq!(
            serde_json::to_value(&m).expect("serializes"),
            serde_json::json!({"source": "managed_fields", "manager": "argocd-controller", "operation": "Apply"})
        );
        assert_eq!(
            m.to_string(),
            "managedFields manager `argocd-controller` (Apply)"
        );
    }

    #[test]
    fn long_annotation_values_are_not_repeated() {
        let long = "x".repeat(MAX_MARKER_VALUE + 1);
        assert_eq!(
            Marker::annotation("kubectl.kubernetes.io/last-applied-configuration", &long),
            Marker::Annotation {
                key: "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
                value: None
            }
        );
        assert_eq!(
            Marker::annotation("meta.helm.sh/release-name", "aws-auth").to_string(),
            "annotation `meta.helm.sh/release-name: aws-auth`"
        );
    }
}
