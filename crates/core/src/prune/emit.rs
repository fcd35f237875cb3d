//! Canonical re-emission of list items: a block list whose items are JSON-style flow values, one
//! per line. Strings are always double-quoted, so every scalar keeps the type the authenticator
//! saw (a string stays a string, a number a number).

use crate::aws_auth::node::Node;

/// `- <item>` lines for every item.
pub(super) fn block_of_flow_items(items: &[&Node]) -> Result<String, String> {
    let mut out = String::new();
    for item in items {
        out.push_str("- ");
        flow(item, &mut out)?;
        out.push('\n');
    }
    Ok(out)
}

fn flow(node: &Node, out: &mut String) -> Result<(), String> {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(n) => out.push_str(number(n)?),
        Node::Str(s) => out.push_str(&serde_json::to_string(s).map_err(|e| e.to_string())?),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(&item.value, out)?;
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(key, out)?;
                out.push_str(": ");
                flow(value, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A number as YAML reads it back as the same number.
fn number(n: &str) -> Result<&str, String> {
    // The parser turns every number into Rust's decimal spelling and rejects non-finite floats.
    match serde_json::from_str::<serde_json::Number>(n) {
        Ok(_) => Ok(n),
        Err(_) => Err(format!("the number `{n}` has no portable spelling")),
    }
}
