//! How finding messages list permission differences: the first few, then how many more (the
//! plan's `rbac` section lists them all).

use crate::rbac::Difference;

/// How many differences a finding message lists before "and N more".
const LISTED: usize = 12;

/// Differences as `a; b; c` (at most [`LISTED`]).
pub(super) fn listing(diffs: &[Difference]) -> String {
    let mut text: Vec<&str> = diffs.iter().take(LISTED).map(|d| d.text.as_str()).collect();
    let more = diffs.len().saturating_sub(LISTED);
    let tail = format!("and {more} more (the plan's rbac section lists all)");
    if more > 0 {
        text.push(&tail);
    }
    text.join("; ")
}
