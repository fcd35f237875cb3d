//! The audit trail of the engine's writes: every EKS or Kubernetes write is recorded as STARTED
//! before it is made and completed with its outcome after. A crash between the two leaves an open record; the next
//! run completes it from what it observes ([`Engine::reconcile_open_audits`]).

use super::error::{EngineError, failpoint};
use super::instance::Engine;
use crate::live::Gathered;
use crate::store::ClusterKey;
use crate::store::audit_trail::{AuditOutcome, AuditRecord, AuditStart};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// Operation names as recorded (EKS operation names; `PatchConfigMap` for aws-auth writes).
pub(crate) mod op {
    pub(crate) const UPDATE_CLUSTER_CONFIG: &str = "UpdateClusterConfig";
    pub(crate) const CREATE_ACCESS_ENTRY: &str = "CreateAccessEntry";
    pub(crate) const ASSOCIATE_ACCESS_POLICY: &str = "AssociateAccessPolicy";
    pub(crate) const DELETE_ACCESS_ENTRY: &str = "DeleteAccessEntry";
    pub(crate) const PATCH_CONFIG_MAP: &str = "PatchConfigMap";
    pub(crate) const TAG_RESOURCE: &str = "TagResource";
}

impl Engine<'_> {
    /// Records `operation` on `target` as started, makes the call (its ID is passed to `call`
    /// as the idempotency token), records the outcome. Failpoints `before:<operation>` and
    /// `after:<operation>` stop the run around the call.
    pub(super) async fn audited<T, E, F, Fut>(
        &self,
        key: &ClusterKey,
        operation: &str,
        target: &str,
        request: serde_json::Value,
        call: F,
        result: impl FnOnce(&T) -> serde_json::Value,
    ) -> Result<Result<T, E>, EngineError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        let start = AuditStart {
            id: self.new_id(),
            operation: operation.to_owned(),
            target: target.to_owned(),
            request,
        };
        let _ = self.renew(false).await?;
        let record = self
            .store
            .begin_audit(
                key,
                &start,
                SystemTime::now(),
                self.settings.audit_retention,
            )
            .await?;
        failpoint(&format!("before:{operation}"))?;
        self.calls.fetch_add(1, Ordering::SeqCst);
        let out = call(start.id.clone()).await;
        failpoint(&format!("after:{operation}"))?;
        let outcome = match &out {
            Ok(value) => AuditOutcome::Succeeded(result(value)),
            Err(reason) => AuditOutcome::Failed(reason.to_string()),
        };
        self.store
            .complete_audit(&record, &outcome, SystemTime::now())
            .await?;
        Ok(out)
    }

    /// Completes the audit records an interrupted run left open, from the cluster as observed
    /// now, so the trail says what happened to every call.
    pub(super) async fn reconcile_open_audits(
        &self,
        key: &ClusterKey,
        gathered: &Gathered,
    ) -> Result<(), EngineError> {
        for record in self.store.open_audits(key).await? {
            let outcome = observed_outcome(&record, gathered);
            tracing::warn!(operation = %record.operation, target = %record.target, ?outcome, "completing an audit record left open by an interrupted run");
            self.store
                .complete_audit(&record, &outcome, SystemTime::now())
                .await?;
        }
        Ok(())
    }
}

/// What the cluster says about an interrupted call.
fn observed_outcome(record: &AuditRecord, gathered: &Gathered) -> AuditOutcome {
    let facts = &gathered.facts;
    let entry = |arn: &str| facts.existing_entry(arn);
    let req = |field: &str| {
        record
            .request
            .get(field)
            .and_then(|v| v.as_str())
            .unwrap_or("")
    };
    let landed = |what: String| {
        AuditOutcome::Succeeded(serde_json::json!({
            "reconciled": format!("the run was interrupted before recording the outcome; observed afterwards: {what}")
        }))
    };
    let lost = |what: String| {
        AuditOutcome::Failed(format!(
            "the run was interrupted before recording the outcome; observed afterwards: {what}; the call did not take effect"
        ))
    };
    match record.operation.as_str() {
        op::CREATE_ACCESS_ENTRY => match entry(&record.target) {
            Some(_) => landed("the access entry exists".to_owned()),
            None => lost("no access entry exists".to_owned()),
        },
        op::ASSOCIATE_ACCESS_POLICY => {
            let policy = req("policyArn");
            match entry(&record.target) {
                Some(e) if e.access_policies.iter().any(|p| p.policy_arn == policy) => {
                    landed(format!("{policy} is associated"))
                }
                _ => lost(format!("{policy} is not associated")),
            }
        }
        op::TAG_RESOURCE => match entry(&record.target) {
            Some(e) if e.managed_by_migrator => {
                landed("the entry carries the migrator's tag".to_owned())
            }
            _ => lost("the entry does not carry the migrator's tag".to_owned()),
        },
        op::DELETE_ACCESS_ENTRY => match entry(&record.target) {
            Some(_) => lost("the access entry still exists".to_owned()),
            None => landed("the access entry is gone".to_owned()),
        },
        op::UPDATE_CLUSTER_CONFIG => {
            let target = req("authenticationMode");
            let now = facts.authentication_mode.map_or("unknown", |m| m.as_str());
            if now == target {
                landed(format!("the cluster is in {now}"))
            } else {
                lost(format!("the cluster is in {now}"))
            }
        }
        op::PATCH_CONFIG_MAP => {
            let expected = req("resourceVersion");
            match &gathered.configmap {
                Some(cm) if cm.resource_version != expected => landed(format!(
                    "aws-auth moved from resourceVersion {expected} to {}",
                    cm.resource_version
                )),
                Some(_) => lost(format!("aws-auth is still at resourceVersion {expected}")),
                None => lost("aws-auth does not exist".to_owned()),
            }
        }
        other => AuditOutcome::Failed(format!(
            "the run was interrupted before recording the outcome of {other}; check the cluster by hand"
        )),
    }
}
