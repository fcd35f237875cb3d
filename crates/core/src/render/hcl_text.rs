//! Writing HCL (Terraform) text: string literals taken literally, lists, attribute lines aligned
//! as `terraform fmt` aligns them, `import` blocks, and the attributes an access entry and an
//! access scope have in every Terraform rendering.

use super::handoff::HandoffEntry;
use crate::access_entry::{AccessScope, ScopeType};

/// Attribute lines with their `=` aligned (as `terraform fmt` writes them).
pub(super) fn aligned(attributes: &[(&str, String)], depth: usize) -> String {
    let width = attributes.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let indent = "  ".repeat(depth);
    attributes
        .iter()
        .map(|(key, value)| format!("{indent}{key:<width$} = {value}\n"))
        .collect()
}

/// A list of HCL strings.
pub(super) fn list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| string(v)).collect();
    format!("[{}]", items.join(", "))
}

/// A quoted HCL string literal: escapes `\`, `"` and control characters, and the template
/// markers `${` / `%{` (as `$${` / `%%{`), so the value is taken literally.
pub(super) fn string(value: &str) -> String {
    format!("\"{}\"", escaped(value))
}

/// The inside of [`string`]'s literal, without the quotes.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A string made of an expression's value and a literal suffix: `"${var.x}suffix"`.
pub(super) fn interpolated(expression: &str, suffix: &str) -> String {
    format!("\"${{{expression}}}{}\"", escaped(suffix))
}

/// An `import` block (Terraform 1.5+): `to` an address, `id` an expression (a string literal, or
/// a template of known values from Terraform 1.6 on).
pub(super) fn import_block(to: &str, id: &str) -> String {
    format!(
        "\nimport {{\n{}}}\n",
        aligned(&[("to", to.to_owned()), ("id", id.to_owned())], 1)
    )
}

/// An access entry's own attributes after its principal: `type`, then `user_name` and
/// `kubernetes_groups` when it has them (as both `aws_eks_access_entry` and the
/// terraform-aws-eks module's `access_entries` objects name them).
pub(super) fn entry_attributes(entry: &HandoffEntry) -> Vec<(&'static str, String)> {
    let mut attributes = vec![("type", string(entry.entry_type.as_str()))];
    if let Some(username) = &entry.username {
        attributes.push(("user_name", string(username)));
    }
    if !entry.kubernetes_groups.is_empty() {
        attributes.push(("kubernetes_groups", list(&entry.kubernetes_groups)));
    }
    attributes
}

/// An `access_scope`'s attributes: `type`, and `namespaces` for a namespace scope.
pub(super) fn scope_attributes(scope: &AccessScope) -> Vec<(&'static str, String)> {
    match scope.scope_type {
        ScopeType::Cluster => vec![("type", string("cluster"))],
        ScopeType::Namespace => vec![
            ("type", string("namespace")),
            ("namespaces", list(&scope.namespaces)),
        ],
    }
}

/// An HCL identifier: a letter or `_`, then letters, digits, `_` and `-`.
pub(super) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::Expression;

    fn parsed(value_hcl: &str) -> Expression {
        let text = format!("v = {value_hcl}\n");
        let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        body.attributes().next().expect("attribute").expr().clone()
    }

    #[test]
    fn strings_are_escaped_and_round_trip() {
        for value in [
            "admin:{{SessionName}}",
            "a ${var.x} and %{if true}x%{endif}",
            "$${already} %%{escaped}",
            "quote \" backslash \\ newline \n tab \t bell \u{7}",
            "$ % { } $$ %%",
        ] {
            assert_eq!(
                parsed(&string(value)),
                Expression::String(value.to_owned()),
                "{value}"
            );
        }
        assert_eq!(string("{{SessionName}}"), "\"{{SessionName}}\"");
        assert_eq!(string("${x}"), "\"$${x}\"");
        assert_eq!(string("%{x}"), "\"%%{x}\"");
    }

    #[test]
    fn an_interpolation_keeps_its_suffix_literal() {
        let text = interpolated("var.cluster_name", ":arn:aws:iam::1:role/${x}");
        assert_eq!(text, "\"${var.cluster_name}:arn:aws:iam::1:role/$${x}\"");
        assert!(matches!(parsed(&text), Expression::TemplateExpr(_)));
    }

    #[test]
    fn import_blocks_parse() {
        let block = import_block("aws_eks_access_entry.a", &string("c:arn"));
        let body = hcl::parse(&block).expect("parses");
        let import = body.blocks().next().expect("import block");
        assert_eq!(import.identifier(), "import");
        let attributes: Vec<&str> = import.body().attributes().map(|a| a.key()).collect();
        assert_eq!(attributes, ["to", "id"]);
    }

    #[test]
    fn identifiers() {
        for ok in ["eks", "_x", "a-b_9"] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in ["", "9a", "a.b", "a b", "é"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}
