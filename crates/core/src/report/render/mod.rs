//! Report renderers, one module per format, all from the same [`FleetReport`]; none adds a
//! number. Values from customer data (ARNs, usernames, messages, tags) are escaped for each
//! format.

mod access_rows;
mod csv;
mod html;
mod markdown;
mod owner_rows;
mod summary;
mod table;

use super::model::FleetReport;
pub use crate::render::RenderOptions;

/// Output formats of `eks-auth-migrator report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Terminal text with tables fitted to the width (the default).
    Table,
    /// The versioned JSON contract (docs/report-format.md, docs/report.schema.json).
    Json,
    /// CSV, one row per cluster.
    Csv,
    /// CSV, one row per principal and cluster (`--inventory`).
    CsvInventory,
    /// Markdown for a wiki page or a pull request.
    Markdown,
    /// One self-contained HTML page: charts, sortable and filterable tables, a print layout.
    Html,
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// JSON serialisation failed.
    #[error("writing the JSON report: {0}")]
    Json(#[from] serde_json::Error),
    /// CSV writing failed.
    #[error("writing the CSV report: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Renders `report` as `format`. `options` apply to the table (width, colour).
///
/// # Errors
///
/// [`RenderError`] when the JSON or CSV writer fails (it writes to memory, so only on a defect).
pub fn render(
    report: &FleetReport,
    format: Format,
    options: RenderOptions,
) -> Result<String, RenderError> {
    Ok(match format {
        Format::Table => table::render(report, options),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(report)?;
            json.push('\n');
            json
        }
        Format::Csv => csv::clusters(report)?,
        Format::CsvInventory => csv::inventory(report)?,
        Format::Markdown => markdown::render(report),
        Format::Html => html::render(report),
    })
}
