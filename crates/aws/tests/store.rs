//! The DynamoDB state store against a real moto server over HTTP.

mod common;

use common::{Moto, TEST_SECRET, TEST_SESSION_TOKEN};
use eks_auth_aws::store::audit_trail::{AuditOutcome, AuditStart, AuditStatus};
use eks_auth_aws::store::entries::{EntryPlan, EntryStatus, EntryUpdate};
use eks_auth_aws::store::records::{ClusterState, Counts, UpdateRef};
use eks_auth_aws::{ClusterKey, StateStore, StoreError};
use eks_auth_core::facts::AuthenticationMode;
use eks_auth_core::state::{Mode, Phase};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

const T0: u64 = 1_767_323_045;

fn key(name: &str) -> ClusterKey {
    ClusterKey {
        account: "012345678901".parse().expect("account"),
        region: "eu-west-1".parse().expect("region"),
        name: name.parse().expect("name"),
    }
}

async fn with_cluster(moto: &Moto, name: &str) -> (StateStore, ClusterKey) {
    let store = moto.store("eam-state").await;
    let key = key(name);
    store
        .create_cluster(&key, &ClusterState::discovered(Mode::Migrate), at(T0))
        .await
        .expect("create cluster");
    (store, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_workers_exactly_one_wins_the_lease() {
    let Some(moto) = Moto::start() else { return };
    let (store, key) = with_cluster(&moto, "race").await;
    for round in 0..10u64 {
        let now = at(T0 + round * 100);
        let tasks: Vec<_> = (0..4)
            .map(|w| {
                let (store, key) = (store.clone(), key.clone());
                tokio::spawn(async move {
                    store
                        .acquire_lease(
                            &key,
                            &format!("worker-{round}-{w}"),
                            Duration::from_secs(60),
                            now,
                        )
                        .await
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut held_by = Vec::new();
        for t in tasks {
            match t.await.expect("join") {
                Ok(lease) => winners.push(lease),
                Err(StoreError::LeaseHeld { owner, until, .. }) => held_by.push((owner, until)),
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let winner = winners.pop().expect("one winner");
        assert_eq!(held_by.len(), 3);
        for (owner, until) in held_by {
            assert_eq!(owner, winner.owner());
            assert_eq!(until, winner.until());
        }
        let record = store.get_cluster(&key).await.expect("get").expect("exists");
        assert_eq!(
            record.lease.map(|l| l.owner),
            Some(winner.owner().to_owned())
        );
        store.release_lease(winner).await.expect("release");
    }
}

#[tokio::test]
async fn expired_lease_is_taken_over_and_the_old_holder_is_fenced() {
    let Some(moto) = Moto::start() else { return };
    let (store, key) = with_cluster(&moto, "takeover").await;
    let ttl = Duration::from_secs(30);
    let a = store
        .acquire_lease(&key, "worker-a", ttl, at(T0))
        .await
        .expect("a acquires");
    assert_eq!(a.until(), at(T0 + 30));

    match store
        .acquire_lease(&key, "worker-b", ttl, at(T0 + 10))
        .await
    {
        Err(StoreError::LeaseHeld { owner, until, .. }) => {
            assert_eq!(owner, "worker-a");
            assert_eq!(until, at(T0 + 30));
        }
        other => panic!("expected LeaseHeld, got {other:?}"),
    }
    // The holder may extend its own lease.
    let a = store
        .renew_lease(&a, ttl, at(T0 + 20))
        .await
        .expect("renew");
    assert_eq!(a.until(), at(T0 + 50));
    assert!(matches!(
        store
            .acquire_lease(&key, "worker-b", ttl, at(T0 + 40))
            .await,
        Err(StoreError::LeaseHeld { .. })
    ));

    // a crashes; after expiry b takes over.
    let b = store
        .acquire_lease(&key, "worker-b", ttl, at(T0 + 51))
        .await
        .expect("takeover");
    assert_eq!(b.owner(), "worker-b");

    // a wakes up: it can neither renew, nor save, nor release.
    assert!(matches!(
        store.renew_lease(&a, ttl, at(T0 + 52)).await,
        Err(StoreError::LeaseLost { ref owner, .. }) if owner == "worker-a"
    ));
    let record = store.get_cluster(&key).await.expect("get").expect("exists");
    let mut state = record.state.clone();
    state.phase = Phase::Planned;
    assert!(matches!(
        store
            .save_cluster(&key, record.version, &state, at(T0 + 52), Some(&a))
            .await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.release_lease(a).await,
        Err(StoreError::LeaseLost { .. })
    ));

    // b's save goes through; lease changes did not bump the version.
    let saved = store
        .save_cluster(&key, record.version, &state, at(T0 + 53), Some(&b))
        .await
        .expect("b saves");
    assert_eq!(saved.version, 2);
    assert_eq!(saved.state.phase, Phase::Planned);
    // b's lease expires: its save is refused even at the right version.
    assert!(matches!(
        store
            .save_cluster(&key, 2, &state, at(T0 + 81), Some(&b))
            .await,
        Err(StoreError::LeaseLost { .. })
    ));
    store.release_lease(b).await.expect("release");
    let record = store.get_cluster(&key).await.expect("get").expect("exists");
    assert_eq!(record.lease, None);

    // No cluster record: no lease.
    assert!(matches!(
        store
            .acquire_lease(&self::key("absent"), "worker-a", ttl, at(T0))
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn stale_version_is_a_conflict() {
    let Some(moto) = Moto::start() else { return };
    let (store, key) = with_cluster(&moto, "occ").await;
    assert!(matches!(
        store
            .create_cluster(&key, &ClusterState::discovered(Mode::Audit), at(T0))
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let first = store.get_cluster(&key).await.expect("get").expect("exists");
    assert_eq!(first.version, 1);
    assert_eq!(first.state, ClusterState::discovered(Mode::Migrate));
    assert_eq!(first.updated_at, at(T0));

    let mut state = first.state.clone();
    state.phase = Phase::ModeSwitching;
    state.authentication_mode = Some(AuthenticationMode::ConfigMap);
    state.counts = Counts {
        entries_planned: 7,
        entries_applied: 0,
        entries_verified: 0,
        blockers: 2,
        aws_auth_rows: Some(9),
    };
    state.blocker_codes = vec!["SYSTEM_GROUP".to_owned(), "PATH_UNRESOLVED".to_owned()];
    state.pending_update = Some(UpdateRef {
        id: "0b1c2d3e-update".into(),
        target: AuthenticationMode::ApiAndConfigMap,
    });
    state.last_error = Some("ThrottlingException on UpdateClusterConfig".into());
    let saved = store
        .save_cluster(&key, 1, &state, at(T0 + 1), None)
        .await
        .expect("save v1");
    assert_eq!(saved.version, 2);
    assert_eq!(saved.state, state);

    // A second writer that also read version 1 loses.
    let mut stale = first.state.clone();
    stale.phase = Phase::Blocked;
    match store.save_cluster(&key, 1, &stale, at(T0 + 2), None).await {
        Err(StoreError::Conflict {
            expected, found, ..
        }) => assert_eq!((expected, found), (1, 2)),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let now = store.get_cluster(&key).await.expect("get").expect("exists");
    assert_eq!((now.version, now.state.clone()), (2, state.clone()));

    // Optional attributes are removed when cleared.
    let mut cleared = state.clone();
    cleared.pending_update = None;
    cleared.last_error = None;
    cleared.phase = Phase::EntriesApplied;
    let saved = store
        .save_cluster(&key, 2, &cleared, at(T0 + 3), None)
        .await
        .expect("save v2");
    assert_eq!(saved.state, cleared);

    assert!(matches!(
        store
            .save_cluster(&self::key("absent"), 1, &cleared, at(T0), None)
            .await,
        Err(StoreError::NotFound { .. })
    ));

    // The phase index lists clusters by phase.
    let listed = store
        .clusters_in_phase(Phase::EntriesApplied)
        .await
        .expect("query");
    assert_eq!(
        listed.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
        vec![key.clone()]
    );
    assert!(
        store
            .clusters_in_phase(Phase::Complete)
            .await
            .expect("query")
            .is_empty()
    );
}

#[tokio::test]
async fn audit_is_written_before_and_completed_after() {
    let Some(moto) = Moto::start() else { return };
    let (store, key) = with_cluster(&moto, "audit").await;
    let retention = Duration::from_secs(90 * 24 * 3600);
    let start = AuditStart {
        id: "op-1".into(),
        operation: "CreateAccessEntry".into(),
        target: "arn:aws:iam::012345678901:role/admin".into(),
        request: serde_json::json!({"type": "STANDARD", "kubernetesGroups": ["team-a"]}),
    };
    let started = store
        .begin_audit(&key, &start, at(T0) + Duration::from_millis(5), retention)
        .await
        .expect("begin");
    assert_eq!(started.sk, "AUDIT#2026-01-02T03:04:05.005Z#op-1");
    // Before the call completes the record is visible and open.
    let open = store.open_audits(&key).await.expect("open");
    assert_eq!(open, vec![started.clone()]);
    assert_eq!(open[0].expires_at, at(T0 + 90 * 24 * 3600));

    let done = store
        .complete_audit(
            &started,
            &AuditOutcome::Succeeded(serde_json::json!({"accessEntryArn": "arn:x"})),
            at(T0 + 1),
        )
        .await
        .expect("complete");
    assert_eq!(done.status, AuditStatus::Succeeded);
    assert_eq!(
        done.result,
        Some(serde_json::json!({"accessEntryArn": "arn:x"}))
    );
    assert_eq!(done.completed_at, Some(at(T0 + 1)));
    assert_eq!(done.request, start.request);
    // An outcome is never overwritten.
    assert!(matches!(
        store
            .complete_audit(&started, &AuditOutcome::Failed("late".into()), at(T0 + 2))
            .await,
        Err(StoreError::AuditCompleted { .. })
    ));
    // The same call recorded twice at the same instant is refused.
    assert!(matches!(
        store
            .begin_audit(&key, &start, at(T0) + Duration::from_millis(5), retention)
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));

    let second = AuditStart {
        id: "op-2".into(),
        operation: "UpdateClusterConfig".into(),
        ..start.clone()
    };
    let s2 = store
        .begin_audit(&key, &second, at(T0 + 3), retention)
        .await
        .expect("begin 2");
    let third = AuditStart {
        id: "op-3".into(),
        ..second.clone()
    };
    let s3 = store
        .begin_audit(&key, &third, at(T0 + 4), retention)
        .await
        .expect("begin 3");
    let failed = store
        .complete_audit(
            &s2,
            &AuditOutcome::Failed("ResourceInUseException".into()),
            at(T0 + 5),
        )
        .await
        .expect("complete 2");
    assert_eq!(failed.status, AuditStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("ResourceInUseException"));

    let all = store.list_audit(&key).await.expect("list");
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["op-1", "op-2", "op-3"]
    );
    // A crash after op-3 started leaves exactly that call open.
    assert_eq!(store.open_audits(&key).await.expect("open"), vec![s3]);
}

#[tokio::test]
async fn backup_round_trips_verbatim_and_is_never_overwritten() {
    let Some(moto) = Moto::start() else { return };
    let (store, key) = with_cluster(&moto, "backup").await;
    let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::012345678901:role/ops\n      username: ops:{{SessionName}}\n      groups: [system:masters]   \n\t# tab, trailing spaces, ünïcødé\n\n";
    let b = store
        .put_backup(&key, "12345", text, at(T0))
        .await
        .expect("backup");
    assert_eq!(b.text, text);
    let got = store
        .get_backup(&key, "12345")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got, b);
    assert_eq!(got.text.as_bytes(), text.as_bytes());
    // Idempotent for the same text, refused for a different one.
    assert_eq!(
        store
            .put_backup(&key, "12345", text, at(T0 + 9))
            .await
            .expect("again"),
        b
    );
    assert!(matches!(
        store.put_backup(&key, "12345", "changed", at(T0 + 9)).await,
        Err(StoreError::BackupMismatch { .. })
    ));
    assert_eq!(
        store.get_backup(&key, "12345").await.expect("get"),
        Some(b.clone())
    );
    assert_eq!(store.get_backup(&key, "999").await.expect("get"), None);
    // The newest backup by time, not by resourceVersion text.
    let newer = store
        .put_backup(&key, "9", "newer", at(T0 + 60))
        .await
        .expect("newer");
    assert_eq!(
        store.latest_backup(&key).await.expect("latest"),
        Some(newer)
    );
    assert_eq!(
        store
            .latest_backup(&self::key("none"))
            .await
            .expect("latest"),
        None
    );
}

#[tokio::test]
async fn per_principal_records_count_attempts() {
    let Some(moto) = Moto::start() else { return };
    let (store, key) = with_cluster(&moto, "entries").await;
    let arn: eks_auth_core::arn::Arn = "arn:aws:iam::012345678901:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123"
        .parse()
        .expect("arn");
    let plan = EntryPlan {
        principal_arn: arn.clone(),
        source_row: "- rolearn: arn:aws:iam::012345678901:role/AWSReservedSSO_Admin_0123\n  groups: [system:masters]\n".into(),
        target_spec: serde_json::json!({"type": "STANDARD", "policies": ["AmazonEKSClusterAdminPolicy"]}),
    };
    let planned = store
        .put_entry_plan(&key, &plan, at(T0))
        .await
        .expect("plan");
    assert_eq!(
        (planned.status, planned.attempts, planned.last_error.clone()),
        (EntryStatus::Planned, 0, None)
    );
    assert_eq!(planned.target_spec, plan.target_spec);

    let failed = EntryUpdate {
        status: EntryStatus::Failed,
        error: Some("ResourceNotFoundException".into()),
        attempted: true,
    };
    let r = store
        .update_entry(&key, &arn, &failed, at(T0 + 1))
        .await
        .expect("attempt 1");
    assert_eq!((r.status, r.attempts), (EntryStatus::Failed, 1));
    let created = EntryUpdate {
        status: EntryStatus::Created,
        error: None,
        attempted: true,
    };
    let r = store
        .update_entry(&key, &arn, &created, at(T0 + 2))
        .await
        .expect("attempt 2");
    assert_eq!(
        (r.status, r.attempts, r.last_error),
        (EntryStatus::Created, 2, None)
    );
    let verified = EntryUpdate {
        status: EntryStatus::Verified,
        error: None,
        attempted: false,
    };
    let r = store
        .update_entry(&key, &arn, &verified, at(T0 + 3))
        .await
        .expect("verify");
    assert_eq!(
        (r.status, r.attempts, r.updated_at),
        (EntryStatus::Verified, 2, at(T0 + 3))
    );

    // Re-planning keeps status and attempts.
    let again = store
        .put_entry_plan(&key, &plan, at(T0 + 4))
        .await
        .expect("re-plan");
    assert_eq!((again.status, again.attempts), (EntryStatus::Verified, 2));

    let other: eks_auth_core::arn::Arn =
        "arn:aws:iam::012345678901:user/alice".parse().expect("arn");
    assert!(matches!(
        store.update_entry(&key, &other, &verified, at(T0)).await,
        Err(StoreError::NotFound { .. })
    ));
    let listed = store.list_entries(&key).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].principal_arn, arn);
}

#[tokio::test]
async fn create_table_is_idempotent_and_enables_ttl() {
    let Some(moto) = Moto::start() else { return };
    let store = moto.store("eam-idem").await;
    store
        .create_table(Duration::from_secs(30))
        .await
        .expect("second create");
    let client = aws_sdk_dynamodb::Client::new(&moto.config().await);
    let ttl = client
        .describe_time_to_live()
        .table_name("eam-idem")
        .send()
        .await
        .expect("ttl");
    let d = ttl.time_to_live_description().expect("description");
    assert_eq!(d.attribute_name(), Some("expires_at"));
    assert_eq!(
        d.time_to_live_status(),
        Some(&aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );
    let table = client
        .describe_table()
        .table_name("eam-idem")
        .send()
        .await
        .expect("describe");
    let gsis = table
        .table()
        .map(|t| t.global_secondary_indexes())
        .unwrap_or_default();
    assert_eq!(
        gsis.iter()
            .filter_map(|g| g.index_name())
            .collect::<Vec<_>>(),
        ["phase-index"]
    );
}

fn assert_no_secret(e: &StoreError) {
    let mut text = format!("{e} {e:?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!text.contains(TEST_SECRET), "{text}");
    assert!(!text.contains(TEST_SESSION_TOKEN), "{text}");
}

#[tokio::test]
async fn errors_never_carry_credentials() {
    let Some(moto) = Moto::start() else { return };
    // A service error: the table does not exist.
    let store = StateStore::from_config(&moto.config().await, "no-such-table");
    let err = store
        .get_cluster(&key("x"))
        .await
        .expect_err("missing table");
    match &err {
        StoreError::Service {
            operation,
            code,
            retryable,
            ..
        } => {
            assert_eq!(*operation, "GetItem");
            assert_eq!(code.as_deref(), Some("ResourceNotFoundException"));
            assert!(!retryable);
        }
        other => panic!("expected Service, got {other:?}"),
    }
    assert_no_secret(&err);

    // A connection error: nothing listens on the port any more.
    let url = moto.url.clone();
    drop(moto);
    let store = StateStore::from_config(&common::config_for(&url).await, "t");
    let err = store.get_cluster(&key("x")).await.expect_err("closed port");
    assert!(err.is_retryable(), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holder_on_this_host_is_taken_over_at_once_one_elsewhere_never() {
    use eks_auth_aws::store::lease::process::ProcessId;
    let Some(moto) = Moto::start() else { return };
    let Some(me) = ProcessId::current() else {
        return; // no /proc: processes have no identity here, leases only expire
    };
    let (store, key) = with_cluster(&moto, "takeover").await;
    let now = SystemTime::now();
    let ttl = Duration::from_secs(300);
    // A holder of another host whose pid does not run here: never taken over before expiry.
    let elsewhere = ProcessId {
        host: format!("{}-other", me.host),
        pid: u32::MAX - 7,
        started: 1,
    };
    let held = store
        .acquire_lease_for(&key, "cli-other", Some(&elsewhere), ttl, now)
        .await
        .expect("first holder");
    match store
        .acquire_lease_for(&key, "cli-me", Some(&me), ttl, now)
        .await
    {
        Err(StoreError::LeaseHeld { owner, process, .. }) => {
            assert_eq!(owner, "cli-other");
            assert_eq!(process, Some(elsewhere));
        }
        other => panic!("another host's live lease was not refused: {other:?}"),
    }
    store.release_lease(held).await.expect("release");
    // A holder of this host whose process has ended: taken over at once.
    let dead = ProcessId {
        pid: u32::MAX - 7,
        ..me.clone()
    };
    let _dead_holder = store
        .acquire_lease_for(&key, "cli-dead", Some(&dead), ttl, now)
        .await
        .expect("dead holder's lease");
    let mine = store
        .acquire_lease_for(&key, "cli-me", Some(&me), ttl, now)
        .await
        .expect("taken over");
    assert_eq!(mine.owner(), "cli-me");
    // And this (live) process is not taken over by another of this host.
    let err = store
        .acquire_lease_for(&key, "cli-next", Some(&dead), ttl, now)
        .await
        .expect_err("a live holder keeps its lease");
    assert!(err.to_string().contains("is held by cli-me (pid"), "{err}");

    // Shutdown: the held-lease registry releases what a process still holds.
    let held = eks_auth_aws::store::lease::HeldLeases::new();
    held.insert(&mine);
    assert_eq!(held.release_all(&store).await, 1);
    let record = store.get_cluster(&key).await.expect("get").expect("record");
    assert!(record.lease.is_none(), "{:?}", record.lease);
}
