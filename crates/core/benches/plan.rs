//! Planning throughput: a 10,000-row aws-auth, parsed and planned.

use criterion::{Criterion, criterion_group, criterion_main};
use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::policy::MigrationPolicy;
use std::hint::black_box;

/// A ConfigMap with `rows` mapRoles rows of the common shapes (team roles, admins, nodes).
fn configmap(rows: usize) -> String {
    let mut text = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n",
    );
    for i in 0..rows {
        let (username, groups) = match i % 4 {
            0 => (
                "system:node:{{EC2PrivateDNSName}}",
                "[system:bootstrappers, system:nodes]",
            ),
            1 => ("admin-{i}", "[system:masters, platform]"),
            2 => ("team:{{SessionName}}", "[team-editors, team-viewers]"),
            _ => ("reader-{i}", "[read-only]"),
        };
        let username = username.replace("{i}", &i.to_string());
        text.push_str(&format!(
            "    - rolearn: arn:aws:iam::111122223333:role/role-{i}\n      username: \"{username}\"\n      groups: {groups}\n"
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = configmap(10_000);
    let policy = MigrationPolicy::default();
    c.bench_function("parse 10k rows", |b| {
        b.iter(|| AwsAuth::parse_configmap(black_box(&text)))
    });
    let auth = AwsAuth::parse_configmap(&text).expect("valid");
    c.bench_function("plan 10k rows", |b| {
        b.iter(|| eks_auth_core::plan(black_box(&auth), None, &policy))
    });
    c.bench_function("parse+plan+json 10k rows", |b| {
        b.iter(|| {
            let auth = AwsAuth::parse_configmap(black_box(&text)).expect("valid");
            let plan = eks_auth_core::plan(&auth, None, &policy);
            serde_json::to_string(&plan).expect("serializes")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
