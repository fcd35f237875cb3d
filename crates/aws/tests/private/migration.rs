//! The engine on private clusters: finalize through the agent, a restricted endpoint through
//! the agent, a missing agent, and an agent that misbehaves.

use super::world::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_private_cluster_finalizes_through_its_agent_with_everyones_access_unchanged() {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    let before = access_map(&w.sim, "inside");
    let s = settings(&w);
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = converge(&engine, "inside", Mode::Finalize).await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    let record = w
        .store
        .get_cluster(&key("inside"))
        .await
        .expect("record")
        .expect("exists");
    assert_eq!(record.state.phase, Phase::Complete);
    assert_eq!(
        w.sim
            .with_world(|x| x.clusters[&sim_key("inside")].mode.as_str()),
        "API"
    );
    let after = access_map(&w.sim, "inside");
    assert_eq!(before, after, "someone's access changed");

    // The record says how the cluster was reached.
    let reach = record.state.reach.expect("reach recorded");
    assert_eq!(reach.reachability.class, ReachClass::PrivateOnly);
    assert_eq!(reach.reachability.vpc_id.as_deref(), Some(VPC));
    assert!(
        matches!(&reach.route, Route::Agent { function, .. } if *function == pin(VPC).function),
        "{:?}",
        reach.route
    );

    // Every aws-auth write went through the agent, audited before and after with its route.
    let audits = w.store.list_audit(&key("inside")).await.expect("audit");
    let patches: Vec<_> = audits
        .iter()
        .filter(|a| a.operation == "PatchConfigMap")
        .collect();
    assert_eq!(patches.len(), 1, "{audits:#?}");
    assert_eq!(patches[0].status, AuditStatus::Succeeded);
    assert_eq!(
        patches[0].request["route"],
        format!("agent {}", pin(VPC).function)
    );

    // Least privilege, both sides: every invocation was the migrator's (the member role in the
    // functions) of an agent named so in the cluster's own account, and carried neither a
    // token nor a secret; the agent got by with migrator-rbac.yaml alone (a 403 would have
    // failed the run).
    let calls = w.sim.invocations();
    assert!(!calls.is_empty());
    for call in &calls {
        assert_eq!(call.caller_arn, MIGRATOR_SESSION);
        assert_eq!(call.account, ACCOUNT);
        assert!(call.function.starts_with("eks-auth-migrator-agent-"));
        for secret in ["k8s-aws-v1.", MIGRATOR.1, "AKIA", "ASIA", "SessionToken"] {
            assert!(
                !call.payload.contains(secret),
                "{secret} in {}",
                call.payload
            );
        }
    }
    assert_eq!(kube_writes(&w.sim), 1, "one aws-auth write: the prune");

    // Converged: another run invokes the agent to read, and writes nothing.
    let writes = kube_writes(&w.sim);
    let again = converge(&engine, "inside", Mode::Finalize).await;
    assert_eq!(again.mutating_calls, 0);
    assert_eq!(kube_writes(&w.sim), writes);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restricted_endpoint_outside_the_egress_goes_through_the_agent_and_the_worker_cannot_go_direct()
 {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    // The worker's own network position: the simulator refuses it at both clusters.
    for cluster in ["inside", "fenced"] {
        let err = live::gather(&w.config, cluster, &GatherOptions::default())
            .await
            .expect_err("outside the VPC and the allowed CIDRs");
        assert!(
            matches!(err, GatherError::KubeUnreachable { .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("infra/cluster-agent.yaml"), "{message}");
        assert!(message.contains(&agent_function_name(VPC)), "{message}");
    }
    // By reachability: 127.0.0.1 is outside 203.0.113.0/24, the private endpoint is on.
    let s = settings(&w);
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = converge(&engine, "fenced", Mode::Audit).await;
    assert_eq!(report.outcome, Outcome::Done);
    let plan = report.plan.expect("a plan");
    let reach = plan
        .reach
        .expect("the plan says how it reached the cluster");
    assert_eq!(reach.reachability.class, ReachClass::PublicRestricted);
    assert_eq!(
        reach.reachability.egress,
        Some(eks_auth_core::reach::EgressFit::Outside)
    );
    assert!(matches!(reach.route, Route::Agent { .. }));
    assert!(
        plan.summary.create > 0,
        "aws-auth was read through the agent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_cluster_without_an_agent_is_blocked_with_what_to_deploy_until_one_is() {
    let Some(w) = world().await else { return };
    let s = settings(&w);
    let engine = Engine::new(&w.config, &w.store, &s);
    let report = run(&engine, "nowhere", Mode::Migrate).await;
    let Outcome::Blocked(reason) = &report.outcome else {
        panic!("expected a block: {report:#?}")
    };
    for needle in [
        "only a private Kubernetes API endpoint",
        "infra/cluster-agent.yaml",
        "account 123456789012, region us-east-1, VPC vpc-0b2",
        "eks-auth-migrator-agent-vpc-0b2",
        "no agent function arn:aws:lambda:us-east-1:123456789012:function:eks-auth-migrator-agent-vpc-0b2 exists",
        "hub VPC",
    ] {
        assert!(reason.contains(needle), "{needle}: {reason}");
    }
    let record = w
        .store
        .get_cluster(&key("nowhere"))
        .await
        .expect("record")
        .expect("exists");
    assert_eq!(record.state.phase, Phase::Blocked);
    assert_eq!(record.state.last_error.as_deref(), Some(reason.as_str()));
    assert!(matches!(
        record.state.reach.as_ref().map(|r| &r.route),
        Some(Route::Unreachable { .. })
    ));
    assert_eq!(kube_writes(&w.sim), 0);
    assert_eq!(
        w.sim.stats().get("UpdateClusterConfig"),
        None,
        "nothing changed"
    );

    // The agent is deployed: the next runs plan first, then migrate.
    deploy_agent(&w, BARE_VPC).await;
    let before = access_map(&w.sim, "nowhere");
    let report = converge(&engine, "nowhere", Mode::Migrate).await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert_eq!(report.phase, Phase::Verified);
    assert_eq!(access_map(&w.sim, "nowhere"), before);
    let entries = w
        .store
        .list_entries(&key("nowhere"))
        .await
        .expect("entries");
    assert!(
        entries.iter().any(|e| !e.source_row.is_empty()),
        "the plan was recorded (Step::Plan ran after the block): {entries:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_that_answers_late_garbage_another_version_or_crashes_fails_retryably_without_a_partial_write()
 {
    let Some(w) = world().await else { return };
    deploy_agent(&w, VPC).await;
    let function = agent_function_name(VPC);
    let agent = (ACCOUNT, REGION, function.as_str());
    let s = settings(&w);
    let engine = Engine::new(&w.config, &w.store, &s);
    let before = access_map(&w.sim, "inside");
    let original = aws_auth(&w.sim, "inside");

    // Reads that come back unusable: the run fails (retryably), says why, and writes nothing.
    for (fault, says) in [
        (LambdaFault::Garbage, "not JSON"),
        (LambdaFault::OtherVersion, "protocol version 2"),
        (LambdaFault::Crash, "the agent function failed (Unhandled)"),
        (
            LambdaFault::SlowAnswer(Duration::from_secs(4)),
            "no answer within 2 s",
        ),
    ] {
        w.sim.arm_function_fault(agent, fault.clone(), 1, None);
        let report = run(&engine, "inside", Mode::Finalize).await;
        let Outcome::Failed(reason) = &report.outcome else {
            panic!("{fault:?}: expected a retryable failure, got {report:#?}")
        };
        assert!(reason.contains(says), "{fault:?}: {reason}");
        assert!(reason.contains(&function), "{reason}");
        assert_eq!(report.mutating_calls, 0, "{fault:?}");
        assert_eq!(aws_auth(&w.sim, "inside"), original);
    }

    // Migrate (entries created and verified), then a prune whose answer comes too late: the
    // write landed, the worker does not know. The step fails retryably; aws-auth holds exactly
    // the pruned document, never a part of it; the next runs see nothing left to prune and
    // finish without a second write.
    let migrated = converge(&engine, "inside", Mode::Migrate).await;
    assert_eq!(migrated.phase, Phase::Verified);
    w.sim.arm_function_fault(
        agent,
        LambdaFault::SlowAnswer(Duration::from_secs(4)),
        1,
        Some("write_aws_auth"),
    );
    let mut failed = None;
    for _ in 0..10 {
        let report = run(&engine, "inside", Mode::Finalize).await;
        if let Outcome::Failed(reason) = &report.outcome {
            failed = Some(reason.clone());
            break;
        }
    }
    let reason = failed.expect("the late prune answer fails the step");
    assert!(reason.contains("no answer within 2 s"), "{reason}");
    let pruned = aws_auth(&w.sim, "inside");
    assert_ne!(pruned, original, "the write landed");
    let auth = eks_auth_core::aws_auth::AwsAuth::parse_data(&pruned);
    assert!(
        auth.findings
            .iter()
            .all(|f| f.severity != eks_auth_core::finding::Severity::Blocker),
        "a whole, valid document"
    );
    assert_eq!(kube_writes(&w.sim), 1);
    let done = converge(&engine, "inside", Mode::Finalize).await;
    assert_eq!(done.outcome, Outcome::Done, "{done:#?}");
    assert_eq!(kube_writes(&w.sim), 1, "the prune was not repeated");
    assert_eq!(access_map(&w.sim, "inside"), before);
    let audits = w.store.list_audit(&key("inside")).await.expect("audit");
    assert!(audits.iter().all(|a| a.status != AuditStatus::Started));
}
