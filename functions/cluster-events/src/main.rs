//! The `cluster-events` Lambda function: wiring only (see the library).

use cluster_events::{Deps, ScopeSource, handle};
use eks_auth_aws::StateStore;
use eks_auth_aws::fleet::environment::FunctionEnv;
use eks_auth_aws::fleet::queue::JobQueue;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = FunctionEnv::from_env()?;
    let config = eks_auth_aws::fleet::function_config().await;
    let deps = Deps {
        store: StateStore::from_config(&config, &env.table),
        queue: JobQueue::new(&config, &env.queue_url),
        metrics: eks_auth_aws::notify::metrics::MetricsOut::stdout(env.metrics_namespace.clone()),
        write_role_name: env.member_write_role_name,
        scope: ScopeSource {
            sdk: config,
            parameter: env.config_parameter,
            default_mode: env.default_mode,
            regions: env.regions,
        },
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(deps, &event.payload).await
    }))
    .await
}
