//! The `cluster-agent` Lambda function: wiring only (see the library).

use cluster_agent::{AgentEnv, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = AgentEnv::from_env()?;
    let env = &env;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            Ok::<_, lambda_runtime::Error>(handle(env, &event.payload).await)
        },
    ))
    .await
}
