//! The migrator's temporary access to aws-auth on a cluster already in API_AND_CONFIG_MAP: when
//! the Kubernetes API refuses it and the settings allow, it grants its own principal a narrow
//! entry (AmazonEKSEditPolicy scoped to the namespace kube-system, username
//! [`TEMPORARY_USERNAME`], the migrator's tag) and deletes it when the run ends. An entry left
//! behind by a crashed run is recognised by that username and deleted at the end of the next.

use super::audit::op;
use super::eks_write::{self, Fail};
use super::{Engine, EngineError, Progress};
use crate::live;
use crate::store::ClusterKey;
use eks_auth_core::plan::{AccessPolicy, AccessScope, PlannedEntry, ScopeType};
use serde_json::json;
use std::time::Instant;

/// The username of the migrator's temporary entry (how a leftover one is recognised).
pub const TEMPORARY_USERNAME: &str = "eks-auth-migrator-temporary";

impl Engine<'_> {
    /// Grants the migrator's principal its temporary entry. `Ok(Err(reason))` when it cannot.
    pub(crate) async fn grant_self(
        &self,
        key: &ClusterKey,
        partition: &str,
        deadline: Instant,
        progress: Progress<'_>,
    ) -> Result<Result<(), String>, EngineError> {
        let principal = match live::caller_principal(self.config).await {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let cluster = key.name.as_ref();
        let entry = PlannedEntry {
            source: eks_auth_core::plan::Source {
                section: eks_auth_core::plan::Section::MapRoles,
                index: 0,
                line: None,
                arn: None,
            },
            principal_arn: Some(principal.clone()),
            action: eks_auth_core::plan::Action::Create,
            entry_type: Some(eks_auth_core::plan::EntryType::Standard),
            username: Some(TEMPORARY_USERNAME.to_owned()),
            kubernetes_groups: Vec::new(),
            access_policies: Vec::new(),
            findings: Vec::new(),
        };
        let p = principal.as_str();
        let created = self
            .audited(
                key,
                op::CREATE_ACCESS_ENTRY,
                p,
                json!({ "type": "STANDARD", "username": TEMPORARY_USERNAME, "temporary": true }),
                |token| async move {
                    eks_write::create_entry(&self.eks, cluster, p, &entry, &token)
                        .await
                        .map_err(|f| match f {
                            Fail::InUse(_) => format!(
                                "the migrator's principal {p} already has an access entry that does not let it read kube-system/aws-auth; the migrator does not change entries it did not create: give that entry get, update and patch on configmaps in kube-system (e.g. AmazonEKSEditPolicy scoped to kube-system)"
                            ),
                            other => format!("CreateAccessEntry (temporary): {}", other.reason()),
                        })
                },
                |_: &()| json!({ "temporary": true }),
            )
            .await?;
        if let Err(reason) = created {
            return Ok(Err(reason));
        }
        self.set_temporary(Some(principal.clone()));
        let policy = AccessPolicy {
            policy_arn: format!(
                "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
            ),
            access_scope: AccessScope {
                scope_type: ScopeType::Namespace,
                namespaces: vec!["kube-system".to_owned()],
            },
        };
        let pol = &policy;
        let associated = self
            .audited(
                key,
                op::ASSOCIATE_ACCESS_POLICY,
                p,
                json!({ "policyArn": policy.policy_arn, "accessScope": policy.access_scope }),
                |_token| async move {
                    eks_write::associate(&self.eks, cluster, p, pol, deadline)
                        .await
                        .map_err(|f| format!("AssociateAccessPolicy (temporary): {}", f.reason()))
                },
                |retries: &u32| json!({ "notFoundRetries": retries }),
            )
            .await?;
        if let Err(reason) = associated {
            return Ok(Err(reason));
        }
        progress(&format!(
            "temporary access: {principal} may edit kube-system until this run ends"
        ));
        Ok(Ok(()))
    }

    /// Deletes the temporary entry this run granted or found left behind.
    pub(crate) async fn revoke_self(
        &self,
        key: &ClusterKey,
        progress: Progress<'_>,
    ) -> Result<(), EngineError> {
        let Some(principal) = self.temporary() else {
            return Ok(());
        };
        let p = principal.as_str();
        let cluster = key.name.as_ref();
        let out = self
            .audited(
                key,
                op::DELETE_ACCESS_ENTRY,
                p,
                json!({ "temporary": true }),
                |_token| async move {
                    match eks_write::delete_entry(&self.eks, cluster, p).await {
                        Ok(()) | Err(Fail::NotFound(_)) => Ok(()),
                        Err(f) => Err(format!("DeleteAccessEntry (temporary): {}", f.reason())),
                    }
                },
                |_: &()| json!({}),
            )
            .await?;
        match out {
            Ok(()) => {
                self.set_temporary(None);
                progress(&format!("temporary access of {principal} removed"));
            }
            Err(reason) => {
                tracing::error!(%principal, %reason, "the temporary entry could not be deleted; the next run deletes it")
            }
        }
        Ok(())
    }
}
