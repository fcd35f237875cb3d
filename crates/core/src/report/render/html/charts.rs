//! Inline SVG bar charts: no script, no external resource; colours come from the page's CSS
//! classes so the print stylesheet can change them.

use super::markup::esc;
use std::fmt::Write;

/// One bar: its label, its count and a CSS class for its colour.
#[derive(Debug)]
pub(super) struct Bar<'a> {
    /// The label (escaped here).
    pub(super) label: &'a str,
    /// The count.
    pub(super) count: usize,
    /// CSS class (`c-api`, `c-block`, …).
    pub(super) class: &'a str,
}

const ROW: usize = 26;
const BAR_WIDTH: usize = 260;
const COUNT_WIDTH: usize = 60;
/// Pixels per label character at the page's 12 px chart font (generous for capitals).
const CHAR_WIDTH: usize = 8;

/// A horizontal bar chart, bars scaled to the largest count; `id` names it for the page's tests.
pub(super) fn bars(id: &str, title: &str, bars: &[Bar<'_>]) -> String {
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_width = longest * CHAR_WIDTH + 12;
    let width = label_width + BAR_WIDTH + COUNT_WIDTH;
    let height = ROW * bars.len().max(1) + 8;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<figure class="chart"><figcaption>{title}</figcaption><svg id="{id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{title}"><title>{title}</title>"#,
        title = esc(title),
        id = esc(id),
    );
    if bars.is_empty() {
        let _ = write!(svg, r#"<text x="0" y="18" class="muted">none</text>"#);
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = i * ROW + 4;
        let length = if bar.count == 0 {
            0
        } else {
            (bar.count * BAR_WIDTH).div_ceil(max).max(2)
        };
        let _ = write!(
            svg,
            r#"<g class="bar" data-label="{label}" data-count="{count}"><text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{bx}" y="{y}" width="{length}" height="18" rx="3" class="{class}"/><text x="{cx}" y="{ty}" class="count">{count}</text></g>"#,
            label = esc(bar.label),
            count = bar.count,
            lx = label_width - 8,
            ty = y + 14,
            bx = label_width,
            class = esc(bar.class),
            cx = label_width + length + 6,
        );
    }
    svg.push_str("</svg></figure>");
    svg
}
