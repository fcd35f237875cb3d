//! placeholder being written
use crate::plan::Plan;
pub(super) fn render(_plan: &Plan, _options: super::RenderOptions) -> String { String::new() }
