//! ConfigMaps proptest makes up, aimed at where readers go wrong: field-name case, duplicate
//! and case-variant ARNs, YAML 1.1 scalars, wrong types, templates, flow and block layouts,
//! dead and invalid rows, mapAccounts spellings, broken keys.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::compare::assert_agree;

const ACCT: &str = "111122223333";

fn arn() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec!["admin", "Admin", "ADMIN", "dev", "node", "x@y"]);
    (0..8u8, names).prop_map(|(kind, name)| match kind {
        0..=2 => format!("arn:aws:iam::{ACCT}:role/{name}"),
        3 => format!("arn:aws:iam::{ACCT}:role/team/{name}"),
        4 => format!("arn:aws:sts::{ACCT}:assumed-role/{name}/session"),
        5 | 6 => format!("arn:aws:iam::{ACCT}:user/{name}"),
        _ => format!("arn:aws:iam::444455556666:role/{name}"),
    })
}

/// A scalar as it could be written: plain, quoted, or a YAML 1.1 look-alike.
fn scalar() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "admin",
        "'admin'",
        "\"dev:{{SessionName}}\"",
        "'{{SessionNameRaw}}'",
        "system:masters",
        "\"system:masters\"",
        "yes",
        "'yes'",
        "on",
        "123",
        "0x1F",
        "0123",
        "1_000",
        "~",
        "\"\"",
        "team-{{AccountID}}",
        "[a, b]",
        "{k: v}",
    ])
    .prop_map(str::to_owned)
}

fn field_name(base: &'static str) -> impl Strategy<Value = String> {
    (0..4u8).prop_map(move |v| match v {
        0 | 1 => base.to_owned(),
        2 => base.to_uppercase(),
        _ => {
            let mut s = base.to_owned();
            s[..1].make_ascii_uppercase();
            s
        }
    })
}

/// One row as YAML lines (the first starting with `- `).
fn row(arn_key: &'static str) -> impl Strategy<Value = String> {
    (
        field_name(arn_key),
        arn(),
        0..10u8,
        field_name("username"),
        scalar(),
        prop::collection::vec(scalar(), 0..3),
        0..4u8,
    )
        .prop_map(
            |(arn_field, arn, shape, user_field, username, groups, groups_shape)| {
                let mut lines = Vec::new();
                match shape {
                    0 => {}
                    1 => lines.push(format!(
                        "sso: {{permissionSetName: Admin, accountID: '{ACCT}'}}"
                    )),
                    2 => lines.push(format!("{arn_field}: {arn}\nuserarn: {arn}")),
                    3 => lines.push(format!("{arn_field}: \"{arn}\"")),
                    _ => lines.push(format!("{arn_field}: {arn}")),
                }
                lines.push(format!("{user_field}: {username}"));
                match groups_shape {
                    0 => {}
                    1 => lines.push(format!("groups: [{}]", groups.join(", "))),
                    2 => lines.push(format!(
                        "groups: {}",
                        groups.first().map_or("~", String::as_str)
                    )),
                    _ => {
                        lines.push("groups:".to_owned());
                        lines.extend(groups.iter().map(|g| format!("  - {g}")));
                    }
                }
                let body = lines.join("\n");
                let mut out = String::new();
                for (i, line) in body.lines().enumerate() {
                    out.push_str(if i == 0 { "- " } else { "  " });
                    out.push_str(line);
                    out.push('\n');
                }
                out
            },
        )
}

fn accounts() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(vec![
        "- 444455556666\n",
        "- '111122223333'\n",
        "[444455556666, \"111122223333\"]\n",
        "- {a: b}\n- 444455556666\n",
        "444455556666\n",
        "''",
    ]))
    .prop_map(|a| a.map(str::to_owned))
}

fn data() -> impl Strategy<Value = BTreeMap<String, String>> {
    (
        prop::collection::vec(row("rolearn"), 0..8),
        prop::collection::vec(row("userarn"), 0..5),
        accounts(),
        0..12u8,
    )
        .prop_map(|(roles, users, accounts, damage)| {
            let mut roles = roles.concat();
            match damage {
                0 => roles.push_str("- rolearn: arn:aws:iam::111122223333:role/broken\n  username: {{SessionName}}\n"),
                1 => roles.push_str("---\n- rolearn: arn:aws:iam::111122223333:role/second-document\n  username: x\n"),
                2 => roles.insert_str(0, "# leading comment\n---\n"),
                _ => {}
            }
            let mut data = BTreeMap::from([
                ("mapRoles".to_owned(), roles),
                ("mapUsers".to_owned(), users.concat()),
            ]);
            if let Some(a) = accounts {
                data.insert("mapAccounts".to_owned(), a);
            }
            data
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn generated_configmaps_read_the_same(data in data()) {
        assert_agree("generated", &data);
    }
}
