//! Rule cases from domain.md: one or more per finding code and per entry type. The coverage
//! guard at the end re-runs every case and fails on a code or entry type no case produces.

use super::*;
use crate::access_entry::{AccessPolicy, AccessScope, EntryType as T, ScopeType};
use crate::facts::{ExistingEntry, IamResolution};
use crate::finding::FindingCode as C;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

const ACCT: &str = "111122223333";

/// What the rule cases' plans produced: every finding code (the plan's and its entries') and
/// every entry type (planned and EKS-managed), gathered while the coverage guard re-runs them.
#[derive(Debug, Default)]
struct Produced {
    codes: BTreeSet<C>,
    entry_types: BTreeSet<T>,
}

thread_local! {
    /// `Some` while the coverage guard is running the rule cases on this thread.
    static PRODUCED: RefCell<Option<Produced>> = const { RefCell::new(None) };
}

/// Notes what `p` produced when the guard is recording; gives `p` back.
fn record(p: Plan) -> Plan {
    PRODUCED.with_borrow_mut(|produced| {
        if let Some(produced) = produced {
            let findings = p
                .findings
                .iter()
                .chain(p.entries.iter().flat_map(|e| &e.findings));
            produced.codes.extend(findings.map(|f| f.code));
            produced
                .entry_types
                .extend(p.entries.iter().filter_map(|e| e.entry_type));
            produced
                .entry_types
                .extend(p.eks_managed_entries.iter().map(|e| e.entry_type));
        }
    });
    p
}

/// The planner, as every rule case calls it (shadows `super::plan`), recording what it produced.
fn plan(auth: &AwsAuth, facts: Option<&ClusterFacts>, policy: &MigrationPolicy) -> Plan {
    record(super::plan(auth, facts, policy))
}

fn roles(yaml: &str) -> AwsAuth {
    AwsAuth::parse_data(&BTreeMap::from([("mapRoles".to_owned(), yaml.to_owned())]))
}

fn users(yaml: &str) -> AwsAuth {
    AwsAuth::parse_data(&BTreeMap::from([("mapUsers".to_owned(), yaml.to_owned())]))
}

fn offline(auth: &AwsAuth) -> Plan {
    plan(auth, None, &MigrationPolicy::default())
}

fn facts() -> ClusterFacts {
    ClusterFacts {
        cluster_name: Some("prod".into()),
        partition: Some("aws".into()),
        account_id: Some(ACCT.into()),
        authentication_mode: Some(AuthenticationMode::ConfigMap),
        node_group_roles: vec![format!("arn:aws:iam::{ACCT}:role/managed-ng")],
        fargate_profile_roles: vec![format!("arn:aws:iam::{ACCT}:role/fargate-pods")],
        ..ClusterFacts::default()
    }
}

fn with_found(mut f: ClusterFacts, pairs: &[(&str, &str)]) -> ClusterFacts {
    for (aws_auth, real) in pairs {
        f.iam.insert(
            (*aws_auth).to_owned(),
            IamResolution::Found {
                arn: (*real).to_owned(),
            },
        );
    }
    f
}

fn codes(e: &PlannedEntry) -> Vec<C> {
    e.findings.iter().map(|f| f.code).collect()
}

fn admin_policy(partition: &str) -> AccessPolicy {
    AccessPolicy {
        policy_arn: format!(
            "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        ),
        access_scope: AccessScope::cluster(),
    }
}

#[test]
fn masters_becomes_cluster_admin_keeping_groups_and_username() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters, platform]\n",
    ));
    let e = &p.entries[0];
    assert_eq!(e.action, Action::Create);
    assert_eq!(e.entry_type, Some(T::Standard));
    assert_eq!(e.username.as_deref(), Some("admin"));
    assert_eq!(e.kubernetes_groups, vec!["platform".to_owned()]);
    assert_eq!(e.access_policies, vec![admin_policy("aws")]);
    assert_eq!(codes(e), vec![C::MastersToClusterAdmin]);
    assert!(!p.blocks_api_mode);
}

#[test]
fn policy_arns_follow_the_partition() {
    for partition in ["aws-cn", "aws-us-gov"] {
        let p = offline(&roles(&format!(
            "- rolearn: arn:{partition}:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters]\n"
        )));
        assert_eq!(p.partition, partition);
        assert_eq!(p.entries[0].access_policies, vec![admin_policy(partition)]);
    }
}

#[test]
fn plain_team_role_keeps_groups_and_username() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev:{{SessionName}}\n  groups: [dev, dev, readers]\n",
    ));
    let e = &p.entries[0];
    assert_eq!(
        (e.action, e.entry_type),
        (Action::Create, Some(T::Standard))
    );
    assert_eq!(e.username.as_deref(), Some("dev:{{SessionName}}"));
    assert_eq!(
        e.kubernetes_groups,
        vec!["dev".to_owned(), "readers".to_owned()]
    );
    assert!(e.access_policies.is_empty());
    assert!(codes(e).is_empty());
}

#[test]
fn other_system_groups_block() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/x\n  username: x\n  groups: [system:monitoring, ops]\n",
    ));
    assert_eq!(p.entries[0].action, Action::Blocked);
    assert_eq!(codes(&p.entries[0]), vec![C::SystemGroup]);
    assert!(p.blocks_api_mode);
}

#[test]
fn a_policy_file_maps_groups_and_never_by_default() {
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/ro\n  username: ro\n  groups: [read-only, system:monitoring]\n",
    );
    assert!(offline(&auth).entries[0].access_policies.is_empty());
    let policy = MigrationPolicy::parse("version: 1\ngroup_policies:\n  - group: read-only\n    policy: AmazonEKSViewPolicy\n    access_scope: {type: namespace, namespaces: [team-a]}\n  - group: system:monitoring\n    policy: AmazonEKSViewPolicy\n    access_scope: {type: namespace, namespaces: [monitoring]}\n").expect("policy");
    let p = plan(&auth, None, &policy);
    let e = &p.entries[0];
    assert_eq!(e.action, Action::Create);
    assert_eq!(e.kubernetes_groups, vec!["read-only".to_owned()]);
    assert_eq!(
        e.access_policies.len(),
        1,
        "same policy from two groups merges"
    );
    assert_eq!(
        e.access_policies[0].access_scope.scope_type,
        ScopeType::Namespace
    );
    assert_eq!(
        e.access_policies[0].access_scope.namespaces,
        vec!["team-a".to_owned(), "monitoring".to_owned()]
    );
    assert_eq!(
        codes(e),
        vec![C::GroupMappedToPolicy, C::GroupMappedToPolicy]
    );
}

#[test]
fn session_name_raw_after_a_colon_is_kept_as_written() {
    // EKS user guide, set-custom-username: {{SessionNameRaw}} is accepted after a colon and
    // keeps `@` (an e-mail style session name reaches RBAC unchanged).
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: \"dev:{{SessionNameRaw}}\"\n  groups: [dev]\n",
    ));
    let e = &p.entries[0];
    assert_eq!(
        (e.action, e.username.as_deref()),
        (Action::Create, Some("dev:{{SessionNameRaw}}"))
    );
    assert!(
        e.findings.iter().all(|f| f.severity != Severity::Blocker),
        "{:?}",
        e.findings
    );
}

#[test]
fn unsupported_usernames_block_or_are_omitted_by_policy() {
    let cases = [
        ("{{SessionName}}", C::SessionNameNeedsColon),
        ("{{SessionNameRaw}}", C::SessionNameNeedsColon),
        ("mail-{{SessionNameRaw}}:x", C::SessionNameNeedsColon),
        ("{{AccessKeyID}}", C::UsernameTemplateUnsupported),
        ("acct:{{AccountID}}", C::UsernameTemplateUnsupported),
        ("system:admin", C::UsernameReservedPrefix),
        ("eks:thing", C::UsernameReservedPrefix),
        ("iam:x", C::UsernameReservedPrefix),
    ];
    let omit = MigrationPolicy::parse("version: 1\nunsupported_username: omit\n").expect("policy");
    for (username, code) in cases {
        let auth = roles(&format!(
            "- rolearn: arn:aws:iam::111122223333:role/r\n  username: \"{username}\"\n  groups: [dev]\n"
        ));
        let blocked = offline(&auth);
        assert_eq!(blocked.entries[0].action, Action::Blocked, "{username}");
        assert_eq!(codes(&blocked.entries[0]), vec![code], "{username}");
        let omitted = plan(&auth, None, &omit);
        let e = &omitted.entries[0];
        assert_eq!(
            (e.action, e.username.as_deref()),
            (Action::Create, None),
            "{username}"
        );
        assert_eq!(e.findings[0].severity, Severity::Warning);
    }
}

#[test]
fn missing_username_uses_the_default() {
    let p = offline(&users(
        "- userarn: arn:aws:iam::111122223333:user/bob\n  groups: [dev]\n",
    ));
    let e = &p.entries[0];
    assert_eq!((e.action, e.username.as_deref()), (Action::Create, None));
    assert_eq!(codes(e), vec![C::UsernameDefaulted]);
}

#[test]
fn group_templates_block() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/r\n  username: r\n  groups: ['team-{{AccountID}}']\n",
    ));
    assert_eq!(p.entries[0].action, Action::Blocked);
    assert_eq!(codes(&p.entries[0]), vec![C::GroupTemplateUnsupported]);
}

const NODE: &str = "  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n";

#[test]
fn node_roles_become_ec2_entries_unless_managed() {
    let auth = roles(&format!(
        "- rolearn: arn:aws:iam::111122223333:role/karpenter-node\n{NODE}- rolearn: arn:aws:iam::111122223333:role/managed-ng\n{NODE}- rolearn: arn:aws:iam::111122223333:role/win\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes, eks:kube-proxy-windows]\n"
    ));
    let f = with_found(
        facts(),
        &[
            (
                "arn:aws:iam::111122223333:role/karpenter-node",
                "arn:aws:iam::111122223333:role/karpenter-node",
            ),
            (
                "arn:aws:iam::111122223333:role/managed-ng",
                "arn:aws:iam::111122223333:role/managed-ng",
            ),
            (
                "arn:aws:iam::111122223333:role/win",
                "arn:aws:iam::111122223333:role/win",
            ),
        ],
    );
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    let got: Vec<_> = p.entries.iter().map(|e| (e.action, e.entry_type)).collect();
    assert_eq!(
        got,
        vec![
            (Action::Create, Some(T::Ec2Linux)),
            (Action::Skip, Some(T::Ec2Linux)),
            (Action::Create, Some(T::Ec2Windows)),
        ]
    );
    for e in &p.entries {
        assert_eq!(codes(e), vec![C::NodeRole]);
        assert!(
            e.username.is_none() && e.kubernetes_groups.is_empty() && e.access_policies.is_empty()
        );
    }
    assert!(!p.blocks_api_mode);
}

#[test]
fn node_rows_with_other_groups_block() {
    for groups in [
        "[system:nodes]",
        "[system:bootstrappers, system:nodes, extra]",
    ] {
        let p = offline(&roles(&format!(
            "- rolearn: arn:aws:iam::111122223333:role/n\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: {groups}\n"
        )));
        assert_eq!(p.entries[0].action, Action::Blocked, "{groups}");
        assert_eq!(codes(&p.entries[0]), vec![C::NodeRole]);
    }
}

#[test]
fn cross_account_node_roles_block() {
    let auth = roles(&format!(
        "- rolearn: arn:aws:iam::444455556666:role/n\n{NODE}"
    ));
    let f = with_found(
        facts(),
        &[(
            "arn:aws:iam::444455556666:role/n",
            "arn:aws:iam::444455556666:role/n",
        )],
    );
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(p.entries[0].action, Action::Blocked);
}

#[test]
fn hybrid_node_roles_become_hybrid_entries() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/hybrid\n  username: system:node:{{SessionName}}\n  groups: [system:bootstrappers, system:nodes]\n",
    ));
    assert_eq!(
        (p.entries[0].action, p.entries[0].entry_type),
        (Action::Create, Some(T::HybridLinux))
    );
}

const FARGATE: &str = "  username: system:node:{{SessionName}}\n  groups: [system:bootstrappers, system:nodes, system:node-proxier]\n";

#[test]
fn fargate_roles_are_never_created() {
    let auth = roles(&format!(
        "- rolearn: arn:aws:iam::111122223333:role/fargate-pods\n{FARGATE}- rolearn: arn:aws:iam::111122223333:role/old-fargate\n{FARGATE}"
    ));
    let off = offline(&auth);
    assert!(
        off.entries
            .iter()
            .all(|e| e.action == Action::Skip && e.entry_type == Some(T::FargateLinux))
    );
    assert!(!off.blocks_api_mode);
    let f = with_found(
        facts(),
        &[
            (
                "arn:aws:iam::111122223333:role/fargate-pods",
                "arn:aws:iam::111122223333:role/fargate-pods",
            ),
            (
                "arn:aws:iam::111122223333:role/old-fargate",
                "arn:aws:iam::111122223333:role/old-fargate",
            ),
        ],
    );
    let live = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(live.entries[0].action, Action::Skip);
    assert_eq!(
        live.entries[1].action,
        Action::Blocked,
        "no profile uses it: EKS won't create it"
    );
    assert_eq!(codes(&live.entries[1]), vec![C::FargateRole]);
}

#[test]
fn after_the_switch_missing_eks_managed_entries_block() {
    let auth = roles(&format!(
        "- rolearn: arn:aws:iam::111122223333:role/fargate-pods\n{FARGATE}- rolearn: arn:aws:iam::111122223333:role/managed-ng\n{NODE}"
    ));
    let mut f = with_found(
        facts(),
        &[
            (
                "arn:aws:iam::111122223333:role/fargate-pods",
                "arn:aws:iam::111122223333:role/fargate-pods",
            ),
            (
                "arn:aws:iam::111122223333:role/managed-ng",
                "arn:aws:iam::111122223333:role/managed-ng",
            ),
        ],
    );
    f.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert!(p.entries.iter().all(|e| e.action == Action::Blocked));
    for (arn, t) in [
        ("fargate-pods", T::FargateLinux),
        ("managed-ng", T::Ec2Linux),
    ] {
        f.existing_entries.push(ExistingEntry {
            principal_arn: format!("arn:aws:iam::111122223333:role/{arn}"),
            entry_type: t,
            username: None,
            kubernetes_groups: vec![],
            access_policies: vec![],
            managed_by_migrator: false,
        });
    }
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert!(p.entries.iter().all(|e| e.action == Action::Skip));
}

#[test]
fn dead_rows_are_never_revived() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/teams/dev\n  username: dev\n  groups: [system:masters]\n- rolearn: arn:aws:sts::111122223333:assumed-role/ops/alice\n  username: ops\n  groups: [system:masters]\n- rolearn: arn:aws:iam::111122223333:group/admins\n  groups: [system:masters]\n- rolearn: not-an-arn\n",
    ));
    let got: Vec<_> = p.entries.iter().map(|e| (e.action, codes(e))).collect();
    assert_eq!(
        got,
        vec![
            (Action::Skip, vec![C::DeadRolePath]),
            (Action::Skip, vec![C::DeadStsArn]),
            (Action::Skip, vec![C::InvalidEntry]),
            (Action::Skip, vec![C::InvalidEntry]),
        ]
    );
    assert!(!p.blocks_api_mode);
}

#[test]
fn user_arns_with_the_wrong_path_are_dead() {
    let auth = users("- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n");
    let f = with_found(
        facts(),
        &[(
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::111122223333:user/eng/bob",
        )],
    );
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Skip, vec![C::DeadUserPath])
    );
}

#[test]
fn service_linked_roles_block() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/AWSServiceRoleForAmazonEMRContainers\n  username: emr-containers\n",
    ));
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Blocked, vec![C::ServiceLinkedRole])
    );
    // EMR on EKS: says what works (new virtual clusters on an access-entry cluster), not "grant
    // it another way".
    let emr = &p.entries[0].findings[0].message;
    assert!(
        emr.contains("existing EMR virtual clusters cannot move to access entries")
            && emr.contains("gets its access entry from EMR"),
        "{emr}"
    );
    let auth = roles("- rolearn: arn:aws:iam::111122223333:role/svc\n  username: svc\n");
    let f = with_found(
        facts(),
        &[(
            "arn:aws:iam::111122223333:role/svc",
            "arn:aws:iam::111122223333:role/aws-service-role/svc.amazonaws.com/svc",
        )],
    );
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Blocked, vec![C::ServiceLinkedRole])
    );
}

#[test]
fn sso_matchers_block_unless_they_never_match() {
    let p = offline(&roles(
        "- sso: {permissionSetName: Admin, accountID: '111122223333'}\n  username: admin\n- sso: {permissionSetName: Dev, accountID: '111122223333', partition: aws}\n  username: dev\n",
    ));
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Blocked, vec![C::SsoMatcher])
    );
    assert_eq!(
        (p.entries[1].action, codes(&p.entries[1])),
        (Action::Skip, vec![C::SsoMatcher])
    );
}

#[test]
fn map_accounts_block() {
    let auth = AwsAuth::parse_data(&BTreeMap::from([(
        "mapAccounts".to_owned(),
        "- 444455556666\n- '12'\n".to_owned(),
    )]));
    let p = offline(&auth);
    let got: Vec<_> = top_codes(&p);
    assert_eq!(
        got,
        vec![
            (C::MapAccounts, Severity::Blocker),
            (C::MapAccounts, Severity::Warning)
        ]
    );
    assert!(p.blocks_api_mode);
}

#[test]
fn duplicates_are_reported_on_the_shadowed_row() {
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:role/a\n  username: one\n- rolearn: arn:aws:iam::111122223333:role/A\n  username: two\n",
    ));
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Skip, vec![C::DuplicatePrincipal])
    );
    assert_eq!(p.entries[1].action, Action::Create);
    assert_eq!(p.entries[1].username.as_deref(), Some("two"));
}

#[test]
fn section_mismatches_still_migrate() {
    let p = offline(&users(
        "- userarn: arn:aws:iam::111122223333:role/r\n  username: r\n",
    ));
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Create, vec![C::RoleUnderMapUsers])
    );
    let p = offline(&roles(
        "- rolearn: arn:aws:iam::111122223333:user/u\n  username: u\n",
    ));
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Create, vec![C::UserUnderMapRoles])
    );
}

#[test]
fn root_and_federated_users_block() {
    let p = offline(&users(
        "- userarn: arn:aws:iam::111122223333:root\n  username: root\n- userarn: arn:aws:sts::111122223333:federated-user/bob\n  username: bob\n",
    ));
    for e in &p.entries {
        assert_eq!(
            (e.action, codes(e)),
            (Action::Blocked, vec![C::UnsupportedPrincipal])
        );
    }
}

#[test]
fn paths_resolve_through_facts() {
    let sso = "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef";
    let real = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef";
    let auth = roles(&format!(
        "- rolearn: {sso}\n  username: sso-admin:{{{{SessionName}}}}\n  groups: [system:masters]\n"
    ));
    let off = offline(&auth);
    assert_eq!(off.entries[0].principal_arn.as_deref(), Some(sso));
    assert_eq!(
        codes(&off.entries[0]),
        vec![C::PathUnresolved, C::MastersToClusterAdmin]
    );
    assert!(
        off.findings
            .iter()
            .any(|f| f.code == C::PathUnresolved && f.severity == Severity::Info)
    );
    let live = plan(
        &auth,
        Some(&with_found(facts(), &[(sso, real)])),
        &MigrationPolicy::default(),
    );
    assert_eq!(live.entries[0].principal_arn.as_deref(), Some(real));
    assert_eq!(live.entries[0].action, Action::Create);
    let mut f = facts();
    f.iam.insert(
        sso.to_lowercase(),
        IamResolution::Unresolvable {
            reason: "AccessDenied".into(),
        },
    );
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(p.entries[0].action, Action::Blocked);
    assert!(codes(&p.entries[0]).contains(&C::PathUnresolved));
    let p = plan(&auth, Some(&facts()), &MigrationPolicy::default());
    assert_eq!(
        p.entries[0].action,
        Action::Blocked,
        "facts without a resolution block"
    );
}

#[test]
fn a_resolution_to_another_principal_blocks() {
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters]\n",
    );
    for other in [
        "arn:aws:iam::444455556666:role/admin",
        "arn:aws:iam::111122223333:role/not-admin",
        "arn:aws:iam::111122223333:user/admin",
        "arn:aws-cn:iam::111122223333:role/admin",
    ] {
        let f = with_found(facts(), &[("arn:aws:iam::111122223333:role/admin", other)]);
        let p = plan(&auth, Some(&f), &MigrationPolicy::default());
        assert_eq!(p.entries[0].action, Action::Blocked, "{other}");
        assert_eq!(codes(&p.entries[0]), vec![C::PathUnresolved], "{other}");
    }
    let f = with_found(
        facts(),
        &[(
            "arn:aws:iam::111122223333:role/admin",
            "arn:aws:iam::111122223333:role/ops/ADMIN",
        )],
    );
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(
        p.entries[0].action,
        Action::Create,
        "a path and case difference is the same role"
    );
}

#[test]
fn missing_principals_block() {
    let auth = roles("- rolearn: arn:aws:iam::111122223333:role/gone\n  username: gone\n");
    let mut f = facts();
    f.iam.insert(
        "arn:aws:iam::111122223333:role/gone".into(),
        IamResolution::NotFound,
    );
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(
        (p.entries[0].action, codes(&p.entries[0])),
        (Action::Blocked, vec![C::PrincipalNotFound])
    );
}

fn switched_with(existing: ExistingEntry) -> ClusterFacts {
    let mut f = with_found(
        facts(),
        &[(
            "arn:aws:iam::111122223333:role/admin",
            "arn:aws:iam::111122223333:role/admin",
        )],
    );
    f.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    f.existing_entries.push(existing);
    f
}

#[test]
fn only_equivalent_foreign_entries_are_adopted_and_only_when_the_policy_says_so() {
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters, ops]\n",
    );
    let foreign = ExistingEntry {
        principal_arn: "arn:aws:iam::111122223333:role/admin".into(),
        entry_type: T::Standard,
        username: Some("admin".into()),
        kubernetes_groups: vec!["ops".into()],
        access_policies: vec![admin_policy("aws")],
        managed_by_migrator: false,
    };
    let adopt = MigrationPolicy {
        existing_entries: crate::policy::ExistingEntries::Adopt,
        ..MigrationPolicy::default()
    };
    let p = plan(&auth, Some(&switched_with(foreign.clone())), &adopt);
    assert_eq!(p.entries[0].action, Action::Create);
    assert!(codes(&p.entries[0]).contains(&C::EntryAdopted));
    // By default it is left alone.
    let p = plan(
        &auth,
        Some(&switched_with(foreign.clone())),
        &MigrationPolicy::default(),
    );
    assert_eq!(p.entries[0].action, Action::Skip);
    assert!(codes(&p.entries[0]).contains(&C::EntryExists));
    // Already the migrator's: nothing to adopt.
    let ours = ExistingEntry {
        managed_by_migrator: true,
        ..foreign.clone()
    };
    let p = plan(&auth, Some(&switched_with(ours)), &adopt);
    assert_eq!(p.entries[0].action, Action::Skip);
    // An equivalent entry EKS manages (here: an EKS Capability's role) is never adopted.
    let mut capability = switched_with(foreign.clone());
    capability
        .eks_features
        .capabilities
        .push(crate::facts::CapabilityFact {
            name: "gitops".into(),
            capability_type: "ARGOCD".into(),
            role_arn: "arn:aws:iam::111122223333:role/admin".into(),
        });
    let p = plan(&auth, Some(&capability), &adopt);
    assert_eq!(p.entries[0].action, Action::Skip);
    assert!(!codes(&p.entries[0]).contains(&C::EntryAdopted));
    assert_eq!(p.eks_managed_entries.len(), 1);
    // A different entry is never adopted: it overrides its row today.
    let different = ExistingEntry {
        kubernetes_groups: vec![],
        ..foreign
    };
    let p = plan(&auth, Some(&switched_with(different)), &adopt);
    assert_eq!(p.entries[0].action, Action::Skip);
    assert!(codes(&p.entries[0]).contains(&C::EntryConflict));
}

#[test]
fn existing_entries_are_respected() {
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters, ops]\n",
    );
    let exact = ExistingEntry {
        principal_arn: "arn:aws:iam::111122223333:role/admin".into(),
        entry_type: T::Standard,
        username: Some("admin".into()),
        kubernetes_groups: vec!["ops".into()],
        access_policies: vec![admin_policy("aws")],
        managed_by_migrator: true,
    };
    let p = plan(
        &auth,
        Some(&switched_with(exact.clone())),
        &MigrationPolicy::default(),
    );
    assert_eq!(p.entries[0].action, Action::Skip);
    assert!(codes(&p.entries[0]).contains(&C::EntryExists));

    let partial = ExistingEntry {
        access_policies: vec![],
        ..exact.clone()
    };
    let p = plan(
        &auth,
        Some(&switched_with(partial)),
        &MigrationPolicy::default(),
    );
    assert_eq!(p.entries[0].action, Action::Create);
    assert!(codes(&p.entries[0]).contains(&C::EntryIncomplete));

    let foreign = ExistingEntry {
        kubernetes_groups: vec![],
        managed_by_migrator: false,
        ..exact
    };
    let p = plan(
        &auth,
        Some(&switched_with(foreign)),
        &MigrationPolicy::default(),
    );
    assert_eq!(p.entries[0].action, Action::Skip);
    assert!(codes(&p.entries[0]).contains(&C::EntryConflict));
    assert!(!p.blocks_api_mode);
}

#[test]
fn yaml_syntax_errors_are_cluster_findings_that_do_not_block() {
    let auth = AwsAuth::parse_data(&BTreeMap::from([(
        "mapRoles".to_owned(),
        "- rolearn: arn:aws:iam::111122223333:role/a\n username: bad-indent\n   groups: [x]\n"
            .to_owned(),
    )]));
    let p = offline(&auth);
    assert_eq!(
        top_codes(&p)
            .into_iter()
            .map(|(c, _)| c)
            .collect::<Vec<_>>(),
        vec![C::YamlSyntax]
    );
    assert!(p.entries.is_empty());
    assert!(!p.blocks_api_mode);
}

#[test]
fn api_mode_clusters_have_nothing_to_migrate() {
    let auth = roles(
        "- rolearn: arn:aws:iam::111122223333:role/x\n  username: x\n  groups: [system:weird]\n",
    );
    let mut f = with_found(
        facts(),
        &[(
            "arn:aws:iam::111122223333:role/x",
            "arn:aws:iam::111122223333:role/x",
        )],
    );
    f.authentication_mode = Some(AuthenticationMode::Api);
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    assert_eq!(p.entries[0].action, Action::Skip);
    assert!(!p.blocks_api_mode);
}

/// Plans `rows` with the RBAC analysis of `items` (plus Kubernetes' bootstrap roles).
fn with_rbac(rows: &str, items: &str, policy: &MigrationPolicy, listed: Option<&[String]>) -> Plan {
    record(crate::suggest::plan_with_rbac(
        &roles(rows),
        None,
        policy,
        &crate::suggest::RbacInput {
            rbac: &crate::suggest::tests::dump(items),
            listed_policies: listed,
        },
    ))
}

/// Cluster-level findings besides the offline plan's PATH_UNRESOLVED and OWNER_UNKNOWN notes.
fn top_codes(p: &Plan) -> Vec<(C, Severity)> {
    p.findings
        .iter()
        .filter(|f| !matches!(f.code, C::PathUnresolved | C::OwnerUnknown))
        .map(|f| (f.code, f.severity))
        .collect()
}

const TEAM_ROW: &str =
    "- rolearn: arn:aws:iam::111122223333:role/t\n  username: t\n  groups: [team]\n";

#[test]
fn a_group_bound_to_view_cluster_wide_is_exactly_the_view_policy() {
    use crate::suggest::tests::crb;
    let p = with_rbac(
        TEAM_ROW,
        &crb("team", "view", "team"),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(top_codes(&p), vec![(C::GroupPolicyExact, Severity::Info)]);
    assert_eq!(
        p.entries[0].action,
        Action::Create,
        "a suggestion changes no entry"
    );
}

#[test]
fn a_group_bound_to_edit_loses_eviction_tokens_and_leases_as_the_edit_policy() {
    use crate::suggest::tests::rb;
    let p = with_rbac(
        TEAM_ROW,
        &rb("payments", "team", "ClusterRole", "edit", ("Group", "team")),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(top_codes(&p), vec![(C::GroupPolicyLossy, Severity::Info)]);
    let lossy = p.findings.iter().find(|f| f.code == C::GroupPolicyLossy);
    assert!(lossy.is_some_and(|f| f.message.contains("create pods/eviction in payments")));
}

#[test]
fn a_group_with_less_than_view_is_broader_than_the_view_policy() {
    use crate::suggest::tests::crb;
    let role = "- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: pods}, rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]}\n";
    let p = with_rbac(
        TEAM_ROW,
        &format!("{role}{}", crb("team", "pods", "team")),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(top_codes(&p), vec![(C::GroupPolicyBroader, Severity::Info)]);
}

#[test]
fn a_custom_role_no_policy_matches_is_none() {
    use crate::suggest::tests::{OPS_ROLE, crb};
    let p = with_rbac(
        TEAM_ROW,
        &format!("{OPS_ROLE}{}", crb("team", "ops-role", "team")),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(top_codes(&p), vec![(C::GroupPolicyNone, Severity::Info)]);
}

#[test]
fn a_group_no_binding_names_is_unbound_and_a_binding_no_row_carries_is_unmapped() {
    use crate::suggest::tests::crb;
    let p = with_rbac(
        TEAM_ROW,
        &crb("others", "view", "others"),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(
        top_codes(&p),
        vec![
            (C::BindingGroupUnmapped, Severity::Info),
            (C::GroupUnbound, Severity::Warning)
        ]
    );
}

#[test]
fn unreadable_rbac_cycles_missing_roles_and_odd_verbs_are_findings() {
    use crate::suggest::tests::crb;
    let cycle = "- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: a, labels: {x: a}}, aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: a2}}]}}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: a2, labels: {x: a2}}, aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: a}}]}}\n";
    let p = with_rbac(
        TEAM_ROW,
        &format!("{cycle}{}", crb("team", "a", "team")),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(
        top_codes(&p),
        vec![
            (C::RbacAggregationCycle, Severity::Warning),
            (C::RbacInvalid, Severity::Warning)
        ]
    );
    let p = with_rbac(
        TEAM_ROW,
        &crb("team", "gone", "team"),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(
        top_codes(&p),
        vec![
            (C::RbacRoleNotFound, Severity::Warning),
            (C::GroupUnbound, Severity::Warning)
        ]
    );
    let shouty = "- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: s}, rules: [{apiGroups: [''], resources: [pods], verbs: [GET]}]}\n";
    let p = with_rbac(
        TEAM_ROW,
        &format!("{shouty}{}", crb("team", "s", "team")),
        &MigrationPolicy::default(),
        None,
    );
    assert_eq!(top_codes(&p)[0], (C::RbacUnknownVerb, Severity::Warning));
}

#[test]
fn policies_list_access_policies_offers_without_known_rules_are_named() {
    use crate::suggest::tests::crb;
    let listed = [
        "AmazonEKSViewPolicy".to_owned(),
        "AmazonEKSBrandNewPolicy".to_owned(),
    ];
    let p = with_rbac(
        TEAM_ROW,
        &crb("team", "view", "team"),
        &MigrationPolicy::default(),
        Some(&listed),
    );
    assert_eq!(
        top_codes(&p),
        vec![
            (C::AccessPolicyUnknown, Severity::Info),
            (C::GroupPolicyExact, Severity::Info)
        ]
    );
}

#[test]
fn entries_eks_manages_are_listed_and_never_planned() {
    use crate::eks_managed::EksManaged;
    let auth = roles(&format!(
        "- rolearn: arn:aws:iam::111122223333:role/managed-ng\n{NODE}- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters]\n"
    ));
    let mut f = with_found(
        facts(),
        &[
            (
                "arn:aws:iam::111122223333:role/managed-ng",
                "arn:aws:iam::111122223333:role/managed-ng",
            ),
            (
                "arn:aws:iam::111122223333:role/admin",
                "arn:aws:iam::111122223333:role/admin",
            ),
        ],
    );
    f.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    f.eks_features.auto_mode = Some(crate::facts::AutoModeFact {
        cluster_role_arn: None,
        node_role_arn: Some(format!("arn:aws:iam::{ACCT}:role/auto-node")),
    });
    for (name, entry_type) in [
        ("auto-node", T::Ec2),
        ("hyperpod", T::HyperpodLinux),
        ("managed-ng", T::Ec2Linux),
    ] {
        f.existing_entries.push(ExistingEntry {
            principal_arn: format!("arn:aws:iam::{ACCT}:role/{name}"),
            entry_type,
            username: None,
            kubernetes_groups: vec![],
            access_policies: vec![],
            managed_by_migrator: false,
        });
    }
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    let listed: Vec<_> = p
        .eks_managed_entries
        .iter()
        .map(|e| (e.principal_arn.as_str(), e.entry_type, &e.managed_by))
        .collect();
    assert_eq!(
        listed,
        vec![
            (
                "arn:aws:iam::111122223333:role/auto-node",
                T::Ec2,
                &EksManaged::AutoModeNode
            ),
            (
                "arn:aws:iam::111122223333:role/hyperpod",
                T::HyperpodLinux,
                &EksManaged::HyperPod
            ),
            (
                "arn:aws:iam::111122223333:role/managed-ng",
                T::Ec2Linux,
                &EksManaged::NodeGroup
            ),
        ]
    );
    let planned: Vec<_> = p
        .entries
        .iter()
        .map(|e| (e.principal_arn.as_deref(), e.action, e.entry_type))
        .collect();
    assert_eq!(
        planned,
        vec![
            (
                Some("arn:aws:iam::111122223333:role/managed-ng"),
                Action::Skip,
                Some(T::Ec2Linux)
            ),
            (
                Some("arn:aws:iam::111122223333:role/admin"),
                Action::Create,
                Some(T::Standard)
            ),
        ],
        "only aws-auth's rows are planned; the node group's is EKS's"
    );
}

/// Every entry type. The match has no wildcard arm: a new variant does not compile until it is
/// placed in this chain.
fn every_entry_type() -> Vec<T> {
    let after = |t: Option<T>| match t {
        None => Some(T::Standard),
        Some(T::Standard) => Some(T::Ec2Linux),
        Some(T::Ec2Linux) => Some(T::Ec2Windows),
        Some(T::Ec2Windows) => Some(T::FargateLinux),
        Some(T::FargateLinux) => Some(T::HybridLinux),
        Some(T::HybridLinux) => Some(T::Ec2),
        Some(T::Ec2) => Some(T::HyperpodLinux),
        Some(T::HyperpodLinux) => None,
    };
    std::iter::successors(after(None), |t| after(Some(*t))).collect()
}

/// Lists rule-case functions with their names.
macro_rules! rule_cases {
    ($($case:ident),* $(,)?) => {
        &[$((stringify!($case), $case as fn())),*]
    };
}

/// Every rule case in this file; the guard re-runs each one and checks this list is complete.
#[test]
fn a_partial_dump_assumes_the_bootstrap_roles_it_lacks() {
    use crate::suggest::tests::crb;
    let partial = crate::rbac::Rbac::parse(&format!(
        "kind: List\nitems:\n{}",
        crb("team", "view", "team")
    ))
    .expect("a list");
    let p = record(crate::suggest::plan_with_rbac(
        &roles(TEAM_ROW),
        None,
        &MigrationPolicy::default(),
        &crate::suggest::RbacInput {
            rbac: &partial,
            listed_policies: None,
        },
    ));
    assert_eq!(
        top_codes(&p),
        vec![
            (C::RbacBootstrapAssumed, Severity::Info),
            (C::GroupPolicyExact, Severity::Info)
        ]
    );
}

const RULE_CASES: &[(&str, fn())] = rule_cases![
    masters_becomes_cluster_admin_keeping_groups_and_username,
    policy_arns_follow_the_partition,
    plain_team_role_keeps_groups_and_username,
    other_system_groups_block,
    a_policy_file_maps_groups_and_never_by_default,
    session_name_raw_after_a_colon_is_kept_as_written,
    unsupported_usernames_block_or_are_omitted_by_policy,
    missing_username_uses_the_default,
    group_templates_block,
    node_roles_become_ec2_entries_unless_managed,
    node_rows_with_other_groups_block,
    cross_account_node_roles_block,
    hybrid_node_roles_become_hybrid_entries,
    fargate_roles_are_never_created,
    after_the_switch_missing_eks_managed_entries_block,
    dead_rows_are_never_revived,
    user_arns_with_the_wrong_path_are_dead,
    service_linked_roles_block,
    sso_matchers_block_unless_they_never_match,
    map_accounts_block,
    duplicates_are_reported_on_the_shadowed_row,
    section_mismatches_still_migrate,
    root_and_federated_users_block,
    paths_resolve_through_facts,
    a_resolution_to_another_principal_blocks,
    missing_principals_block,
    only_equivalent_foreign_entries_are_adopted_and_only_when_the_policy_says_so,
    existing_entries_are_respected,
    yaml_syntax_errors_are_cluster_findings_that_do_not_block,
    api_mode_clusters_have_nothing_to_migrate,
    a_group_bound_to_view_cluster_wide_is_exactly_the_view_policy,
    a_group_bound_to_edit_loses_eviction_tokens_and_leases_as_the_edit_policy,
    a_group_with_less_than_view_is_broader_than_the_view_policy,
    a_custom_role_no_policy_matches_is_none,
    a_group_no_binding_names_is_unbound_and_a_binding_no_row_carries_is_unmapped,
    unreadable_rbac_cycles_missing_roles_and_odd_verbs_are_findings,
    policies_list_access_policies_offers_without_known_rules_are_named,
    entries_eks_manages_are_listed_and_never_planned,
    owners_that_would_undo_finalize_block_it,
    a_partial_dump_assumes_the_bootstrap_roles_it_lacks,
];

#[test]
fn owners_that_would_undo_finalize_block_it() {
    use crate::owner::detect::{aws_auth_owners, cluster_owners};
    use crate::owner::metadata::ObjectMetadata;
    use crate::owner::ownership::{MetadataSeen, Owners};
    let metadata: ObjectMetadata = serde_json::from_value(serde_json::json!({
        "labels": {"kustomize.toolkit.fluxcd.io/name": "infra",
                   "kustomize.toolkit.fluxcd.io/namespace": "flux-system"},
        "managedFields": [{"manager": "kustomize-controller", "operation": "Apply",
                           "fieldsV1": {"f:data": {"f:mapRoles": {}}}}]
    }))
    .expect("metadata");
    let mut f = facts();
    f.region = Some("eu-west-1".into());
    f.owners = Some(Owners {
        aws_auth: aws_auth_owners(Some(&metadata), MetadataSeen::Live),
        cluster: Some(cluster_owners(
            &BTreeMap::from([(
                "aws:cloudformation:stack-name".to_owned(),
                "platform".to_owned(),
            )]),
            &[],
        )),
    });
    let auth = roles(TEAM_ROW);
    let p = plan(&auth, Some(&f), &MigrationPolicy::default());
    let owner_codes: Vec<_> = p
        .findings
        .iter()
        .filter(|f| matches!(f.code, C::AwsAuthOwner | C::ClusterOwner))
        .map(|f| (f.code, f.severity))
        .collect();
    assert_eq!(
        owner_codes,
        [
            (C::AwsAuthOwner, Severity::Blocker),
            (C::ClusterOwner, Severity::Blocker)
        ]
    );
    assert!(p.blocks_api_mode, "finalize stops on the owners");
    assert_eq!(
        p.owners,
        f.owners.clone().expect("owners"),
        "the plan carries them"
    );
    let blocker = &p
        .findings
        .iter()
        .find(|f| f.code == C::AwsAuthOwner)
        .expect("owner")
        .message;
    assert!(
        blocker.contains("Flux Kustomization flux-system/infra"),
        "{blocker}"
    );
    assert!(
        blocker.contains(&format!("arn:aws:eks:eu-west-1:{ACCT}:cluster/prod")),
        "the acceptance it suggests names the cluster: {blocker}"
    );
    let accepted = record(super::plan_with_owners(
        &auth,
        Some(&f),
        &MigrationPolicy::default(),
        &crate::owner::acceptance::Acceptance {
            aws_auth: vec![crate::owner::kind::AwsAuthOwnerKind::FluxKustomization],
            cluster: vec![crate::owner::kind::ClusterOwnerKind::CloudFormation],
        },
    ));
    assert_eq!(accepted.summary.blockers + 2, p.summary.blockers);
    assert!(
        accepted
            .findings
            .iter()
            .filter(|f| matches!(f.code, C::AwsAuthOwner | C::ClusterOwner))
            .all(|f| f.severity == Severity::Info),
        "{:#?}",
        accepted.findings
    );
}

/// The names of this file's `#[test]` functions, read from its source.
fn tests_in_this_file() -> BTreeSet<&'static str> {
    let source = include_str!("tests.rs");
    source
        .split("#[test]\nfn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .collect()
}

#[test]
fn every_finding_code_and_entry_type_is_produced_by_a_rule_case() {
    let listed: BTreeSet<&str> = RULE_CASES.iter().map(|(name, _)| *name).collect();
    let mut tests = tests_in_this_file();
    assert!(tests.remove("every_finding_code_and_entry_type_is_produced_by_a_rule_case"));
    let unlisted: Vec<_> = tests.difference(&listed).collect();
    let not_tests: Vec<_> = listed.difference(&tests).collect();
    assert!(
        unlisted.is_empty() && not_tests.is_empty(),
        "RULE_CASES must list every #[test] of this file: add {unlisted:?}, remove {not_tests:?}"
    );

    PRODUCED.set(Some(Produced::default()));
    for (_, case) in RULE_CASES {
        case();
    }
    let produced = PRODUCED.take().expect("recording");
    let codes: Vec<&str> = C::ALL
        .iter()
        .filter(|c| !produced.codes.contains(c))
        .map(|c| c.as_str())
        .collect();
    let types: Vec<&str> = every_entry_type()
        .into_iter()
        .filter(|t| !produced.entry_types.contains(t))
        .map(T::as_str)
        .collect();
    assert!(
        codes.is_empty() && types.is_empty(),
        "no rule case's plan produces the finding codes {codes:?} or the entry types {types:?}: add a case that does"
    );
}
