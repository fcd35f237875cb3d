//! Security Hub findings for clusters that still authenticate through aws-auth, imported in
//! each cluster's own account through the member role (BatchImportFindings with that account's
//! default product: Security Hub accepts a finding from the account it names, and its
//! administrator account aggregates the members' findings). Resolving one archives it
//! (RecordState ARCHIVED, Compliance PASSED, by BatchImportFindings); its workflow status stays
//! the account's own (the migrator has no BatchUpdateFindings, which would let it change any
//! product's findings), and Security Hub sets it back to NEW if the finding becomes active again.
//! Nothing here ever fails a scan: what was not delivered is counted and tried again by the
//! next scan.

use crate::fleet::members::MemberAccounts;
use crate::sdk_error::failure;
use crate::store::ClusterKey;
use crate::store::findings::FindingMark;
use crate::store::table::StateStore;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, FindingProviderFields,
    FindingProviderSeverity, Recommendation, RecordState, Remediation, Resource, SeverityLabel,
};
use eks_auth_core::notify::posture::{Finding, Posture, PostureInput, assess, finding};
use futures::StreamExt as _;
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

/// Findings per BatchImportFindings call (Security Hub's limit).
const PER_CALL: usize = 100;
/// Account-regions imported at once.
const CONCURRENCY: usize = 8;

/// What one synchronisation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingsReport {
    /// Active findings created or updated.
    pub imported: usize,
    /// Findings resolved (archived).
    pub resolved: usize,
    /// Findings or resolutions Security Hub did not take (tried again by the next scan).
    pub not_delivered: usize,
}

/// One finding to import for one cluster.
struct Pending {
    key: ClusterKey,
    finding: Finding,
    created_at: SystemTime,
    active: bool,
}

/// Brings the findings of `clusters` up to date: an active finding for each that still
/// authenticates through aws-auth, a resolution for each whose finding is active and that no
/// longer does.
pub async fn sync_findings(
    members: &MemberAccounts,
    store: &StateStore,
    clusters: &[PostureInput],
    now: SystemTime,
) -> FindingsReport {
    let keyed: Vec<(ClusterKey, &PostureInput)> = clusters
        .iter()
        .filter_map(|c| {
            let pk = format!("CLUSTER#{}#{}#{}", c.account, c.region, c.name);
            ClusterKey::from_pk(&pk).map(|k| (k, c))
        })
        .collect();
    let keys: Vec<ClusterKey> = keyed.iter().map(|(k, _)| k.clone()).collect();
    let marks = store.finding_marks(&keys).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "Security Hub finding marks unreadable; no finding is resolved this scan");
        HashMap::new()
    });
    let now_ms = millis(now);
    let mut groups: BTreeMap<(String, String), Vec<Pending>> = BTreeMap::new();
    for (key, input) in keyed {
        let mark = marks.get(&key);
        let (severity, active) = match assess(input) {
            Posture::AwsAuth(severity) => (Some(severity), true),
            Posture::Clear if mark.is_some_and(|m| m.active) => (None, false),
            Posture::Clear | Posture::Unknown => continue,
        };
        let created_at = mark.filter(|m| m.active).map_or(now, |m| m.created_at);
        groups
            .entry((input.account.clone(), input.region.clone()))
            .or_default()
            .push(Pending {
                key,
                finding: finding(input, severity, millis(created_at), now_ms),
                created_at,
                active,
            });
    }
    let results: Vec<(FindingsReport, Vec<(ClusterKey, FindingMark)>)> =
        futures::stream::iter(groups)
            .map(|((account, region), pending)| async move {
                import_group(members, &account, &region, pending).await
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let mut report = FindingsReport::default();
    let mut new_marks = Vec::new();
    for (r, m) in results {
        report.imported += r.imported;
        report.resolved += r.resolved;
        report.not_delivered += r.not_delivered;
        new_marks.extend(m);
    }
    if let Err(e) = store.record_finding_marks(&new_marks, now).await {
        tracing::warn!(error = %e, "Security Hub finding marks not recorded; the next scan repeats them");
    }
    report
}

/// Imports one account-region's findings through its member role.
async fn import_group(
    members: &MemberAccounts,
    account: &str,
    region: &str,
    pending: Vec<Pending>,
) -> (FindingsReport, Vec<(ClusterKey, FindingMark)>) {
    let mut report = FindingsReport::default();
    let client = match members.config(account, region).await {
        Ok(config) => aws_sdk_securityhub::Client::new(&config),
        Err(e) => {
            tracing::warn!(%account, %region, error = %e, "Security Hub findings not imported");
            report.not_delivered = pending.len();
            return (report, Vec::new());
        }
    };
    let mut marks = Vec::new();
    for chunk in pending.chunks(PER_CALL) {
        let findings: Vec<AwsSecurityFinding> = chunk.iter().map(|p| asff(&p.finding)).collect();
        let failed: Vec<String> = match client
            .batch_import_findings()
            .set_findings(Some(findings))
            .send()
            .await
        {
            Ok(out) => out
                .failed_findings()
                .iter()
                .map(|f| {
                    tracing::warn!(%account, %region, id = f.id().unwrap_or_default(), code = f.error_code().unwrap_or_default(), message = f.error_message().unwrap_or_default(), "Security Hub refused a finding");
                    f.id().unwrap_or_default().to_owned()
                })
                .collect(),
            Err(e) => {
                tracing::warn!(%account, %region, error = %failure(&client, "BatchImportFindings", &e), "BatchImportFindings failed; the next scan tries again");
                chunk.iter().map(|p| p.finding.id.clone()).collect()
            }
        };
        for p in chunk {
            if failed.contains(&p.finding.id) {
                report.not_delivered += 1;
                continue;
            }
            if p.active {
                report.imported += 1;
            } else {
                report.resolved += 1;
            }
            marks.push((
                p.key.clone(),
                FindingMark {
                    active: p.active,
                    created_at: p.created_at,
                },
            ));
        }
    }
    (report, marks)
}

/// The SDK's form of `f`.
fn asff(f: &Finding) -> AwsSecurityFinding {
    let label = match f.severity.as_str() {
        "HIGH" => SeverityLabel::High,
        "MEDIUM" => SeverityLabel::Medium,
        "LOW" => SeverityLabel::Low,
        _ => SeverityLabel::Informational,
    };
    let resource = Resource::builder()
        .r#type("AwsEksCluster")
        .id(&f.resource_id)
        .partition(f.partition.into())
        .region(&f.region)
        .build();
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(&f.id)
        .product_arn(&f.product_arn)
        .generator_id(f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .region(&f.region)
        .types(eks_auth_core::notify::posture::FINDING_TYPE)
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .title(&f.title)
        .description(&f.description)
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(FindingProviderSeverity::builder().label(label).build())
                .types(eks_auth_core::notify::posture::FINDING_TYPE)
                .build(),
        )
        .remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&f.remediation)
                        .url(eks_auth_core::notify::posture::REMEDIATION_URL)
                        .build(),
                )
                .build(),
        )
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(f.compliance_status))
                .build(),
        )
        .record_state(RecordState::from(f.record_state))
        .set_product_fields(Some(f.product_fields.iter().cloned().collect()))
        .resources(resource)
        .build()
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
