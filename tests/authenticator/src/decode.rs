//! JSON → rows the way Go's `encoding/json` fills the authenticator's structs: object keys
//! match field names case-insensitively (Go's folding: ASCII case, plus `K` KELVIN SIGN for
//! `k` and `ſ` LONG S for `s`); keys are seen in the order the YAML → JSON step wrote them
//! (byte order), so of two case variants of a field the later one wins; a value of the wrong
//! type leaves the field as it was (the rest of the row still loads); `null` leaves a string
//! as it was and empties a list or the `sso` block; a list item of the wrong type becomes
//! `""`; unknown keys are ignored; a list item that is not an object becomes an empty row.

use std::collections::BTreeMap;

use crate::json::Value;
use crate::mapping::{RoleRow, SsoMatcher, UserRow};

/// The `mapRoles` rows in `value`, in order, before validation (`value` not an array: none).
pub fn role_rows(value: &Value) -> Vec<RoleRow> {
    items(value)
        .map(|item| {
            let mut row = RoleRow::default();
            if let Value::Object(o) = item {
                fill_role(&mut row, o);
            }
            row
        })
        .collect()
}

/// The `mapUsers` rows in `value`, in order, before validation.
pub fn user_rows(value: &Value) -> Vec<UserRow> {
    items(value)
        .map(|item| {
            let mut row = UserRow::default();
            if let Value::Object(o) = item {
                fill_user(&mut row, o);
            }
            row
        })
        .collect()
}

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    match value {
        Value::Array(items) => items.iter(),
        _ => [].iter(),
    }
}

fn fill_role(row: &mut RoleRow, object: &BTreeMap<String, Value>) {
    for (key, value) in object {
        match fold(key).as_str() {
            "rolearn" => string(&mut row.role_arn, value),
            "username" => string(&mut row.username, value),
            "groups" => strings(&mut row.groups, value),
            "sso" => sso(&mut row.sso, value),
            _ => {}
        }
    }
}

fn fill_user(row: &mut UserRow, object: &BTreeMap<String, Value>) {
    for (key, value) in object {
        match fold(key).as_str() {
            "userarn" => string(&mut row.user_arn, value),
            "username" => string(&mut row.username, value),
            "groups" => strings(&mut row.groups, value),
            _ => {}
        }
    }
}

fn sso(field: &mut Option<SsoMatcher>, value: &Value) {
    match value {
        Value::Null => *field = None,
        Value::Object(o) => {
            let sso = field.get_or_insert_with(SsoMatcher::default);
            for (key, value) in o {
                match fold(key).as_str() {
                    "permissionsetname" => string(&mut sso.permission_set_name, value),
                    "accountid" => string(&mut sso.account_id, value),
                    "partition" => string(&mut sso.partition, value),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn string(field: &mut String, value: &Value) {
    if let Value::Str(s) = value {
        field.clone_from(s);
    }
}

fn strings(field: &mut Vec<String>, value: &Value) {
    match value {
        Value::Null => field.clear(),
        Value::Array(items) => {
            *field = items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => s.clone(),
                    _ => String::new(),
                })
                .collect();
        }
        _ => {}
    }
}

/// Go's case folding of a JSON key for field matching.
fn fold(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{212A}' => 'k',
            '\u{17F}' => 's',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::from_yaml;
    use crate::yaml::first_document;

    fn roles(text: &str) -> Vec<RoleRow> {
        role_rows(&from_yaml(&first_document(text).expect("yaml").expect("doc")).expect("json"))
    }

    #[test]
    fn field_names_match_case_insensitively_and_the_later_variant_wins() {
        let rows = roles("- RoleARN: arn:a\n  rolearn: arn:b\n  UsErNaMe: u\n  GROUPS: [g]\n");
        assert_eq!(rows[0].role_arn, "arn:b", "'rolearn' sorts after 'RoleARN'");
        assert_eq!(rows[0].username, "u");
        assert_eq!(rows[0].groups, vec!["g".to_owned()]);
    }

    #[test]
    fn wrongly_typed_fields_stay_empty_and_the_row_stays() {
        let rows = roles(
            "- rolearn: arn:a\n  username: yes\n  groups: admins\n- rolearn: arn:b\n  groups: [a, 1, ~]\n- just text\n",
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].username, "", "a YAML 1.1 boolean is not a string");
        assert!(rows[0].groups.is_empty(), "a string is not a list");
        assert_eq!(
            rows[1].groups,
            vec!["a".to_owned(), String::new(), String::new()]
        );
        assert_eq!(rows[2], RoleRow::default());
    }

    #[test]
    fn null_empties_lists_and_sso_blocks() {
        let rows = roles("- rolearn: arn:a\n  groups: ~\n  sso: ~\n");
        assert!(rows[0].groups.is_empty());
        assert_eq!(rows[0].sso, None);
        let rows = roles("- sso: {permissionSetName: Admin, AccountID: '123456789012'}\n");
        let sso = rows[0].sso.as_ref().expect("sso");
        assert_eq!(sso.account_id, "123456789012");
        assert_eq!(sso.permission_set_name, "Admin");
    }
}
