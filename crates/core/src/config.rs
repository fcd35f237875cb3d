//! The configuration document of the Lambda functions (the SSM parameter named by
//! `CONFIG_PARAMETER`), exactly as docs/configuration.md describes it: parsing with validation
//! that names the offending field, account scope, and which mode a cluster gets.

use crate::arn::{Arn, Principal, is_account_id};
use crate::mode_tag::{self, TagVerdict};
use crate::owner::acceptance::OwnerSettings;
use crate::policy::MigrationPolicy;
use crate::reach::NetworkConfig;
use crate::state::Mode;
use crate::value_kind::kind_of;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Format version of the configuration document this build understands.
pub const CONFIG_FORMAT_VERSION: u32 = 1;

/// Default of `soak_hours` (one week).
pub const DEFAULT_SOAK_HOURS: u64 = 168;

/// The cluster tag whose value (`audit`, `migrate`, `finalize`, `skip`) sets a cluster's mode.
pub const MODE_TAG: &str = "eks-auth-migrator/mode";

/// Why a configuration document is unusable. The whole document is then rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON, or not a JSON object.
    #[error("configuration document is not a JSON object: {0}")]
    Syntax(String),
    /// One field is wrong; `path` is like `accounts.include[2]`.
    #[error("configuration field `{path}`: {message}")]
    Field {
        /// Where in the document (`regions[0]`, `account_overrides.111122223333.mode`).
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ConfigError {
    fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Field {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Which accounts are scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountScope {
    /// Accounts scanned; `None` = every `ACTIVE` account of the organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Accounts never scanned. Exclusion wins.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// The mode of the accounts directly in one organisational unit (or the root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OuMode {
    /// `ou-xxxx-yyyyyyyy` (or a root, `r-xxxx`).
    pub id: String,
    /// The mode.
    pub mode: Mode,
}

/// One account's override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// The mode of that account's clusters.
    pub mode: Mode,
}

/// Where a cluster tag may raise the mode above what the configuration gives (`tags_may_raise`).
/// Empty (the default): nowhere, a tag only lowers the mode ([`crate::mode_tag`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRaise {
    /// Accounts whose clusters' tags may raise the mode.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// OUs (or roots) whose accounts, at any depth below them, have clusters whose tags may raise
    /// the mode.
    #[serde(default)]
    pub organizational_units: Vec<String>,
}

impl TagRaise {
    /// Whether it names nothing (tags only lower the mode anywhere).
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.organizational_units.is_empty()
    }

    /// Whether tags may raise the mode of `account`'s clusters; `account_ous` are the OUs above
    /// it (any order).
    pub fn allows(&self, account: &str, account_ous: &[String]) -> bool {
        self.accounts.iter().any(|a| a == account)
            || account_ous
                .iter()
                .any(|ou| self.organizational_units.contains(ou))
    }
}

/// The configuration document. Build it with [`Config::parse`] (or
/// [`Config::parse_with_default_mode`]); the serde derives do not validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// [`CONFIG_FORMAT_VERSION`].
    pub version: u32,
    /// Mode of every cluster nothing more specific names (absent: `DEFAULT_MODE`).
    pub default_mode: Mode,
    /// Regions scanned in every account; `None` = the `REGIONS` environment variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
    /// Accounts scanned.
    #[serde(default)]
    pub accounts: AccountScope,
    /// Modes of the accounts directly in an OU.
    #[serde(default)]
    pub organizational_units: Vec<OuMode>,
    /// Modes of single accounts.
    #[serde(default)]
    pub account_overrides: BTreeMap<String, Override>,
    /// Replaces `default_mode` for new clusters; `None` = `default_mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_cluster_mode: Option<Mode>,
    /// How long a `finalize` cluster stays `VERIFIED` before the switch to `API`.
    #[serde(default = "default_soak_hours")]
    pub soak_hours: u64,
    /// Principal that keeps cluster-admin access after the switch to `API`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass_principal: Option<String>,
    /// The migration policy (the CLI's `--policy` document).
    #[serde(default)]
    pub policy: MigrationPolicy,
    /// How the worker reaches the clusters' Kubernetes APIs: its egress addresses, the cluster
    /// VPCs its hub VPC reaches, the in-VPC agents (docs/networking.md).
    #[serde(default)]
    pub network: NetworkConfig,
    /// Where a cluster's mode tag may raise its mode (default: nowhere).
    #[serde(default, skip_serializing_if = "TagRaise::is_empty")]
    pub tags_may_raise: TagRaise,
    /// Owner detection: cluster tags that name an owner, and the owners a platform team has
    /// dealt with per cluster, which lift the finalize blocker (docs/owners.md).
    #[serde(default)]
    pub owners: OwnerSettings,
}

fn default_soak_hours() -> u64 {
    DEFAULT_SOAK_HOURS
}

impl Default for Config {
    /// What the template's default document `{"version":1,"default_mode":"audit"}` means.
    fn default() -> Self {
        Config {
            version: CONFIG_FORMAT_VERSION,
            default_mode: Mode::Audit,
            regions: None,
            accounts: AccountScope::default(),
            organizational_units: Vec::new(),
            account_overrides: BTreeMap::new(),
            new_cluster_mode: None,
            soak_hours: DEFAULT_SOAK_HOURS,
            break_glass_principal: None,
            policy: MigrationPolicy::default(),
            network: NetworkConfig::default(),
            tags_may_raise: TagRaise::default(),
            owners: OwnerSettings::default(),
        }
    }
}

/// Which setting decided a cluster's mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum ModeSource {
    /// `default_mode` (or `DEFAULT_MODE`).
    Default,
    /// `new_cluster_mode`, for a new cluster.
    NewCluster,
    /// The `organizational_units` entry of this OU id.
    OrganizationalUnit(String),
    /// The account's `account_overrides` entry.
    Account,
    /// The cluster's [`MODE_TAG`] tag (also when its value was invalid and made the cluster
    /// `audit`; see [`Config::mode_for`]). A tag asking for more than the configuration allows
    /// leaves the configured level's source ([`crate::mode_tag`]).
    ClusterTag,
}

/// A resolved mode, why, and anything the owners should hear about (recorded as findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// The mode the cluster gets.
    pub mode: Mode,
    /// The setting that decided it.
    pub source: ModeSource,
    /// Problems found on the way (an invalid tag value, a tag refused for asking more than the
    /// configuration allows), one sentence each.
    pub warnings: Vec<String>,
}

const TOP_FIELDS: &[&str] = &[
    "version",
    "default_mode",
    "regions",
    "accounts",
    "organizational_units",
    "account_overrides",
    "new_cluster_mode",
    "soak_hours",
    "break_glass_principal",
    "policy",
    "network",
    "tags_may_raise",
    "owners",
];

impl Config {
    /// Parses and validates the document; an absent `default_mode` means `audit` (the
    /// `DEFAULT_MODE` stack parameter's default). Handlers should prefer
    /// [`Config::parse_with_default_mode`] with their `DEFAULT_MODE`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first offending field.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_with_default_mode(text, Mode::Audit)
    }

    /// Parses and validates the document; `fallback_mode` (the `DEFAULT_MODE` environment
    /// variable) is the default mode when the document has no `default_mode`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first offending field: unknown fields, another `version`, a
    /// mode outside the four, an account ID that is not 12 digits, an OU ID not shaped
    /// `ou-…`/`r-…`, a region that does not look like one, an account both included and
    /// excluded, a negative `soak_hours`, a `break_glass_principal` that is not an IAM role or
    /// user ARN, or an invalid `policy`.
    pub fn parse_with_default_mode(text: &str, fallback_mode: Mode) -> Result<Config, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        let Value::Object(obj) = value else {
            return Err(ConfigError::Syntax(format!(
                "found {}; expected an object like {{\"version\":1,\"default_mode\":\"audit\"}}",
                kind_of(&value)
            )));
        };
        check_fields(&obj, "", TOP_FIELDS)?;
        check_version(&obj)?;
        let default_mode = get_mode(&obj, "default_mode", "default_mode")?.unwrap_or(fallback_mode);
        let new_cluster_mode = get_mode(&obj, "new_cluster_mode", "new_cluster_mode")?;
        let regions = parse_regions(&obj)?;
        let accounts = parse_accounts(&obj)?;
        let organizational_units = parse_ous(&obj)?;
        let account_overrides = parse_overrides(&obj)?;
        let soak_hours = parse_soak_hours(&obj)?;
        let break_glass_principal: Option<String> =
            get(&obj, "break_glass_principal", "break_glass_principal")?;
        if let Some(principal) = &break_glass_principal {
            check_break_glass(principal)?;
        }
        Ok(Config {
            version: CONFIG_FORMAT_VERSION,
            default_mode,
            regions,
            accounts,
            organizational_units,
            account_overrides,
            new_cluster_mode,
            soak_hours,
            break_glass_principal,
            policy: parse_policy(&obj)?,
            network: parse_network(&obj)?,
            tags_may_raise: parse_tag_raise(&obj)?,
            owners: parse_owners(&obj)?,
        })
    }

    /// The mode of one cluster, from least to most specific: `default_mode` (or
    /// `new_cluster_mode` when `new_cluster`), the nearest listed OU above the account, the
    /// account override, then the cluster's [`MODE_TAG`] tag — which may only lower that mode
    /// (towards `skip`) unless [`Config::tags_may_raise`] names the account or an OU above it
    /// ([`crate::mode_tag`]); a tag asking for more is refused with a warning and the configured
    /// mode stands.
    ///
    /// `account_ous` are the OUs above the account (the root included), nearest first; empty
    /// when unknown. The first of them listed in `organizational_units` wins.
    ///
    /// A tag with another value is never ignored silently: it is reported in
    /// [`Resolved::warnings`] and the cluster gets the lower levels' mode capped at `audit`
    /// (a lower `skip` or `audit` stands, with its source; a lower `migrate`/`finalize` becomes
    /// `audit` with source [`ModeSource::ClusterTag`]) — never a more permissive mode than the
    /// owners may have meant.
    pub fn mode_for(
        &self,
        account: &str,
        account_ous: &[String],
        cluster_tags: &BTreeMap<String, String>,
        new_cluster: bool,
    ) -> Resolved {
        let (mut mode, mut source) = match (new_cluster, self.new_cluster_mode) {
            (true, Some(m)) => (m, ModeSource::NewCluster),
            _ => (self.default_mode, ModeSource::Default),
        };
        if let Some(ou) = account_ous
            .iter()
            .find_map(|id| self.organizational_units.iter().find(|ou| &ou.id == id))
        {
            mode = ou.mode;
            source = ModeSource::OrganizationalUnit(ou.id.clone());
        }
        if let Some(o) = self.account_overrides.get(account) {
            mode = o.mode;
            source = ModeSource::Account;
        }
        let configured = Resolved {
            mode,
            source,
            warnings: Vec::new(),
        };
        match cluster_tags.get(MODE_TAG) {
            None => configured,
            Some(value) => {
                let may_raise = self.tags_may_raise.allows(account, account_ous);
                with_tag(configured, value, may_raise)
            }
        }
    }

    /// Every OU id the document names (`organizational_units` and
    /// `tags_may_raise.organizational_units`): the OUs whose accounts the scan and the worker
    /// must know.
    pub fn listed_ou_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .organizational_units
            .iter()
            .map(|o| o.id.clone())
            .collect();
        for id in &self.tags_may_raise.organizational_units {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids
    }

    /// The regions to scan: the document's `regions` when present, else `env_regions` (the
    /// `REGIONS` environment variable, already split).
    pub fn regions_or(&self, env_regions: &[String]) -> Vec<String> {
        match &self.regions {
            Some(regions) => regions.clone(),
            None => env_regions.to_vec(),
        }
    }
}

/// The configured mode with the cluster's [`MODE_TAG`] value applied: a valid value that
/// [`mode_tag::judge`] accepts replaces it; a refused one leaves it with a warning; an invalid one
/// caps it at `audit` (a `skip` stands) with a warning.
fn with_tag(configured: Resolved, value: &str, may_raise: bool) -> Resolved {
    let Resolved {
        mut mode,
        mut source,
        mut warnings,
    } = configured;
    match value.parse::<Mode>() {
        Ok(asked) => match mode_tag::judge(mode, asked, may_raise) {
            TagVerdict::Applies => {
                mode = asked;
                source = ModeSource::ClusterTag;
            }
            TagVerdict::Refused { configured, asked } => {
                warnings.push(mode_tag::refusal(MODE_TAG, configured, asked));
            }
        },
        Err(_) => {
            warnings.push(format!(
                "tag {MODE_TAG} has value `{value}`, which is not a mode (audit, migrate, \
                 finalize or skip); the cluster is treated as {} until the tag is fixed",
                if matches!(mode, Mode::Skip) {
                    "skip"
                } else {
                    "audit"
                }
            ));
            if matches!(mode, Mode::Migrate | Mode::Finalize) {
                mode = Mode::Audit;
                source = ModeSource::ClusterTag;
            }
        }
    }
    Resolved {
        mode,
        source,
        warnings,
    }
}

/// Whether a cluster created at `created_at` is a new cluster, whose mode starts from
/// `new_cluster_mode`: created at or after `watching_since`, when the migrator first recorded
/// anything about the fleet. A cluster whose creation time is unknown is not new.
pub fn is_new_cluster(created_at: Option<SystemTime>, watching_since: SystemTime) -> bool {
    created_at.is_some_and(|created| created >= watching_since)
}

/// True for names shaped like AWS regions: `us-east-1`, `eu-central-2`, `us-gov-west-1`,
/// `cn-north-1`, `us-isob-east-1` (two letters, one or more lower-case words, a number).
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 3 || s.len() > 32 {
        return false;
    }
    let (first, rest) = (parts[0], &parts[1..]);
    let Some((last, words)) = rest.split_last() else {
        return false;
    };
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// True for an organisational unit id (`ou-` 4–32 lower-case letters/digits `-` 8–32) or a
/// root id (`r-` 4–32), as Organizations writes them.
pub fn is_ou_id(s: &str) -> bool {
    fn word(w: &str, min: usize) -> bool {
        (min..=32).contains(&w.len())
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }
    if let Some(rest) = s.strip_prefix("ou-") {
        return rest
            .split_once('-')
            .is_some_and(|(root, ou)| word(root, 4) && word(ou, 8));
    }
    s.strip_prefix("r-").is_some_and(|root| word(root, 4))
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn check_fields(obj: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), ConfigError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ConfigError::field(
            join(prefix, k),
            format!(
                "is not a known field; remove it (known here: {})",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// Deserializes an optional field; `null` counts as absent.
fn get<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<T>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| ConfigError::field(path, format!("{e} (found {})", kind_of(v)))),
    }
}

/// `version`: required, and the one this build understands.
fn check_version(obj: &Map<String, Value>) -> Result<(), ConfigError> {
    let version: u64 = get(obj, "version", "version")?
        .ok_or_else(|| ConfigError::field("version", "is required; add \"version\": 1"))?;
    if version != u64::from(CONFIG_FORMAT_VERSION) {
        return Err(ConfigError::field(
            "version",
            format!("is {version}; this build understands version {CONFIG_FORMAT_VERSION} only"),
        ));
    }
    Ok(())
}

/// `regions`: absent, or a non-empty list of region names without repeats.
fn parse_regions(obj: &Map<String, Value>) -> Result<Option<Vec<String>>, ConfigError> {
    let regions: Option<Vec<String>> = get(obj, "regions", "regions")?;
    if let Some(regions) = &regions {
        if regions.is_empty() {
            return Err(ConfigError::field(
                "regions",
                "is empty; list at least one region, or remove the field to use REGIONS",
            ));
        }
        for (i, region) in regions.iter().enumerate() {
            if !is_region_name(region) {
                return Err(ConfigError::field(
                    format!("regions[{i}]"),
                    format!("`{region}` is not a region name (like us-east-1)"),
                ));
            }
            if regions[..i].contains(region) {
                return Err(ConfigError::field(
                    format!("regions[{i}]"),
                    format!("`{region}` is listed twice; remove one"),
                ));
            }
        }
    }
    Ok(regions)
}

/// `soak_hours`: a whole number of hours, [`DEFAULT_SOAK_HOURS`] when absent.
fn parse_soak_hours(obj: &Map<String, Value>) -> Result<u64, ConfigError> {
    match obj.get("soak_hours") {
        None | Some(Value::Null) => Ok(DEFAULT_SOAK_HOURS),
        Some(v) => v.as_u64().ok_or_else(|| {
            ConfigError::field(
                "soak_hours",
                format!("is {v}; it must be a whole number of hours ≥ 0 (default 168)"),
            )
        }),
    }
}

/// A section decoded as `T` (`None` when absent or null); a decoding error names the section
/// and where its fields are documented (`see`).
fn section<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    key: &str,
    see: &str,
) -> Result<Option<T>, ConfigError> {
    let Some(v) = obj.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    serde_json::from_value(v.clone())
        .map(Some)
        .map_err(|e| ConfigError::field(key, format!("{e}; {see}")))
}

/// `policy`: the migration policy (docs/policy-file.md), valid and naming known policies; the
/// default policy when absent.
fn parse_policy(obj: &Map<String, Value>) -> Result<MigrationPolicy, ConfigError> {
    let Some(policy) = section::<MigrationPolicy>(
        obj,
        "policy",
        "see docs/policy-file.md for the document's fields",
    )?
    else {
        return Ok(MigrationPolicy::default());
    };
    policy
        .validate()
        .and_then(|()| policy.check_policy_names(&crate::access_policies::Catalogue::bundled()))
        .map_err(|e| ConfigError::field("policy", e.to_string()))?;
    Ok(policy)
}

/// `network`: the network section (docs/configuration.md), validated field by field; the
/// default when absent.
fn parse_network(obj: &Map<String, Value>) -> Result<NetworkConfig, ConfigError> {
    let Some(network) = section::<NetworkConfig>(
        obj,
        "network",
        "see docs/configuration.md for the section's fields",
    )?
    else {
        return Ok(NetworkConfig::default());
    };
    network
        .validate()
        .map_err(|(path, message)| ConfigError::field(path, message))?;
    Ok(network)
}

fn parse_owners(obj: &Map<String, Value>) -> Result<OwnerSettings, ConfigError> {
    let Some(owners) = section::<OwnerSettings>(
        obj,
        "owners",
        "see docs/configuration.md for the section's fields",
    )?
    else {
        return Ok(OwnerSettings::default());
    };
    owners
        .validate()
        .map_err(|(path, message)| ConfigError::field(path, message))?;
    Ok(owners)
}

fn mode_of(v: &Value, path: &str) -> Result<Mode, ConfigError> {
    v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
        ConfigError::field(
            path,
            format!("is {v}; a mode is one of \"audit\", \"migrate\", \"finalize\", \"skip\""),
        )
    })
}

fn get_mode(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<Mode>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => mode_of(v, path).map(Some),
    }
}

fn object<'a>(
    v: &'a Value,
    path: &str,
    example: &str,
) -> Result<&'a Map<String, Value>, ConfigError> {
    v.as_object().ok_or_else(|| {
        ConfigError::field(
            path,
            format!("is {}; expected an object like {example}", kind_of(v)),
        )
    })
}

fn account_list(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<Vec<String>>, ConfigError> {
    let list: Option<Vec<String>> = get(obj, key, path)?;
    if let Some(list) = &list {
        for (i, account) in list.iter().enumerate() {
            if !is_account_id(account) {
                return Err(ConfigError::field(
                    format!("{path}[{i}]"),
                    format!("`{account}` is not an account ID; write the 12 digits as a string"),
                ));
            }
        }
    }
    Ok(list)
}

fn parse_accounts(obj: &Map<String, Value>) -> Result<AccountScope, ConfigError> {
    let Some(v) = obj.get("accounts").filter(|v| !v.is_null()) else {
        return Ok(AccountScope::default());
    };
    let accounts = object(
        v,
        "accounts",
        "{\"include\": [\"111122223333\"], \"exclude\": []}",
    )?;
    check_fields(accounts, "accounts", &["include", "exclude"])?;
    let include = account_list(accounts, "include", "accounts.include")?;
    let exclude = account_list(accounts, "exclude", "accounts.exclude")?.unwrap_or_default();
    if let Some((i, account)) = exclude
        .iter()
        .enumerate()
        .find(|(_, a)| include.as_ref().is_some_and(|inc| inc.contains(a)))
    {
        return Err(ConfigError::field(
            format!("accounts.exclude[{i}]"),
            format!("`{account}` is also in accounts.include; remove it from one of the two lists"),
        ));
    }
    Ok(AccountScope { include, exclude })
}

fn parse_ous(obj: &Map<String, Value>) -> Result<Vec<OuMode>, ConfigError> {
    let Some(v) = obj.get("organizational_units").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = v.as_array().ok_or_else(|| {
        ConfigError::field(
            "organizational_units",
            format!(
                "is {}; expected a list like [{{\"id\": \"ou-abcd-11111111\", \"mode\": \"migrate\"}}]",
                kind_of(v)
            ),
        )
    })?;
    let mut ous: Vec<OuMode> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let path = format!("organizational_units[{i}]");
        let entry = object(
            item,
            &path,
            "{\"id\": \"ou-abcd-11111111\", \"mode\": \"migrate\"}",
        )?;
        check_fields(entry, &path, &["id", "mode"])?;
        let id: String = get(entry, "id", &format!("{path}.id"))?
            .ok_or_else(|| ConfigError::field(format!("{path}.id"), "is required"))?;
        if !is_ou_id(&id) {
            return Err(ConfigError::field(
                format!("{path}.id"),
                format!(
                    "`{id}` is not an OU ID (like ou-abcd-11111111) or a root ID (like r-abcd)"
                ),
            ));
        }
        if ous.iter().any(|o| o.id == id) {
            return Err(ConfigError::field(
                format!("{path}.id"),
                format!("`{id}` is listed twice; keep one entry"),
            ));
        }
        let mode = get_mode(entry, "mode", &format!("{path}.mode"))?
            .ok_or_else(|| ConfigError::field(format!("{path}.mode"), "is required"))?;
        ous.push(OuMode { id, mode });
    }
    Ok(ous)
}

fn parse_overrides(obj: &Map<String, Value>) -> Result<BTreeMap<String, Override>, ConfigError> {
    let Some(v) = obj.get("account_overrides").filter(|v| !v.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let map = object(
        v,
        "account_overrides",
        "{\"111122223333\": {\"mode\": \"finalize\"}}",
    )?;
    let mut out = BTreeMap::new();
    for (account, item) in map {
        let path = format!("account_overrides.{account}");
        if !is_account_id(account) {
            return Err(ConfigError::field(
                path,
                format!("`{account}` is not an account ID; key each override by the 12 digits"),
            ));
        }
        let entry = object(item, &path, "{\"mode\": \"finalize\"}")?;
        check_fields(entry, &path, &["mode"])?;
        let mode = get_mode(entry, "mode", &format!("{path}.mode"))?
            .ok_or_else(|| ConfigError::field(format!("{path}.mode"), "is required"))?;
        out.insert(account.clone(), Override { mode });
    }
    Ok(out)
}

/// `tags_may_raise`: `{"accounts": [...], "organizational_units": [...]}`, each id valid and
/// listed once; empty when absent.
fn parse_tag_raise(obj: &Map<String, Value>) -> Result<TagRaise, ConfigError> {
    const KEY: &str = "tags_may_raise";
    let Some(v) = obj.get(KEY).filter(|v| !v.is_null()) else {
        return Ok(TagRaise::default());
    };
    let section = object(
        v,
        KEY,
        "{\"accounts\": [\"111122223333\"], \"organizational_units\": [\"ou-abcd-11111111\"]}",
    )?;
    check_fields(section, KEY, &["accounts", "organizational_units"])?;
    let accounts =
        account_list(section, "accounts", "tags_may_raise.accounts")?.unwrap_or_default();
    let ous: Vec<String> = get(
        section,
        "organizational_units",
        "tags_may_raise.organizational_units",
    )?
    .unwrap_or_default();
    for (i, id) in ous.iter().enumerate() {
        let path = format!("tags_may_raise.organizational_units[{i}]");
        if !is_ou_id(id) {
            return Err(ConfigError::field(
                path,
                format!(
                    "`{id}` is not an OU ID (like ou-abcd-11111111) or a root ID (like r-abcd)"
                ),
            ));
        }
        if ous[..i].contains(id) {
            return Err(ConfigError::field(path, format!("`{id}` is listed twice")));
        }
    }
    if let Some((i, a)) = accounts
        .iter()
        .enumerate()
        .find(|(i, a)| accounts[..*i].contains(a))
    {
        return Err(ConfigError::field(
            format!("tags_may_raise.accounts[{i}]"),
            format!("`{a}` is listed twice"),
        ));
    }
    Ok(TagRaise {
        accounts,
        organizational_units: ous,
    })
}

fn check_break_glass(principal: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| {
        ConfigError::field(
            "break_glass_principal",
            format!(
                "`{principal}` {why}; use an IAM role or user ARN like \
                 arn:aws:iam::111122223333:role/platform-admin"
            ),
        )
    };
    let arn: Arn = principal
        .parse()
        .map_err(|e: crate::arn::ArnError| bad(&format!("is not a valid ARN ({e})")))?;
    match arn.principal() {
        Principal::Role { .. } | Principal::User { .. } => Ok(()),
        Principal::AssumedRole { .. } => {
            Err(bad("is a role session, which an access entry cannot name"))
        }
        Principal::Root | Principal::Other => Err(bad("is not an IAM role or user")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../infra/config.example.json");

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn ous(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_example_document() {
        let c = Config::parse(EXAMPLE).expect("example is valid");
        assert_eq!(c.version, 1);
        assert_eq!(c.default_mode, Mode::Audit);
        assert_eq!(
            c.regions,
            Some(vec!["us-east-1".into(), "eu-west-1".into()])
        );
        assert_eq!(c.accounts.include, Some(vec!["111122223333".into()]));
        assert!(c.accounts.exclude.is_empty());
        assert_eq!(
            c.organizational_units,
            vec![OuMode {
                id: "ou-abcd-11111111".into(),
                mode: Mode::Migrate
            }]
        );
        assert_eq!(c.account_overrides["111122223333"].mode, Mode::Finalize);
        assert_eq!(c.new_cluster_mode, Some(Mode::Migrate));
        assert_eq!(c.soak_hours, 168);
        assert_eq!(
            c.break_glass_principal.as_deref(),
            Some("arn:aws:iam::111122223333:role/platform-admin")
        );
        assert_eq!(c.policy.group_policies.len(), 1);
        assert_eq!(
            c.policy.group_policies[0].policy_name(),
            "AmazonEKSViewPolicy"
        );
        assert_eq!(c.network.egress_cidrs, ["203.0.113.10/32"]);
        assert_eq!(c.network.hub_vpcs, ["vpc-0aaaabbbbcccc1111"]);
        assert_eq!(c.network.agents.len(), 1);
        assert!(c.network.agents["vpc-0ddddeeeeffff2222"].pin().is_some());
        assert!(!c.network.discover_agents);
        assert_eq!(c.owners.tags.len(), 1);
        assert_eq!(c.owners.accept.len(), 1);
    }

    #[test]
    fn an_invalid_network_section_names_its_field() {
        for (doc, path) in [
            (
                r#"{"version":1,"network":{"egress_cidrs":["nope"]}}"#,
                "network.egress_cidrs[0]",
            ),
            (
                r#"{"version":1,"network":{"agents":{"vpc-1":"other-function"}}}"#,
                "network.agents.vpc-1",
            ),
            (r#"{"version":1,"network":{"hub":true}}"#, "network"),
            (
                r#"{"version":1,"network":{"agents":{"vpc-1":{"function":"eks-auth-migrator-agent-1","code_sha256":"x"}}}}"#,
                "network.agents.vpc-1.code_sha256",
            ),
        ] {
            match Config::parse(doc) {
                Err(ConfigError::Field { path: p, .. }) => assert_eq!(p, path, "{doc}"),
                other => panic!("{doc}: {other:?}"),
            }
        }
        let c =
            Config::parse(r#"{"version":1,"network":{"discover_agents":true}}"#).expect("valid");
        assert!(c.network.discover_agents);
        assert_eq!(c.network.agent_timeout_seconds, 30);
        // Discovery by name is an explicit opt-in.
        let c = Config::parse(r#"{"version":1,"network":{}}"#).expect("valid");
        assert!(!c.network.discover_agents);
        // A pin without its digest: the error names the VPC's entry.
        match Config::parse(
            r#"{"version":1,"network":{"agents":{"vpc-1":{"function":"eks-auth-migrator-agent-1"}}}}"#,
        ) {
            Err(e) => assert!(
                e.to_string().contains("agents.vpc-1") && e.to_string().contains("code_sha256"),
                "{e}"
            ),
            Ok(c) => panic!("accepted: {c:?}"),
        }
    }

    #[test]
    fn the_owners_section_is_validated_and_accepts_per_cluster() {
        for (doc, path) in [
            (
                r#"{"version":1,"owners":{"accept":[{"cluster":"prod","aws_auth":["helm"]}]}}"#,
                "owners.accept[0].cluster",
            ),
            (
                r#"{"version":1,"owners":{"tags":[{"key":""}]}}"#,
                "owners.tags[0].key",
            ),
            (
                r#"{"version":1,"owners":{"accept":[{"cluster":"arn:aws:eks:eu-west-1:111122223333:cluster/prod","aws_auth":["argocd"]}]}}"#,
                "owners",
            ),
            (r#"{"version":1,"owners":{"accepted":[]}}"#, "owners"),
        ] {
            match Config::parse(doc) {
                Err(ConfigError::Field { path: p, .. }) => assert_eq!(p, path, "{doc}"),
                other => panic!("{doc}: {other:?}"),
            }
        }
        let c = Config::parse(
            r#"{"version":1,"owners":{"tags":[{"key":"ManagedBy","value":"terraform"}],"accept":[{"cluster":"arn:aws:eks:eu-west-1:111122223333:cluster/prod","aws_auth":["argo_cd"],"reason":"gitops#42"}]}}"#,
        )
        .expect("valid");
        assert_eq!(c.owners.tags.len(), 1);
        let accepted = c.owners.acceptance_for("111122223333", "eu-west-1", "prod");
        assert!(accepted.accepts_aws_auth(crate::owner::kind::AwsAuthOwnerKind::ArgoCd));
        assert!(
            c.owners
                .acceptance_for("111122223333", "eu-west-1", "dev")
                .is_empty()
        );
    }

    #[test]
    fn template_default_document_means_defaults() {
        let c = Config::parse(r#"{"version":1,"default_mode":"audit"}"#).expect("valid");
        assert_eq!(c, Config::default());
    }

    #[test]
    fn absent_default_mode_takes_the_environment_fallback() {
        let c = Config::parse_with_default_mode(r#"{"version":1}"#, Mode::Migrate).expect("valid");
        assert_eq!(c.default_mode, Mode::Migrate);
        assert_eq!(c.soak_hours, DEFAULT_SOAK_HOURS);
        let c = Config::parse_with_default_mode(
            r#"{"version":1,"default_mode":"skip"}"#,
            Mode::Migrate,
        )
        .expect("valid");
        assert_eq!(c.default_mode, Mode::Skip);
        assert_eq!(
            Config::parse(r#"{"version":1}"#)
                .expect("valid")
                .default_mode,
            Mode::Audit
        );
    }

    #[test]
    fn serde_round_trip_of_a_parsed_document() {
        let c = Config::parse(EXAMPLE).expect("valid");
        let text = serde_json::to_string(&c).expect("serializes");
        assert_eq!(Config::parse(&text).expect("reparses"), c);
    }

    #[test]
    fn rejects_invalid_documents_naming_the_field() {
        for (text, path, needle) in [
            ("not json", "", "not a JSON object"),
            ("[1]", "", "expected an object"),
            (r#"{"default_mode":"audit"}"#, "version", "required"),
            (r#"{"version":2}"#, "version", "understands version 1"),
            (
                r#"{"version":1,"surprise":true}"#,
                "surprise",
                "not a known field",
            ),
            (
                r#"{"version":1,"default_mode":"yolo"}"#,
                "default_mode",
                "a mode is one of",
            ),
            (
                r#"{"version":1,"new_cluster_mode":"Migrate"}"#,
                "new_cluster_mode",
                "a mode is one of",
            ),
            (r#"{"version":1,"regions":[]}"#, "regions", "is empty"),
            (
                r#"{"version":1,"regions":["us-east-1","useast1"]}"#,
                "regions[1]",
                "not a region",
            ),
            (
                r#"{"version":1,"regions":["us-east-1","us-east-1"]}"#,
                "regions[1]",
                "twice",
            ),
            (
                r#"{"version":1,"regions":"us-east-1"}"#,
                "regions",
                "found a string",
            ),
            (
                r#"{"version":1,"accounts":{"include":["1111"]}}"#,
                "accounts.include[0]",
                "12 digits",
            ),
            (
                r#"{"version":1,"accounts":{"exclude":[111122223333]}}"#,
                "accounts.exclude",
                "invalid type",
            ),
            (
                r#"{"version":1,"accounts":{"only":[]}}"#,
                "accounts.only",
                "not a known field",
            ),
            (
                r#"{"version":1,"accounts":{"include":["111122223333"],"exclude":["444455556666","111122223333"]}}"#,
                "accounts.exclude[1]",
                "also in accounts.include",
            ),
            (
                r#"{"version":1,"organizational_units":[{"id":"abcd-11111111","mode":"migrate"}]}"#,
                "organizational_units[0].id",
                "not an OU ID",
            ),
            (
                r#"{"version":1,"organizational_units":[{"id":"ou-abcd-11111111"}]}"#,
                "organizational_units[0].mode",
                "required",
            ),
            (
                r#"{"version":1,"organizational_units":[{"id":"ou-abcd-11111111","mode":"audit"},{"id":"ou-abcd-11111111","mode":"skip"}]}"#,
                "organizational_units[1].id",
                "twice",
            ),
            (
                r#"{"version":1,"organizational_units":[{"id":"ou-abcd-11111111","mode":"audit","extra":1}]}"#,
                "organizational_units[0].extra",
                "not a known field",
            ),
            (
                r#"{"version":1,"account_overrides":{"12345":{"mode":"skip"}}}"#,
                "account_overrides.12345",
                "12 digits",
            ),
            (
                r#"{"version":1,"account_overrides":{"111122223333":{"mode":"nope"}}}"#,
                "account_overrides.111122223333.mode",
                "a mode is one of",
            ),
            (r#"{"version":1,"soak_hours":-1}"#, "soak_hours", "≥ 0"),
            (
                r#"{"version":1,"soak_hours":1.5}"#,
                "soak_hours",
                "whole number",
            ),
            (
                r#"{"version":1,"break_glass_principal":"admin"}"#,
                "break_glass_principal",
                "not a valid ARN",
            ),
            (
                r#"{"version":1,"break_glass_principal":"arn:aws:sts::111122223333:assumed-role/admin/me"}"#,
                "break_glass_principal",
                "role session",
            ),
            (
                r#"{"version":1,"break_glass_principal":"arn:aws:iam::111122223333:group/admins"}"#,
                "break_glass_principal",
                "not an IAM role or user",
            ),
            (
                r#"{"version":1,"policy":{"version":2}}"#,
                "policy",
                "version 2",
            ),
            (
                r#"{"version":1,"policy":{"version":1,"extra":1}}"#,
                "policy",
                "unknown field",
            ),
            (
                r#"{"version":1,"policy":{"version":1,"group_policies":[{"group":"a","policy":"not a name"}]}}"#,
                "policy",
                "access policy name",
            ),
        ] {
            let err = Config::parse(text).expect_err(text);
            let shown = err.to_string();
            match &err {
                ConfigError::Field { path: p, .. } => assert_eq!(p, path, "{text}: {shown}"),
                ConfigError::Syntax(_) => assert_eq!(path, "", "{text}: {shown}"),
            }
            assert!(
                shown.contains(needle),
                "{text}: `{shown}` should mention `{needle}`"
            );
        }
    }

    #[test]
    fn accepts_user_break_glass_root_ou_ids_and_other_partitions() {
        let c = Config::parse(
            r#"{"version":1,"break_glass_principal":"arn:aws-us-gov:iam::111122223333:user/ops/alice",
                "regions":["us-gov-west-1","cn-north-1","ap-southeast-4","us-isob-east-1"],
                "organizational_units":[{"id":"r-ab12","mode":"skip"},{"id":"ou-ab12-cd34ef56","mode":"audit"}],
                "soak_hours":0}"#,
        )
        .expect("valid");
        assert_eq!(c.soak_hours, 0);
        assert_eq!(c.organizational_units.len(), 2);
    }

    #[test]
    fn region_and_ou_shapes() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "il-central-1",
            "us-isob-east-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "useast-1",
            "us--1",
            "us-east-1a",
            "u-east-1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
        for ok in ["ou-abcd-11111111", "r-abcd", "ou-a1b2-c3d4e5f6g7"] {
            assert!(is_ou_id(ok), "{ok}");
        }
        for bad in [
            "ou-abcd",
            "ou-abc-11111111",
            "ou-abcd-1111",
            "r-ab",
            "OU-ABCD-11111111",
            "ou-abcd-11111111-x",
        ] {
            assert!(!is_ou_id(bad), "{bad}");
        }
    }

    #[test]
    fn scope_include_and_exclude() {
        let all = Config::parse(r#"{"version":1,"accounts":{"exclude":["444455556666"]}}"#)
            .expect("valid");
        let in_scope = |c: &Config, a: &str| crate::scope::account(c, a).is_ok();
        assert!(in_scope(&all, "111122223333"));
        assert!(!in_scope(&all, "444455556666"));
        let listed = Config::parse(EXAMPLE).expect("valid");
        assert!(in_scope(&listed, "111122223333"));
        assert!(!in_scope(&listed, "444455556666"));
        let none = Config::parse(r#"{"version":1,"accounts":{"include":[]}}"#).expect("valid");
        assert!(!in_scope(&none, "111122223333"));
        assert!(in_scope(&Config::default(), "111122223333"));
    }

    #[test]
    fn regions_from_document_or_environment() {
        let env = vec!["ap-south-1".to_owned()];
        assert_eq!(Config::default().regions_or(&env), env);
        assert_eq!(
            Config::parse(EXAMPLE).expect("valid").regions_or(&env),
            vec!["us-east-1".to_owned(), "eu-west-1".to_owned()]
        );
    }

    /// Every level of the precedence, from least to most specific.
    #[test]
    fn mode_precedence_table() {
        let c = Config::parse(
            r#"{"version":1,"default_mode":"audit","new_cluster_mode":"migrate",
                "organizational_units":[{"id":"ou-abcd-11111111","mode":"skip"},{"id":"ou-abcd-22222222","mode":"finalize"}],
                "account_overrides":{"111122223333":{"mode":"finalize"}}}"#,
        )
        .expect("valid");
        let plain = "444455556666";
        let overridden = "111122223333";
        let none = BTreeMap::new();
        let tagged = tags(&[(MODE_TAG, "migrate")]);
        let other_tags = tags(&[("team", "payments")]);
        let ou1 = ous(&["ou-abcd-11111111"]);
        let unlisted_ou = ous(&["ou-zzzz-99999999"]);
        /// (account, its OUs, cluster tags, new cluster, expected mode, expected source)
        type Row<'a> = (
            &'a str,
            Vec<String>,
            &'a BTreeMap<String, String>,
            bool,
            Mode,
            ModeSource,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                plain,
                vec![],
                &none,
                false,
                Mode::Audit,
                ModeSource::Default,
            ),
            (
                plain,
                unlisted_ou.clone(),
                &other_tags,
                false,
                Mode::Audit,
                ModeSource::Default,
            ),
            (
                plain,
                vec![],
                &none,
                true,
                Mode::Migrate,
                ModeSource::NewCluster,
            ),
            (
                plain,
                ou1.clone(),
                &none,
                false,
                Mode::Skip,
                ModeSource::OrganizationalUnit("ou-abcd-11111111".into()),
            ),
            (
                plain,
                ou1.clone(),
                &none,
                true,
                Mode::Skip,
                ModeSource::OrganizationalUnit("ou-abcd-11111111".into()),
            ),
            (
                plain,
                ous(&["ou-abcd-22222222", "ou-abcd-11111111"]),
                &none,
                false,
                Mode::Finalize,
                ModeSource::OrganizationalUnit("ou-abcd-22222222".into()),
            ),
            (
                overridden,
                ou1.clone(),
                &none,
                true,
                Mode::Finalize,
                ModeSource::Account,
            ),
            (
                overridden,
                vec![],
                &none,
                false,
                Mode::Finalize,
                ModeSource::Account,
            ),
            (
                overridden,
                ou1.clone(),
                &tagged,
                true,
                Mode::Migrate,
                ModeSource::ClusterTag,
            ),
        ];
        for (account, account_ous, t, new, mode, source) in rows {
            let r = c.mode_for(account, &account_ous, t, new);
            assert_eq!(
                (r.mode, &r.source),
                (mode, &source),
                "{account} {account_ous:?} {t:?} new={new}"
            );
            assert!(r.warnings.is_empty());
        }
        // A tag above the configured mode (migrate over the default audit) is refused and says
        // so; where tags_may_raise names the account it applies.
        let r = c.mode_for(plain, &[], &tagged, false);
        assert_eq!((r.mode, &r.source), (Mode::Audit, &ModeSource::Default));
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        let mut raising = c.clone();
        raising.tags_may_raise.accounts = vec![plain.to_owned()];
        let r = raising.mode_for(plain, &[], &tagged, false);
        assert_eq!(
            (r.mode, &r.source),
            (Mode::Migrate, &ModeSource::ClusterTag)
        );
        assert!(r.warnings.is_empty());
        // Without new_cluster_mode a new cluster gets default_mode.
        let r = Config::default().mode_for(plain, &[], &none, true);
        assert_eq!((r.mode, r.source), (Mode::Audit, ModeSource::Default));
    }

    #[test]
    fn clusters_created_since_the_migrator_watches_are_new() {
        let since = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000);
        let at = |s| Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert!(!is_new_cluster(at(999), since));
        assert!(is_new_cluster(at(1_000), since));
        assert!(is_new_cluster(at(1_001), since));
        assert!(!is_new_cluster(None, since));
    }

    #[test]
    fn invalid_tag_value_warns_and_never_widens() {
        let c = Config::parse(
            r#"{"version":1,"default_mode":"migrate",
                "account_overrides":{"111122223333":{"mode":"skip"}}}"#,
        )
        .expect("valid");
        for bad in ["Migrate", "", "yes", "finalize "] {
            let t = tags(&[(MODE_TAG, bad)]);
            // The lower level says migrate: the cluster is only audited.
            let r = c.mode_for("444455556666", &[], &t, false);
            assert_eq!((r.mode, &r.source), (Mode::Audit, &ModeSource::ClusterTag));
            assert_eq!(r.warnings.len(), 1);
            assert!(
                r.warnings[0].contains(MODE_TAG) && r.warnings[0].contains(&format!("`{bad}`")),
                "{:?}",
                r.warnings
            );
            // The lower level says skip: skip stands (audit would be wider).
            let r = c.mode_for("111122223333", &[], &t, false);
            assert_eq!((r.mode, &r.source), (Mode::Skip, &ModeSource::Account));
            assert_eq!(r.warnings.len(), 1);
            assert!(r.warnings[0].contains("treated as skip"));
        }
        // An audit lower level stays audit, with its own source.
        let r = Config::default().mode_for("444455556666", &[], &tags(&[(MODE_TAG, "x")]), false);
        assert_eq!((r.mode, r.source), (Mode::Audit, ModeSource::Default));
        assert_eq!(r.warnings.len(), 1);
    }

    /// The attack of issue 18 item 3: anyone with eks:TagResource tags a cluster `finalize` (an
    /// irreversible switch to API) that the configuration keeps in audit.
    #[test]
    fn a_finalize_tag_on_a_cluster_the_configuration_keeps_in_audit_is_refused() {
        let c = Config::parse(
            r#"{"version":1,"default_mode":"audit",
                "organizational_units":[{"id":"ou-abcd-11111111","mode":"skip"}],
                "account_overrides":{"111122223333":{"mode":"migrate"}}}"#,
        )
        .expect("valid");
        let finalize = tags(&[(MODE_TAG, "finalize")]);
        for (account, account_ous, configured, source) in [
            ("444455556666", vec![], Mode::Audit, ModeSource::Default),
            (
                "444455556666",
                ous(&["ou-abcd-11111111"]),
                Mode::Skip,
                ModeSource::OrganizationalUnit("ou-abcd-11111111".into()),
            ),
            ("111122223333", vec![], Mode::Migrate, ModeSource::Account),
        ] {
            let r = c.mode_for(account, &account_ous, &finalize, false);
            assert_eq!((r.mode, &r.source), (configured, &source), "{account}");
            assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
            assert!(
                r.warnings[0].contains("may only lower") && r.warnings[0].contains("`finalize`"),
                "{:?}",
                r.warnings
            );
        }
        // Lowering always works: skip and audit tags on a finalize account.
        let c = Config::parse(r#"{"version":1,"default_mode":"finalize"}"#).expect("valid");
        for (value, mode) in [
            ("skip", Mode::Skip),
            ("audit", Mode::Audit),
            ("migrate", Mode::Migrate),
        ] {
            let r = c.mode_for("444455556666", &[], &tags(&[(MODE_TAG, value)]), false);
            assert_eq!(
                (r.mode, r.source),
                (mode, ModeSource::ClusterTag),
                "{value}"
            );
        }
    }

    #[test]
    fn tags_may_raise_where_the_configuration_says_so() {
        let c = Config::parse(
            r#"{"version":1,"default_mode":"audit",
                "tags_may_raise":{"accounts":["111122223333"],"organizational_units":["ou-abcd-22222222"]}}"#,
        )
        .expect("valid");
        let finalize = tags(&[(MODE_TAG, "finalize")]);
        let listed_account = c.mode_for("111122223333", &[], &finalize, false);
        assert_eq!(listed_account.mode, Mode::Finalize);
        // An OU at any depth above the account.
        let under_listed_ou = c.mode_for(
            "444455556666",
            &ous(&["ou-abcd-33333333", "ou-abcd-22222222", "r-abcd"]),
            &finalize,
            false,
        );
        assert_eq!(under_listed_ou.mode, Mode::Finalize);
        let elsewhere = c.mode_for(
            "444455556666",
            &ous(&["ou-abcd-33333333"]),
            &finalize,
            false,
        );
        assert_eq!(elsewhere.mode, Mode::Audit);
        assert_eq!(
            c.listed_ou_ids(),
            vec!["ou-abcd-22222222".to_owned()],
            "the worker and the scan must learn the accounts under these OUs"
        );
        let text = serde_json::to_string(&c).expect("serializes");
        assert_eq!(Config::parse(&text).expect("reparses"), c);
        assert!(
            !serde_json::to_string(&Config::default())
                .expect("json")
                .contains("tags_may_raise")
        );
    }

    #[test]
    fn an_invalid_tags_may_raise_names_its_field() {
        for (doc, path) in [
            (r#"{"version":1,"tags_may_raise":[]}"#, "tags_may_raise"),
            (
                r#"{"version":1,"tags_may_raise":{"ous":[]}}"#,
                "tags_may_raise.ous",
            ),
            (
                r#"{"version":1,"tags_may_raise":{"accounts":["1234"]}}"#,
                "tags_may_raise.accounts[0]",
            ),
            (
                r#"{"version":1,"tags_may_raise":{"accounts":["111122223333","111122223333"]}}"#,
                "tags_may_raise.accounts[1]",
            ),
            (
                r#"{"version":1,"tags_may_raise":{"organizational_units":["ou-x"]}}"#,
                "tags_may_raise.organizational_units[0]",
            ),
            (
                r#"{"version":1,"tags_may_raise":{"organizational_units":["r-abcd","r-abcd"]}}"#,
                "tags_may_raise.organizational_units[1]",
            ),
        ] {
            match Config::parse(doc) {
                Err(ConfigError::Field { path: p, .. }) => assert_eq!(p, path, "{doc}"),
                other => panic!("{doc}: {other:?}"),
            }
        }
    }
}
