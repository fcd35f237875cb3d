//! `maxResults` / `nextToken` pagination as the EKS list operations do it.

use std::collections::BTreeMap;

use super::EksError;

/// One page of `items` selected by the call's `maxResults` (1–100, default 100) and
/// `nextToken`, plus the token for the next page.
///
/// # Errors
///
/// `InvalidParameterException` for a `maxResults` outside 1–100 or a token this simulator
/// did not issue.
pub fn page<T: Clone>(
    items: &[T],
    query: &BTreeMap<String, String>,
) -> Result<(Vec<T>, Option<String>), EksError> {
    let max = match query.get("maxResults") {
        None => 100,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return Err(EksError::max_results(raw)),
        },
    };
    let start = match query.get("nextToken") {
        None => 0,
        Some(token) => token
            .strip_prefix("sim-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| EksError::invalid_parameter("The nextToken provided is invalid."))?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| format!("sim-{end}"));
    Ok((items[start..end].to_vec(), next))
}
