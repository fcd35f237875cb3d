//! The access section's tables as plain text rows: the call-outs, every principal's access per
//! cluster, and the principals named without access.

use super::summary::{Arns, Lines};
use crate::inventory::{AccessPath, IamStatus};
use crate::render::terminal::short_policy;
use crate::report::access::{CallOut, ClusterAccess, PrincipalAccessSummary};
use crate::report::model::FleetReport;

/// A table of the access section: an id (for the HTML page), a title, headers and rows.
pub(super) type Section = (
    &'static str,
    &'static str,
    Vec<&'static str>,
    Vec<Vec<Lines>>,
);

/// The access section's tables: call-outs, then every principal's access per cluster, then the
/// principals named without access.
pub(super) fn access_sections(report: &FleetReport, arns: Arns) -> Vec<Section> {
    let a = &report.access;
    vec![
        (
            "t-admins",
            "Cluster administrators",
            vec!["principal", "clusters", "where"],
            call_outs(&a.cluster_admins, arns),
        ),
        (
            "t-other-account",
            "Principals of other accounts",
            vec!["principal", "clusters", "where"],
            call_outs(&a.other_account, arns),
        ),
        (
            "t-iam-not-found",
            "Principals IAM no longer knows",
            vec!["principal", "clusters", "where"],
            call_outs(&a.iam_not_found, arns),
        ),
        (
            "t-access",
            "Access per principal and cluster",
            GRANT_HEADERS.to_vec(),
            grant_rows(&a.principals, arns),
        ),
        (
            "t-no-access",
            "Named without access",
            GRANT_HEADERS.to_vec(),
            grant_rows(&a.named_without_access, arns),
        ),
    ]
}

/// One row per principal of `list`: on how many clusters (the terminal's inventory without a
/// principal filter).
pub(super) fn principal_rows(list: &[PrincipalAccessSummary], arns: Arns) -> Vec<Vec<Lines>> {
    list.iter()
        .map(|p| {
            vec![
                Lines::code(&arns.show(&p.principal_arn)),
                Lines::number(p.cluster_count),
                Lines::number(p.cluster_admin_on),
                Lines::number(p.other_account_on),
            ]
        })
        .collect()
}

fn call_outs(list: &[CallOut], arns: Arns) -> Vec<Vec<Lines>> {
    list.iter()
        .map(|c| {
            vec![
                Lines::code(&arns.show(&c.principal_arn)),
                Lines::number(c.clusters.len()),
                Lines::codes(c.clusters.iter().map(ToString::to_string).collect()),
            ]
        })
        .collect()
}

/// The per-principal-and-cluster tables' columns.
pub(super) const GRANT_HEADERS: [&str; 8] = [
    "principal",
    "cluster",
    "via",
    "username",
    "groups",
    "policies",
    "notes",
    "codes",
];

fn grant_rows(principals: &[PrincipalAccessSummary], arns: Arns) -> Vec<Vec<Lines>> {
    principals
        .iter()
        .flat_map(|p| {
            p.clusters
                .iter()
                .map(move |c| grant_row(&p.principal_arn, c, arns))
        })
        .collect()
}

fn grant_row(arn: &str, c: &ClusterAccess, arns: Arns) -> Vec<Lines> {
    let via = match c.via {
        AccessPath::AwsAuth => "aws-auth",
        AccessPath::AccessEntry => "access entry",
        AccessPath::None => "none",
    };
    let policies = match arns {
        Arns::Full => c
            .policies
            .iter()
            .map(|p| format!("{} ({})", p.policy_arn, p.access_scope))
            .collect(),
        Arns::Short => c.policies.iter().map(short_policy).collect(),
    };
    let mut notes = Vec::new();
    for (flag, note) in [
        (c.cluster_admin, "cluster-admin"),
        (c.other_account, "other account"),
        (c.creator, "creator"),
        (c.managed_by_migrator, "migrator's entry"),
        (c.iam == IamStatus::NotFound, "IAM: not found"),
    ] {
        if flag {
            notes.push(note.to_owned());
        }
    }
    vec![
        Lines::code(&arns.show(arn)),
        Lines::code(&format!("{}/{}/{}", c.account, c.region, c.cluster)),
        Lines::text(via),
        Lines::code(c.username.as_deref().unwrap_or_default()),
        Lines::codes(c.groups.clone()),
        Lines::codes(policies),
        Lines::texts(notes),
        Lines::codes(c.codes.iter().map(|x| x.as_str().to_owned()).collect()),
    ]
}
