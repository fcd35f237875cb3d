//! The `cluster-worker` Lambda function: wiring only (see the library).

use aws_lambda_events::event::sqs::SqsEvent;
use cluster_worker::{Deps, handle};
use eks_auth_aws::fleet::environment::FunctionEnv;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = FunctionEnv::from_env()?;
    let config = eks_auth_aws::fleet::function_config().await;
    let worker_id = format!(
        "worker-{}-{}",
        std::env::var("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_default(),
        std::process::id()
    );
    let deps = Deps::new(config, env, worker_id);
    let (store, held) = (deps.clients.store.clone(), deps.held_leases.clone());
    // Lambda sends SIGTERM (with a short grace period) only to functions with a registered
    // extension; this registers lambda_runtime's no-op one and runs the hook on SIGTERM/SIGINT.
    lambda_runtime::spawn_graceful_shutdown_handler(move || async move {
        cluster_worker::shutdown(&store, &held).await;
    })
    .await;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = eks_auth_aws::fleet::instant_of(event.context.deadline());
        handle(deps, event.payload, deadline).await
    }))
    .await
}
