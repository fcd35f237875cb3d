//! Prune cases: which rows are prunable, and that pruning changes nothing else.

use super::*;
use crate::access_entry::{AccessPolicy, AccessScope};
use crate::facts::{AuthenticationMode, ExistingEntry, IamResolution};
use crate::policy::MigrationPolicy;

const ACCT: &str = "111122223333";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:role/{name}")
}

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Facts after the switch: every ARN resolves to itself, plus the given entries.
fn switched(auth: &AwsAuth, entries: Vec<ExistingEntry>) -> ClusterFacts {
    let mut facts = ClusterFacts {
        partition: Some("aws".into()),
        account_id: Some(ACCT.into()),
        authentication_mode: Some(AuthenticationMode::ApiAndConfigMap),
        node_group_roles: vec![role("managed-ng")],
        fargate_profile_roles: vec![role("fargate-pods")],
        existing_entries: entries,
        ..ClusterFacts::default()
    };
    for row in &auth.rows {
        facts.iam.insert(
            row.arn.clone(),
            IamResolution::Found {
                arn: row.arn.clone(),
            },
        );
    }
    facts
}

fn standard(arn: &str, username: &str, groups: &[&str]) -> ExistingEntry {
    ExistingEntry {
        principal_arn: arn.to_owned(),
        entry_type: EntryType::Standard,
        username: Some(username.to_owned()),
        kubernetes_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        access_policies: Vec::new(),
        managed_by_migrator: true,
    }
}

fn typed(arn: &str, entry_type: EntryType) -> ExistingEntry {
    ExistingEntry {
        principal_arn: arn.to_owned(),
        entry_type,
        username: None,
        kubernetes_groups: Vec::new(),
        access_policies: Vec::new(),
        managed_by_migrator: false,
    }
}

fn prunable(data: &BTreeMap<String, String>, entries: Vec<ExistingEntry>) -> Vec<RowRef> {
    let auth = AwsAuth::parse_data(data);
    let facts = switched(&auth, entries);
    let plan = crate::plan(&auth, Some(&facts), &MigrationPolicy::default());
    prunable_rows(&auth, &plan, &facts)
}

fn at(section: Section, index: usize) -> RowRef {
    RowRef { section, index }
}

const ROW_ADMIN: &str = "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups:\n    - system:masters\n";
const ROW_DEV: &str = "# the dev team\n- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups:\n    - dev\n";
const ROW_OPS: &str = "-\n    rolearn: arn:aws:iam::111122223333:role/ops # trailing comment\n    username: ops\n    groups: [ops]\n\n";

#[test]
fn pruning_the_middle_block_row_keeps_the_others_byte_identical() {
    let roles = format!("# aws-auth\n{ROW_ADMIN}{ROW_DEV}{ROW_OPS}");
    let users = "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n";
    let before = data(&[
        ("mapRoles", &roles),
        ("mapUsers", users),
        ("mapAccounts", "- 444455556666\n"),
        ("other", "  anything: [at all\n"),
    ]);
    let rows = prunable(&before, vec![standard(&role("dev"), "dev", &["dev"])]);
    assert_eq!(rows, vec![at(Section::MapRoles, 1)]);
    let after = prune(&before, &rows).expect("prunes");
    // The removed item's lines start at its dash: the comment above it belongs to row 0.
    assert_eq!(
        after["mapRoles"],
        format!("# aws-auth\n{ROW_ADMIN}# the dev team\n{ROW_OPS}")
    );
    for key in ["mapUsers", "mapAccounts", "other"] {
        assert_eq!(after[key], before[key], "{key} changed");
    }
    let auth = AwsAuth::parse_data(&after);
    let arns: Vec<&str> = auth.rows.iter().map(|r| r.arn.as_str()).collect();
    assert_eq!(
        arns,
        [
            role("admin").as_str(),
            &role("ops"),
            "arn:aws:iam::111122223333:user/alice"
        ]
    );
}

#[test]
fn crlf_and_indented_block_sequences_are_cut_by_lines() {
    let roles = "  - rolearn: arn:aws:iam::111122223333:role/a\r\n    groups: [x]\r\n  - rolearn: arn:aws:iam::111122223333:role/b\r\n  - rolearn: arn:aws:iam::111122223333:role/c\r\n";
    let after = prune(&data(&[("mapRoles", roles)]), &[at(Section::MapRoles, 0)]).expect("prunes");
    assert_eq!(
        after["mapRoles"],
        "  - rolearn: arn:aws:iam::111122223333:role/b\r\n  - rolearn: arn:aws:iam::111122223333:role/c\r\n"
    );
}

#[test]
fn pruning_every_row_leaves_an_empty_list() {
    let before = data(&[
        ("mapRoles", &format!("{ROW_ADMIN}{ROW_DEV}")),
        ("mapUsers", "[]"),
    ]);
    let all = [at(Section::MapRoles, 0), at(Section::MapRoles, 1)];
    let after = prune(&before, &all).expect("prunes");
    assert_eq!(after["mapRoles"], "[]");
    assert_eq!(after["mapUsers"], "[]");
    let auth = AwsAuth::parse_data(&after);
    assert!(auth.rows.is_empty() && auth.findings.is_empty(), "{auth:?}");
}

#[test]
fn flow_style_sections_are_re_emitted_and_read_back_identically() {
    let roles = r#"[{"rolearn":"arn:aws:iam::111122223333:role/a","username":"a","groups":["x",7]},
 {"rolearn":"arn:aws:iam::111122223333:role/b","groups":[]},
 {"RoleArn":"arn:aws:iam::111122223333:role/c","username":"012","groups":null,"extra":true}]"#;
    let before = data(&[("mapRoles", roles)]);
    let after = prune(&before, &[at(Section::MapRoles, 1)]).expect("prunes");
    assert!(
        after["mapRoles"].starts_with("- {\"rolearn\""),
        "{}",
        after["mapRoles"]
    );
    let old = AwsAuth::parse_data(&before);
    let new = AwsAuth::parse_data(&after);
    let strip = |r: &Row| {
        (
            r.arn.clone(),
            r.username.clone(),
            r.groups.clone(),
            r.status,
        )
    };
    let expected: Vec<_> = [&old.rows[0], &old.rows[2]]
        .into_iter()
        .map(strip)
        .collect();
    assert_eq!(new.rows.iter().map(strip).collect::<Vec<_>>(), expected);
    // Findings (the number in groups) survive too, apart from the row's index.
    assert_eq!(new.rows[0].findings.len(), old.rows[0].findings.len());
}

#[test]
fn shadowed_duplicates_of_a_pruned_principal_are_pruned_too() {
    let before = data(&[
        (
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: old\n  groups: [old]\n- rolearn: arn:aws:iam::111122223333:role/ops\n  username: ops\n  groups: [ops]\n- rolearn: arn:aws:iam::111122223333:role/DEV\n  username: dev\n  groups: [dev]\n",
        ),
        (
            "mapUsers",
            "- userarn: arn:aws:iam::111122223333:role/dev\n  username: other\n  groups: [other]\n",
        ),
    ]);
    let rows = prunable(&before, vec![standard(&role("DEV"), "dev", &["dev"])]);
    assert_eq!(
        rows,
        vec![
            at(Section::MapRoles, 0),
            at(Section::MapRoles, 2),
            at(Section::MapUsers, 0)
        ]
    );
    let after = AwsAuth::parse_data(&prune(&before, &rows).expect("prunes"));
    assert!(after.map_identity(&role("dev"), ACCT).is_none());
    assert!(after.map_identity(&role("ops"), ACCT).is_some());
}

#[test]
fn create_and_blocked_principals_are_never_pruned() {
    let before = data(&[
        (
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters]\n- rolearn: arn:aws:iam::111122223333:role/mon\n  username: mon\n  groups: [system:monitoring]\n- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups: [dev]\n",
        ),
        (
            "mapUsers",
            "- userarn: arn:aws:iam::111122223333:user/Bob\n  username: bob\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n",
        ),
    ]);
    // admin's entry lacks its policy (create: associate), bob is ambiguous (blocked, then
    // overridden by an existing entry), mon is blocked, dev has no entry (create).
    let mut admin = standard(&role("admin"), "admin", &[]);
    admin.access_policies.clear();
    let entries = vec![
        admin,
        standard("arn:aws:iam::111122223333:user/bob", "bob", &[]),
    ];
    assert_eq!(prunable(&before, entries), vec![]);
    // Once admin's entry is complete, only admin is prunable.
    let mut admin = standard(&role("admin"), "admin", &[]);
    admin.access_policies.push(AccessPolicy {
        policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(),
        access_scope: AccessScope::cluster(),
    });
    assert_eq!(
        prunable(&before, vec![admin]),
        vec![at(Section::MapRoles, 0)]
    );
}

#[test]
fn eks_managed_roles_are_pruned_only_once_their_entries_exist() {
    let roles = "- rolearn: arn:aws:iam::111122223333:role/managed-ng\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n- rolearn: arn:aws:iam::111122223333:role/fargate-pods\n  username: system:node:{{SessionName}}\n  groups: [system:bootstrappers, system:nodes, system:node-proxier]\n- rolearn: arn:aws:iam::111122223333:role/karpenter\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n";
    let before = data(&[("mapRoles", roles)]);
    let entries = vec![
        typed(&role("managed-ng"), EntryType::Ec2Linux),
        typed(&role("fargate-pods"), EntryType::FargateLinux),
    ];
    assert_eq!(
        prunable(&before, entries.clone()),
        vec![at(Section::MapRoles, 0), at(Section::MapRoles, 1)]
    );
    // Before the switch EKS has made nothing yet: the skip is no evidence, nothing is pruned.
    let auth = AwsAuth::parse_data(&before);
    let mut facts = switched(&auth, Vec::new());
    facts.authentication_mode = Some(AuthenticationMode::ConfigMap);
    let plan = crate::plan(&auth, Some(&facts), &MigrationPolicy::default());
    assert_eq!(prunable_rows(&auth, &plan, &facts), vec![]);
    // An offline plan proves nothing either, whatever facts are passed.
    let offline = crate::plan(&auth, None, &MigrationPolicy::default());
    assert_eq!(
        prunable_rows(&auth, &offline, &switched(&auth, entries)),
        vec![]
    );
}

#[test]
fn a_plan_from_another_configmap_prunes_nothing() {
    let before = data(&[("mapRoles", ROW_DEV)]);
    let auth = AwsAuth::parse_data(&before);
    let facts = switched(&auth, vec![standard(&role("dev"), "dev", &["dev"])]);
    let plan = crate::plan(&auth, Some(&facts), &MigrationPolicy::default());
    let other = AwsAuth::parse_data(&data(&[("mapRoles", ROW_OPS)]));
    assert_eq!(prunable_rows(&other, &plan, &facts), vec![]);
}

#[test]
fn out_of_range_rows_are_errors_and_prune_nothing() {
    let before = data(&[("mapRoles", ROW_DEV)]);
    let err = prune(
        &before,
        &[at(Section::MapRoles, 0), at(Section::MapUsers, 0)],
    )
    .expect_err("no mapUsers");
    assert_eq!(
        err,
        PruneError::IndexOutOfRange {
            section: Section::MapUsers,
            index: 0,
            len: 0
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("mapUsers[0]") && message.contains("plan again"),
        "{message}"
    );
    let err = prune(&before, &[at(Section::MapRoles, 3)]).expect_err("one row");
    assert!(matches!(err, PruneError::IndexOutOfRange { len: 1, .. }));
}

#[test]
fn unparsable_sections_are_errors_unless_nothing_is_removed_there() {
    let broken = "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: {{SessionName}}\n";
    let before = data(&[("mapRoles", broken), ("mapUsers", ROW_DEV)]);
    let err = prune(&before, &[at(Section::MapRoles, 0)]).expect_err("broken");
    assert!(matches!(
        err,
        PruneError::NotASequence {
            section: Section::MapRoles,
            ..
        }
    ));
    assert!(err.to_string().contains("fix mapRoles by hand"), "{err}");
    for text in ["rolearn: x\n", "- a\n- [b\n"] {
        let err = prune(&data(&[("mapRoles", text)]), &[at(Section::MapRoles, 0)]);
        assert!(
            matches!(err, Err(PruneError::NotASequence { .. })),
            "{text}: {err:?}"
        );
    }
    // Nothing to remove in the broken section: it is returned as it is.
    let after = prune(&before, &[]).expect("nothing to do");
    assert_eq!(after, before);
}

#[test]
fn canonical_emission_keeps_scalar_types() {
    let items = [
        Node::Map(vec![
            (Node::Str("rolearn".into()), Node::Str("a\"b\n".into())),
            (Node::Number("1".into()), Node::Bool(true)),
            (Node::Null, Node::Number("-1.5".into())),
        ]),
        Node::Str("012".into()),
        Node::Null,
    ];
    let refs: Vec<&Node> = items.iter().collect();
    let text = emit::block_of_flow_items(&refs).expect("emits");
    assert!(reads_as(&text, &refs), "{text}");
    assert!(emit::block_of_flow_items(&[&Node::Number("inf".into())]).is_err());
}
