//! What the fleet tells people and other systems, as pure data: CloudWatch metrics in the
//! embedded metric format ([`emf`], [`metrics`], their names in [`metric_names`]), phase-change
//! events for EventBridge ([`transition`]) and the Security Hub finding of a cluster that still
//! authenticates through aws-auth ([`posture`]). Adapters print, send and import what these functions build
//! (docs/operations.md, docs/events.md).

pub mod emf;
pub mod metric_names;
pub mod metrics;
pub mod posture;
pub mod transition;

use crate::arn::partition_of;

/// The ARN of EKS cluster `name` in `account` and `region`.
pub fn cluster_arn(account: &str, region: &str, name: &str) -> String {
    format!(
        "arn:{}:eks:{region}:{account}:cluster/{name}",
        partition_of(region)
    )
}

/// `text` made safe to place inside a quoted EventBridge input template or a notification:
/// quotes, backslashes, control characters and markup brackets (`<`, `>`) become apostrophes,
/// slashes, spaces and `‹` `›`, and it is cut to `max` characters (with `…`). EventBridge does
/// not escape the values it inserts, and mail and chat clients render markup.
pub fn plain_text(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            // Markup a mail or chat client would render (HTML tags, Slack's <url|text> links).
            '<' => '‹',
            '>' => '›',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if cleaned.chars().count() <= max {
        return cleaned;
    }
    let mut cut: String = cleaned.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_arns_follow_the_regions_partition() {
        assert_eq!(
            cluster_arn("111122223333", "eu-west-1", "prod"),
            "arn:aws:eks:eu-west-1:111122223333:cluster/prod"
        );
    }

    #[test]
    fn plain_text_neutralises_what_a_template_would_not_escape() {
        assert_eq!(plain_text("a \"b\"\\c\nd", 100), "a 'b'/c d");
        assert_eq!(plain_text("<a href=x>", 100), "‹a href=x›");
        assert_eq!(plain_text("abcdef", 4), "abc…");
        assert_eq!(plain_text("abc", 3), "abc");
    }
}
