//! Property tests of the planner over generated aws-auth ConfigMaps and facts.
//!
//! Who a caller is today is asked of the independent reader (`aws-auth-reference`, written from
//! aws-iam-authenticator's behaviour, tests/authenticator), never of the product's own reader:
//! a parser bug that revived a dead row or dropped a group would otherwise agree with itself.

use aws_auth_reference::{Lookup, Source};
use eks_auth_core::arn::{Arn, Principal};
use eks_auth_core::aws_auth::{AwsAuth, Row, RowStatus};
use eks_auth_core::facts::same_role;
use eks_auth_core::facts::{AuthenticationMode, ClusterFacts, ExistingEntry, IamResolution};
use eks_auth_core::finding::Severity;
use eks_auth_core::plan::{Action, EntryType, Plan, Section};
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::prune::{RowRef, prunable_rows, prune};
use proptest::prelude::*;
use std::collections::BTreeMap;

const ACCT: &str = "111122223333";

fn arn_strategy() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec!["admin", "Admin", "dev", "node", "pods", "gone", "svc"]);
    (0..10u8, names).prop_map(|(kind, name)| match kind {
        0..=2 => format!("arn:aws:iam::{ACCT}:role/{name}"),
        3 => format!("arn:aws:iam::{ACCT}:role/team/{name}"),
        4 => format!("arn:aws:sts::{ACCT}:assumed-role/{name}/session"),
        5 => format!("arn:aws:iam::{ACCT}:user/{name}"),
        6 => format!("arn:aws:iam::444455556666:role/{name}"),
        7 => format!("arn:aws:iam::{ACCT}:role/AWSServiceRoleFor{name}"),
        8 => format!("arn:aws:iam::{ACCT}:role/AWSReservedSSO_{name}_0123"),
        _ => name.to_owned(),
    })
}

fn row_strategy() -> impl Strategy<Value = serde_json::Value> {
    let usernames = prop::sample::select(vec![
        "",
        "admin",
        "dev:{{SessionName}}",
        "{{SessionName}}",
        "x:{{SessionNameRaw}}",
        "system:admin",
        "system:node:{{EC2PrivateDNSName}}",
        "system:node:{{SessionName}}",
        "acct:{{AccountID}}",
    ]);
    let group = prop::sample::select(vec![
        "system:masters",
        "system:bootstrappers",
        "system:nodes",
        "system:node-proxier",
        "eks:kube-proxy-windows",
        "system:monitoring",
        "dev",
        "ops",
        "read-only",
        "team-{{AccountID}}",
    ]);
    (
        arn_strategy(),
        usernames,
        prop::collection::vec(group, 0..4),
        0..12u8,
    )
        .prop_map(|(arn, username, groups, shape)| {
            let mut row = serde_json::Map::new();
            match shape {
                0 => {}
                1 => {
                    row.insert("ROLEARN".into(), arn.clone().into());
                }
                2 => {
                    row.insert(
                        "sso".into(),
                        serde_json::json!({"permissionSetName": "Admin", "accountID": ACCT}),
                    );
                }
                _ => {
                    row.insert("rolearn".into(), arn.clone().into());
                    row.insert("userarn".into(), arn.into());
                }
            }
            if !username.is_empty() {
                row.insert("username".into(), username.into());
            }
            row.insert("groups".into(), groups.into());
            serde_json::Value::Object(row)
        })
}

/// A ConfigMap read by the product, with the independent reader's reading of the same data.
#[derive(Debug, Clone)]
struct Read {
    auth: AwsAuth,
    reference: aws_auth_reference::AwsAuth,
}

fn read(data: &BTreeMap<String, String>) -> Read {
    Read {
        auth: AwsAuth::parse_data(data),
        reference: aws_auth_reference::AwsAuth::from_data(data),
    }
}

fn auth_strategy() -> impl Strategy<Value = Read> {
    data_strategy(false).prop_map(|data| read(&data))
}

/// An identity as the authenticator gives it: username, groups, row.
type Answer = (String, Vec<String>, Option<(Section, usize)>);

/// Every identity the authenticator (the independent reader) may give the caller with canonical
/// ARN `caller`: none when it refuses the caller, several when the answer depends on Go's map
/// order (mapUsers ARNs that differ only in case).
fn authenticator(
    reference: &aws_auth_reference::AwsAuth,
    caller: &str,
    account: &str,
) -> Vec<Answer> {
    let answer = |i: aws_auth_reference::Identity| {
        let row = i.row.map(|r| {
            let section = if r.key == Source::MapRoles {
                Section::MapRoles
            } else {
                Section::MapUsers
            };
            (section, r.index)
        });
        (i.username, i.groups, row)
    };
    match reference.lookup_canonical(caller, account) {
        Lookup::NotMapped => Vec::new(),
        Lookup::Mapped(i) => vec![answer(i)],
        Lookup::Ambiguous(all) => all.into_iter().map(answer).collect(),
    }
}

/// ConfigMap data: JSON sections, or (with `block_too`) sometimes block-style YAML sections.
fn data_strategy(block_too: bool) -> impl Strategy<Value = BTreeMap<String, String>> {
    (
        prop::collection::vec(row_strategy(), 0..12),
        prop::collection::vec(row_strategy(), 0..6),
        prop::bool::weighted(0.1),
        prop::bool::weighted(if block_too { 0.7 } else { 0.0 }),
        0..3usize,
    )
        .prop_map(|(roles, users, accounts, block, variant)| {
            let emit = |rows: Vec<serde_json::Value>| {
                if block {
                    block_yaml(&rows, variant)
                } else {
                    serde_json::Value::from(rows).to_string()
                }
            };
            let mut data = BTreeMap::new();
            data.insert("mapRoles".to_owned(), emit(roles));
            data.insert("mapUsers".to_owned(), emit(users));
            if accounts {
                data.insert("mapAccounts".to_owned(), "- 444455556666\n".to_owned());
            }
            data
        })
}

/// Rows as a block sequence in assorted layouts (dash on its own line, nested block lists,
/// comments between items); scalars are JSON-quoted, which YAML reads the same.
fn block_yaml(rows: &[serde_json::Value], variant: usize) -> String {
    let mut out = String::from("# generated\n");
    for (i, row) in rows.iter().enumerate() {
        let fields = row.as_object().cloned().unwrap_or_default();
        if fields.is_empty() {
            out.push_str("- {}\n");
            continue;
        }
        let dash_alone = (i + variant).is_multiple_of(3);
        if dash_alone {
            out.push_str("-\n");
        }
        for (n, (key, value)) in fields.iter().enumerate() {
            let prefix = if n == 0 && !dash_alone { "- " } else { "  " };
            match value {
                serde_json::Value::Array(items) if !items.is_empty() && i % 2 == variant % 2 => {
                    out.push_str(&format!("{prefix}{key}:\n"));
                    for item in items {
                        out.push_str(&format!("    - {item}\n"));
                    }
                }
                other => out.push_str(&format!("{prefix}{key}: {other}\n")),
            }
        }
        if i % 4 == 1 {
            out.push_str("  # between rows\n\n");
        }
    }
    out
}

/// Facts that resolve every principal in the ConfigMap, some with a path, some missing.
fn facts_for(auth: &AwsAuth, managed: bool) -> ClusterFacts {
    let mut facts = ClusterFacts {
        partition: Some("aws".into()),
        account_id: Some(ACCT.into()),
        authentication_mode: Some(AuthenticationMode::ConfigMap),
        ..ClusterFacts::default()
    };
    if managed {
        facts
            .node_group_roles
            .push(format!("arn:aws:iam::{ACCT}:role/node"));
        facts
            .fargate_profile_roles
            .push(format!("arn:aws:iam::{ACCT}:role/pods"));
    }
    for row in &auth.rows {
        let Ok(arn) = row.arn.parse::<Arn>() else {
            continue;
        };
        let resolution = match arn.principal() {
            Principal::Role { name: "gone", .. } => IamResolution::NotFound,
            Principal::Role { name, .. } if name.starts_with("AWSReservedSSO_") => {
                IamResolution::Found {
                    arn: format!(
                        "arn:aws:iam::{}:role/aws-reserved/sso.amazonaws.com/{name}",
                        arn.account()
                    ),
                }
            }
            _ => IamResolution::Found {
                arn: row.arn.clone(),
            },
        };
        facts.iam.insert(row.arn.clone(), resolution);
    }
    facts
}

fn policy() -> MigrationPolicy {
    MigrationPolicy::parse(
        "version: 1\ngroup_policies:\n  - group: read-only\n    policy: AmazonEKSViewPolicy\n",
    )
    .expect("policy")
}

/// The row a plan entry came from.
fn row_of<'a>(
    auth: &'a AwsAuth,
    plan_entry: &eks_auth_core::plan::PlannedEntry,
) -> &'a eks_auth_core::aws_auth::Row {
    auth.rows
        .iter()
        .find(|r| r.section == plan_entry.source.section && r.index == plan_entry.source.index)
        .expect("every entry has a row")
}

/// The principal's canonical (caller) ARN: what the authenticator compares.
fn canonical(arn: &str) -> Option<String> {
    let parsed: Arn = arn.parse().ok()?;
    match parsed.principal() {
        Principal::Role { name, .. } => Some(format!(
            "arn:{}:iam::{}:role/{name}",
            parsed.partition(),
            parsed.account()
        )),
        Principal::User { .. } => Some(arn.to_owned()),
        _ => None,
    }
}

fn check_grants_nothing_new(
    read: &Read,
    plan: &Plan,
    policy: &MigrationPolicy,
) -> Result<(), TestCaseError> {
    let auth = &read.auth;
    for entry in plan.entries.iter().filter(|e| e.action == Action::Create) {
        let row = row_of(auth, entry);
        prop_assert_eq!(
            row.status,
            RowStatus::Effective,
            "create from a row EKS does not use"
        );
        // The row is the one the authenticator uses for this principal's callers.
        let caller = canonical(entry.principal_arn.as_deref().expect("principal"))
            .expect("create entries name roles or users");
        let account = caller.split(':').nth(4).unwrap_or_default().to_owned();
        let answers = authenticator(&read.reference, &caller, &account);
        prop_assert_eq!(
            answers.len(),
            1,
            "create for {} whom the authenticator maps {:?}",
            caller,
            answers
        );
        let (username, groups, mapped_row) = answers.into_iter().next().expect("one answer");
        prop_assert_eq!(mapped_row, Some((row.section, row.index)));
        // The row as the product read it is the row as the authenticator reads it.
        prop_assert_eq!(&username, &row.username);
        let named: Vec<&String> = groups.iter().filter(|g| !g.is_empty()).collect();
        prop_assert_eq!(named, row.groups.iter().collect::<Vec<_>>());
        match entry.entry_type {
            Some(EntryType::Standard) => {
                for group in &entry.kubernetes_groups {
                    prop_assert!(row.groups.contains(group), "group {} not in the row", group);
                    prop_assert!(!group.starts_with("system:"));
                }
                for policy_assoc in &entry.access_policies {
                    let name = policy_assoc.name();
                    let implied = (name == "AmazonEKSClusterAdminPolicy"
                        && row.groups.iter().any(|g| g == "system:masters"))
                        || row.groups.iter().any(|g| {
                            policy
                                .mapping_for(g)
                                .is_some_and(|m| m.policy_name() == name)
                        });
                    prop_assert!(implied, "policy {} not implied by the row", name);
                }
                // No group is silently dropped.
                for group in &row.groups {
                    let kept = entry.kubernetes_groups.contains(group);
                    let expressed =
                        group == "system:masters" || policy.mapping_for(group).is_some();
                    prop_assert!(kept || expressed, "group {} dropped", group);
                }
                if let Some(username) = &entry.username {
                    prop_assert_eq!(username, &row.username);
                }
            }
            Some(EntryType::Ec2Linux | EntryType::Ec2Windows | EntryType::HybridLinux) => {
                prop_assert!(row.username.starts_with("system:node:"));
                prop_assert!(
                    entry.kubernetes_groups.is_empty() && entry.access_policies.is_empty()
                );
            }
            other => prop_assert!(false, "never creates {:?}", other),
        }
    }
    Ok(())
}

/// The access entries a converged cluster would have after applying `plan`.
fn applied(plan: &Plan, facts: &ClusterFacts, auth: &AwsAuth) -> ClusterFacts {
    let mut after = facts.clone();
    after.authentication_mode = Some(AuthenticationMode::ApiAndConfigMap);
    for entry in &plan.entries {
        let Some(principal) = &entry.principal_arn else {
            continue;
        };
        let eks_managed = entry.action == Action::Skip
            && matches!(
                entry.entry_type,
                Some(EntryType::Ec2Linux | EntryType::FargateLinux)
            )
            && row_of(auth, entry).status == RowStatus::Effective;
        if entry.action == Action::Create || eks_managed {
            after.existing_entries.push(ExistingEntry {
                principal_arn: principal.clone(),
                entry_type: entry.entry_type.expect("typed"),
                username: entry.username.clone(),
                kubernetes_groups: entry.kubernetes_groups.clone(),
                access_policies: entry.access_policies.clone(),
                managed_by_migrator: entry.action == Action::Create,
            });
        }
    }
    after
}

/// The key the authenticator matches rows by: the ARN, lower-cased.
fn key_of(arn: &str) -> String {
    arn.to_lowercase()
}

/// Property (a): the pruned data parses to exactly the kept rows, in order, and every principal
/// without a removed row maps exactly as before (to the same row, now renumbered).
fn check_prune_keeps_the_rest(
    data: &BTreeMap<String, String>,
    removed: &[RowRef],
) -> Result<Read, TestCaseError> {
    let before = AwsAuth::parse_data(data);
    let reference_before = aws_auth_reference::AwsAuth::from_data(data);
    let after_data = prune(data, removed).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (key, value) in data {
        if key != "mapRoles" && key != "mapUsers" {
            prop_assert_eq!(&after_data[key], value);
        }
    }
    let after = read(&after_data);
    let is_removed = |r: &Row| {
        removed.contains(&RowRef {
            section: r.section,
            index: r.index,
        })
    };
    let kept: Vec<&Row> = before.rows.iter().filter(|r| !is_removed(r)).collect();
    let content = |r: &Row| {
        (
            r.section,
            r.arn.clone(),
            r.sso.clone(),
            r.username.clone(),
            r.groups.clone(),
        )
    };
    prop_assert_eq!(
        after.auth.rows.iter().map(content).collect::<Vec<_>>(),
        kept.iter().map(|r| content(r)).collect::<Vec<_>>()
    );
    prop_assert_eq!(&after.auth.accounts, &before.accounts);
    // An old row's position among the kept rows of its section: its index after the prune.
    let renumbered = |(section, index): (Section, usize)| {
        let pos = kept
            .iter()
            .filter(|r| r.section == section)
            .position(|r| r.index == index);
        (section, pos)
    };
    let touched: Vec<String> = before
        .rows
        .iter()
        .filter(|r| is_removed(r))
        .map(|r| key_of(&r.arn))
        .collect();
    for row in &before.rows {
        if row.arn.is_empty() || touched.contains(&key_of(&row.arn)) {
            continue;
        }
        let old = authenticator(&reference_before, &row.arn, ACCT);
        let new = authenticator(&after.reference, &row.arn, ACCT);
        prop_assert_eq!(
            old.into_iter()
                .map(|(u, g, r)| (u, g, r.map(renumbered)))
                .collect::<Vec<_>>(),
            new.into_iter()
                .map(|(u, g, r)| (u, g, r.map(|(s, i)| (s, Some(i)))))
                .collect::<Vec<_>>(),
            "{} maps differently",
            row.arn
        );
    }
    Ok(after)
}

/// Facts after the switch, with some of the migrator's entries missing or lacking policies.
fn damaged(mut after: ClusterFacts, damage: &[u8]) -> ClusterFacts {
    let mut n = 0;
    after.existing_entries.retain_mut(|e| {
        if !e.managed_by_migrator {
            return true;
        }
        n += 1;
        match damage.get(n - 1).copied().unwrap_or(0) {
            2 => false,
            3 => {
                e.access_policies.clear();
                true
            }
            _ => true,
        }
    });
    after
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn offline_plans_never_grant_new_access(read in auth_strategy()) {
        let policy = policy();
        let plan = eks_auth_core::plan(&read.auth, None, &policy);
        check_grants_nothing_new(&read, &plan, &policy)?;
    }

    #[test]
    fn live_plans_never_grant_new_access_and_block_exactly_on_blockers(read in auth_strategy(), managed in any::<bool>()) {
        let policy = policy();
        let facts = facts_for(&read.auth, managed);
        let plan = eks_auth_core::plan(&read.auth, Some(&facts), &policy);
        check_grants_nothing_new(&read, &plan, &policy)?;
        let blockers = plan.all_findings().any(|f| f.severity == Severity::Blocker);
        prop_assert_eq!(plan.blocks_api_mode, blockers);
        for entry in &plan.entries {
            if entry.action == Action::Blocked {
                prop_assert!(entry.findings.iter().any(|f| f.severity == Severity::Blocker), "blocked without a blocker: {:?}", entry);
            }
        }
    }

    #[test]
    fn planning_is_deterministic(read in auth_strategy(), managed in any::<bool>()) {
        let auth = &read.auth;
        let facts = facts_for(auth, managed);
        let a = eks_auth_core::plan(auth, Some(&facts), &policy());
        let b = eks_auth_core::plan(auth, Some(&facts), &policy());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn replanning_after_applying_creates_nothing(read in auth_strategy(), managed in any::<bool>()) {
        let auth = &read.auth;
        let policy = policy();
        let facts = facts_for(auth, managed);
        let first = eks_auth_core::plan(auth, Some(&facts), &policy);
        let after = applied(&first, &facts, auth);
        let second = eks_auth_core::plan(auth, Some(&after), &policy);
        let creates: Vec<_> = second.entries.iter().filter(|e| e.action == Action::Create).collect();
        prop_assert!(creates.is_empty(), "second plan still creates {:?}", creates);
    }

    #[test]
    fn mapusers_rows_only_come_after_maproles(read in auth_strategy()) {
        let auth = &read.auth;
        let plan = eks_auth_core::plan(auth, None, &MigrationPolicy::default());
        let sections: Vec<Section> = plan.entries.iter().map(|e| e.source.section).collect();
        let mut sorted = sections.clone();
        sorted.sort();
        prop_assert_eq!(sections, sorted);
    }

    #[test]
    fn pruning_any_rows_keeps_the_others_exactly(data in data_strategy(true), mask in prop::collection::vec(any::<bool>(), 18)) {
        let auth = AwsAuth::parse_data(&data);
        let removed: Vec<RowRef> = auth
            .rows
            .iter()
            .zip(mask.iter().cycle())
            .filter(|(_, pick)| **pick)
            .map(|(r, _)| RowRef { section: r.section, index: r.index })
            .collect();
        check_prune_keeps_the_rest(&data, &removed)?;
    }

    #[test]
    fn prunable_rows_leave_pending_principals_and_unmap_pruned_ones(
        data in data_strategy(true),
        managed in any::<bool>(),
        damage in prop::collection::vec(0..4u8, 20),
    ) {
        let policy = policy();
        let auth = AwsAuth::parse_data(&data);
        let facts = facts_for(&auth, managed);
        let first = eks_auth_core::plan(&auth, Some(&facts), &policy);
        let after = damaged(applied(&first, &facts, &auth), &damage);
        let plan = eks_auth_core::plan(&auth, Some(&after), &policy);
        let rows = prunable_rows(&auth, &plan, &after);
        // (c) never a row of a principal whose plan entry is create or blocked.
        for r in &rows {
            let row = auth.rows.iter().find(|x| x.section == r.section && x.index == r.index).expect("row exists");
            let entry = plan.entries.iter().find(|e| e.source.section == r.section && e.source.index == r.index).expect("entry");
            for pending in plan.entries.iter().filter(|e| e.action != Action::Skip) {
                let same = pending.source.arn.as_deref().is_some_and(|a| key_of(a) == key_of(&row.arn))
                    || match (&pending.principal_arn, &entry.principal_arn) {
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b) || same_role(a, b),
                        _ => false,
                    };
                prop_assert!(!same, "pruned {:?} of pending {:?}", r, pending);
            }
        }
        // Nothing is prunable before the switch.
        prop_assert!(prunable_rows(&auth, &first, &facts).is_empty());
        // (a) and (b): no pruned principal is mapped by any remaining row.
        let pruned = check_prune_keeps_the_rest(&data, &rows)?;
        for r in &rows {
            let row = auth.rows.iter().find(|x| x.section == r.section && x.index == r.index).expect("row exists");
            let mapped: Vec<_> = authenticator(&pruned.reference, &row.arn, ACCT)
                .into_iter()
                .filter_map(|(_, _, r)| r)
                .collect();
            prop_assert!(mapped.is_empty(), "{} still mapped by {:?}", row.arn, mapped);
        }
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}", key in prop::sample::select(vec!["mapRoles", "mapUsers", "mapAccounts"])) {
        let data = BTreeMap::from([(key.to_owned(), text.clone())]);
        let auth = AwsAuth::parse_data(&data);
        let _ = eks_auth_core::plan(&auth, None, &MigrationPolicy::default());
        let _ = AwsAuth::parse_configmap(&text);
    }
}
