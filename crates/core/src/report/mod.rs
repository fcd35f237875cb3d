//! The fleet report: the organisation's aws-auth estate, built from the state table's records
//! (docs/report-format.md).

pub mod input;
