//! The reader against the cases aws-iam-authenticator's own tests and sources pin down
//! (pkg/mapper/configmap/configmap_test.go and yaml_test.go, pkg/config/mapper.go, the server's
//! doMapping), restated as data here.

use std::collections::BTreeMap;

use aws_auth_reference::{AwsAuth, Identity, Lookup, RowRef, Source};

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn mapped(auth: &AwsAuth, arn: &str) -> Identity {
    match auth.lookup(arn).expect("arn") {
        Lookup::Mapped(i) => i,
        other => panic!("{arn}: expected one identity, got {other:?}"),
    }
}

fn refused(auth: &AwsAuth, arn: &str) -> bool {
    auth.lookup(arn).expect("arn") == Lookup::NotMapped
}

const NODE: &str =
    "arn:aws:iam::555555555555:role/devel-worker-nodes-NodeInstanceRole-74RF4UBDUKL6";

#[test]
fn the_documented_configmap_with_crazy_case_keys() {
    let auth = AwsAuth::from_data(&data(&[
        (
            "mapRoles",
            "- rOlEaRn: arn:aws:iam::555555555555:role/devel-worker-nodes-NodeInstanceRole-74RF4UBDUKL6\n  UsErNaMe: system:node:{{EC2PrivateDNSName}}\n  gRoUpS:\n    - system:bootstrappers\n    - system:nodes\n",
        ),
        (
            "mapUsers",
            "- uSeRaRn: arn:aws:iam::555555555555:user/admin\n  UsErNaMe: admin\n  gRoUpS:\n    - system:masters\n",
        ),
        ("mapAccounts", "- 555555555555\n"),
    ]));
    let session = format!(
        "{}/i-0123456789abcdef0",
        NODE.replace("iam::555555555555:role", "sts::555555555555:assumed-role")
    );
    let node = mapped(&auth, &session);
    assert_eq!(node.username, "system:node:{{EC2PrivateDNSName}}");
    assert_eq!(node.groups, ["system:bootstrappers", "system:nodes"]);
    assert_eq!(
        mapped(&auth, "arn:aws:iam::555555555555:user/admin").groups,
        ["system:masters"]
    );
    let other = mapped(&auth, "arn:aws:iam::555555555555:user/someone");
    assert_eq!(other.source, Source::MapAccounts);
    assert_eq!(other.username, "arn:aws:iam::555555555555:user/someone");
    assert!(other.groups.is_empty());
}

#[test]
fn top_level_keys_are_case_sensitive() {
    let auth = AwsAuth::from_data(&data(&[(
        "maproles",
        &format!("- rolearn: {NODE}\n  username: n\n"),
    )]));
    assert!(refused(&auth, NODE));
}

#[test]
fn a_space_out_of_place_folds_the_groups_into_one() {
    let auth = AwsAuth::from_data(&data(&[(
        "mapRoles",
        &format!(
            "- rolearn: {NODE}\n  username: n\n  groups:\n    - system:bootstrappers\n     - system:nodes\n"
        ),
    )]));
    assert_eq!(
        mapped(&auth, NODE).groups,
        ["system:bootstrappers - system:nodes"]
    );
}

#[test]
fn a_syntax_error_loses_its_key_only() {
    let auth = AwsAuth::from_data(&data(&[
        (
            "mapRoles",
            "- rolearn: arn:aws:iam::1:role/a\n  username: {{SessionName}}\n- rolearn: arn:aws:iam::1:role/b\n  username: b\n",
        ),
        (
            "mapUsers",
            "- userarn: arn:aws:iam::1:user/u\n  username: u\n",
        ),
    ]));
    assert_eq!(auth.key_errors.len(), 1);
    assert_eq!(auth.key_errors[0].key, "mapRoles");
    assert!(refused(&auth, "arn:aws:iam::1:role/b"));
    assert_eq!(mapped(&auth, "arn:aws:iam::1:user/u").username, "u");
}

#[test]
fn invalid_rows_are_dropped_one_by_one() {
    let auth = AwsAuth::from_data(&data(&[
        (
            "mapRoles",
            "- username: no-arn\n- rolearn: arn:aws:iam::1:role/ok\n  username: ok\n- rolearn: arn:aws:iam::1:role/x\n  sso: {permissionSetName: A, accountID: '123456789012'}\n",
        ),
        (
            "mapUsers",
            "- username: nobody\n- userarn: arn:aws:iam::1:user/u\n",
        ),
    ]));
    assert_eq!(auth.dropped.len(), 3);
    assert_eq!(
        mapped(&auth, "arn:aws:iam::1:role/ok").row,
        Some(RowRef {
            key: Source::MapRoles,
            index: 1
        })
    );
    assert!(refused(&auth, "arn:aws:iam::1:role/x"));
    assert_eq!(
        mapped(&auth, "arn:aws:iam::1:user/u").username,
        "",
        "no username is an empty one"
    );
}

#[test]
fn the_last_role_wins_whatever_the_case_and_roles_come_before_users() {
    let auth = AwsAuth::from_data(&data(&[
        (
            "mapRoles",
            "- rolearn: arn:aws:iam::1:role/Admin\n  username: first\n- rolearn: arn:aws:iam::1:role/ADMIN\n  username: second\n",
        ),
        (
            "mapUsers",
            "- userarn: arn:aws:iam::1:role/admin\n  username: as-user\n- userarn: arn:aws:iam::1:role/only-user\n  username: role-in-users\n",
        ),
    ]));
    assert_eq!(
        mapped(&auth, "arn:aws:sts::1:assumed-role/admin/s").username,
        "second"
    );
    assert_eq!(
        mapped(&auth, "arn:aws:sts::1:assumed-role/only-user/s").username,
        "role-in-users"
    );
}

#[test]
fn case_variant_users_are_ambiguous_and_identical_ones_last_wins() {
    let auth = AwsAuth::from_data(&data(&[(
        "mapUsers",
        "- userarn: arn:aws:iam::1:user/Bob\n  username: a\n- userarn: arn:aws:iam::1:user/bob\n  username: b\n- userarn: arn:aws:iam::1:user/eve\n  username: c\n- userarn: arn:aws:iam::1:user/eve\n  username: d\n",
    )]));
    let Lookup::Ambiguous(both) = auth.lookup("arn:aws:iam::1:user/BOB").expect("arn") else {
        panic!("case variants must be ambiguous")
    };
    assert_eq!(
        both.iter().map(|i| i.username.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(mapped(&auth, "arn:aws:iam::1:user/eve").username, "d");
}

#[test]
fn dead_rows_never_match() {
    let auth = AwsAuth::from_data(&data(&[(
        "mapRoles",
        "- rolearn: arn:aws:iam::1:role/teams/dev\n  username: path\n- rolearn: arn:aws:sts::1:assumed-role/dev/x\n  username: sts\n- sso: {permissionSetName: Admin, accountID: '000000000001'}\n  username: sso\n",
    )]));
    assert!(refused(&auth, "arn:aws:sts::1:assumed-role/dev/x"));
    assert!(refused(
        &auth,
        "arn:aws:sts::000000000001:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice"
    ));
    assert_eq!(
        auth.roles.len(),
        3,
        "the rows are valid, they just never match a session"
    );
}

#[test]
fn empty_values_are_nothing_and_map_accounts_keeps_numbers_as_written() {
    let auth = AwsAuth::from_data(&data(&[
        ("mapRoles", "''"),
        ("mapUsers", "\"\""),
        (
            "mapAccounts",
            "- 111122223333\n- '444455556666'\n- {not: an account}\n",
        ),
    ]));
    assert!(auth.key_errors.is_empty());
    assert_eq!(auth.accounts, ["111122223333", "444455556666"]);
}

#[test]
fn json_values_read_like_yaml() {
    let auth = AwsAuth::from_data(&data(&[(
        "mapRoles",
        r#"[{"rolearn":"arn:aws:iam::1:role/j","username":"j","groups":["g"]}]"#,
    )]));
    assert_eq!(mapped(&auth, "arn:aws:iam::1:role/j").groups, ["g"]);
}

#[test]
fn a_whole_configmap_document_reads_its_data() {
    let auth = AwsAuth::from_configmap(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::1:user/u\n      username: u\n",
    )
    .expect("configmap");
    assert_eq!(mapped(&auth, "arn:aws:iam::1:user/u").username, "u");
}
