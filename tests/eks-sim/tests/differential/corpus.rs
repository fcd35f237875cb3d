//! Every ConfigMap the repository holds, read by both readers: the examples, the fuzz seeds,
//! the reference's rule-by-rule corpus (tests/authenticator/corpus), the simulator seeds'
//! clusters, and generated fleets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eks_sim::fleet::{FleetSpec, generate};
use eks_sim::seed::Seed;

use crate::compare::{assert_none, disagreements};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ConfigMap documents under `dir` (files whose text has `kind: ConfigMap`, YAML or JSON).
fn configmaps(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(repo().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let is_configmap =
            text.contains("kind: ConfigMap") || text.contains("\"kind\": \"ConfigMap\"");
        if is_configmap {
            out.push((
                format!(
                    "{dir}/{}",
                    path.file_name().expect("name").to_string_lossy()
                ),
                text,
            ));
        }
    }
    out.sort();
    out
}

fn check_documents(dirs: &[&str], at_least: usize) {
    let mut found = Vec::new();
    let mut seen = 0;
    for dir in dirs {
        for (name, text) in configmaps(dir) {
            let data = aws_auth_reference::configmap::data(&text)
                .unwrap_or_else(|e| panic!("{name} is not a ConfigMap: {e}"));
            seen += 1;
            found.extend(disagreements(&name, &data));
        }
    }
    assert!(seen >= at_least, "only {seen} ConfigMaps found in {dirs:?}");
    assert_none(&found);
}

#[test]
fn the_examples_and_fuzz_seeds_read_the_same() {
    check_documents(&["examples", "examples/rbac", "fuzz/seeds"], 5);
}

#[test]
fn the_rule_by_rule_corpus_reads_the_same() {
    check_documents(&["tests/authenticator/corpus"], 16);
}

fn check_world(name: &str, seed: Seed) -> usize {
    let world = seed.into_world().unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut found = Vec::new();
    let mut clusters = 0;
    for (key, cluster) in &world.clusters {
        let data: BTreeMap<String, String> = cluster.aws_auth_data();
        if data.is_empty() {
            continue;
        }
        clusters += 1;
        found.extend(disagreements(&format!("{name} {}", key.name), &data));
    }
    assert_none(&found);
    clusters
}

#[test]
fn the_simulator_seeds_read_the_same() {
    for file in ["examples/rbac/seed.yaml", "tests/stack/seed.example.yaml"] {
        let text = std::fs::read_to_string(repo().join(file)).expect(file);
        let seed = Seed::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(check_world(file, seed) > 0, "{file} has no aws-auth");
    }
}

#[test]
fn generated_fleets_read_the_same() {
    for seed in [1, 7, 42] {
        let spec = FleetSpec {
            accounts: 2,
            regions: 2,
            clusters: 4,
            rows_min: 5,
            rows_max: 120,
            seed,
            private_every: 0,
            restricted_every: 0,
        };
        let clusters = check_world(&format!("fleet seed {seed}"), generate(&spec));
        assert_eq!(clusters, 16);
    }
}
