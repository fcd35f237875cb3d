//! The fleet report: the organisation's aws-auth estate, built from the state table's records
//! (docs/report-format.md).
//!
//! [`build()`] turns a [`input::FleetInput`] and a [`Filter`] into a [`FleetReport`]; [`render()`]
//! writes it in one of the [`Format`]s. Both are pure: the adapters read the table, the CLI writes
//! the bytes.

pub mod access;
mod build;
pub mod cluster_ref;
pub mod filter;
pub mod input;
pub mod model;
pub mod owner_model;
pub mod owner_selector;
mod remedy;
pub mod render;
pub mod time;

pub use build::build;
pub use filter::Filter;
pub use model::{FleetReport, REPORT_FORMAT_VERSION};
pub use remedy::remedy;
pub use render::{Format, RenderOptions, render};
