//! The `fleet-scan` Lambda function: wiring only (see the library).

use eks_auth_aws::fleet::environment::FunctionEnv;
use fleet_scan::{Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = FunctionEnv::from_env()?;
    let config = eks_auth_aws::fleet::function_config().await;
    let deps = Deps::new(config, env);
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = eks_auth_aws::fleet::instant_of(event.context.deadline());
        handle(deps, &event.payload, deadline).await
    }))
    .await
}
