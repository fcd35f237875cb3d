//! A cluster named by its keys (account, region, name), as every part of the report refers to
//! one.

use serde::{Deserialize, Serialize};

/// A cluster, by its keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClusterRef {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for ClusterRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.account, self.region, self.name)
    }
}
