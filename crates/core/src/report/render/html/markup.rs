//! The page's building blocks: sections, bulleted lists and sortable, filterable tables, with
//! every value HTML-escaped ([`esc`]).

use crate::report::render::summary::Lines;
use std::fmt::Write;

/// Identifiers longer than this may wrap anywhere (ARNs); shorter ones never wrap.
const LONG: usize = 36;

/// Opens a section with its title.
pub(super) fn section(page: &mut String, id: &str, title: &str) {
    let _ = write!(
        page,
        r#"<section id="{id}" class="{id}"><h2>{}</h2>"#,
        esc(title)
    );
}

/// A bulleted list of sentences.
pub(super) fn list(page: &mut String, class: &str, items: Vec<String>) {
    if items.is_empty() {
        return;
    }
    let _ = write!(page, r#"<ul class="{class}">"#);
    for item in items {
        let _ = write!(page, "<li>{}</li>", esc(&item));
    }
    page.push_str("</ul>");
}

/// A sortable, filterable table.
pub(super) fn table(page: &mut String, id: &str, headers: &[&str], rows: Vec<Vec<Lines>>) {
    if rows.is_empty() {
        page.push_str(r#"<p class="muted">None.</p>"#);
        return;
    }
    let _ = write!(
        page,
        r#"<div class="tools"><input type="search" placeholder="Filter rows" aria-label="Filter rows" data-filter="{id}"><span class="count" data-count-for="{id}"></span></div><div class="scroll"><table class="data" id="{id}"><thead><tr>"#
    );
    for h in headers {
        let _ = write!(page, "<th scope=\"col\">{}</th>", esc(h));
    }
    page.push_str("</tr></thead><tbody>");
    for row in rows {
        page.push_str("<tr>");
        for cell in row {
            td(page, &cell);
        }
        page.push_str("</tr>");
    }
    page.push_str("</tbody></table></div>");
}

fn td(page: &mut String, cell: &Lines) {
    match cell.items.first() {
        Some(first) if cell.items.len() > 1 && first.parse::<f64>().is_ok() => {
            let _ = write!(page, r#"<td data-sort="{}">"#, esc(first));
        }
        _ => page.push_str("<td>"),
    }
    for (i, item) in cell.items.iter().enumerate() {
        if i > 0 {
            page.push_str("<br>");
        }
        if cell.code && !item.is_empty() {
            // Identifiers stay whole; only long ones (ARNs) may wrap.
            page.push_str(if item.len() > LONG {
                "<code class=\"long\">"
            } else {
                "<code>"
            });
            push_escaped(page, item);
            page.push_str("</code>");
        } else {
            push_escaped(page, item);
        }
    }
    page.push_str("</td>");
}

/// `value` escaped for HTML text and quoted attribute values.
pub(super) fn esc(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    push_escaped(&mut out, value);
    out
}

fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}
