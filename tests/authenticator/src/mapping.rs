//! The authenticator's row types and its per-row validation: a `mapRoles` row needs exactly
//! one of `rolearn` and `sso` (and a well-formed `sso` block), a `mapUsers` row needs
//! `userarn`. Fields left empty by decoding are empty strings / lists, as Go's zero values.

/// The `sso` block of a `mapRoles` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoMatcher {
    /// `permissionSetName`.
    pub permission_set_name: String,
    /// `accountID`.
    pub account_id: String,
    /// `partition` (empty: `aws`).
    pub partition: String,
}

/// One `mapRoles` row as decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleRow {
    /// `rolearn` (empty when absent or not a string).
    pub role_arn: String,
    /// `sso`, when present as an object.
    pub sso: Option<SsoMatcher>,
    /// `username`.
    pub username: String,
    /// `groups`.
    pub groups: Vec<String>,
}

/// One `mapUsers` row as decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRow {
    /// `userarn`.
    pub user_arn: String,
    /// `username`.
    pub username: String,
    /// `groups`.
    pub groups: Vec<String>,
}

/// The partitions the authenticator knows.
pub const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Why a row is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Neither `rolearn` nor `sso`.
    NoMatcher,
    /// Both `rolearn` and `sso`.
    TwoMatchers,
    /// An `sso` block whose fields are malformed.
    BadSso(&'static str),
    /// A user row without `userarn`.
    NoUserArn,
}

impl RoleRow {
    /// The authenticator's `RoleMapping.Validate`.
    ///
    /// # Errors
    ///
    /// [`Invalid`] for a row the authenticator drops.
    pub fn validate(&self) -> Result<(), Invalid> {
        match (&self.sso, self.role_arn.is_empty()) {
            (None, true) => Err(Invalid::NoMatcher),
            (Some(_), false) => Err(Invalid::TwoMatchers),
            (None, false) => Ok(()),
            (Some(sso), true) => sso.validate(),
        }
    }
}

impl SsoMatcher {
    fn validate(&self) -> Result<(), Invalid> {
        let account_ok =
            self.account_id.len() == 12 && self.account_id.bytes().all(|b| b.is_ascii_digit());
        if !account_ok {
            return Err(Invalid::BadSso("accountID is not 12 digits"));
        }
        let name = &self.permission_set_name;
        let name_ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
        if !name_ok {
            return Err(Invalid::BadSso(
                "permissionSetName is not a permission set name",
            ));
        }
        if !self.partition.is_empty() && !PARTITIONS.contains(&self.partition.as_str()) {
            return Err(Invalid::BadSso("partition is not an AWS partition"));
        }
        Ok(())
    }
}

impl UserRow {
    /// The authenticator's `UserMapping.Validate`.
    ///
    /// # Errors
    ///
    /// [`Invalid::NoUserArn`] when `userarn` is empty.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.user_arn.is_empty() {
            Err(Invalid::NoUserArn)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso(name: &str, account: &str, partition: &str) -> RoleRow {
        RoleRow {
            sso: Some(SsoMatcher {
                permission_set_name: name.to_owned(),
                account_id: account.to_owned(),
                partition: partition.to_owned(),
            }),
            ..RoleRow::default()
        }
    }

    #[test]
    fn a_role_needs_exactly_one_matcher() {
        assert_eq!(RoleRow::default().validate(), Err(Invalid::NoMatcher));
        let both = RoleRow {
            role_arn: "arn:aws:iam::1:role/x".to_owned(),
            ..sso("Admin", "123456789012", "")
        };
        assert_eq!(both.validate(), Err(Invalid::TwoMatchers));
        assert_eq!(sso("Admin", "123456789012", "aws-cn").validate(), Ok(()));
    }

    #[test]
    fn sso_fields_are_checked() {
        assert!(sso("Admin", "12345", "").validate().is_err());
        assert!(sso("Bad Name", "123456789012", "").validate().is_err());
        assert!(sso("Admin", "123456789012", "mars").validate().is_err());
    }

    #[test]
    fn a_user_needs_an_arn() {
        assert_eq!(UserRow::default().validate(), Err(Invalid::NoUserArn));
    }
}
