//! Terminal layout shared by the plan's and the fleet report's tables: short forms of ARNs and
//! policies, and a grid that never slices a word — a full table when every column fits its
//! longest word, else each row stacked as its key values beside `label: value` lines. The full
//! values stay in the JSON and CSV outputs.

use crate::access_entry::{AccessPolicy, ScopeType};
use crate::arn::{Arn, Principal};

/// `111122223333 role/name` for an IAM role or user ARN (names are unique per account whatever
/// the path, so the path is left out), `111122223333 assumed-role/role/session` for a session;
/// anything else as it is.
pub(crate) fn short_arn(arn: &str) -> String {
    let Ok(parsed) = arn.parse::<Arn>() else {
        return arn.to_owned();
    };
    let account = parsed.account();
    match parsed.principal() {
        Principal::Role { name, .. } => format!("{account} role/{name}"),
        Principal::User { name, .. } => format!("{account} user/{name}"),
        Principal::AssumedRole { .. } | Principal::Root | Principal::Other => {
            format!("{account} {}", parsed.resource())
        }
    }
}

/// `ClusterAdmin (cluster)`, `View (ns: team-a, team-b-*)`: the policy name without
/// `AmazonEKS` and `Policy`, and its scope.
pub(crate) fn short_policy(policy: &AccessPolicy) -> String {
    let name = policy.name();
    let short = name
        .strip_prefix("AmazonEKS")
        .and_then(|n| n.strip_suffix("Policy"))
        .filter(|n| !n.is_empty())
        .unwrap_or(name);
    match policy.access_scope.scope_type {
        ScopeType::Cluster => format!("{short} (cluster)"),
        ScopeType::Namespace => format!(
            "{short} (ns: {})",
            policy.access_scope.namespaces.join(", ")
        ),
    }
}

/// Rows under headers. A cell holds one item per line; the first `key_columns` columns name the
/// row when it is stacked.
#[derive(Debug)]
pub(crate) struct Grid<'a> {
    /// Column headers.
    pub(crate) headers: &'a [&'a str],
    /// How many leading columns stay in the left cell of a stacked row.
    pub(crate) key_columns: usize,
    /// The rows, one string per column.
    pub(crate) rows: Vec<Vec<String>>,
}

/// `text` with control characters shown escaped (`\u{1b}`, `\t`), so a value cannot move the
/// cursor, clear the screen or break a table; `\n` separates a cell's items and is kept.
pub(crate) fn clean(text: &str) -> String {
    if !needs_cleaning(text) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn needs_cleaning(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

impl Grid<'_> {
    /// The grid at `width` columns (no limit when unknown), ending with a newline.
    pub(crate) fn render(mut self, width: Option<u16>) -> String {
        for cell in self.rows.iter_mut().flatten() {
            if needs_cleaning(cell) {
                *cell = clean(cell);
            }
        }
        self.layout(width)
    }

    fn layout(&self, width: Option<u16>) -> String {
        let Some(width) = width else {
            return table(
                self.headers.iter().map(|h| (*h).to_owned()).collect(),
                &self.rows,
                None,
                false,
            );
        };
        let headers: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        if needed_width(&headers, &self.rows) <= usize::from(width) {
            return table(headers, &self.rows, Some(width), false);
        }
        let (left, right) = self
            .headers
            .split_at(self.key_columns.min(self.headers.len()));
        let stacked: Vec<Vec<String>> = self.rows.iter().map(|row| self.stack(row)).collect();
        let headers = vec![left.join(" / "), right.join(" / ")];
        if needed_width(&headers, &stacked) <= usize::from(width) {
            return table(headers, &stacked, Some(width), true);
        }
        // Not even two columns fit: one cell per row, its key values first.
        let single: Vec<Vec<String>> = stacked
            .into_iter()
            .map(|cells| vec![cells.join("\n")])
            .collect();
        table(vec![self.headers.join(" / ")], &single, Some(width), true)
    }

    /// A row as two cells: its key values, one per line; the rest as `label: value` lines.
    fn stack(&self, row: &[String]) -> Vec<String> {
        let (keys, rest) = row.split_at(self.key_columns.min(row.len()));
        let left: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .collect();
        let right: Vec<String> = self.headers[keys.len()..]
            .iter()
            .zip(rest)
            .filter(|(_, v)| !v.is_empty() && v.as_str() != "-")
            .map(|(h, v)| format!("{h}: {}", v.lines().collect::<Vec<_>>().join(", ")))
            .collect();
        vec![left.join("\n"), right.join("\n")]
    }
}

/// The width a table needs so that no column is narrower than its longest word.
fn needed_width(headers: &[String], rows: &[Vec<String>]) -> usize {
    let borders = 3 * headers.len() + 1;
    borders + longest_words(headers, rows).iter().sum::<usize>()
}

/// Each column's longest whitespace-separated word (header included).
fn longest_words(headers: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| longest_word(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(longest_word(cell));
        }
    }
    widths
}

fn longest_word(text: &str) -> usize {
    text.split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
}

/// A table drawn in box-drawing characters: each column as wide as `column_widths` says, cells
/// wrapped at spaces (a word longer than its column, which only a too-narrow terminal leaves, is
/// cut); `separated` draws a line between rows (stacked rows span several lines).
fn table(
    headers: Vec<String>,
    rows: &[Vec<String>],
    width: Option<u16>,
    separated: bool,
) -> String {
    let widths = match width {
        Some(w) => column_widths(&headers, rows, usize::from(w)),
        None => longest_lines(&headers, rows),
    };
    let mut out = String::with_capacity(rows.len() * 64);
    rule(&mut out, &widths, ['┌', '─', '┬', '┐']);
    draw_row(&mut out, &headers, &widths);
    rule(&mut out, &widths, ['╞', '═', '╪', '╡']);
    for (i, row) in rows.iter().enumerate() {
        if separated && i > 0 {
            rule(&mut out, &widths, ['├', '╌', '┼', '┤']);
        }
        draw_row(&mut out, row, &widths);
    }
    rule(&mut out, &widths, ['└', '─', '┴', '┘']);
    out
}

/// A horizontal rule: left corner, line, junction, right corner.
fn rule(out: &mut String, widths: &[usize], [left, line, junction, right]: [char; 4]) {
    out.push(left);
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            out.push(junction);
        }
        out.extend(std::iter::repeat_n(line, w + 2));
    }
    out.push(right);
    out.push('\n');
}

/// One row: each cell wrapped to its column, the row as tall as its tallest cell.
fn draw_row(out: &mut String, cells: &[String], widths: &[usize]) {
    let wrapped: Vec<Vec<&str>> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| fit(cells.get(i).map_or("", String::as_str), *w))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    for line in 0..height {
        out.push('│');
        for (i, (lines, w)) in wrapped.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push('┆');
            }
            let text = lines.get(line).copied().unwrap_or("");
            out.push(' ');
            out.push_str(text);
            out.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(text.chars().count()) + 1,
            ));
        }
        out.push_str("│\n");
    }
}

/// A cell's lines at `width` columns: its own lines, each wrapped at the last space that fits.
fn fit(cell: &str, width: usize) -> Vec<&str> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for line in cell.split('\n') {
        let mut rest = line.trim_end();
        loop {
            // The byte where the line overflows, and the last space before it.
            let mut overflow = None;
            let mut space = None;
            for (n, (i, c)) in rest.char_indices().enumerate() {
                if c == ' ' {
                    space = Some(i);
                }
                if n == width {
                    overflow = Some(i);
                    break;
                }
            }
            let Some(overflow) = overflow else {
                lines.push(rest);
                break;
            };
            let cut = space.filter(|i| *i > 0).unwrap_or(overflow);
            lines.push(rest[..cut].trim_end());
            rest = rest[cut..].trim_start();
        }
    }
    lines
}

/// Each column's longest line (header included): the widths when there is no limit.
fn longest_lines(headers: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| longest_line(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(longest_line(cell));
        }
    }
    widths
}

/// Content widths for a table `width` columns wide: each column gets its longest word, then the
/// space left goes to the columns whose lines are longer, in proportion to what they lack.
fn column_widths(headers: &[String], rows: &[Vec<String>], width: usize) -> Vec<usize> {
    let minimum = longest_words(headers, rows);
    let wanted = longest_lines(headers, rows);
    let available = width.saturating_sub(3 * headers.len() + 1);
    let lacking: Vec<usize> = wanted
        .iter()
        .zip(&minimum)
        .map(|(w, m)| w.saturating_sub(*m))
        .collect();
    let total_lacking: usize = lacking.iter().sum();
    let slack = available.saturating_sub(minimum.iter().sum());
    if slack >= total_lacking {
        return wanted;
    }
    let mut widths: Vec<usize> = minimum
        .iter()
        .zip(&lacking)
        .map(|(m, l)| m + slack * l / total_lacking.max(1))
        .collect();
    // Hand out what rounding down left, one column at a time, to those still lacking.
    let mut left = available.saturating_sub(widths.iter().sum());
    for (w, want) in widths.iter_mut().zip(&wanted) {
        let extra = left.min(want.saturating_sub(*w));
        *w += extra;
        left -= extra;
    }
    widths
}

fn longest_line(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// `text` wrapped at spaces to `width` columns (unlimited when unknown), every line after the
/// first indented by `indent` spaces; ends with a newline.
pub(crate) fn wrap(text: &str, width: Option<u16>, indent: usize) -> String {
    let text = clean(text).replace('\n', " ");
    let Some(width) = width.map(usize::from) else {
        return format!("{text}\n");
    };
    let mut out = String::new();
    let mut line_len = 0;
    let mut fresh = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if !fresh && line_len + 1 + len > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line_len = indent;
        } else if !fresh {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += len;
        fresh = false;
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_entry::AccessScope;

    #[test]
    fn short_forms_keep_account_kind_and_name() {
        assert_eq!(
            short_arn(
                "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1"
            ),
            "111122223333 role/AWSReservedSSO_Admin_1"
        );
        assert_eq!(
            short_arn("arn:aws:iam::111122223333:user/dev/bob"),
            "111122223333 user/bob"
        );
        assert_eq!(
            short_arn("arn:aws:sts::111122223333:assumed-role/ci/gitlab"),
            "111122223333 assumed-role/ci/gitlab"
        );
        assert_eq!(short_arn("not an arn"), "not an arn");
        let view = AccessPolicy {
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
            access_scope: AccessScope {
                scope_type: ScopeType::Namespace,
                namespaces: vec!["a".into(), "b-*".into()],
            },
        };
        assert_eq!(short_policy(&view), "View (ns: a, b-*)");
        let odd = AccessPolicy {
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSPolicy".into(),
            access_scope: AccessScope::cluster(),
        };
        assert_eq!(short_policy(&odd), "AmazonEKSPolicy (cluster)");
    }

    #[test]
    fn a_grid_stacks_rather_than_slicing_words() {
        let grid = || Grid {
            headers: &["row", "principal", "username"],
            key_columns: 1,
            rows: vec![vec![
                "mapRoles[0]".into(),
                "111122223333 role/a-rather-long-role-name-that-needs-room".into(),
                "system:node:{{EC2PrivateDNSName}}".into(),
            ]],
        };
        let wide = grid().render(Some(120));
        assert!(
            wide.contains("┆ username"),
            "a full table when it fits:\n{wide}"
        );
        for width in [70, 80] {
            let out = grid().render(Some(width));
            assert!(
                out.contains("principal: 111122223333"),
                "stacked at {width}:\n{out}"
            );
            assert!(
                out.contains("role/a-rather-long-role-name-that-needs-room"),
                "{out}"
            );
            assert!(
                out.contains("username: system:node:{{EC2PrivateDNSName}}"),
                "{out}"
            );
            assert!(
                out.lines().all(|l| l.chars().count() <= usize::from(width)),
                "{out}"
            );
        }
    }

    #[test]
    fn cells_wrap_at_spaces_and_cut_only_words_wider_than_the_column() {
        assert_eq!(fit("aaaaaa bb", 4), ["aaaa", "aa", "bb"]);
        assert_eq!(fit("one two three\nfour", 7), ["one two", "three", "four"]);
        assert_eq!(fit("", 3), [""]);
        let drawn = table(vec!["h".into()], &[vec!["x y".into()]], Some(6), false);
        assert_eq!(drawn, "┌────┐\n│ h  │\n╞════╡\n│ x  │\n│ y  │\n└────┘\n");
    }

    #[test]
    fn wrap_indents_continuation_lines() {
        assert_eq!(wrap("aa bb cc dd", Some(6), 2), "aa bb\n  cc\n  dd\n");
        assert_eq!(wrap("aa bb", None, 2), "aa bb\n");
    }
}
