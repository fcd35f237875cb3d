//! Decoding one data key into rows with the authenticator's semantics: Go's `encoding/json`
//! field matching (case-insensitive names, unknown fields ignored, a wrongly typed field left
//! empty while the row is kept) and the authenticator's per-row validation.

use super::mapping::{Row, RowStatus, Section, SsoMatcher};
use super::node::Node;
use crate::finding::{Finding, FindingCode, Location, Severity};

/// The fields a row can set, as the authenticator's structs name them (json tags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    RoleArn,
    UserArn,
    Username,
    Groups,
    Sso,
    UserId,
}

fn field_for(section: Section, key: &str) -> Option<Field> {
    let field = match key.to_ascii_lowercase().as_str() {
        "rolearn" if section == Section::MapRoles => Field::RoleArn,
        "userarn" if section == Section::MapUsers => Field::UserArn,
        "username" => Field::Username,
        "groups" => Field::Groups,
        "sso" if section == Section::MapRoles => Field::Sso,
        "userid" => Field::UserId,
        _ => return None,
    };
    Some(field)
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::RoleArn => "rolearn",
        Field::UserArn => "userarn",
        Field::Username => "username",
        Field::Groups => "groups",
        Field::Sso => "sso",
        Field::UserId => "userid",
    }
}

/// Decodes one list item of mapRoles / mapUsers into a row: its fields as Go's `encoding/json`
/// would, then the authenticator's validation.
pub(super) fn decode_row(section: Section, index: usize, line: u64, node: &Node) -> Row {
    let location = Location {
        key: section.as_str().to_owned(),
        index: Some(index),
        line: Some(line),
    };
    let mut row = Row {
        section,
        index,
        line,
        arn: String::new(),
        sso: None,
        username: String::new(),
        groups: Vec::new(),
        status: RowStatus::Effective,
        findings: Vec::new(),
    };
    let entries = match node {
        Node::Map(entries) => entries.as_slice(),
        Node::Null => &[],
        other => {
            row.findings.push(Finding::at(
                location.clone(),
                FindingCode::InvalidEntry,
                Severity::Warning,
                format!(
                    "the row is {} instead of a mapping; EKS drops it. Write it as `- {}: ARN` with username and groups.",
                    other.kind(),
                    arn_field(section)
                ),
            ));
            &[]
        }
    };
    for (key, value) in entries {
        if let Some(field) = key.key_text().and_then(|k| field_for(section, &k)) {
            decode_field(&mut row, &location, field, value);
        }
    }
    validate(&mut row, &location);
    row
}

/// Sets one field from its value; a wrongly typed value is a finding and leaves the field as it
/// was (the rest of the row is kept).
fn decode_field(row: &mut Row, location: &Location, field: Field, value: &Node) {
    match (field, value) {
        (_, Node::Null) if field != Field::Groups && field != Field::Sso => {}
        (Field::RoleArn | Field::UserArn, Node::Str(s)) => row.arn = s.clone(),
        (Field::Username, Node::Str(s)) => row.username = s.clone(),
        (Field::UserId, Node::Str(_)) => {}
        (Field::Groups, Node::Null) => row.groups.clear(),
        (Field::Groups, Node::Seq(items)) => {
            row.groups.clear();
            for item in items {
                match &item.value {
                    Node::Str(g) if !g.is_empty() => row.groups.push(g.clone()),
                    other => row.findings.push(Finding::at(
                        location.clone(),
                        FindingCode::InvalidEntry,
                        Severity::Warning,
                        format!(
                            "a group on line {} is {}, not a group name; it names no group anyone is bound to, so it is not migrated.",
                            item.referenced.line(),
                            if matches!(other, Node::Str(_)) { "empty" } else { other.kind() }
                        ),
                    )),
                }
            }
        }
        (Field::Sso, Node::Null) => row.sso = None,
        (Field::Sso, Node::Map(entries)) => row.sso = Some(decode_sso(entries)),
        (field, other) => {
            let what = field_name(field);
            row.findings.push(Finding::at(
                location.clone(),
                FindingCode::InvalidEntry,
                Severity::Warning,
                format!(
                    "{what} is {} where EKS expects {}; EKS ignores the value and keeps the rest of the row. Fix the field if it was meant to apply.",
                    other.kind(),
                    if what == "groups" { "a list of strings" } else { "a string" }
                ),
            ));
        }
    }
}

fn arn_field(section: Section) -> &'static str {
    match section {
        Section::MapRoles => "rolearn",
        Section::MapUsers => "userarn",
    }
}

fn decode_sso(entries: &[(Node, Node)]) -> SsoMatcher {
    let mut sso = SsoMatcher::default();
    for (key, value) in entries {
        let (Some(key), Node::Str(value)) = (key.key_text(), value) else {
            continue;
        };
        match key.to_ascii_lowercase().as_str() {
            "permissionsetname" => sso.permission_set_name = value.clone(),
            "accountid" => sso.account_id = value.clone(),
            "partition" => sso.partition = value.clone(),
            _ => {}
        }
    }
    sso
}

/// Partitions the authenticator accepts in `sso.partition`.
const SSO_PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// The authenticator's `RoleMapping.Validate` / `UserMapping` check: a failing row is dropped.
fn validate(row: &mut Row, location: &Location) {
    let reason = match row.section {
        Section::MapUsers if row.arn.is_empty() => Some(
            "the row has no userarn; EKS drops it. Add `userarn: arn:aws:iam::ACCOUNT:user/NAME` or delete the row."
                .to_owned(),
        ),
        Section::MapUsers => None,
        Section::MapRoles => match (&row.sso, row.arn.is_empty()) {
            (None, true) => Some(
                "the row has neither rolearn nor sso; EKS drops it. Add `rolearn: arn:aws:iam::ACCOUNT:role/NAME` or delete the row."
                    .to_owned(),
            ),
            (Some(_), false) => Some(
                "the row has both rolearn and sso; EKS drops it. Keep exactly one of them.".to_owned(),
            ),
            (Some(sso), true) => sso_problem(sso),
            (None, false) => None,
        },
    };
    if let Some(reason) = reason {
        row.status = RowStatus::Dropped;
        row.findings.push(Finding::at(
            location.clone(),
            FindingCode::InvalidEntry,
            Severity::Warning,
            reason,
        ));
    }
}

fn sso_problem(sso: &SsoMatcher) -> Option<String> {
    if !crate::arn::is_account_id(&sso.account_id) {
        return Some(format!(
            "sso.accountID `{}` is not a 12-digit account ID; EKS drops the row. Quote the account ID.",
            sso.account_id
        ));
    }
    let name_ok = (1..=32).contains(&sso.permission_set_name.chars().count())
        && sso
            .permission_set_name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c));
    if !name_ok {
        return Some(format!(
            "sso.permissionSetName `{}` is not a valid permission set name (1-32 of letters, digits, _+=,.@-); EKS drops the row.",
            sso.permission_set_name
        ));
    }
    if !sso.partition.is_empty() && !SSO_PARTITIONS.contains(&sso.partition.as_str()) {
        return Some(format!(
            "sso.partition `{}` is not an AWS partition; EKS drops the row.",
            sso.partition
        ));
    }
    None
}
