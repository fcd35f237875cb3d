//! The DynamoDB state table the live commands open (`--table`, `--create-table`), checked to
//! exist before the command starts.

use crate::args::StateFlags;
use anyhow::{Context, Result};
use eks_auth_aws::StateStore;
use std::time::Duration;

/// The state store, creating its table first when asked, and checked to exist.
pub async fn open_store(config: &aws_config::SdkConfig, flags: &StateFlags) -> Result<StateStore> {
    let store = StateStore::from_config(config, &flags.table);
    if flags.create_table {
        store
            .create_table(Duration::from_secs(60))
            .await
            .with_context(|| format!("cannot create the state table {}", flags.table))?;
    }
    require_table(&store).await?;
    Ok(store)
}

/// Checks that the store's table exists (and DynamoDB answers): a missing table is one line
/// naming it, its region and how to create or name it.
pub async fn require_table(store: &StateStore) -> Result<()> {
    store.check_table().await?;
    Ok(())
}
