//! Owner facts → the plan's findings: who owns aws-auth and the cluster, what to change in each
//! owner, and the blocker that stops finalize (backup, prune, switch to API) until the owner is
//! accepted for the cluster.
//!
//! # Guarantees
//! - An aws-auth owner that undoes a prune ([`AwsAuthOwnerKind::undoes_prune`]) and any cluster
//!   owner give a [`Severity::Blocker`] finding unless the cluster's [`Acceptance`] names its
//!   kind; accepted, they give an [`Severity::Info`] finding that says so.
//! - kubectl apply and unknown field managers warn; kubectl by hand and unreadable metadata are
//!   informational. Neither blocks.

use super::acceptance::Acceptance;
use super::kind::AwsAuthOwnerKind;
use super::marker::Marker;
use super::ownership::{AwsAuthOwner, ClusterOwner, MetadataSeen, Owners};
use crate::finding::{Finding, FindingCode, Severity};

/// The findings for `owners`, given what the configuration accepts for this cluster.
/// `cluster_arn`, when known, goes into the acceptance each blocker suggests.
pub fn owner_findings(
    owners: &Owners,
    accepted: &Acceptance,
    cluster_arn: Option<&str>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = metadata_finding(owners.aws_auth.metadata)
        .into_iter()
        .collect();
    findings.extend(
        owners
            .aws_auth
            .owners
            .iter()
            .map(|o| aws_auth_finding(o, accepted, cluster_arn)),
    );
    findings.extend(
        owners
            .cluster
            .iter()
            .flat_map(|c| c.owners.iter())
            .map(|o| cluster_finding(o, accepted, cluster_arn)),
    );
    findings
}

fn metadata_finding(seen: MetadataSeen) -> Option<Finding> {
    let message = match seen {
        MetadataSeen::None => {
            "owner unknown: no metadata. The ConfigMap was given without `metadata`, so who writes aws-auth (a GitOps controller, Helm, Terraform, eksctl) cannot be seen; plan from `kubectl get cm aws-auth -n kube-system -o yaml --show-managed-fields`, or live, before finalize."
        }
        MetadataSeen::FileWithoutManagedFields => {
            "owner partly unknown: the file has labels and annotations but no managedFields (kubectl hides them unless `--show-managed-fields` is given), so the field managers that write aws-auth (Terraform, eksctl, Helm, GitOps controllers) cannot be seen; plan from `kubectl get cm aws-auth -n kube-system -o yaml --show-managed-fields`, or live, before finalize."
        }
        MetadataSeen::Live | MetadataSeen::File | MetadataSeen::NoConfigMap => return None,
    };
    Some(Finding::general(
        FindingCode::OwnerUnknown,
        Severity::Info,
        message,
    ))
}

fn evidence(markers: &[Marker]) -> String {
    markers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn acceptance_hint(field: &str, kind: &str, cluster_arn: Option<&str>) -> String {
    let cluster = cluster_arn.unwrap_or("<cluster ARN>");
    format!(
        "then accept it for this cluster in the configuration's `owners.accept` (`{{\"cluster\": \"{cluster}\", \"{field}\": [\"{kind}\"]}}`)"
    )
}

fn aws_auth_finding(
    owner: &AwsAuthOwner,
    accepted: &Acceptance,
    cluster_arn: Option<&str>,
) -> Finding {
    let kind = owner.kind;
    let said = evidence(&owner.evidence);
    let (severity, message) = if kind.undoes_prune() && accepted.accepts_aws_auth(kind) {
        (
            Severity::Info,
            format!(
                "aws-auth is managed by {owner} ({said}); the configuration accepts this owner for the cluster (its migrated rows were removed from it), so finalize may prune aws-auth."
            ),
        )
    } else if kind.undoes_prune() {
        (
            Severity::Blocker,
            format!(
                "aws-auth is managed by {owner} ({said}): a prune behind its back would be put back by its next sync, upgrade or apply (or break it). Finalize is blocked until the owner is changed: {}; {}.",
                kind.what_to_change(),
                acceptance_hint("aws_auth", kind.as_str(), cluster_arn)
            ),
        )
    } else {
        let severity = match kind {
            AwsAuthOwnerKind::Kubectl => Severity::Info,
            _ => Severity::Warning,
        };
        (
            severity,
            format!(
                "aws-auth was written by {owner} ({said}): before finalize, {}.",
                kind.what_to_change()
            ),
        )
    };
    Finding::general(FindingCode::AwsAuthOwner, severity, message)
}

fn cluster_finding(
    owner: &ClusterOwner,
    accepted: &Acceptance,
    cluster_arn: Option<&str>,
) -> Finding {
    let kind = owner.kind;
    let said = evidence(&owner.evidence);
    if accepted.accepts_cluster(kind) {
        return Finding::general(
            FindingCode::ClusterOwner,
            Severity::Info,
            format!(
                "the cluster is managed by {owner} ({said}); the configuration accepts this owner for the cluster (its code says API and the migrated entries), so finalize may switch it to API."
            ),
        );
    }
    Finding::general(
        FindingCode::ClusterOwner,
        Severity::Blocker,
        format!(
            "the cluster is managed by {owner} ({said}): after the migrator's switch to API its next run would try to set the authentication mode back (EKS refuses: the switch is one way) and to create access entries that exist (ResourceInUseException). Finalize is blocked until its code is changed: {}; {}.",
            kind.what_to_change(),
            acceptance_hint("cluster_owner", kind.as_str(), cluster_arn)
        ),
    )
}
