//! The migrator's temporary access to aws-auth on a cluster already in API_AND_CONFIG_MAP: when
//! the Kubernetes API refuses it and the settings allow, it grants its own principal a narrow
//! entry (AmazonEKSEditPolicy scoped to the namespace kube-system, username
//! [`TEMPORARY_USERNAME`], the migrator's tag) and deletes it when the run ends. An entry left
//! behind by a crashed run is recognised by that username and deleted at the end of the next.

use super::audit_trail::op;
use super::eks_write::{self, Fail};
use super::error::EngineError;
use super::instance::Engine;
use super::outcome::Progress;
use crate::live;
use crate::store::ClusterKey;
use eks_auth_core::plan::{
    AccessPolicy, AccessScope, Action, EntryType, PlannedEntry, ScopeType, Section, Source,
};
use serde_json::json;
use std::time::Instant;

/// The username of the migrator's temporary entry (how a leftover one is recognised).
pub const TEMPORARY_USERNAME: &str = "eks-auth-migrator-temporary";

impl Engine<'_> {
    /// Grants the migrator's principal its temporary entry. `Ok(Err(reason))` when it cannot.
    pub(super) async fn grant_self(
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
        if let Err(reason) = self.create_temporary(key, &principal).await? {
            return Ok(Err(reason));
        }
        self.set_temporary(Some(principal.clone()));
        let policy = temporary_policy(partition);
        if let Err(reason) = self
            .associate_temporary(key, &principal, &policy, deadline)
            .await?
        {
            return Ok(Err(reason));
        }
        progress(&format!(
            "temporary access: {principal} may edit kube-system until this run ends"
        ));
        Ok(Ok(()))
    }

    /// CreateAccessEntry of the temporary entry for `principal`; an entry it has already is
    /// someone else's, which the migrator does not change.
    async fn create_temporary(
        &self,
        key: &ClusterKey,
        principal: &str,
    ) -> Result<Result<(), String>, EngineError> {
        let cluster = key.name.as_ref();
        let entry = temporary_entry(principal);
        let p = principal;
        self.audited(
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
        .await
    }

    /// AssociateAccessPolicy of the temporary `policy` to `principal`'s entry.
    async fn associate_temporary(
        &self,
        key: &ClusterKey,
        principal: &str,
        policy: &AccessPolicy,
        deadline: Instant,
    ) -> Result<Result<(), String>, EngineError> {
        let cluster = key.name.as_ref();
        let p = principal;
        let associated = self
            .audited(
                key,
                op::ASSOCIATE_ACCESS_POLICY,
                p,
                json!({ "policyArn": policy.policy_arn, "accessScope": policy.access_scope }),
                |_token| async move {
                    eks_write::associate(&self.eks, cluster, p, policy, deadline)
                        .await
                        .map_err(|f| format!("AssociateAccessPolicy (temporary): {}", f.reason()))
                },
                |retries: &u32| json!({ "notFoundRetries": retries }),
            )
            .await?;
        Ok(associated.map(|_| ()))
    }

    /// Deletes the temporary entry this run granted or found left behind.
    pub(super) async fn revoke_self(
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

/// The temporary entry: STANDARD, named [`TEMPORARY_USERNAME`], no groups (its access comes
/// from [`temporary_policy`]).
fn temporary_entry(principal: &str) -> PlannedEntry {
    PlannedEntry {
        source: Source {
            section: Section::MapRoles,
            index: 0,
            line: None,
            arn: None,
        },
        principal_arn: Some(principal.to_owned()),
        action: Action::Create,
        entry_type: Some(EntryType::Standard),
        username: Some(TEMPORARY_USERNAME.to_owned()),
        kubernetes_groups: Vec::new(),
        access_policies: Vec::new(),
        findings: Vec::new(),
    }
}

/// AmazonEKSEditPolicy scoped to the namespace kube-system, in `partition`.
fn temporary_policy(partition: &str) -> AccessPolicy {
    AccessPolicy {
        policy_arn: format!("arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"),
        access_scope: AccessScope {
            scope_type: ScopeType::Namespace,
            namespaces: vec!["kube-system".to_owned()],
        },
    }
}
