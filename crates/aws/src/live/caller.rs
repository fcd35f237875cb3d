//! Who the migrator runs as: the IAM principal an access entry for the migrator itself must
//! name, and the caller's ARN that a refusal of the Kubernetes API reports.

use super::error::GatherError;
use crate::sdk_config::{iam_config, sts_config};
use crate::sdk_error::failure;
use eks_auth_core::call_failure::{CallFailure, Cause, Service};

/// The IAM principal the configuration's credentials act as, with its path: for an assumed-role
/// session the role (IAM GetRole), for a user the user. This is the ARN an access entry for the
/// migrator itself must name.
///
/// # Errors
///
/// [`GatherError::Caller`] when STS or IAM cannot tell.
pub async fn caller_principal(config: &aws_config::SdkConfig) -> Result<String, GatherError> {
    let fail = |failure: CallFailure| GatherError::Caller {
        failure: Box::new(failure),
    };
    let sts = aws_sdk_sts::Client::from_conf(sts_config(config).build());
    let arn = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| fail(failure(&sts, "GetCallerIdentity", &e)))?
        .arn()
        .map(str::to_owned)
        .ok_or_else(|| fail(no_answer(Service::Sts, "GetCallerIdentity", "no ARN")))?;
    // arn:<partition>:sts::<account>:assumed-role/<role>/<session>
    let Some((_, rest)) = arn.split_once(":assumed-role/") else {
        return Ok(arn);
    };
    let role = rest.split('/').next().unwrap_or_default();
    let iam = aws_sdk_iam::Client::from_conf(iam_config(config).build());
    let out = iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .map_err(|e| fail(failure(&iam, "GetRole", &e)))?;
    out.role()
        .map(|r| r.arn().to_owned())
        .ok_or_else(|| fail(no_answer(Service::Iam, "GetRole", "no role")))
}

/// An answer of `operation` that lacks `what`.
fn no_answer(service: Service, operation: &str, what: &str) -> CallFailure {
    let detail = format!("the answer holds {what}");
    CallFailure {
        service: Some(service),
        operation: Some(operation.to_owned()),
        chain: detail.clone(),
        detail,
        ..CallFailure::new(Cause::Unreadable)
    }
}

/// The caller's ARN per sts:GetCallerIdentity, or why it is unknown.
pub(crate) async fn caller_identity(config: &aws_config::SdkConfig) -> String {
    let sts = aws_sdk_sts::Client::from_conf(sts_config(config).build());
    match sts.get_caller_identity().send().await {
        Ok(out) => out
            .arn()
            .map(str::to_owned)
            .unwrap_or_else(|| "(sts:GetCallerIdentity returned no ARN)".to_owned()),
        Err(e) => format!("(unknown: {})", failure(&sts, "GetCallerIdentity", &e)),
    }
}
