//! What one scan reports, from the scan's report and the Security Hub sync: its metric figures
//! (EMF), its log line and the handler's JSON answer, with each phase's duration.

use eks_auth_aws::fleet::scan::ScanReport;
use eks_auth_aws::notify::security_hub::FindingsReport;
use eks_auth_core::notify::metrics::{ClusterTally, ScanFigures};
use serde_json::{Value, json};
use std::time::Duration;

/// One scan's outcome, as the function reports it.
pub(crate) struct Summary<'a> {
    /// What the scan did.
    pub report: &'a ScanReport,
    /// What the Security Hub sync did (nothing when it is turned off).
    pub findings: &'a FindingsReport,
    /// How long the Security Hub sync took.
    pub findings_time: Duration,
}

impl Summary<'_> {
    /// The figures of the scan's metric sets.
    pub fn figures(&self) -> ScanFigures {
        let (report, findings) = (self.report, self.findings);
        ScanFigures {
            scanned: report.scanned,
            failed: report.failed.len(),
            unfinished: report.unfinished,
            queued: report.queued,
            recorded: report.recorded,
            clusters: report
                .seen
                .iter()
                .map(|s| ClusterTally {
                    authentication_mode: s.authentication_mode,
                    phase: s.phase,
                    mode: s.mode,
                })
                .collect(),
            findings_imported: findings.imported,
            findings_resolved: findings.resolved,
            findings_not_delivered: findings.not_delivered,
            durations_ms: self.durations_ms(),
        }
    }

    /// Logs the scan in one line and returns the handler's answer.
    pub fn log_and_answer(&self) -> Value {
        let report = self.report;
        let timings = self.timings_json();
        let findings = self.findings_json();
        tracing::info!(
            accounts = report.accounts,
            scanned = report.scanned,
            clusters = report.clusters,
            queued = report.queued,
            failed = report.failed.len(),
            unfinished = report.unfinished,
            recorded = report.recorded,
            timings_ms = %timings,
            findings = %findings,
            "fleet scan"
        );
        json!({
            "accounts": report.accounts,
            "scanned": report.scanned,
            "clusters": report.clusters,
            "queued": report.queued,
            "failed": report.failed,
            "unfinished": report.unfinished,
            "recorded": report.recorded,
            "timings_ms": timings,
            "findings": findings,
        })
    }

    /// Milliseconds per phase: discover, read state, enqueue, mark, record, findings.
    fn durations_ms(&self) -> [u64; 6] {
        let t = self.report.timings;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        [
            ms(t.discover),
            ms(t.read_state),
            ms(t.enqueue),
            ms(t.mark),
            ms(t.record),
            ms(self.findings_time),
        ]
    }

    fn timings_json(&self) -> Value {
        let [discover, read_state, enqueue, mark, record, findings] = self.durations_ms();
        json!({
            "discover": discover,
            "read_state": read_state,
            "enqueue": enqueue,
            "mark": mark,
            "record": record,
            "findings": findings,
        })
    }

    fn findings_json(&self) -> Value {
        let f = self.findings;
        json!({
            "imported": f.imported,
            "resolved": f.resolved,
            "not_delivered": f.not_delivered,
        })
    }
}
