//! Properties of job bodies and job de-duplication.

use eks_auth_core::jobs::{Job, JobReason, dedup};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn reason() -> impl Strategy<Value = JobReason> {
    prop::sample::select(JobReason::ALL.to_vec())
}

fn job() -> impl Strategy<Value = Job> {
    (
        "[0-9]{12}",
        prop::sample::select(vec![
            "us-east-1",
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-4",
        ]),
        "[A-Za-z0-9][A-Za-z0-9_-]{0,99}",
        reason(),
        prop::option::of("\\PC{0,60}"),
    )
        .prop_map(|(account, region, cluster, reason, detail)| Job {
            detail,
            ..Job::new(account, region, cluster, reason)
        })
}

/// Few accounts, regions and names, so that clusters repeat.
fn colliding_job() -> impl Strategy<Value = Job> {
    (
        prop::sample::select(vec!["111122223333", "444455556666"]),
        prop::sample::select(vec!["us-east-1", "eu-west-1"]),
        prop::sample::select(vec!["a", "b", "c"]),
        reason(),
    )
        .prop_map(|(a, r, c, reason)| Job::new(a, r, c, reason))
}

proptest! {
    #[test]
    fn job_body_round_trips(job in job()) {
        let body = job.to_body();
        prop_assert_eq!(Job::parse(&body), Ok(job.clone()));
        prop_assert!(!job.dedup_id().is_empty());
    }

    #[test]
    fn dedup_keeps_one_job_per_cluster_with_the_max_reason(jobs in prop::collection::vec(colliding_job(), 0..40)) {
        let out = dedup(jobs.clone());
        // One per cluster, and every input cluster is present.
        let mut max: BTreeMap<(String, String, String), JobReason> = BTreeMap::new();
        let mut first_seen: Vec<(String, String, String)> = Vec::new();
        for j in &jobs {
            let key = (j.account.clone(), j.region.clone(), j.cluster.clone());
            let entry = max.entry(key.clone()).or_insert(j.reason);
            if j.reason > *entry {
                *entry = j.reason;
            }
            if !first_seen.contains(&key) {
                first_seen.push(key);
            }
        }
        prop_assert_eq!(out.len(), max.len());
        let keys: Vec<(String, String, String)> = out
            .iter()
            .map(|j| (j.account.clone(), j.region.clone(), j.cluster.clone()))
            .collect();
        // Order of first appearance is kept.
        prop_assert_eq!(&keys, &first_seen);
        for (j, key) in out.iter().zip(keys) {
            prop_assert_eq!(j.reason, max[&key]);
        }
        // Idempotent.
        prop_assert_eq!(dedup(out.clone()), out);
    }
}
