//! placeholder being written
use crate::plan::Plan;
pub(super) fn render(_plan: &Plan) -> String { String::new() }
