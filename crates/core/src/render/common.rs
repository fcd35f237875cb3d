//! What the plan renderers share: which entries the aws-cli script renders, how principals are
//! referenced, labels, and the review header every output carries.

use crate::access_entry::{Action, EntryType};
use crate::arn::{Arn, Principal};
use crate::finding::FindingCode;
use crate::plan::{Plan, PlannedEntry, Source, Summary};
use std::collections::{BTreeMap, HashSet};

pub(super) use crate::access_entry::MANAGED_TAG;

/// How a rendered entry names its principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PrincipalRef {
    /// The ARN is complete (a user ARN, or a role ARN with its IAM path): use it as written.
    Literal(String),
    /// A role ARN without an IAM path, as aws-auth writes it: the role's real ARN (which may
    /// have a path) must be looked up in IAM, in the role's own account, at deploy time.
    PathlessRole {
        /// The role name.
        name: String,
        /// The role's account.
        account: String,
        /// The ARN's partition.
        partition: String,
        /// The path-less ARN as the plan has it.
        arn: String,
    },
}

impl PrincipalRef {
    /// Classifies a principal ARN from the plan; `resolved` says the plan's ARNs are complete.
    pub(super) fn from_arn(arn: &str, resolved: bool) -> Self {
        if resolved {
            return PrincipalRef::Literal(arn.to_owned());
        }
        let Ok(parsed) = arn.parse::<Arn>() else {
            return PrincipalRef::Literal(arn.to_owned());
        };
        match parsed.principal() {
            Principal::Role { path: "", name } => PrincipalRef::PathlessRole {
                name: name.to_owned(),
                account: parsed.account().to_owned(),
                partition: parsed.partition().to_owned(),
                arn: arn.to_owned(),
            },
            _ => PrincipalRef::Literal(arn.to_owned()),
        }
    }
}

/// True for IAM Identity Center roles, which always live under an `aws-reserved/` path.
pub(super) fn is_sso_role(name: &str) -> bool {
    name.starts_with("AWSReservedSSO_")
}

/// A `create` entry with everything a renderer needs.
#[derive(Debug)]
pub(super) struct Rendered<'a> {
    /// The plan's entry.
    pub(super) entry: &'a PlannedEntry,
    /// Its type.
    pub(super) entry_type: EntryType,
    /// How to reference the principal.
    pub(super) principal: PrincipalRef,
}

/// A row that is not rendered, with why.
#[derive(Debug)]
pub(super) struct NotRendered<'a> {
    /// The plan's entry.
    pub(super) entry: &'a PlannedEntry,
    /// Why it is not rendered (the action, or a defect of the plan).
    pub(super) reason: String,
}

/// The plan's entries, split into the ones to render and the ones only listed.
#[derive(Debug)]
pub(super) struct Split<'a> {
    /// `create` entries, in plan order.
    pub(super) rendered: Vec<Rendered<'a>>,
    /// Everything else, in plan order.
    pub(super) not_rendered: Vec<NotRendered<'a>>,
}

/// Splits the plan's entries into those to render (`create`) and those listed as comments.
pub(super) fn split(plan: &Plan) -> Split<'_> {
    let mut out = Split {
        rendered: Vec::new(),
        not_rendered: Vec::new(),
    };
    for entry in &plan.entries {
        match to_rendered(entry, plan.principals_resolved) {
            Ok(rendered) => out.rendered.push(rendered),
            Err(reason) => out.not_rendered.push(NotRendered { entry, reason }),
        }
    }
    out
}

fn to_rendered(entry: &PlannedEntry, resolved: bool) -> Result<Rendered<'_>, String> {
    if entry.action != Action::Create {
        return Err(entry.action.as_str().to_owned());
    }
    let principal_arn = entry
        .principal_arn
        .as_deref()
        .ok_or("create without a principal ARN: not rendered (re-plan)")?;
    let entry_type = entry
        .entry_type
        .ok_or("create without an entry type: not rendered (re-plan)")?;
    Ok(Rendered {
        entry,
        entry_type,
        principal: PrincipalRef::from_arn(principal_arn, resolved),
    })
}

/// The account field of an ARN (empty when it does not parse).
pub(super) fn account_of(arn: &str) -> String {
    arn.parse::<Arn>()
        .map(|a| a.account().to_owned())
        .unwrap_or_default()
}

/// The account most of the given principals belong to (the first seen wins a tie; empty
/// accounts are ignored): a plan carries no cluster account, so this stands in for it.
pub(super) fn home_account<'a>(accounts: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (order, account) in accounts.enumerate() {
        if account.is_empty() {
            continue;
        }
        counts.entry(account).or_insert((0, order)).0 += 1;
    }
    counts
        .into_iter()
        .max_by(|(_, (n1, o1)), (_, (n2, o2))| n1.cmp(n2).then(o2.cmp(o1)))
        .map(|(account, _)| account.to_owned())
}

/// The name a principal goes by in labels: the ARN's last path segment.
fn principal_name(arn: Option<&str>) -> &str {
    arn.and_then(|arn| arn.rsplit(['/', ':']).next())
        .unwrap_or("")
}

/// Splits text into ASCII-alphanumeric words.
fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A snake_case label for the entry of a row, e.g. `maproles_3_admin` (a valid HCL identifier):
/// the row's section and index, then the words of its principal's name.
pub(super) fn snake_label(source: &Source, principal_arn: Option<&str>) -> String {
    let mut label = format!(
        "{}_{}",
        source.section.as_str().to_ascii_lowercase(),
        source.index
    );
    for word in words(principal_name(principal_arn.or(source.arn.as_deref()))) {
        label.push('_');
        label.push_str(&word.to_ascii_lowercase());
    }
    label
}

/// A snake_case suffix from free text (e.g. a policy name), empty when it has no alphanumerics.
pub(super) fn snake_words(s: &str) -> String {
    words(s)
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// An alphanumeric PascalCase logical ID for the entry of a row, e.g. `MapRoles3Admin`.
pub(super) fn pascal_label(source: &Source, principal_arn: Option<&str>) -> String {
    let mut label = upper_first(source.section.as_str());
    label.push_str(&source.index.to_string());
    for word in words(principal_name(principal_arn.or(source.arn.as_deref()))) {
        label.push_str(&upper_first(word));
    }
    label
}

fn upper_first(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

/// Hands out labels, making each unique (case-insensitively) with a numeric suffix.
#[derive(Debug, Default)]
pub(super) struct Labels {
    taken: HashSet<String>,
}

impl Labels {
    /// Returns `wanted`, or `wanted` + `sep` + a number when it is taken.
    pub(super) fn unique(&mut self, wanted: String, sep: &str) -> String {
        let mut label = wanted.clone();
        let mut n = 2;
        while !self.taken.insert(label.to_ascii_lowercase()) {
            label = format!("{wanted}{sep}{n}");
            n += 1;
        }
        label
    }

    /// True when `label` has not been handed out (case-insensitively).
    pub(super) fn is_free(&self, label: &str) -> bool {
        !self.taken.contains(&label.to_ascii_lowercase())
    }
}

/// `mapRoles[3] line 12 (arn:…)`: where an entry came from.
pub(super) fn source_text(source: &Source) -> String {
    let mut text = format!("{}[{}]", source.section, source.index);
    if let Some(line) = source.line {
        text.push_str(&format!(" line {line}"));
    }
    if let Some(arn) = &source.arn {
        text.push_str(&format!(" ({arn})"));
    }
    one_line(&text)
}

/// The entry's finding codes, comma-separated, or `none`.
pub(super) fn finding_codes(entry: &PlannedEntry) -> String {
    codes(entry.findings.iter().map(|f| f.code.as_str()))
}

/// Finding codes, comma-separated, or `none`.
pub(super) fn codes<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = codes.collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

/// [`codes`] of a list of finding codes.
pub(super) fn code_list(list: &[FindingCode]) -> String {
    codes(list.iter().map(|c| c.as_str()))
}

/// Text safe to put after a line-comment marker: control characters are escaped.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// What the review header says, from a plan or a handoff.
pub(super) struct Review<'a> {
    /// The output's name (`aws-cli script`, `Terraform module`, …).
    pub(super) format: &'a str,
    /// The cluster, when known.
    pub(super) cluster_name: Option<&'a str>,
    /// The plan format version.
    pub(super) plan_format_version: u32,
    /// Whether switching to API mode would remove access.
    pub(super) blocks_api_mode: bool,
    /// The plan's counts.
    pub(super) summary: &'a Summary,
    /// The codes of the cluster-level findings.
    pub(super) cluster_codes: Vec<&'static str>,
    /// One `source: reason [codes]` line per row that is not rendered.
    pub(super) not_rendered: Vec<String>,
}

/// The review header every output starts with, one line per element (without comment markers).
pub(super) fn header_lines(plan: &Plan, format: &str, split: &Split<'_>) -> Vec<String> {
    review_lines(&Review {
        format,
        cluster_name: plan.cluster_name.as_deref(),
        plan_format_version: plan.format_version,
        blocks_api_mode: plan.blocks_api_mode,
        summary: &plan.summary,
        cluster_codes: plan.findings.iter().map(|f| f.code.as_str()).collect(),
        not_rendered: split
            .not_rendered
            .iter()
            .map(|row| not_rendered_line(&row.entry.source, &row.reason, &finding_codes(row.entry)))
            .collect(),
    })
}

/// `mapRoles[4] line 13 (arn…): blocked [SYSTEM_GROUP]`.
pub(super) fn not_rendered_line(source: &Source, reason: &str, codes: &str) -> String {
    format!("{}: {} [{codes}]", source_text(source), one_line(reason))
}

/// The review header's lines.
pub(super) fn review_lines(review: &Review<'_>) -> Vec<String> {
    let s = review.summary;
    let cluster = review.cluster_name.map_or_else(String::new, |name| {
        format!(" of cluster {}", one_line(name))
    });
    let mut lines = vec![
        format!(
            "eks-auth-migrator {}: EKS access entries for the aws-auth rows{cluster} (plan format v{}).",
            review.format, review.plan_format_version
        ),
        "REVIEW BEFORE APPLYING: this was generated from a plan; check every principal, username, group and policy below before you apply it.".to_owned(),
        format!(
            "blocks_api_mode: {} - {}",
            review.blocks_api_mode,
            if review.blocks_api_mode {
                "switching the cluster to API mode would remove access someone has today; resolve the blocked rows first and stay in API_AND_CONFIG_MAP."
            } else {
                "nothing in the plan blocks API mode once these entries exist and are verified."
            }
        ),
        format!(
            "summary: {} create, {} skip, {} blocked; {} blocker(s), {} warning(s).",
            s.create, s.skip, s.blocked, s.blockers, s.warnings
        ),
    ];
    if !review.cluster_codes.is_empty() {
        lines.push(format!(
            "cluster-level findings: {}",
            codes(review.cluster_codes.iter().copied())
        ));
    }
    if !review.not_rendered.is_empty() {
        lines.push("not rendered (skipped or blocked rows):".to_owned());
        lines.extend(review.not_rendered.iter().map(|line| format!("  {line}")));
    }
    lines
}

/// Prefixes each line with `# ` (bash and HCL line comments).
pub(super) fn hash_comments(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| {
            if line.is_empty() {
                "#\n".to_owned()
            } else {
                format!("# {line}\n")
            }
        })
        .collect()
}

/// Test fixtures shared by the renderers' tests.
#[cfg(test)]
pub(super) mod fixtures {
    use crate::access_entry::{AccessPolicy, AccessScope, ScopeType};
    use crate::plan::Plan;

    /// An aws-auth ConfigMap with a node role, an admin with `{{SessionName}}`, an SSO role, a
    /// role written with a path (dead), a blocked row, a user with a path and mapAccounts.
    pub(in crate::render) const CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/nodes
      username: system:node:{{EC2PrivateDNSName}}
      groups: [system:bootstrappers, system:nodes]
    - rolearn: arn:aws:iam::111122223333:role/admin
      username: "admin:{{SessionName}}"
      groups: [system:masters, platform]
    - rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_0123abcd
      username: "dev:{{SessionName}}"
      groups: [developers]
    - rolearn: arn:aws:iam::111122223333:role/team/pathed
      username: pathed
      groups: [pathed]
    - rolearn: arn:aws:iam::111122223333:role/weird
      username: weird
      groups: [system:monitoring]
  mapUsers: |
    - userarn: arn:aws:iam::111122223333:user/dev/bob
      username: bob
      groups: [viewers]
  mapAccounts: |
    - "444455556666"
"#;

    /// An extra mapRoles row for a role in another account.
    pub(in crate::render) const CROSS_ACCOUNT_ROW: &str = "    - rolearn: arn:aws:iam::444455556666:role/ci\n      username: ci\n      groups: [ci]\n";

    /// Plans a ConfigMap offline with the default policy.
    pub(in crate::render) fn plan_of(configmap: &str) -> Plan {
        let auth = crate::aws_auth::AwsAuth::parse_configmap(configmap).expect("configmap");
        crate::plan(&auth, None, &crate::policy::MigrationPolicy::default())
    }

    /// [`CONFIGMAP`] planned offline, with a namespace-scoped view policy added to bob.
    pub(in crate::render) fn sample_plan() -> Plan {
        let mut plan = plan_of(CONFIGMAP);
        let bob = plan
            .entries
            .iter_mut()
            .find(|e| e.username.as_deref() == Some("bob"))
            .expect("bob");
        bob.access_policies.push(AccessPolicy {
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".to_owned(),
            access_scope: AccessScope {
                scope_type: ScopeType::Namespace,
                namespaces: vec!["team-a".to_owned(), "team-b-*".to_owned()],
            },
        });
        plan
    }

    /// [`CONFIGMAP`] plus [`CROSS_ACCOUNT_ROW`], planned offline.
    pub(in crate::render) fn cross_account_plan() -> Plan {
        let configmap = CONFIGMAP.replace(
            "  mapUsers: |",
            &format!("{CROSS_ACCOUNT_ROW}  mapUsers: |"),
        );
        plan_of(&configmap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_auth::Section;
    use crate::plan::Source;

    fn entry(section: Section, index: usize, arn: &str) -> PlannedEntry {
        PlannedEntry {
            source: Source {
                section,
                index,
                line: Some(3),
                arn: Some(arn.to_owned()),
            },
            principal_arn: Some(arn.to_owned()),
            action: Action::Create,
            entry_type: Some(EntryType::Standard),
            username: None,
            kubernetes_groups: Vec::new(),
            access_policies: Vec::new(),
            findings: Vec::new(),
        }
    }

    #[test]
    fn classifies_principal_references() {
        assert!(matches!(
            PrincipalRef::from_arn("arn:aws:iam::111122223333:role/admin", false),
            PrincipalRef::PathlessRole { ref name, ref account, .. } if name == "admin" && account == "111122223333"
        ));
        for literal in [
            "arn:aws:iam::111122223333:role/team/admin",
            "arn:aws:iam::111122223333:user/bob",
            "not-an-arn",
        ] {
            assert_eq!(
                PrincipalRef::from_arn(literal, false),
                PrincipalRef::Literal(literal.to_owned())
            );
        }
        // A plan resolved through facts has complete ARNs: nothing is looked up again.
        assert_eq!(
            PrincipalRef::from_arn("arn:aws:iam::111122223333:role/admin", true),
            PrincipalRef::Literal("arn:aws:iam::111122223333:role/admin".to_owned())
        );
    }

    #[test]
    fn labels_are_identifiers_and_unique() {
        let e = entry(
            Section::MapRoles,
            3,
            "arn:aws:iam::111122223333:role/Admin.Role-x",
        );
        let arn = e.principal_arn.as_deref();
        assert_eq!(snake_label(&e.source, arn), "maproles_3_admin_role_x");
        assert_eq!(pascal_label(&e.source, arn), "MapRoles3AdminRoleX");
        // Without a principal, the row's ARN names it.
        assert_eq!(snake_label(&e.source, None), "maproles_3_admin_role_x");
        let mut labels = Labels::default();
        assert_eq!(labels.unique("a".into(), "_"), "a");
        assert_eq!(labels.unique("A".into(), "_"), "A_2");
        assert_eq!(labels.unique("a".into(), "_"), "a_3");
    }

    #[test]
    fn home_account_is_the_majority() {
        let accounts = ["444455556666", "111122223333", "", "111122223333"];
        assert_eq!(
            home_account(accounts.iter().copied()).as_deref(),
            Some("111122223333")
        );
        // A tie goes to the first seen; empty accounts do not count.
        assert_eq!(
            home_account(accounts[..3].iter().copied()).as_deref(),
            Some("444455556666")
        );
        assert_eq!(home_account(std::iter::empty()), None);
        assert_eq!(
            account_of("arn:aws:iam::111122223333:user/z"),
            "111122223333"
        );
        assert_eq!(account_of("not-an-arn"), "");
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
    }
}
