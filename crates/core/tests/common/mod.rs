//! Shared by the report's integration tests.

// Each test binary uses a different part of it.
#![allow(dead_code)]

pub mod fleet;
pub mod hostile;

use eks_auth_core::report::input::FleetInput;

/// The committed fixture (tests/fixtures/fleet.json), as the coordinator's tests read it too.
pub fn fixture() -> FleetInput {
    serde_json::from_str(include_str!("../fixtures/fleet.json")).expect("fixture decodes")
}
