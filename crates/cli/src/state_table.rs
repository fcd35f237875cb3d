//! The DynamoDB state table the live commands open (`--table`, `--create-table`), checked to
//! exist before the command starts.

use crate::args::StateFlags;
use anyhow::{Context, Result};
use eks_auth_aws::StateStore;
use eks_auth_aws::store::fleet::FleetRead;
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

/// Reads every record of `table` for the fleet report and `export` (`segments` parallel scan
/// segments), with the standard AWS configuration, after checking the table exists.
pub async fn read_fleet(table: &str, segments: u32) -> Result<FleetRead> {
    let config = crate::aws_env::load_checked(None).await?;
    let store = StateStore::from_config(&config, table);
    require_table(&store).await?;
    store
        .read_fleet(segments)
        .await
        .with_context(|| format!("cannot read the state table {table}"))
}
