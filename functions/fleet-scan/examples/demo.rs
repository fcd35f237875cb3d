//! The local demo (`scripts/demo`): starts the local stack (EKS simulator + moto), seeds a small
//! organisation — two accounts, four clusters, one with a row that cannot be migrated, one whose
//! aws-auth Argo CD syncs — and runs the whole event-driven pipeline through the three functions'
//! handlers: the schedule's fleet scan, the worker draining the queue, a CloudTrail event for an
//! access entry deleted out of band, then the GitOps cluster finalized once its owner is
//! accepted. Prints each cluster's journey from the state table. With `--private`: a fleet of
//! public, CIDR-restricted and private clusters, reached directly or through in-VPC agents.

#[path = "../tests/support/mod.rs"]
mod support;

use eks_auth_aws::store::audit_trail::AuditStatus;
use eks_auth_aws::{ClusterKey, StateStore};
use std::time::{Duration, Instant};
use support::*;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(tracing::Level::INFO)
        .init();
    let private = std::env::args().any(|a| a == "--private");
    let fleet = if private {
        Fleet::Private
    } else {
        Fleet::Public
    };
    let Some(p) = pipeline_of(fleet).await else {
        eprintln!(
            "moto_server is not installed: run scripts/demo (it installs the local stack's tools)"
        );
        std::process::exit(2);
    };
    if private {
        private_demo(&p).await;
    } else {
        readable_rbac(&p).await;
        public_demo(&p).await;
    }
    finish(&p).await;
}

/// `scripts/demo`: the schedule's scan, the worker draining the queue, then an access entry
/// deleted by hand and restored through its CloudTrail event.
async fn public_demo(p: &Pipeline) {
    let store = StateStore::from_config(&p.central, TABLE);
    let scan_deps = fleet_scan::Deps::new(p.central.clone(), p.env.clone());
    let worker_deps =
        cluster_worker::Deps::new(p.central.clone(), p.env.clone(), "demo-worker".to_owned());
    let events_deps = events_deps(
        p,
        &p.central,
        eks_auth_aws::notify::metrics::MetricsOut::stdout(None),
    );

    println!(
        "\n== 1. The schedule fires: fleet-scan (accounts {A} and {B}, regions us-east-1 and eu-west-1)"
    );
    println!(
        "   configuration: default mode finalize; account {B} overridden to migrate; new clusters migrate"
    );
    let report = fleet_scan::handle(
        &scan_deps,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + Duration::from_secs(60),
    )
    .await
    .expect("scan");
    println!("   scan report: {report}");

    println!(
        "\n== 2. cluster-worker drains the queue (re-enqueueing itself while EKS updates run)"
    );
    let batches = drain(p, &worker_deps).await;
    println!("   {batches} batches");
    journeys(&store, p).await;

    println!(
        "\n== 3. Someone deletes team-a's entry on data-prod by hand; CloudTrail tells cluster-events"
    );
    let team_a = format!("arn:aws:iam::{B}:role/teams/team-a");
    let eks_b = aws_sdk_eks::Client::new(&member(&p.central, B).await);
    eks_b
        .delete_access_entry()
        .cluster_name("data-prod")
        .principal_arn(&team_a)
        .send()
        .await
        .expect("DeleteAccessEntry");
    let event = deleted_entry_event(B, "data-prod", &team_a);
    let out = cluster_events::handle(&events_deps, &event)
        .await
        .expect("event");
    println!("   cluster-events: {out}");
    drain(p, &worker_deps).await;
    let back = eks_b
        .describe_access_entry()
        .cluster_name("data-prod")
        .principal_arn(&team_a)
        .send()
        .await
        .is_ok();
    println!("   team-a's entry restored from its aws-auth row: {back}");
    owner_accepted(p, &store, &scan_deps, &worker_deps).await;
}

/// Step 4: pay-prod stayed BLOCKED because Argo CD syncs its aws-auth; once the owner is
/// accepted in the configuration, the next scan queues it and the worker finalizes it.
async fn owner_accepted(
    p: &Pipeline,
    store: &StateStore,
    scan_deps: &fleet_scan::Deps,
    worker_deps: &cluster_worker::Deps,
) {
    let key = ClusterKey::from_pk(&format!("CLUSTER#{A}#us-east-1#{GITOPS_CLUSTER}")).expect("key");
    println!(
        "\n== 4. {GITOPS_CLUSTER}'s aws-auth is synced by Argo CD: finalize waits for its owner"
    );
    println!(
        "   phase {} (an AWS_AUTH_OWNER blocker: a prune would be put back by the next sync)",
        phase_of(store, &key).await
    );
    println!(
        "   the platform team removes aws-auth from the Application and accepts Argo CD in owners.accept"
    );
    put_config(p, &accepted_config()).await;
    fleet_scan::handle(
        scan_deps,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + Duration::from_secs(60),
    )
    .await
    .expect("scan");
    drain(p, worker_deps).await;
    println!(
        "   after the next scan: phase {}, simulator says {}",
        phase_of(store, &key).await,
        sim_mode(p, A, "us-east-1", GITOPS_CLUSTER)
    );
}

/// The demo's public fleet reads RBAC (issue 20 item 4): the pipeline test's fleet, plus on every
/// cluster the migrator's Kubernetes read access of infra/kubernetes/migrator-rbac.yaml (its
/// member write role is mapped to the `eks-auth-migrator` group already), so the report shows real
/// RBAC suggestions; and on data-prod a `deployers` group, bound to `edit` in namespace `data`,
/// that the configuration maps to AmazonEKSEditPolicy there — a mapping that loses permissions,
/// so data-prod shows a lossy verdict holding that row back. The pipeline tests keep their own
/// seed and configuration.
async fn readable_rbac(p: &Pipeline) {
    let moto = p.stack.moto.as_ref().map(|m| m.url()).expect("moto");
    let mut fleet = seed(&moto);
    let migrator: Vec<serde_json::Value> =
        serde_json::from_str(&eks_sim::seed::migrator_rbac()).expect("the migrator's RBAC objects");
    for cluster in fleet
        .accounts
        .iter_mut()
        .flat_map(|a| a.clusters.iter_mut())
    {
        cluster.rbac_objects.extend(migrator.iter().cloned());
        if cluster.name == GITOPS_CLUSTER {
            cluster.aws_auth_metadata = Some(argo_cd_metadata());
        }
        if cluster.name == "data-prod" {
            cluster.rbac_objects.push(serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": { "name": "deployers", "namespace": "data" },
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit" },
                "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "deployers" }],
            }));
            if let Some(roles) = cluster
                .aws_auth
                .as_mut()
                .and_then(|data| data.get_mut("mapRoles"))
            {
                roles.push_str(&format!(
                    "- rolearn: arn:aws:iam::{B}:role/monitoring\n  username: deployer\n  groups: [deployers]\n"
                ));
            }
        }
    }
    p.stack.sim.load_seed(fleet).expect("the demo's fleet");
    put_config(p, DEMO_CONFIG).await;
}

/// The demo's GitOps-managed cluster: Argo CD syncs its aws-auth, so finalize may not prune it
/// until the platform team has taken aws-auth out of the Application and accepted the owner.
const GITOPS_CLUSTER: &str = "pay-prod";

/// The metadata Argo CD's server-side sync leaves on aws-auth: its tracking annotation and its
/// `argocd-controller` managedFields entry (the shapes of
/// crates/core/tests/fixtures/owners/argocd-ssa-helm-chart.yaml, taken from Argo CD's docs).
fn argo_cd_metadata() -> serde_json::Value {
    serde_json::json!({
        "annotations": {
            "argocd.argoproj.io/tracking-id": "platform-aws-auth:/ConfigMap:kube-system/aws-auth"
        },
        "managedFields": [{
            "manager": "argocd-controller",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": "2024-01-01T00:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": { "f:data": { "f:mapRoles": {}, "f:mapUsers": {} } }
        }]
    })
}

/// `DEMO_CONFIG` once the platform team has removed aws-auth from the Argo CD Application and
/// accepts Argo CD as pay-prod's aws-auth owner (`owners.accept`).
fn accepted_config() -> String {
    let mut config: serde_json::Value =
        serde_json::from_str(DEMO_CONFIG).expect("the demo's configuration");
    config["owners"] = serde_json::json!({
        "accept": [{
            "cluster": format!("arn:aws:eks:us-east-1:{A}:cluster/{GITOPS_CLUSTER}"),
            "aws_auth": ["argo_cd"],
            "reason": "platform-gitops#42 removed aws-auth from the Application"
        }]
    });
    config.to_string()
}

/// The pipeline's configuration (support's `CONFIG`) with a policy mapping `deployers` to
/// AmazonEKSEditPolicy in namespace `data`, without accepting what it loses.
const DEMO_CONFIG: &str = r#"{"version":1,"default_mode":"finalize","regions":["us-east-1","eu-west-1"],"accounts":{"include":["111111111111","222222222222"]},"account_overrides":{"222222222222":{"mode":"migrate"}},"new_cluster_mode":"migrate","soak_hours":0,"policy":{"version":1,"group_policies":[{"group":"deployers","policy":"AmazonEKSEditPolicy","access_scope":{"type":"namespace","namespaces":["data"]},"keep_group":false}]}}"#;

/// The fleet report through the real CLI; with `--keep`, the stack stays up.
async fn finish(p: &Pipeline) {
    println!("\n== The fleet report: eks-auth-migrator report, the real CLI, on this state table");
    let cli = CliRun::new(p);
    match &cli {
        Some(cli) => cli.reports(),
        None => println!("   (EAM_CLI is not set: scripts/demo builds the CLI and sets it)"),
    }
    println!("\nDone. Nothing reached AWS: EKS was the simulator, everything else moto.");
    if std::env::args().any(|a| a == "--keep")
        && let Some(cli) = &cli
    {
        cli.keep_serving().await;
    }
}

/// The phase `store` records for `key`.
async fn phase_of(store: &StateStore, key: &ClusterKey) -> String {
    store
        .get_cluster(key)
        .await
        .expect("record")
        .map_or_else(|| "unrecorded".to_owned(), |r| r.state.phase.to_string())
}

/// `scripts/demo --private`: public, CIDR-restricted and private clusters; in-VPC agents in two
/// of three VPCs, then in the third.
async fn private_demo(p: &Pipeline) {
    let store = StateStore::from_config(&p.central, TABLE);
    let scan_deps = fleet_scan::Deps::new(p.central.clone(), p.env.clone());
    let worker_deps =
        cluster_worker::Deps::new(p.central.clone(), p.env.clone(), "demo-worker".to_owned());
    println!("\n== 1. Clusters whose Kubernetes API the central worker may not reach");
    for (account, name, endpoint) in PRIVATE_CLUSTERS {
        println!("   {account} {name:<13} endpoint {endpoint}");
    }
    println!(
        "   configuration: worker egress 127.0.0.1/32 (network.egress_cidrs); agents found by name"
    );
    println!(
        "\n== 2. In-VPC agents deployed (infra/cluster-agent.yaml): vpc-0a1 in {A}, vpc-0b2 in {B}; none yet in vpc-0b1"
    );
    for (account, vpc, deployed) in PRIVATE_VPCS {
        if deployed {
            deploy_agent(p, account, vpc).await;
        }
    }
    println!("\n== 3. The schedule fires: fleet-scan, then cluster-worker drains the queue");
    let report = fleet_scan::handle(
        &scan_deps,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + Duration::from_secs(60),
    )
    .await
    .expect("scan");
    println!("   scan report: {report}");
    drain(p, &worker_deps).await;
    private_journeys(&store, p).await;
    println!("\n== 4. The agent for vpc-0b1 is deployed; the next scan's job goes through");
    deploy_agent(p, B, "vpc-0b1").await;
    fleet_scan::handle(
        &scan_deps,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + Duration::from_secs(60),
    )
    .await
    .expect("scan");
    drain(p, &worker_deps).await;
    private_journeys(&store, p).await;
    println!(
        "\n   {} agent invocations, all by the member role, none carrying a credential",
        p.stack.sim.invocations().len()
    );
}

/// Each private-fleet cluster: phase, reachability, route, and its aws-auth writes.
async fn private_journeys(store: &StateStore, p: &Pipeline) {
    for (account, name, _) in PRIVATE_CLUSTERS {
        let key = ClusterKey::from_pk(&format!("CLUSTER#{account}#us-east-1#{name}")).expect("key");
        let Some(record) = store.get_cluster(&key).await.expect("record") else {
            continue;
        };
        let s = &record.state;
        let reach = s.reach.as_ref().map_or_else(String::new, |r| {
            format!("{}, {}", r.reachability.class.describe(), r.route.label())
        });
        println!(
            "   {name:<13} {:<9} {:<18} simulator {:<19} {reach}",
            s.mode.to_string(),
            s.phase.to_string(),
            sim_mode(p, account, "us-east-1", name)
        );
        if s.phase == eks_auth_core::state::Phase::Blocked
            && let Some(e) = &s.last_error
        {
            println!("     why: {e}");
        }
        for a in store.list_audit(&key).await.expect("audit") {
            if a.operation == "PatchConfigMap" {
                println!(
                    "     aws-auth pruned through {} [{}]",
                    a.request
                        .get("route")
                        .and_then(|v| v.as_str())
                        .unwrap_or("?"),
                    if a.status == AuditStatus::Succeeded {
                        "ok"
                    } else {
                        "FAILED"
                    }
                );
            }
        }
    }
}

/// The real `eks-auth-migrator` binary (`EAM_CLI`), configured for this stack through a
/// standard AWS config file, writing into `EAM_DEMO_OUT` (default `target/demo`).
struct CliRun {
    bin: std::path::PathBuf,
    out: std::path::PathBuf,
    config: std::path::PathBuf,
}

impl CliRun {
    fn new(p: &Pipeline) -> Option<Self> {
        let bin = std::path::PathBuf::from(std::env::var_os("EAM_CLI")?);
        let out = std::path::PathBuf::from(
            std::env::var_os("EAM_DEMO_OUT").unwrap_or_else(|| "target/demo".into()),
        );
        std::fs::create_dir_all(&out).expect("demo output directory");
        let config = out.join("aws-config");
        let moto = p.stack.moto.as_ref().map(|m| m.url()).expect("moto");
        std::fs::write(
            &config,
            format!(
                "[default]\nregion = us-east-1\nendpoint_url = {moto}\nservices = local-stack\n\n[services local-stack]\neks =\n  endpoint_url = {}\n",
                p.stack.sim.url()
            ),
        )
        .expect("config file");
        Some(Self { bin, out, config })
    }

    /// The environment a shell needs to run the CLI against this stack.
    fn env(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_CONFIG_FILE", self.config.display().to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
            ("AWS_ACCESS_KEY_ID", "AKIADEMOOPERATOR0001".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "demo".to_owned()),
            ("EAM_TABLE", TABLE.to_owned()),
        ]
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let out = std::process::Command::new(&self.bin)
            .args(args)
            .envs(self.env())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("eks-auth-migrator runs");
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
        out
    }

    /// Prints the terminal report and writes every other format.
    fn reports(&self) {
        let table = self.run(&["report", "--format", "table", "--width", "110"]);
        for line in String::from_utf8_lossy(&table.stdout).lines() {
            println!("   {line}");
        }
        for (format, inventory, file) in [
            ("json", false, "fleet.json"),
            ("csv", false, "fleet.csv"),
            ("csv", true, "inventory.csv"),
            ("markdown", false, "fleet.md"),
            ("html", false, "fleet.html"),
        ] {
            let path = self.out.join(file);
            let path = path.to_string_lossy();
            let mut args = vec!["report", "--format", format, "-o", &path];
            if inventory {
                args.push("--inventory");
            }
            self.run(&args);
        }
        println!(
            "\n   The same report, every format: {}/fleet.html (open it in a browser), fleet.json, fleet.csv, inventory.csv, fleet.md",
            self.out.display()
        );
    }

    /// Keeps the stack up until Ctrl-C, for running the CLI by hand.
    async fn keep_serving(&self) {
        println!("\nThe local stack stays up until Ctrl-C. In another shell:");
        for (k, v) in self.env() {
            println!("   export {k}={v}");
        }
        println!(
            "   {} report          # or status, status --cluster pay-legacy, report --format html -o fleet.html",
            self.bin.display()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Each cluster's record and the writes made to it, from the state table.
async fn journeys(store: &StateStore, p: &Pipeline) {
    let clusters = [
        (A, "us-east-1", "pay-prod"),
        (A, "eu-west-1", "pay-legacy"),
        (B, "us-east-1", "data-prod"),
    ];
    for (account, region, name) in clusters {
        let key = ClusterKey::from_pk(&format!("CLUSTER#{account}#{region}#{name}")).expect("key");
        let Some(record) = store.get_cluster(&key).await.expect("record") else {
            continue;
        };
        let s = &record.state;
        println!(
            "\n   {name} ({account}, {region}): mode {}, phase {}, simulator says {}",
            s.mode,
            s.phase,
            sim_mode(p, account, region, name)
        );
        if let Some(e) = &s.last_error {
            println!("     why: {e}");
        }
        for a in store.list_audit(&key).await.expect("audit") {
            let mark = match a.status {
                AuditStatus::Succeeded => "ok",
                AuditStatus::Failed => "FAILED",
                AuditStatus::Started => "open",
            };
            let what = a
                .request
                .get("authenticationMode")
                .or_else(|| a.request.get("policyArn"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            println!("     {:<22} {:<62} {what} [{mark}]", a.operation, a.target);
        }
    }
}
