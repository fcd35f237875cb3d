//! The aws-auth values written inline in eks-auth-core's own tests (the reader's, the planner's,
//! prune's and the suggestions' rule cases), read by both readers. A value is a plain Rust
//! string literal right after `"mapRoles",`, `"mapUsers",`, `"mapAccounts",` (or the same with
//! `.to_owned(),`), `roles(` or `users(`; each becomes a ConfigMap with that one key. Values built
//! with `format!` are left out: their text exists only when the test runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::compare::{assert_none, disagreements};

/// Where a value starts and the key it belongs to.
const MARKERS: [(&str, &str); 8] = [
    ("\"mapRoles\",", "mapRoles"),
    ("\"mapUsers\",", "mapUsers"),
    ("\"mapAccounts\",", "mapAccounts"),
    ("\"mapRoles\".to_owned(),", "mapRoles"),
    ("\"mapUsers\".to_owned(),", "mapUsers"),
    ("\"mapAccounts\".to_owned(),", "mapAccounts"),
    ("roles(", "mapRoles"),
    ("users(", "mapUsers"),
];

/// Every `.rs` file under `dir`, recursively, in a stable order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The plain string literal at the start of `text` (after whitespace), unescaped; `None` when
/// something else comes first (a variable, `&format!`, a raw string).
fn literal(text: &str) -> Option<String> {
    let mut chars = text.trim_start().strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\n' => {
                    // A line continuation: the next line's leading whitespace is not text.
                    let rest = chars.as_str().trim_start();
                    chars = rest.chars();
                }
                'u' => {
                    let rest = chars.as_str().strip_prefix('{')?;
                    let (hex, after) = rest.split_once('}')?;
                    out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
                    chars = after.chars();
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The inline values of one source file: (where, the ConfigMap's data).
fn values(path: &Path, text: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    for (marker, key) in MARKERS {
        for (at, _) in text.match_indices(marker) {
            let Some(value) = literal(&text[at + marker.len()..]) else {
                continue;
            };
            let line = text[..at].lines().count().max(1);
            out.push((
                format!("{}:{line} ({key})", path.display()),
                BTreeMap::from([(key.to_owned(), value)]),
            ));
        }
    }
    out
}

#[test]
fn the_core_tests_inline_values_read_the_same() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/core");
    let mut found = Vec::new();
    let mut seen = 0;
    for dir in ["src", "tests"] {
        for path in rust_files(&core.join(dir)) {
            let text = std::fs::read_to_string(&path).expect("source");
            for (name, data) in values(&path, &text) {
                seen += 1;
                found.extend(disagreements(&name, &data));
            }
        }
    }
    eprintln!("{seen} inline aws-auth values read by both readers");
    // The reader's, planner's and prune's rule cases hold well over this many.
    assert!(seen >= 40, "only {seen} inline aws-auth values found");
    assert_none(&found);
}

#[test]
fn literals_unescape_as_rust_reads_them() {
    assert_eq!(
        literal(" \"- a: \\\"b\\\"\\n  c: \\u{e9}\\\\\" rest").as_deref(),
        Some("- a: \"b\"\n  c: é\\")
    );
    assert_eq!(
        literal("\"one \\\n        two\"").as_deref(),
        Some("one two")
    );
    assert_eq!(literal("&format!(\"x\")"), None);
    assert_eq!(literal("yaml)"), None);
}
