//! [`build`]: a [`FleetInput`] and a [`Filter`] to a [`FleetReport`]. Pure; "now" is an argument.

mod access;
mod blockers;
mod clusters;
mod headline;
mod owners;
mod scans;
mod suggestions;
mod terminal;

use super::filter::Filter;
use super::input::{ClusterView, FleetInput};
use super::model::{FleetReport, REPORT_FORMAT_VERSION};
use super::time::rfc3339;

/// Builds the report of the clusters `filter` keeps, as of `now_ms` (epoch milliseconds).
///
/// Clusters are ordered by account, region and name; principals by ARN; blocker groups by the
/// number of clusters they hold back (then findings, then code). Unreadable items are always
/// listed, whatever the filter.
pub fn build(input: &FleetInput, filter: &Filter, now_ms: u64) -> FleetReport {
    let mut views: Vec<&ClusterView> = input
        .clusters
        .iter()
        .filter(|c| filter.keeps_cluster(c))
        .collect();
    views.sort_by(|a, b| (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name)));
    let latest = scans::latest(&input.scans, filter);
    let clusters: Vec<_> = views
        .iter()
        .map(|c| clusters::summarize(c, &latest, input.creator_entry))
        .collect();
    let blockers = blockers::group(&views, filter);
    let failed_terminal = terminal::failures(&views);
    let owners = owners::group(&views);
    let access = access::inventory(&views, filter);
    let suggestions = suggestions::sum(&views);
    let scans = scans::freshness(&latest, &clusters, now_ms);
    let headline = headline::totals(&clusters, &access, &scans, input.unreadable.len());
    FleetReport {
        format_version: REPORT_FORMAT_VERSION,
        generated_at: rfc3339(now_ms),
        filter: filter.clone(),
        headline,
        clusters,
        blockers,
        failed_terminal,
        owners,
        access,
        suggestions,
        scans,
        unreadable: input.unreadable.clone(),
    }
}

#[cfg(test)]
mod tests;
