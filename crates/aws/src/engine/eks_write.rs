//! The EKS calls the engine makes besides the gather: authentication-mode updates and their
//! status, access-entry creation (tagged as the migrator's), policy association (retrying the
//! post-create 404 of EKS's eventual consistency), and deletion for rollback. A failure no
//! retry can heal ([`decide`]) is told apart from the others ([`Fail::Terminal`]).

use super::step_failure::StepFailure;
use crate::sdk_error::{failure, service_code};
use aws_sdk_eks::Client;
use aws_sdk_eks::types::{AccessScope as SdkScope, AccessScopeType, AuthenticationMode as SdkMode};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::failure_decision::{Decision, decide};
use eks_auth_core::plan::{AccessPolicy, MANAGED_TAG, PlannedEntry, ScopeType};
use eks_auth_core::state::UpdateStatus;
use std::time::{Duration, Instant};

/// How a write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fail {
    /// 409 ResourceInUseException: the entry (or an update) already exists.
    InUse(String),
    /// 404 ResourceNotFoundException (an entry or a principal not visible yet).
    NotFound(String),
    /// A failure no retry can heal (the cluster is gone, EKS refuses the request
    /// permanently, the member role may not make the call): the classified failure and what
    /// [`decide`] says about it.
    Terminal(String, Decision),
    /// Anything else: `Code: message` or the transport failure.
    Other(String),
}

impl Fail {
    pub(crate) fn reason(&self) -> &str {
        match self {
            Fail::InUse(r) | Fail::NotFound(r) | Fail::Terminal(r, _) | Fail::Other(r) => r,
        }
    }

    /// This failure as a step's, `what` naming the call.
    pub(super) fn step(&self, what: impl std::fmt::Display) -> StepFailure {
        match self {
            Fail::Terminal(text, decision) => StepFailure::decided(what, text, decision.clone()),
            other => StepFailure::retryable(format!("{what}: {}", other.reason())),
        }
    }
}

/// `err` of EKS `operation`, sorted by what the engine does next (terminal first); the reason is
/// the classified one-line failure.
fn classify<E>(
    eks: &Client,
    operation: &str,
    err: &aws_sdk_eks::error::SdkError<E, aws_sdk_eks::config::http::HttpResponse>,
) -> Fail
where
    E: aws_sdk_eks::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = failure(eks, operation, err);
    let reason = failure.to_string();
    let decision = decide(failure.key(), failure.message.as_deref());
    if decision != Decision::Retryable {
        return Fail::Terminal(reason, decision);
    }
    match service_code(err) {
        Some("ResourceInUseException") => Fail::InUse(reason),
        Some("ResourceNotFoundException") => Fail::NotFound(reason),
        _ => Fail::Other(reason),
    }
}

/// UpdateClusterConfig to `target`; the update ID.
pub(crate) async fn update_mode(
    eks: &Client,
    cluster: &str,
    target: AuthenticationMode,
    request_token: &str,
) -> Result<String, Fail> {
    let access = aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
        .authentication_mode(SdkMode::from(target.as_str()))
        .build();
    let out = eks
        .update_cluster_config()
        .name(cluster)
        .access_config(access)
        .client_request_token(request_token)
        .send()
        .await
        .map_err(|e| classify(eks, "UpdateClusterConfig", &e))?;
    out.update()
        .and_then(|u| u.id())
        .map(str::to_owned)
        .ok_or_else(|| Fail::Other("UpdateClusterConfig returned no update ID".to_owned()))
}

/// DescribeUpdate: the update's status.
pub(crate) async fn update_status(
    eks: &Client,
    cluster: &str,
    update_id: &str,
) -> Result<UpdateStatus, Fail> {
    let out = eks
        .describe_update()
        .name(cluster)
        .update_id(update_id)
        .send()
        .await
        .map_err(|e| classify(eks, "DescribeUpdate", &e))?;
    match out.update().and_then(|u| u.status()).map(|s| s.as_str()) {
        Some("InProgress") => Ok(UpdateStatus::InProgress),
        Some("Successful") => Ok(UpdateStatus::Successful),
        Some("Failed") => Ok(UpdateStatus::Failed),
        Some("Cancelled") => Ok(UpdateStatus::Cancelled),
        other => Err(Fail::Other(format!(
            "DescribeUpdate {update_id} returned an unknown status {}",
            other.unwrap_or("(none)")
        ))),
    }
}

/// CreateAccessEntry for a planned entry, tagged as the migrator's.
pub(crate) async fn create_entry(
    eks: &Client,
    cluster: &str,
    principal: &str,
    entry: &PlannedEntry,
    request_token: &str,
) -> Result<(), Fail> {
    let mut req = eks
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .set_kubernetes_groups(
            (!entry.kubernetes_groups.is_empty()).then(|| entry.kubernetes_groups.clone()),
        )
        .set_username(entry.username.clone())
        .tags(MANAGED_TAG.0, MANAGED_TAG.1)
        .client_request_token(request_token);
    if let Some(t) = entry.entry_type {
        req = req.r#type(t.as_str());
    }
    req.send()
        .await
        .map(|_| ())
        .map_err(|e| classify(eks, "CreateAccessEntry", &e))
}

/// AssociateAccessPolicy, retrying the 404 EKS answers for a while after CreateAccessEntry
/// (eventual consistency) until `deadline`; other failures return at once (the SDK already
/// retried throttling and 5xx).
pub(crate) async fn associate(
    eks: &Client,
    cluster: &str,
    principal: &str,
    policy: &AccessPolicy,
    deadline: Instant,
) -> Result<u32, Fail> {
    let scope = SdkScope::builder()
        .r#type(match policy.access_scope.scope_type {
            ScopeType::Cluster => AccessScopeType::Cluster,
            ScopeType::Namespace => AccessScopeType::Namespace,
        })
        .set_namespaces(
            (policy.access_scope.scope_type == ScopeType::Namespace)
                .then(|| policy.access_scope.namespaces.clone()),
        )
        .build();
    let mut delay = Duration::from_millis(100);
    let mut not_found = 0;
    loop {
        let out = eks
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(&policy.policy_arn)
            .access_scope(scope.clone())
            .send()
            .await;
        match out.map_err(|e| classify(eks, "AssociateAccessPolicy", &e)) {
            Ok(_) => return Ok(not_found),
            Err(Fail::NotFound(reason)) if Instant::now() + delay < deadline && not_found < 12 => {
                not_found += 1;
                tracing::debug!(principal, attempt = not_found, %reason, "entry not visible yet; retrying AssociateAccessPolicy");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(fail) => return Err(fail),
        }
    }
}

/// Tags an existing entry as the migrator's (adoption): DescribeAccessEntry for its ARN, then
/// TagResource with the migrator's tag only.
pub(crate) async fn tag_entry(eks: &Client, cluster: &str, principal: &str) -> Result<(), Fail> {
    let out = eks
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
        .map_err(|e| classify(eks, "DescribeAccessEntry", &e))?;
    let arn = out
        .access_entry()
        .and_then(|e| e.access_entry_arn())
        .ok_or_else(|| Fail::Other("DescribeAccessEntry returned no accessEntryArn".to_owned()))?;
    eks.tag_resource()
        .resource_arn(arn)
        .tags(MANAGED_TAG.0, MANAGED_TAG.1)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(eks, "TagResource", &e))
}

/// DeleteAccessEntry.
pub(crate) async fn delete_entry(eks: &Client, cluster: &str, principal: &str) -> Result<(), Fail> {
    eks.delete_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(eks, "DeleteAccessEntry", &e))
}
