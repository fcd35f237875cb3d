//! The organisation, as the fleet scan and the worker see it: its ACTIVE accounts, the accounts
//! under organisational units (at any depth), and the OUs above an account.

use crate::sdk_error::failure;
use std::collections::HashMap;

/// The organisation: ACTIVE accounts and the OUs that hold them.
#[derive(Debug, Clone)]
pub struct Organization {
    client: aws_sdk_organizations::Client,
}

impl Organization {
    /// A client from the configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_organizations::Client::new(config),
        }
    }

    /// Every ACTIVE account (all pages).
    ///
    /// # Errors
    ///
    /// The service's reason.
    pub async fn active_accounts(&self) -> Result<Vec<String>, String> {
        let pages: Vec<_> = self
            .client
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| failure(&self.client, "ListAccounts", &e).to_string())?;
        Ok(pages
            .iter()
            .flat_map(|p| p.accounts())
            .filter(|a| a.state().is_none_or(|s| s.as_str() == "ACTIVE"))
            .filter(|a| a.status().is_none_or(|s| s.as_str() == "ACTIVE"))
            .filter_map(|a| a.id().map(str::to_owned))
            .collect())
    }

    /// Every account under each of `ous` (organisational units or the root), at any depth:
    /// account → the listed ids that contain it, nearest first. Each OU of those subtrees is
    /// listed once (ListOrganizationalUnitsForParent, ListAccountsForParent, all pages).
    ///
    /// # Errors
    ///
    /// The service's reason, with the parent it was listing.
    pub async fn accounts_in(
        &self,
        ous: &[String],
    ) -> Result<HashMap<String, Vec<String>>, String> {
        let mut children: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
        let mut found: HashMap<String, Vec<(usize, String)>> = HashMap::new();
        for listed in ous {
            let mut level = vec![listed.clone()];
            let mut depth = 0;
            while !level.is_empty() {
                let mut next = Vec::new();
                for parent in level {
                    if !children.contains_key(&parent) {
                        let listing = self.children_of(&parent).await?;
                        children.insert(parent.clone(), listing);
                    }
                    let (ous_below, accounts) = &children[&parent];
                    for account in accounts {
                        found
                            .entry(account.clone())
                            .or_default()
                            .push((depth, listed.clone()));
                    }
                    next.extend(ous_below.iter().cloned());
                }
                level = next;
                depth += 1;
            }
        }
        Ok(found
            .into_iter()
            .map(|(account, mut containing)| {
                containing.sort();
                (account, containing.into_iter().map(|(_, ou)| ou).collect())
            })
            .collect())
    }

    /// The OUs and the accounts directly in `parent`.
    async fn children_of(&self, parent: &str) -> Result<(Vec<String>, Vec<String>), String> {
        let ou_pages: Vec<_> = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                format!(
                    "{parent}: {}",
                    failure(&self.client, "ListOrganizationalUnitsForParent", &e)
                )
            })?;
        let account_pages: Vec<_> = self
            .client
            .list_accounts_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                format!(
                    "{parent}: {}",
                    failure(&self.client, "ListAccountsForParent", &e)
                )
            })?;
        let ous = ou_pages
            .iter()
            .flat_map(|p| p.organizational_units())
            .filter_map(|o| o.id().map(str::to_owned))
            .collect();
        let accounts = account_pages
            .iter()
            .flat_map(|p| p.accounts())
            .filter_map(|a| a.id().map(str::to_owned))
            .collect();
        Ok((ous, accounts))
    }

    /// The OUs above `account`, nearest first, ending with the root (ListParents, once per
    /// level).
    ///
    /// # Errors
    ///
    /// The service's reason.
    pub async fn ancestors(&self, account: &str) -> Result<Vec<String>, String> {
        let mut chain = Vec::new();
        let mut child = account.to_owned();
        // An organisation is at most five OUs deep below its root.
        for _ in 0..8 {
            let out = self
                .client
                .list_parents()
                .child_id(&child)
                .send()
                .await
                .map_err(|e| format!("{child}: {}", failure(&self.client, "ListParents", &e)))?;
            let Some(parent) = out.parents().first() else {
                break;
            };
            let id = parent.id().unwrap_or_default().to_owned();
            let is_root = parent
                .r#type()
                .is_some_and(|t| *t == aws_sdk_organizations::types::ParentType::Root);
            chain.push(id.clone());
            if is_root || id.is_empty() {
                break;
            }
            child = id;
        }
        Ok(chain)
    }
}
