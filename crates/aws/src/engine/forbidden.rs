//! What a run does when the cluster's Kubernetes API refuses the migrator: in API mode aws-auth
//! does not matter; in API_AND_CONFIG_MAP the migrator may grant itself temporary access
//! (`super::self_grant`); otherwise the run fails with what to grant.

use super::error::EngineError;
use super::instance::Engine;
use super::outcome::Progress;
use crate::sdk_error::failure;
use crate::store::ClusterKey;
use std::time::Instant;

/// What to do after the Kubernetes API refused the migrator.
pub(super) enum Forbidden {
    /// Temporary access was granted: observe again.
    Granted,
    /// The cluster is in API mode, where aws-auth is ignored.
    ApiMode,
    /// Fail the run with this reason.
    Fail(String),
}

impl Engine<'_> {
    /// The Kubernetes API refused the migrator (`denial` says how and what to grant): in API
    /// mode aws-auth does not matter; in API_AND_CONFIG_MAP it may grant itself temporary
    /// access; otherwise the run fails with what to grant.
    pub(super) async fn forbidden(
        &self,
        key: &ClusterKey,
        denial: String,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Forbidden, EngineError> {
        let described = match self
            .eks
            .describe_cluster()
            .name(key.name.as_ref())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return Ok(Forbidden::Fail(format!(
                    "{denial} ({})",
                    failure(&self.eks, "DescribeCluster", &e)
                )));
            }
        };
        let cluster = described.cluster();
        let mode = cluster
            .and_then(|c| c.access_config())
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        let partition = cluster
            .and_then(|c| c.arn())
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or("aws")
            .to_owned();
        match mode.as_str() {
            "API" => Ok(Forbidden::ApiMode),
            "API_AND_CONFIG_MAP" if self.settings.self_grant && self.temporary().is_none() => {
                match self.grant_self(key, &partition, deadline, progress).await? {
                    Ok(()) => Ok(Forbidden::Granted),
                    Err(reason) => Ok(Forbidden::Fail(format!(
                        "{denial}; granting temporary access failed: {reason}"
                    ))),
                }
            }
            "API_AND_CONFIG_MAP" if !self.settings.self_grant => Ok(Forbidden::Fail(format!(
                "{denial}; or let the migrator grant itself temporary access (--self-grant)"
            ))),
            _ => Ok(Forbidden::Fail(denial)),
        }
    }
}
