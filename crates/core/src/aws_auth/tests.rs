use super::*;

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn codes(findings: &[Finding]) -> Vec<FindingCode> {
    findings.iter().map(|f| f.code).collect()
}

#[test]
fn a_syntax_error_loses_only_its_key() {
    let auth = AwsAuth::parse_data(&data(&[
        (
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/a\n  username: {{SessionName}}\n",
        ),
        (
            "mapUsers",
            "- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n",
        ),
    ]));
    assert_eq!(codes(&auth.findings), vec![FindingCode::YamlSyntax]);
    assert_eq!(auth.rows.len(), 1);
    assert_eq!(auth.rows[0].section, Section::MapUsers);
    let location = auth.findings[0].location.as_ref().expect("located");
    assert_eq!(location.key, "mapRoles");
}

#[test]
fn invalid_rows_are_dropped_and_the_rest_kept() {
    let auth = AwsAuth::parse_data(&data(&[(
        "mapRoles",
        "- username: nobody\n- rolearn: arn:aws:iam::111122223333:role/ok\n  username: ok\n- just-a-string\n- rolearn: arn:aws:iam::111122223333:role/x\n  sso: {permissionSetName: Admin, accountID: '111122223333'}\n",
    )]));
    let statuses: Vec<_> = auth.rows.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            RowStatus::Dropped,
            RowStatus::Effective,
            RowStatus::Dropped,
            RowStatus::Dropped
        ]
    );
    assert_eq!(auth.rows[1].line, 2);
    assert_eq!(auth.rows[3].line, 5);
    assert!(
        auth.rows[0].findings[0]
            .message
            .contains("neither rolearn nor sso")
    );
    assert!(
        auth.rows[3].findings[0]
            .message
            .contains("both rolearn and sso")
    );
}

#[test]
fn field_names_are_case_insensitive_and_unknown_fields_ignored() {
    let auth = AwsAuth::parse_data(&data(&[(
        "mapRoles",
        "- roleARN: arn:aws:iam::111122223333:role/a\n  UserName: alice\n  GROUPS: [dev]\n  colour: blue\n",
    )]));
    let row = &auth.rows[0];
    assert_eq!(row.arn, "arn:aws:iam::111122223333:role/a");
    assert_eq!(row.username, "alice");
    assert_eq!(row.groups, vec!["dev".to_owned()]);
    assert!(row.findings.is_empty());
}

#[test]
fn a_wrongly_typed_field_is_emptied_and_the_row_kept() {
    let auth = AwsAuth::parse_data(&data(&[(
        "mapRoles",
        "- rolearn: arn:aws:iam::111122223333:role/a\n  username: 12345\n  groups: system:masters\n",
    )]));
    let row = &auth.rows[0];
    assert_eq!(row.status, RowStatus::Effective);
    assert_eq!(row.username, "");
    assert!(row.groups.is_empty());
    assert_eq!(
        codes(&row.findings),
        vec![FindingCode::InvalidEntry, FindingCode::InvalidEntry]
    );
}

#[test]
fn data_keys_are_case_sensitive() {
    let auth = AwsAuth::parse_data(&data(&[(
        "maproles",
        "- rolearn: arn:aws:iam::111122223333:role/a\n",
    )]));
    assert!(auth.rows.is_empty());
    assert_eq!(codes(&auth.findings), vec![FindingCode::InvalidEntry]);
}

#[test]
fn empty_values_count_as_absent() {
    for empty in ["", "''", "\"\"", "  "] {
        let auth = AwsAuth::parse_data(&data(&[("mapRoles", empty), ("mapUsers", empty)]));
        assert!(
            auth.rows.is_empty() && auth.findings.is_empty(),
            "{empty:?}"
        );
    }
}

#[test]
fn map_accounts_accepts_strings_and_bare_numbers() {
    let auth = AwsAuth::parse_data(&data(&[(
        "mapAccounts",
        "- \"111122223333\"\n- 444455556666\n- 012345678901\n",
    )]));
    let ids: Vec<_> = auth.account_ids().collect();
    assert_eq!(ids, vec!["111122223333", "444455556666", "012345678901"]);
}

#[test]
fn last_duplicate_wins_and_roles_beat_users() {
    let auth = AwsAuth::parse_data(&data(&[
        (
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: first\n- rolearn: arn:aws:iam::111122223333:role/admin\n  username: second\n",
        ),
        (
            "mapUsers",
            "- userarn: arn:aws:iam::111122223333:role/ADMIN\n  username: third\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: b1\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: b2\n",
        ),
    ]));
    let statuses: Vec<_> = auth.rows.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            RowStatus::Shadowed {
                section: Section::MapRoles,
                index: 1
            },
            RowStatus::Effective,
            RowStatus::Shadowed {
                section: Section::MapRoles,
                index: 1
            },
            RowStatus::Shadowed {
                section: Section::MapUsers,
                index: 2
            },
            RowStatus::Effective,
        ]
    );
    let who = auth
        .map_identity("arn:aws:iam::111122223333:role/admin", "111122223333")
        .expect("mapped");
    assert_eq!(who.username, "second");
    let bob = auth
        .map_identity("arn:aws:iam::111122223333:user/bob", "111122223333")
        .expect("mapped");
    assert_eq!(bob.username, "b2");
}

#[test]
fn map_users_case_variants_are_ambiguous() {
    let auth = AwsAuth::parse_data(&data(&[(
        "mapUsers",
        "- userarn: arn:aws:iam::111122223333:user/Bob\n- userarn: arn:aws:iam::111122223333:user/bob\n",
    )]));
    assert!(auth.rows.iter().all(|r| r.status == RowStatus::Ambiguous));
}

#[test]
fn path_and_sts_rows_never_match_and_accounts_do() {
    let auth = AwsAuth::parse_data(&data(&[
        (
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/team/dev\n  username: dev\n- rolearn: arn:aws:sts::111122223333:assumed-role/ops/alice\n  username: ops\n",
        ),
        ("mapAccounts", "- '444455556666'\n"),
    ]));
    assert_eq!(
        auth.map_identity("arn:aws:iam::111122223333:role/dev", "111122223333"),
        None
    );
    assert_eq!(
        auth.map_identity("arn:aws:iam::111122223333:role/ops", "111122223333"),
        None
    );
    let other = auth
        .map_identity("arn:aws:iam::444455556666:role/anything", "444455556666")
        .expect("account mapped");
    assert_eq!(other.username, "arn:aws:iam::444455556666:role/anything");
    assert!(other.groups.is_empty());
}

#[test]
fn sso_rows_load_but_never_match() {
    let auth = AwsAuth::parse_data(&data(&[(
        "mapRoles",
        "- sso:\n    permissionSetName: Admin\n    accountID: \"111122223333\"\n  username: admin\n  groups: [system:masters]\n",
    )]));
    assert_eq!(auth.rows[0].status, RowStatus::Effective);
    assert!(auth.rows[0].sso.is_some());
    assert_eq!(
        auth.map_identity(
            "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123",
            "111122223333"
        ),
        None
    );
}

#[test]
fn configmap_documents_in_yaml_and_json() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n      username: a\n";
    let json = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"aws-auth","namespace":"kube-system"},"data":{"mapRoles":"- rolearn: arn:aws:iam::111122223333:role/a\n  username: a\n"}}"#;
    let a = AwsAuth::parse_configmap(yaml).expect("yaml");
    let b = AwsAuth::parse_configmap(json).expect("json");
    assert_eq!(a, b);
    assert_eq!(a.rows.len(), 1);
    assert!(a.findings.is_empty());
}

#[test]
fn unusable_documents_are_errors() {
    assert_eq!(AwsAuth::parse_configmap("  \n"), Err(ConfigMapError::Empty));
    assert!(matches!(
        AwsAuth::parse_configmap("kind: Secret\ndata: {}\n"),
        Err(ConfigMapError::NotConfigMap(_))
    ));
    assert!(matches!(
        AwsAuth::parse_configmap("just text"),
        Err(ConfigMapError::NotConfigMap(_))
    ));
    assert!(matches!(
        AwsAuth::parse_configmap("kind: ConfigMap\ndata:\n  mapRoles:\n    - rolearn: x\n"),
        Err(ConfigMapError::DataNotString { .. })
    ));
    assert!(matches!(
        AwsAuth::parse_configmap("kind: ConfigMap\ndata: [\n"),
        Err(ConfigMapError::Syntax(_))
    ));
}

#[test]
fn another_configmap_is_a_warning() {
    let auth = AwsAuth::parse_configmap(
        "kind: ConfigMap\nmetadata: {name: other, namespace: default}\ndata:\n  mapRoles: ''\n",
    )
    .expect("parses");
    assert_eq!(codes(&auth.findings), vec![FindingCode::NotAwsAuth]);
}
