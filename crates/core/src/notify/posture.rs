//! The Security Hub finding of a cluster that still authenticates through aws-auth.
//!
//! No AWS control or posture scanner reports clusters that still depend on the deprecated
//! `kube-system/aws-auth` ConfigMap; the fleet scan fills that slot. [`assess`] decides from
//! what a scan knows (DescribeCluster's authentication mode, the cluster record's aws-auth row
//! count, blockers and phase) whether the cluster needs a finding; [`finding`] builds it in the
//! AWS Security Finding Format as plain data the adapter imports. One finding per cluster
//! (a stable `Id`), updated on every scan, resolved when the cluster no longer authenticates
//! through aws-auth. The finding belongs to the cluster's own account (its `AwsAccountId`, the
//! default product of that account and region); Security Hub's administrator account
//! aggregates it with the member's other findings (docs/operations.md).

use super::{cluster_arn, plain_text};
use crate::arn::partition_of;
use crate::facts::AuthenticationMode;
use crate::report::time::rfc3339;
use crate::state::{Mode, Phase};

/// `GeneratorId` of every finding (the "rule" that produces them).
pub const GENERATOR_ID: &str = "eks-auth-migrator/aws-auth-authentication";
/// Where a person reads what to do.
pub const REMEDIATION_URL: &str =
    "https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html";
/// ASFF `Types` of the finding.
pub const FINDING_TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices";

/// What a scan knows about one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostureInput {
    /// The cluster's account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Its authentication mode, as DescribeCluster reports it now.
    pub authentication_mode: Option<AuthenticationMode>,
    /// Rows aws-auth held at the last plan (`None`: never planned yet).
    pub aws_auth_rows: Option<u32>,
    /// The last plan's blocker finding codes.
    pub blocker_codes: Vec<String>,
    /// The record's phase (`None`: no record yet).
    pub phase: Option<Phase>,
    /// The migration mode the configuration gives it.
    pub mode: Mode,
}

/// A finding's severity label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A resolved finding.
    Informational,
    /// In API_AND_CONFIG_MAP with rows left and nothing blocking: finalize can finish it.
    Low,
    /// Still in CONFIG_MAP, nothing blocking.
    Medium,
    /// Blocker findings: the migration cannot finish until a person fixes aws-auth.
    High,
}

impl Severity {
    /// ASFF's label.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
        }
    }
}

/// Whether a cluster needs a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posture {
    /// It still authenticates through aws-auth: an active finding of this severity.
    AwsAuth(Severity),
    /// It does not (API mode, or API_AND_CONFIG_MAP with aws-auth empty): resolve any finding.
    Clear,
    /// EKS reported no authentication mode: leave any finding as it is.
    Unknown,
}

/// Whether `input`'s cluster still authenticates through aws-auth, and how severe that is.
pub fn assess(input: &PostureInput) -> Posture {
    let blocked = !input.blocker_codes.is_empty();
    match input.authentication_mode {
        None => Posture::Unknown,
        Some(AuthenticationMode::Api) => Posture::Clear,
        Some(AuthenticationMode::ApiAndConfigMap) if input.aws_auth_rows == Some(0) => {
            Posture::Clear
        }
        _ if blocked => Posture::AwsAuth(Severity::High),
        Some(AuthenticationMode::ConfigMap) => Posture::AwsAuth(Severity::Medium),
        // Rows left, or not planned yet (then assumed to have rows until a worker looks).
        Some(AuthenticationMode::ApiAndConfigMap) => Posture::AwsAuth(Severity::Low),
    }
}

/// A finding in the AWS Security Finding Format, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable per cluster: `eks-auth-migrator/<account>/<region>/<cluster>/aws-auth`.
    pub id: String,
    /// The default product of the cluster's account and region.
    pub product_arn: String,
    /// [`GENERATOR_ID`].
    pub generator_id: &'static str,
    /// The cluster's account (the account that imports it).
    pub aws_account_id: String,
    /// The cluster's region.
    pub region: String,
    /// The cluster's partition.
    pub partition: &'static str,
    /// When it was first imported (RFC 3339).
    pub created_at: String,
    /// This import (RFC 3339; later than the last one, or Security Hub ignores it).
    pub updated_at: String,
    /// Title (at most 256 characters).
    pub title: String,
    /// Description (at most 1024 characters).
    pub description: String,
    /// Severity label (INFORMATIONAL once resolved), set through `FindingProviderFields` (the top level is the customer's).
    pub severity: Severity,
    /// The cluster's ARN (`Resources[0].Id`, type `AwsEksCluster`).
    pub resource_id: String,
    /// `FAILED` while active, `PASSED` once resolved.
    pub compliance_status: &'static str,
    /// `ACTIVE` while active, `ARCHIVED` once resolved.
    pub record_state: &'static str,
    /// What to do (at most 512 characters).
    pub remediation: String,
    /// Name/value pairs for filtering: phase, mode, authentication mode, rows, blockers.
    pub product_fields: Vec<(String, String)>,
}

/// The finding of `input`'s cluster: active with `severity`, or (`None`) resolved.
pub fn finding(
    input: &PostureInput,
    severity: Option<Severity>,
    created_ms: u64,
    now_ms: u64,
) -> Finding {
    let arn = cluster_arn(&input.account, &input.region, &input.name);
    let partition = partition_of(&input.region);
    let wording = Wording::of(input);
    let (title, description, remediation) = wording.texts(input, &arn, severity.is_some());
    Finding {
        id: format!(
            "eks-auth-migrator/{}/{}/{}/aws-auth",
            input.account, input.region, input.name
        ),
        product_arn: format!(
            "arn:{partition}:securityhub:{}:{}:product/{}/default",
            input.region, input.account, input.account
        ),
        generator_id: GENERATOR_ID,
        aws_account_id: input.account.clone(),
        region: input.region.clone(),
        partition,
        created_at: rfc3339_ms(created_ms.min(now_ms)),
        updated_at: rfc3339_ms(now_ms),
        title: plain_text(&title, 256),
        description: plain_text(&description, 1024),
        severity: severity.unwrap_or(Severity::Informational),
        resource_id: arn,
        compliance_status: if severity.is_some() {
            "FAILED"
        } else {
            "PASSED"
        },
        record_state: if severity.is_some() {
            "ACTIVE"
        } else {
            "ARCHIVED"
        },
        remediation: plain_text(&remediation, 512),
        product_fields: wording.product_fields(input),
    }
}

/// How a finding words the cluster: its authentication mode, aws-auth rows and blockers.
struct Wording {
    /// The authentication mode, or that it is unknown.
    mode_text: &'static str,
    /// How many aws-auth rows, or that they are not yet read.
    rows: String,
    /// The blocker codes, or `none`.
    blockers: String,
}

impl Wording {
    fn of(input: &PostureInput) -> Wording {
        Wording {
            mode_text: input
                .authentication_mode
                .map_or("an unknown authentication mode", AuthenticationMode::as_str),
            rows: input
                .aws_auth_rows
                .map_or_else(|| "not yet read".to_owned(), |n| n.to_string()),
            blockers: if input.blocker_codes.is_empty() {
                "none".to_owned()
            } else {
                input.blocker_codes.join(", ")
            },
        }
    }

    /// The title, description and remediation of an active (or a resolved) finding.
    fn texts(&self, input: &PostureInput, arn: &str, active: bool) -> (String, String, String) {
        let Wording {
            mode_text,
            rows,
            blockers,
        } = self;
        if !active {
            return (
                format!(
                    "EKS cluster {} no longer authenticates through the aws-auth ConfigMap",
                    input.name
                ),
                format!(
                    "Cluster {arn} is in {mode_text} mode: aws-auth no longer grants access (resolved by eks-auth-migrator)."
                ),
                "Nothing to do.".to_owned(),
            );
        }
        (
            format!(
                "EKS cluster {} still authenticates through the aws-auth ConfigMap",
                input.name
            ),
            format!(
                "Cluster {arn} is in {mode_text} mode: the deprecated kube-system/aws-auth ConfigMap (rows: {rows}) still grants Kubernetes access. Blockers: {blockers}. Migration phase: {}, mode {}.",
                input.phase.unwrap_or(Phase::Discovered).as_str(),
                input.mode.as_str()
            ),
            if input.blocker_codes.is_empty() {
                "Let eks-auth-migrator migrate and finalize the cluster (mode finalize), or run eks-auth-migrator apply --mode finalize: access entries replace every aws-auth row and the cluster switches to API mode.".to_owned()
            } else {
                format!(
                    "Fix the aws-auth rows the blockers name ({blockers}; eks-auth-migrator plan --cluster {} lists them with what to do), then finalize the cluster.",
                    input.name
                )
            },
        )
    }

    /// Name/value pairs for filtering: phase, mode, authentication mode, rows, blockers.
    fn product_fields(self, input: &PostureInput) -> Vec<(String, String)> {
        vec![
            (
                "eks-auth-migrator/Phase".to_owned(),
                input.phase.unwrap_or(Phase::Discovered).as_str().to_owned(),
            ),
            (
                "eks-auth-migrator/Mode".to_owned(),
                input.mode.as_str().to_owned(),
            ),
            (
                "eks-auth-migrator/AuthenticationMode".to_owned(),
                input
                    .authentication_mode
                    .map_or("UNKNOWN", AuthenticationMode::as_str)
                    .to_owned(),
            ),
            ("eks-auth-migrator/AwsAuthRows".to_owned(), self.rows),
            (
                "eks-auth-migrator/Blockers".to_owned(),
                plain_text(&self.blockers, 256),
            ),
        ]
    }
}

/// RFC 3339 with milliseconds (Security Hub orders updates by `UpdatedAt`).
fn rfc3339_ms(ms: u64) -> String {
    let whole = rfc3339(ms);
    format!("{}.{:03}Z", whole.trim_end_matches('Z'), ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        mode: Option<AuthenticationMode>,
        rows: Option<u32>,
        blockers: &[&str],
    ) -> PostureInput {
        PostureInput {
            account: "111122223333".to_owned(),
            region: "us-east-1".to_owned(),
            name: "prod".to_owned(),
            authentication_mode: mode,
            aws_auth_rows: rows,
            blocker_codes: blockers.iter().map(|b| (*b).to_owned()).collect(),
            phase: Some(Phase::Verified),
            mode: Mode::Migrate,
        }
    }

    #[test]
    fn only_clusters_that_still_use_aws_auth_get_a_finding_and_blockers_raise_it() {
        use AuthenticationMode::*;
        assert_eq!(
            assess(&input(Some(ConfigMap), None, &[])),
            Posture::AwsAuth(Severity::Medium)
        );
        assert_eq!(
            assess(&input(Some(ConfigMap), Some(4), &["X"])),
            Posture::AwsAuth(Severity::High)
        );
        assert_eq!(
            assess(&input(Some(ApiAndConfigMap), Some(3), &[])),
            Posture::AwsAuth(Severity::Low)
        );
        assert_eq!(
            assess(&input(Some(ApiAndConfigMap), None, &[])),
            Posture::AwsAuth(Severity::Low)
        );
        assert_eq!(
            assess(&input(Some(ApiAndConfigMap), Some(2), &["X"])),
            Posture::AwsAuth(Severity::High)
        );
        assert_eq!(
            assess(&input(Some(ApiAndConfigMap), Some(0), &["X"])),
            Posture::Clear
        );
        assert_eq!(assess(&input(Some(Api), Some(5), &["X"])), Posture::Clear);
        assert_eq!(assess(&input(None, Some(5), &[])), Posture::Unknown);
    }

    #[test]
    fn the_finding_belongs_to_the_clusters_account_and_resolves_as_archived_and_passed() {
        let i = input(
            Some(AuthenticationMode::ConfigMap),
            Some(6),
            &["UNMAPPED_GROUP"],
        );
        let active = finding(&i, Some(Severity::High), 1_000, 1_764_500_000_123);
        assert_eq!(
            active.id,
            "eks-auth-migrator/111122223333/us-east-1/prod/aws-auth"
        );
        assert_eq!(
            active.product_arn,
            "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
        );
        assert_eq!(active.aws_account_id, "111122223333");
        assert_eq!(
            active.resource_id,
            "arn:aws:eks:us-east-1:111122223333:cluster/prod"
        );
        assert_eq!(
            (active.record_state, active.compliance_status),
            ("ACTIVE", "FAILED")
        );
        assert_eq!(active.updated_at, "2025-11-30T10:53:20.123Z");
        assert_eq!(active.created_at, "1970-01-01T00:00:01.000Z");
        assert!(
            active.description.contains("rows: 6"),
            "{}",
            active.description
        );
        assert!(
            active.remediation.contains("UNMAPPED_GROUP"),
            "{}",
            active.remediation
        );
        let resolved = finding(&i, None, 1_000, 1_764_500_100_000);
        assert_eq!(resolved.id, active.id);
        assert_eq!(
            (resolved.record_state, resolved.compliance_status),
            ("ARCHIVED", "PASSED")
        );
        assert_eq!(resolved.severity, Severity::Informational);
        assert!(resolved.updated_at > active.updated_at);
    }
}
