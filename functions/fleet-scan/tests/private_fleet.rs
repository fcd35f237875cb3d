//! A fleet mixing public, CIDR-restricted and private Kubernetes API endpoints, end to end
//! through the functions' handlers: the schedule's scan records each cluster's reachability, the
//! worker reaches the public ones and the one restricted to its egress directly, and the others
//! through their VPC's in-VPC agent (functions/cluster-agent, hosted behind the simulator's
//! Invoke API with its own role's credentials and its VPC's gateway as its only network), so
//! every cluster converges for its mode with every principal's access unchanged (the
//! simulator's oracle). A private cluster whose VPC has no agent is BLOCKED with what to deploy,
//! and converges once the agent is deployed. Least privilege on both sides: the central
//! functions' calls are their template roles'; the agents are invoked only by the member role,
//! by name prefix, with payloads that carry no token or credential; the agents make no AWS call
//! and get by with infra/kubernetes/migrator-rbac.yaml (the simulator enforces it).

mod support;

use eks_auth_aws::StateStore;
use eks_auth_core::reach::ReachClass;
use eks_auth_core::state::{Mode, Phase};
use eks_sim::Sim;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;
use support::*;

/// Each principal's username, node-ness and permissions over a grid, per the simulator.
type Access = BTreeMap<String, Option<(String, bool, BTreeSet<String>)>>;

fn access(sim: &Sim, account: &str, name: &str) -> Access {
    let key = eks_sim::model::ClusterKey {
        account: account.to_owned(),
        region: "us-east-1".to_owned(),
        name: name.to_owned(),
    };
    fleet_principals(Fleet::Private)
        .into_iter()
        .filter(|(a, kind, _, _)| *kind == "role" && (*a == A || *a == B))
        .map(|(a, _, _, role)| {
            let caller = format!("arn:aws:sts::{a}:assumed-role/{role}/session-1");
            let effective = sim.oracle(&key, &caller).expect("oracle");
            let access = effective.map(|e| {
                let mut allowed = BTreeSet::new();
                for verb in ["get", "update", "delete"] {
                    for resource in ["configmaps", "secrets"] {
                        for ns in ["default", "kube-system", "team-a"] {
                            let r = eks_sim::rbac::Request::core(verb, resource, ns);
                            if sim.may(&key, &caller, &r).expect("may") {
                                allowed.insert(format!("{verb} {resource} {ns}"));
                            }
                        }
                    }
                }
                let groups = e.rendered_groups.unwrap_or(e.groups);
                (
                    e.rendered_username.unwrap_or(e.username),
                    groups.iter().any(|g| g == "system:nodes"),
                    allowed,
                )
            });
            (caller, access)
        })
        .collect()
}

fn all_access(sim: &Sim) -> BTreeMap<&'static str, Access> {
    PRIVATE_CLUSTERS
        .iter()
        .map(|(account, name, _)| (*name, access(sim, account, name)))
        .collect()
}

async fn scan_and_drain(p: &Pipeline, scan: &fleet_scan::Deps, worker: &cluster_worker::Deps) {
    let report = fleet_scan::handle(
        scan,
        &sample("fleet-scan/schedule.json"),
        Instant::now() + support::RUN_DEADLINE,
    )
    .await
    .expect("scan");
    assert_eq!(report["failed"], serde_json::json!([]), "{report}");
    drain(p, worker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn public_restricted_and_private_clusters_converge_through_the_worker_and_the_agents() {
    let Some(p) = pipeline_of(Fleet::Private).await else {
        return;
    };
    let moto = p.stack.moto.as_ref().expect("moto");
    let mut agent_keys = Vec::new();
    for (account, vpc, deployed) in PRIVATE_VPCS {
        if deployed {
            agent_keys.push(deploy_agent(&p, account, vpc).await);
        }
    }
    moto.start_recording().expect("recording");
    let scan = fleet_scan::Deps::new(signed_as(&p.central, FLEET_SCAN_KEY), p.env.clone());
    let worker = cluster_worker::Deps::new(
        signed_as(&p.central, CLUSTER_WORKER_KEY),
        p.env.clone(),
        "private-worker".to_owned(),
    );
    let store = StateStore::from_config(&p.central, TABLE);
    let before = all_access(&p.stack.sim);

    scan_and_drain(&p, &scan, &worker).await;

    // Account A finalizes (the default): public, restricted-inside-egress (direct) and private
    // and restricted-outside-egress (through vpc-0a1's agent) alike. Account B migrates.
    for (account, name, phase, mode, auth) in [
        (A, "pay-prod", Phase::Complete, Mode::Finalize, "API"),
        (A, "pay-fenced", Phase::Complete, Mode::Finalize, "API"),
        (A, "pay-private", Phase::Complete, Mode::Finalize, "API"),
        (A, "pay-walled", Phase::Complete, Mode::Finalize, "API"),
        (
            B,
            "data-prod",
            Phase::Verified,
            Mode::Migrate,
            "API_AND_CONFIG_MAP",
        ),
        (
            B,
            "data-vault",
            Phase::Verified,
            Mode::Migrate,
            "API_AND_CONFIG_MAP",
        ),
        (
            B,
            "data-private",
            Phase::Blocked,
            Mode::Migrate,
            "CONFIG_MAP",
        ),
    ] {
        assert_eq!(
            phase_of(&store, account, name).await,
            Some((phase, mode)),
            "{name}"
        );
        assert_eq!(sim_mode(&p, account, "us-east-1", name), auth, "{name}");
    }
    let after = all_access(&p.stack.sim);
    assert_eq!(before, after, "someone's access changed");

    // The blocked cluster says what to deploy, in the record and in the fleet report.
    let blocked = record(&store, B, "data-private").await;
    let reason = blocked.state.last_error.expect("a reason");
    for needle in [
        "infra/cluster-agent.yaml",
        "eks-auth-migrator-agent-vpc-0b1",
        "account 222222222222, region us-east-1, VPC vpc-0b1",
    ] {
        assert!(reason.contains(needle), "{needle}: {reason}");
    }
    let read = store.read_fleet(2).await.expect("fleet read");
    let fleet = eks_auth_core::report::build(&read.input, &Default::default(), 1_800_000_000_000);
    let r = fleet.headline.reachability;
    assert_eq!(
        (
            r.public,
            r.public_restricted,
            r.private_only,
            r.unknown,
            r.unreachable
        ),
        (2, 2, 3, 0, 1),
        "{r:?}"
    );
    let summary = |name: &str| {
        fleet
            .clusters
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.reachability.clone())
            .unwrap_or_else(|| panic!("{name}'s reachability"))
    };
    assert_eq!(
        summary("pay-fenced").route.as_deref(),
        Some("direct (egress allowed)")
    );
    assert_eq!(
        summary("pay-walled").route.as_deref(),
        Some("agent eks-auth-migrator-agent-vpc-0a1")
    );
    assert_eq!(summary("data-vault").class, ReachClass::PrivateOnly);
    assert!(
        summary("data-private")
            .what_to_deploy
            .is_some_and(|w| w.contains("eks-auth-migrator-agent-vpc-0b1"))
    );

    // Least privilege, central side: every call a function made is one its template role grants.
    let calls = moto.recorded_calls().expect("recorded calls");
    for (key, role) in [
        (FLEET_SCAN_KEY, "FleetScanRole"),
        (CLUSTER_WORKER_KEY, "ClusterWorkerRole"),
    ] {
        let granted = role_actions(role);
        let made: BTreeSet<String> = calls
            .iter()
            .filter(|c| c.access_key == key)
            .map(iam_action)
            .collect();
        let missing: Vec<&String> = made.iter().filter(|a| !granted.contains(*a)).collect();
        assert!(missing.is_empty(), "{role} lacks {missing:?}");
    }
    // The agents called no AWS service.
    assert!(
        calls.iter().all(|c| !agent_keys.contains(&c.access_key)),
        "an agent called AWS"
    );
    // Member side: only the member role invokes, only agents of its own account, by the name
    // prefix infra/member-role.yaml grants; nothing in a payload is a credential or a token.
    let member_role = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/member-role.yaml"
    ))
    .expect("infra/member-role.yaml");
    assert!(member_role.contains("Action: lambda:InvokeFunction"));
    assert!(member_role.contains(":function:eks-auth-migrator-agent-*"));
    let invocations = p.stack.sim.invocations();
    assert!(invocations.len() >= 5, "{}", invocations.len());
    for call in &invocations {
        assert!(
            call.caller_arn.starts_with(&format!(
                "arn:aws:sts::{}:assumed-role/{MEMBER_WRITE_ROLE}/eks-auth-migrator-cluster-worker",
                call.account
            )),
            "{call:?}"
        );
        assert!(call.function.starts_with("eks-auth-migrator-agent-"));
        for secret in ["k8s-aws-v1.", "AKIA", "ASIA", "secret", "SessionToken"] {
            assert!(!call.payload.contains(secret), "{secret}: {}", call.payload);
        }
    }

    // The missing agent is deployed: the next scan's job for data-private goes through.
    deploy_agent(&p, B, "vpc-0b1").await;
    scan_and_drain(&p, &scan, &worker).await;
    assert_eq!(
        phase_of(&store, B, "data-private").await,
        Some((Phase::Verified, Mode::Migrate))
    );
    assert_eq!(
        access(&p.stack.sim, B, "data-private"),
        before["data-private"]
    );
}

async fn record(
    store: &StateStore,
    account: &str,
    name: &str,
) -> eks_auth_aws::store::records::ClusterRecord {
    let key = eks_auth_aws::ClusterKey::from_pk(&format!("CLUSTER#{account}#us-east-1#{name}"))
        .expect("key");
    store
        .get_cluster(&key)
        .await
        .expect("GetItem")
        .expect("a record")
}

async fn phase_of(store: &StateStore, account: &str, name: &str) -> Option<(Phase, Mode)> {
    phase(store, account, "us-east-1", name).await
}
