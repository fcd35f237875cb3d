//! The terraform-aws-modules/eks module's inputs (v20.0.1+ and v21): the `access_entries` map
//! and `authentication_mode` as locals for the team's module block, `import` blocks addressed to
//! the module's own resources — `aws_eks_access_entry.this["KEY"]` and
//! `aws_eks_access_policy_association.this["KEY_POLICYKEY"]` (the module's `for_each` keys, in
//! its `main.tf`; tests/data/owner-formats keeps them with their source) — and `aws_iam_role`
//! data sources for path-less role ARNs.

use super::common::{self, Labels, MANAGED_TAG, PrincipalRef};
use super::handoff::{Handoff, HandoffEntry, HandoffPolicy};
use super::handoff_text;
use super::hcl_text::{
    aligned, entry_attributes, import_block, is_identifier, scope_attributes, string,
};
use super::owner_format::EksModule;

/// The locals the team's module block reads.
const ENTRIES_LOCAL: &str = "eks_auth_migrator_access_entries";
const MODE_LOCAL: &str = "eks_auth_migrator_authentication_mode";

/// The key the module gives its own cluster-creator entry (`enable_cluster_creator_admin_permissions`).
const MODULE_KEY: &str = "cluster_creator";

/// What stands for the cluster's name in import identifiers when the handoff does not know it.
const CLUSTER_PLACEHOLDER: &str = "CLUSTER_NAME";

/// One declared entry with its keys in the module's maps.
struct Keyed<'a> {
    entry: &'a HandoffEntry,
    key: String,
    policy_keys: Vec<String>,
    principal: PrincipalRef,
}

pub(super) fn render(handoff: &Handoff, module: &EksModule) -> String {
    let keyed = keyed(handoff);
    let home = handoff_text::home_account(handoff);
    let mut header = handoff_text::review(handoff, "terraform-aws-eks inputs");
    header.push(String::new());
    header.extend(usage_lines(handoff, module));
    header.push(String::new());
    header.extend(handoff_text::mode_lines(handoff, "authentication_mode"));
    header.extend(alias_lines(&keyed, home.as_deref()));
    let mut out = common::hash_comments(&header);
    out.push_str(&locals_block(handoff, &keyed));
    for k in &keyed {
        out.push_str(&data_source(k, home.as_deref()));
    }
    for k in &keyed {
        out.push_str(&imports(handoff, module, k));
    }
    out
}

/// How the team's module block uses the locals.
fn usage_lines(handoff: &Handoff, module: &EksModule) -> Vec<String> {
    let version = module.version;
    let cluster = handoff.cluster.name.as_deref().unwrap_or("…");
    let mut lines = vec![
        format!(
            "For terraform-aws-modules/eks/aws v{} instantiated as {} in the root module: put this file next to the module block and set, in it:",
            version.major(),
            module.address
        ),
        String::new(),
        "  module \"…\" {".to_owned(),
        "    source  = \"terraform-aws-modules/eks/aws\"".to_owned(),
        format!("    version = \"~> {}.0\"", version.major()),
        format!(
            "    {} = \"{}\"",
            version.cluster_name_input(),
            common::one_line(cluster)
        ),
        format!("    authentication_mode = local.{MODE_LOCAL}"),
        format!(
            "    access_entries      = merge(local.{ENTRIES_LOCAL}, {{ /* the entries you declare yourself */ }})"
        ),
        "  }".to_owned(),
        String::new(),
        "Each entry's key names its resources (aws_eks_access_entry.this[\"KEY\"] and aws_eks_access_policy_association.this[\"KEY_POLICYKEY\"]): renaming a key means renaming it in its import blocks too. A principal your map declares already under another key: keep yours, drop this one (a principal has one entry).".to_owned(),
        "The module adds its `tags` input to every entry: the first apply tags the imported entries with them (an in-place update).".to_owned(),
    ];
    if handoff.imports_anything() {
        lines.push("Import blocks (Terraform 1.5+, root module only) adopt what exists already, so the first apply creates nothing twice.".to_owned());
    }
    if handoff.cluster.name.is_none() && handoff.imports_anything() {
        lines.push(format!(
            "The plan did not name the cluster: replace {CLUSTER_PLACEHOLDER} in the import identifiers with its name."
        ));
    }
    lines
}

/// The provider aliases the data sources of other accounts' roles need.
fn alias_lines(keyed: &[Keyed<'_>], home: Option<&str>) -> Vec<String> {
    let mut accounts: Vec<&str> = keyed
        .iter()
        .filter_map(|k| match &k.principal {
            PrincipalRef::PathlessRole { account, .. } if Some(account.as_str()) != home => {
                Some(account.as_str())
            }
            _ => None,
        })
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts
        .into_iter()
        .map(|account| {
            format!(
                "Roles of account {account} are looked up through a provider aws.acct_{account}: declare provider \"aws\" {{ alias = \"acct_{account}\" … }} with credentials for that account."
            )
        })
        .collect()
}

/// Every entry's key and its policies' keys: entry keys unique among entries (and never the
/// module's own `cluster_creator`), association keys `KEY_POLICYKEY` unique among associations.
fn keyed(handoff: &Handoff) -> Vec<Keyed<'_>> {
    let mut entry_keys = Labels::default();
    entry_keys.unique(MODULE_KEY.to_owned(), "_");
    let mut association_keys = Labels::default();
    handoff
        .entries
        .iter()
        .map(|entry| {
            let key = entry_keys.unique(entry_key(entry), "_");
            let mut own = Labels::default();
            let policy_keys = entry
                .policies
                .iter()
                .map(|p| {
                    let mut wanted = own.unique(policy_key(p), "_");
                    while !association_keys.is_free(&format!("{key}_{wanted}")) {
                        wanted = own.unique(policy_key(p), "_");
                    }
                    association_keys.unique(format!("{key}_{wanted}"), "_");
                    wanted
                })
                .collect();
            Keyed {
                entry,
                key,
                policy_keys,
                principal: match &entry.existing {
                    Some(existing) => PrincipalRef::Literal(existing.principal_arn.clone()),
                    None => {
                        PrincipalRef::from_arn(&entry.principal_arn, handoff.principals_resolved)
                    }
                },
            }
        })
        .collect()
}

/// An entry's key: its principal's name in snake_case (`platform_admin`).
fn entry_key(entry: &HandoffEntry) -> String {
    let name = entry.principal_arn.rsplit(['/', ':']).next().unwrap_or("");
    let key = common::snake_words(name);
    if is_identifier(&key) {
        key
    } else {
        format!("principal_{key}")
    }
}

/// A policy's key: its name without `AmazonEKS` and `Policy`, in snake_case (`cluster_admin`).
fn policy_key(policy: &HandoffPolicy) -> String {
    let name = policy.policy.name();
    let core = name
        .strip_prefix("AmazonEKS")
        .unwrap_or(name)
        .strip_suffix("Policy")
        .unwrap_or(name);
    let mut key = String::new();
    let mut previous_lower = false;
    for c in core.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                key.push('_');
            }
            key.push(c.to_ascii_lowercase());
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
            previous_lower = false;
        }
    }
    let key = key.trim_end_matches('_').to_owned();
    if is_identifier(&key) {
        key
    } else {
        format!("policy_{key}")
    }
}

/// `locals { authentication_mode, access_entries = { KEY = { … } } }`.
fn locals_block(handoff: &Handoff, keyed: &[Keyed<'_>]) -> String {
    let mut out = format!(
        "\nlocals {{\n  {MODE_LOCAL} = {}\n\n  {ENTRIES_LOCAL} = {{\n",
        string(handoff.authentication_mode().as_str())
    );
    for k in keyed {
        out.push_str(&entry_object(k));
    }
    out.push_str("  }\n}\n");
    out
}

/// One entry of the `access_entries` map, with its comment.
fn entry_object(k: &Keyed<'_>) -> String {
    let entry = k.entry;
    let comment: String = handoff_text::entry_comment(entry)
        .iter()
        .map(|line| format!("    # {line}\n"))
        .collect();
    let principal = match &k.principal {
        PrincipalRef::Literal(arn) => string(arn),
        PrincipalRef::PathlessRole { .. } => format!("data.aws_iam_role.{}.arn", data_label(k)),
    };
    let mut attributes = vec![("principal_arn", principal)];
    attributes.extend(entry_attributes(entry));
    if handoff_text::tagged(entry) {
        let (key, value) = MANAGED_TAG;
        attributes.push(("tags", format!("{{ {} = {} }}", string(key), string(value))));
    }
    let mut policies = String::new();
    for (policy, key) in entry.policies.iter().zip(&k.policy_keys) {
        policies.push_str(&policy_object(key, policy));
    }
    attributes.push((
        "policy_associations",
        if policies.is_empty() {
            "{}".to_owned()
        } else {
            format!("{{\n{policies}      }}")
        },
    ));
    format!(
        "{comment}    {} = {{\n{}    }}\n",
        k.key,
        aligned(&attributes, 3)
    )
}

/// One entry of `policy_associations`.
fn policy_object(key: &str, policy: &HandoffPolicy) -> String {
    let scope = &policy.policy.access_scope;
    let scope_attributes = scope_attributes(scope);
    let attributes = [
        ("policy_arn", string(&policy.policy.policy_arn)),
        (
            "access_scope",
            format!("{{\n{}          }}", aligned(&scope_attributes, 6)),
        ),
    ];
    format!(
        "        {key} = {{\n{}        }}\n",
        aligned(&attributes, 5)
    )
}

/// The data source's label for an entry's path-less role.
fn data_label(k: &Keyed<'_>) -> String {
    format!("eks_auth_migrator_{}", k.key)
}

/// `data "aws_iam_role"` for a path-less role (with its account's provider alias when it is not
/// the home account's).
fn data_source(k: &Keyed<'_>, home: Option<&str>) -> String {
    let PrincipalRef::PathlessRole { name, account, .. } = &k.principal else {
        return String::new();
    };
    let mut attributes = Vec::new();
    if Some(account.as_str()) != home {
        attributes.push((
            "provider",
            format!("aws.acct_{}", common::snake_words(account)),
        ));
    }
    attributes.push(("name", string(name)));
    format!(
        "\ndata \"aws_iam_role\" \"{}\" {{\n{}}}\n",
        data_label(k),
        aligned(&attributes, 1)
    )
}

/// The import blocks of an entry that exists and of its associations that exist.
fn imports(handoff: &Handoff, module: &EksModule, k: &Keyed<'_>) -> String {
    let Some(existing) = &k.entry.existing else {
        return String::new();
    };
    let cluster = handoff
        .cluster
        .name
        .as_deref()
        .unwrap_or(CLUSTER_PLACEHOLDER);
    let mut out = import_block(
        &format!(
            "{}.aws_eks_access_entry.this[{}]",
            module.address,
            string(&k.key)
        ),
        &string(&format!("{cluster}:{}", existing.principal_arn)),
    );
    for (policy, key) in k.entry.policies.iter().zip(&k.policy_keys) {
        if policy.exists {
            out.push_str(&import_block(
                &format!(
                    "{}.aws_eks_access_policy_association.this[{}]",
                    module.address,
                    string(&format!("{}_{key}", k.key))
                ),
                &string(&format!(
                    "{cluster}#{}#{}",
                    existing.principal_arn, policy.policy.policy_arn
                )),
            ));
        }
    }
    out
}
