//! `cluster-events` on every sample in events/cluster-events/, against moto (the job queue in
//! SQS, delivery marks in DynamoDB) through the real SDK: what each event must do is in
//! events/README.md.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use cluster_events::{Deps, ScopeSource, handle};
use eks_auth_aws::StateStore;
use eks_auth_aws::fleet::queue::JobQueue;
use eks_auth_core::jobs::Job;
use eks_auth_core::state::Mode;
use eks_sim::harness::Stack;
use serde_json::Value;
use std::time::Duration;

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/../../events/cluster-events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample exists")).expect("JSON")
}

async fn config(moto: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIAEVENTS",
            "events-secret",
            None,
            None,
            "t",
        ))
        .load()
        .await
}

/// Receives and deletes every queued job.
async fn take(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Job> {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("ReceiveMessage");
    let mut jobs = Vec::new();
    for m in out.messages() {
        jobs.push(Job::parse(m.body().unwrap_or_default()).expect("a job"));
        if let Some(handle) = m.receipt_handle() {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(handle)
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
    jobs
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sample_event_does_what_the_readme_says() {
    let stack = Stack::start(eks_sim::seed::Seed::default(), true)
        .await
        .expect("stack");
    let Some(moto) = &stack.moto else {
        assert!(
            std::env::var("EAM_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "moto_server is missing and EAM_REQUIRE_TOOLS=1"
        );
        return;
    };
    let config = config(&moto.url()).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = sqs
        .create_queue()
        .queue_name("jobs")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("url")
        .to_owned();
    let store = StateStore::from_config(&config, "eam-events");
    store
        .create_table(Duration::from_secs(30))
        .await
        .expect("table");
    // The scope: the samples' account and region are in it; another account is excluded.
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name("/eam/config")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value(r#"{"version":1,"regions":["us-east-1"],"accounts":{"exclude":["444455556666"]}}"#)
        .send()
        .await
        .expect("PutParameter");
    let deps = Deps {
        store,
        queue: JobQueue::new(&config, &url),
        write_role_name: "eks-auth-migrator-member-write".to_owned(),
        metrics: eks_auth_aws::notify::metrics::MetricsOut::stdout(None),
        scope: ScopeSource {
            sdk: config.clone(),
            parameter: "/eam/config".to_owned(),
            default_mode: Mode::Audit,
            regions: vec!["eu-west-1".to_owned()],
        },
    };

    let expectations = [
        ("create-cluster.json", "enqueued", Some("new-cluster")),
        (
            "update-cluster-config-auth-mode.json",
            "enqueued",
            Some("mode-change"),
        ),
        ("delete-cluster.json", "enqueued", Some("drift")),
        ("create-access-entry.json", "enqueued", Some("drift")),
        (
            "delete-access-entry-out-of-band.json",
            "enqueued",
            Some("drift"),
        ),
        ("associate-access-policy.json", "enqueued", Some("drift")),
        ("disassociate-access-policy.json", "enqueued", Some("drift")),
        ("tag-mode.json", "enqueued", Some("mode-change")),
        ("failed-call.json", "ignored", None),
        ("own-call.json", "ignored", None),
        ("unknown-event.json", "ignored", None),
        ("malformed.json", "dropped", None),
    ];
    let dir = format!("{}/../../events/cluster-events", env!("CARGO_MANIFEST_DIR"));
    let files = std::fs::read_dir(&dir).expect("events dir").count();
    assert_eq!(
        files,
        expectations.len(),
        "a sample without an expectation here"
    );
    for (file, decision, reason) in expectations {
        let out = handle(&deps, &sample(file)).await.expect("handled");
        assert_eq!(out["decision"], decision, "{file}: {out}");
        let jobs = take(&sqs, &url).await;
        match reason {
            Some(reason) => {
                assert_eq!(jobs.len(), 1, "{file}");
                assert_eq!(jobs[0].reason.as_str(), reason, "{file}");
                assert_eq!(jobs[0].account, "111122223333", "{file}");
            }
            None => assert!(jobs.is_empty(), "{file} queued {jobs:?}"),
        }
    }
    // Issue 18 item 4: an event from an excluded account and one from a region the
    // configuration does not scan are dropped, as the scan would never list them; nothing is
    // queued.
    for (field, value, why) in [
        ("recipientAccountId", "444455556666", "accounts.exclude"),
        (
            "awsRegion",
            "eu-north-1",
            "region eu-north-1 is not scanned",
        ),
    ] {
        let mut e = sample("delete-access-entry-out-of-band.json");
        e["detail"][field] = Value::String(value.to_owned());
        e["detail"]["eventID"] = Value::String(format!("out-of-scope-{value}"));
        let out = handle(&deps, &e).await.expect("handled");
        assert_eq!(out["decision"], "dropped", "{out}");
        assert!(
            out["reason"].as_str().is_some_and(|r| r.contains(why)),
            "{out}"
        );
        assert!(take(&sqs, &url).await.is_empty(), "{value} queued a job");
    }
    // A second delivery of the same event is recognised and queues nothing.
    let again = handle(&deps, &sample("create-cluster.json"))
        .await
        .expect("handled");
    assert_eq!(again["decision"], "duplicate", "{again}");
    assert!(take(&sqs, &url).await.is_empty());
    // The out-of-band deletion names the principal, URL-decoded.
    let out = handle(&deps, &{
        let mut e = sample("delete-access-entry-out-of-band.json");
        e["detail"]["eventID"] = Value::String("another-delivery-id".to_owned());
        e
    })
    .await
    .expect("handled");
    let detail = out["job"]["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        detail.contains("arn:aws:iam::111122223333:role/team-a"),
        "{out}"
    );
}
