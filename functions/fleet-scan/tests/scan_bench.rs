//! Benchmark, not run by default (`#[ignore]`): one `fleet_scan::handle` over a generated
//! 1,000-cluster fleet (50 accounts × 4 regions × 5 clusters) on the local stack — the
//! simulator in process with 20 ms injected latency on every EKS call, then with none, and
//! moto as the child process for STS, DynamoDB, SQS and SSM. Prints the wall time, the EKS calls
//! served per second, the report, and how the time splits between moto (its process CPU time:
//! one Python process, so its busy time) and this process (SDK clients + simulator).
//!
//! `scripts/bench-functions` runs it:
//! `cargo nextest run -p fleet-scan --run-ignored only --no-capture scan_bench`.

mod support;

use eks_auth_aws::StateStore;
use eks_auth_aws::fleet::environment::FunctionEnv;
use eks_sim::faults::{FaultConfig, FaultRule};
use eks_sim::fleet::{FleetSpec, MIGRATOR_ROLE, generate};
use eks_sim::harness::{Stack, cpu_seconds};
use eks_sim::seed::Seed;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 50;
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];
const CLUSTERS: usize = 5;
const TABLE: &str = "eam-bench";
const PARAMETER: &str = "/eks-auth-migrator/config";

fn accounts() -> Vec<String> {
    (0..ACCOUNTS)
        .map(|a| format!("{:012}", 100_000_000_000u64 + a as u64))
        .collect()
}

/// One scan of the whole fleet with `latency_ms` on every EKS call; prints its figures.
async fn run(latency_ms: u64) {
    let started = Instant::now();
    let stack = Stack::start(Seed::default(), true).await.expect("stack");
    let moto = stack.moto.as_ref().map(|m| m.url()).expect(
        "moto_server is missing: run scripts/test once (it installs tests/requirements.txt into .venv)",
    );
    let mut fleet = generate(&FleetSpec {
        accounts: ACCOUNTS,
        regions: REGIONS.len(),
        clusters: CLUSTERS,
        rows_min: 20,
        rows_max: 200,
        seed: 1,
        private_every: 0,
        restricted_every: 0,
    });
    // Member-role sessions come from moto's STS; the simulator asks moto who they are.
    let mut settings = fleet.settings.take().unwrap_or_default();
    settings.sts_endpoint = Some(moto.clone());
    fleet.settings = Some(settings);
    let loaded = stack.sim.load_seed(fleet).expect("fleet");
    assert_eq!(loaded, ACCOUNTS * REGIONS.len() * CLUSTERS);

    let dir = tempfile::tempdir().expect("dir");
    let central = support::central_config(&stack, &dir).await;
    StateStore::from_config(&central, TABLE)
        .create_table(Duration::from_secs(30))
        .await
        .expect("table");
    let queue_url = aws_sdk_sqs::Client::new(&central)
        .create_queue()
        .queue_name("eam-jobs")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("url")
        .to_owned();
    let document = serde_json::json!({
        "version": 1,
        "default_mode": "migrate",
        "regions": REGIONS,
        "accounts": { "include": accounts() },
    });
    aws_sdk_ssm::Client::new(&central)
        .put_parameter()
        .name(PARAMETER)
        .value(document.to_string())
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    let vars: HashMap<&str, String> = HashMap::from([
        ("TABLE_NAME", TABLE.to_owned()),
        ("QUEUE_URL", queue_url.clone()),
        ("CONFIG_PARAMETER", PARAMETER.to_owned()),
        ("MEMBER_ROLE_NAME", MIGRATOR_ROLE.to_owned()),
        // The generated fleet maps one migrator role in aws-auth: the worker's too.
        ("MEMBER_WRITE_ROLE_NAME", MIGRATOR_ROLE.to_owned()),
        ("REGIONS", "us-east-1".to_owned()),
    ]);
    let env = FunctionEnv::from_lookup(|k| vars.get(k).cloned()).expect("env");
    let deps = fleet_scan::Deps::new(central.clone(), env);
    let schedule: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../events/fleet-scan/schedule.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("events/fleet-scan/schedule.json"),
    )
    .expect("JSON");
    stack.sim.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            operation: "*".to_owned(),
            latency_ms,
            ..FaultRule::default()
        }],
    });
    let setup = started.elapsed();

    let stats_before: u64 = stack.sim.stats().values().sum();
    let moto_pid = stack.moto.as_ref().map(eks_sim::harness::Moto::pid);
    let moto_cpu_before = moto_pid.map_or(0.0, cpu_seconds);
    let self_cpu_before = cpu_seconds(std::process::id());
    let t0 = Instant::now();
    let report: Value =
        fleet_scan::handle(&deps, &schedule, Instant::now() + Duration::from_secs(900))
            .await
            .expect("scan");
    let wall = t0.elapsed();
    let moto_cpu = moto_pid.map_or(0.0, cpu_seconds) - moto_cpu_before;
    let self_cpu = cpu_seconds(std::process::id()) - self_cpu_before;
    let stats = stack.sim.stats();
    let eks_calls: u64 = stats.values().sum::<u64>() - stats_before;

    // The EKS part alone, as the scan makes it (64 account-regions at once; ListClusters, then
    // DescribeCluster 8 at a time), with the member sessions already cached: no moto at all.
    let t1 = Instant::now();
    let deps = std::sync::Arc::new(deps);
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(fleet_scan::CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for account in accounts() {
        for region in REGIONS {
            let (deps, semaphore, account) = (deps.clone(), semaphore.clone(), account.clone());
            tasks.spawn(async move {
                let _permit = semaphore.acquire().await.expect("semaphore");
                let member = deps
                    .clients
                    .members
                    .config(&account, region)
                    .await
                    .expect("member");
                let eks = aws_sdk_eks::Client::new(&member);
                let names = eks
                    .list_clusters()
                    .send()
                    .await
                    .expect("ListClusters")
                    .clusters()
                    .to_vec();
                for chunk in names.chunks(8) {
                    let mut describes = tokio::task::JoinSet::new();
                    for name in chunk {
                        let (eks, name) = (eks.clone(), name.clone());
                        describes.spawn(async move {
                            eks.describe_cluster().name(name).send().await.map(|_| ())
                        });
                    }
                    while let Some(r) = describes.join_next().await {
                        r.expect("task").expect("DescribeCluster");
                    }
                }
            });
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("task");
    }
    let eks_only = t1.elapsed();

    let per_sec = eks_calls as f64 / wall.as_secs_f64();
    println!(
        "scan_bench latency={latency_ms}ms: first scan {:.2} s wall ({}; {eks_calls} EKS calls, {per_sec:.0}/s); \
         CPU during the scan: moto {moto_cpu:.2} s, this process (SDK + simulator) {self_cpu:.2} s; \
         the same EKS calls alone (sessions cached, no moto): {:.2} s; setup {:.1} s",
        wall.as_secs_f64(),
        phases(&report),
        eks_only.as_secs_f64(),
        setup.as_secs_f64(),
    );
    println!("scan_bench latency={latency_ms}ms report: {report}");
    assert_eq!(report["clusters"], 1000, "{report}");
    assert_eq!(report["failed"], serde_json::json!([]), "{report}");

    // The steady state: every record exists. The queue is emptied first (moto's SendMessage
    // costs grow with the queue's length).
    aws_sdk_sqs::Client::new(&central)
        .purge_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .expect("PurgeQueue");
    let t2 = Instant::now();
    let again: Value =
        fleet_scan::handle(&deps, &schedule, Instant::now() + Duration::from_secs(900))
            .await
            .expect("scan");
    println!(
        "scan_bench latency={latency_ms}ms: second scan {:.2} s wall ({}); report: {again}",
        t2.elapsed().as_secs_f64(),
        phases(&again),
    );
    assert_eq!(again["recorded"], 0, "{again}");
}

/// The report's phase timings, in seconds.
fn phases(report: &Value) -> String {
    ["discover", "read_state", "enqueue", "mark", "record"]
        .iter()
        .map(|k| {
            let ms = report["timings_ms"][k].as_f64().unwrap_or(f64::NAN);
            format!("{k} {:.2} s", ms / 1000.0)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: scripts/bench-functions runs it"]
async fn scan_bench_1000_clusters() {
    let latencies: Vec<u64> = std::env::var("SCAN_BENCH_LATENCIES_MS")
        .unwrap_or_else(|_| "20,0".to_owned())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    for latency in latencies {
        run(latency).await;
    }
}
