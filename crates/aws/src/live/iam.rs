//! IAM resolution of the principals aws-auth names: their real ARNs (with IAM path), looked up
//! in each principal's own account — directly in the cluster's account, through the member role
//! (STS AssumeRole, credentials cached per account for the run) in any other.

use super::options::CONCURRENCY;
use crate::sdk_config::{iam_config, sts_config};
use crate::sdk_error::{failure as classified, service_code};
use aws_credential_types::Credentials;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use eks_auth_core::arn::{Arn, Principal};
use eks_auth_core::aws_auth::{AwsAuth, RowStatus};
use eks_auth_core::facts::IamResolution;
use futures::StreamExt as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Session name of the member-role sessions (visible in CloudTrail).
const SESSION_NAME: &str = "eks-auth-migrator";

/// A principal to look up: the ARN as aws-auth writes it, its account, partition, kind, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Lookup {
    pub(crate) key: String,
    pub(crate) account: String,
    pub(crate) partition: String,
    pub(crate) is_role: bool,
    pub(crate) name: String,
}

/// The principals of rows the planner could turn into entries: loaded rows (effective or
/// ambiguous) naming an IAM role or user without a path. Dead rows (paths, STS session ARNs,
/// dropped or shadowed rows, sso matchers) need no lookup.
pub(crate) fn lookups(auth: &AwsAuth) -> Vec<Lookup> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for row in &auth.rows {
        if !matches!(row.status, RowStatus::Effective | RowStatus::Ambiguous) || row.sso.is_some() {
            continue;
        }
        let Ok(arn) = row.arn.parse::<Arn>() else {
            continue;
        };
        let (is_role, name) = match arn.principal() {
            Principal::Role { path: "", name } => (true, name),
            Principal::User { path: "", name } => (false, name),
            _ => continue,
        };
        if seen.insert(row.arn.clone()) {
            out.push(Lookup {
                key: row.arn.clone(),
                account: arn.account().to_owned(),
                partition: arn.partition().to_owned(),
                is_role,
                name: name.to_owned(),
            });
        }
    }
    out
}

/// Resolves every lookup; never fails as a whole. Principals of the cluster's account are looked
/// up with `config`; for those of other accounts `assume_from` assumes the member role there.
pub(crate) async fn resolve(
    config: &aws_config::SdkConfig,
    assume_from: &aws_config::SdkConfig,
    cluster_account: &str,
    member_role_name: Option<&str>,
    lookups: Vec<Lookup>,
) -> BTreeMap<String, IamResolution> {
    let base = aws_sdk_iam::Client::from_conf(iam_config(config).build());
    // One AssumeRole per foreign account, for the whole run.
    let foreign: BTreeSet<(String, String)> = lookups
        .iter()
        .filter(|l| l.account != cluster_account)
        .map(|l| (l.account.clone(), l.partition.clone()))
        .collect();
    let clients: HashMap<String, Result<aws_sdk_iam::Client, String>> =
        futures::stream::iter(foreign)
            .map(|(account, partition)| async move {
                let client =
                    member_client(assume_from, &account, &partition, member_role_name).await;
                (account, client)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let base = &base;
    let clients = &clients;
    futures::stream::iter(lookups)
        .map(|l| async move {
            let resolution = if l.account == cluster_account {
                lookup(base, &l).await
            } else {
                match clients.get(&l.account) {
                    Some(Ok(client)) => lookup(client, &l).await,
                    Some(Err(reason)) => IamResolution::Unresolvable {
                        reason: reason.clone(),
                    },
                    None => IamResolution::Unresolvable {
                        reason: format!("no IAM client for account {}", l.account),
                    },
                }
            };
            (l.key, resolution)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

/// An IAM client in `account` through the member role, or why there is none.
async fn member_client(
    config: &aws_config::SdkConfig,
    account: &str,
    partition: &str,
    member_role_name: Option<&str>,
) -> Result<aws_sdk_iam::Client, String> {
    let Some(role_name) = member_role_name else {
        return Err(format!(
            "the principal is in account {account}, not the cluster's, and no member role is configured to look it up there; configure a member role deployed in that account (e.g. --member-role) so its real ARN (with IAM path) can be resolved"
        ));
    };
    let role_arn = format!("arn:{partition}:iam::{account}:role/{role_name}");
    let sts = aws_sdk_sts::Client::from_conf(sts_config(config).build());
    let out = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(SESSION_NAME)
        .send()
        .await
        .map_err(|e| {
            format!(
                "assuming the member role {role_arn} to look the principal up in account {account} failed: {}",
                classified(&sts, "AssumeRole", &e)
            )
        })?;
    let creds = out
        .credentials()
        .ok_or_else(|| format!("assuming the member role {role_arn} returned no credentials"))?;
    let credentials = Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_owned()),
        std::time::SystemTime::try_from(*creds.expiration()).ok(),
        "eks-auth-migrator-member-role",
    );
    Ok(aws_sdk_iam::Client::from_conf(
        iam_config(config).credentials_provider(credentials).build(),
    ))
}

/// Whether IAM said the principal does not exist (`NoSuchEntity`), and why the call failed.
fn failure<E>(
    iam: &aws_sdk_iam::Client,
    operation: &str,
    err: &SdkError<E, HttpResponse>,
) -> (bool, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let missing = service_code(err) == Some("NoSuchEntity");
    (missing, classified(iam, operation, err).to_string())
}

/// GetRole / GetUser by name.
async fn lookup(iam: &aws_sdk_iam::Client, l: &Lookup) -> IamResolution {
    // Found ARN, or (IAM says no such entity, why it failed): the same for roles and users.
    let (operation, kind, result) = if l.is_role {
        let result = iam.get_role().role_name(&l.name).send().await;
        let result = result
            .map(|out| out.role().map(|role| role.arn().to_owned()))
            .map_err(|e| failure(iam, "GetRole", &e));
        ("GetRole", "role", result)
    } else {
        let result = iam.get_user().user_name(&l.name).send().await;
        let result = result
            .map(|out| out.user().map(|user| user.arn().to_owned()))
            .map_err(|e| failure(iam, "GetUser", &e));
        ("GetUser", "user", result)
    };
    let account = &l.account;
    match result {
        Ok(Some(arn)) => IamResolution::Found { arn },
        Ok(None) => IamResolution::Unresolvable {
            reason: format!("iam:{operation} in account {account} returned no {kind}"),
        },
        Err((true, _)) => IamResolution::NotFound,
        Err((false, why)) => IamResolution::Unresolvable {
            reason: format!("in account {account}: {why}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loaded_path_less_role_and_user_rows_are_looked_up() {
        let mut data = BTreeMap::new();
        data.insert(
            "mapRoles".to_owned(),
            "- rolearn: arn:aws:iam::111122223333:role/a\n  username: a\n- rolearn: arn:aws:iam::111122223333:role/p/b\n  username: b\n- rolearn: arn:aws:sts::111122223333:assumed-role/c/s\n  username: c\n- rolearn: arn:aws:iam::444455556666:role/x\n  username: x\n".to_owned(),
        );
        data.insert(
            "mapUsers".to_owned(),
            "- userarn: arn:aws:iam::111122223333:user/u\n  username: u\n- userarn: arn:aws:iam::111122223333:role/a\n  username: dup\n".to_owned(),
        );
        let found = lookups(&AwsAuth::parse_data(&data));
        let keys: Vec<(&str, bool, &str)> = found
            .iter()
            .map(|l| (l.key.as_str(), l.is_role, l.name.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("arn:aws:iam::111122223333:role/a", true, "a"),
                ("arn:aws:iam::444455556666:role/x", true, "x"),
                ("arn:aws:iam::111122223333:user/u", false, "u"),
            ]
        );
    }
}
