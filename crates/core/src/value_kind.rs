//! How error messages name the kind of a value that is not what a document expects: one wording
//! for the configuration, the agent protocol and RBAC dumps (JSON, or YAML read as JSON values).

use serde_json::Value;

/// The kind of `v` with its article (`a list`, `an object`, `null`), for "found …" messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_kind_with_its_article() {
        let cases = [
            (json!(null), "null"),
            (json!(true), "a boolean"),
            (json!(1), "a number"),
            (json!("x"), "a string"),
            (json!([1]), "a list"),
            (json!({"a": 1}), "an object"),
        ];
        for (value, kind) in cases {
            assert_eq!(kind_of(&value), kind);
        }
    }
}
