//! The DynamoDB state table the live commands open (`--table`, `--create-table`).

use crate::args::StateFlags;
use anyhow::{Context, Result};
use eks_auth_aws::StateStore;
use std::time::Duration;

/// The state store, creating its table first when asked.
pub async fn open_store(config: &aws_config::SdkConfig, flags: &StateFlags) -> Result<StateStore> {
    let store = StateStore::from_config(config, &flags.table);
    if flags.create_table {
        store
            .create_table(Duration::from_secs(60))
            .await
            .with_context(|| format!("cannot create the state table {}", flags.table))?;
    }
    Ok(store)
}
