//! The `fleet-scan` Lambda function: wiring only (see the library).

use eks_auth_aws::fleet::environment::FunctionEnv;
use fleet_scan::{Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use std::time::{Instant, SystemTime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = FunctionEnv::from_env()?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deps = Deps::new(config, env);
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        handle(deps, &event.payload, Instant::now() + left).await
    }))
    .await
}
