//! Username and group templates (`{{SessionName}}` and friends) and what access entries accept.
//!
//! Access-entry usernames accept `{{SessionName}}` and `{{SessionNameRaw}}`, each only with a
//! `:` somewhere before it (EKS user guide, "Set a custom username for EKS access entries":
//! "If you add either {{SessionName}} or {{SessionNameRaw}} to your username, the username must
//! include a colon before {{SessionName}}"). `{{SessionName}}` turns `@` into `-` (as the
//! authenticator does); `{{SessionNameRaw}}` keeps the session name as it is, `@` included.

/// Prefixes EKS reserves: an access-entry username must not start with them.
pub const RESERVED_USERNAME_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];

/// The templates the authenticator expands in aws-auth usernames and groups.
pub const AUTHENTICATOR_TEMPLATES: &[&str] = &[
    "AccountID",
    "SessionName",
    "SessionNameRaw",
    "AccessKeyID",
    "EC2PrivateDNSName",
];

/// The `{{Name}}` placeholders in a string, in order, with the byte offset where each starts.
pub fn placeholders(s: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = s[from..].find("{{") {
        let start = from + open;
        let Some(close) = s[start + 2..].find("}}") else {
            break;
        };
        found.push((start, &s[start + 2..start + 2 + close]));
        from = start + 2 + close + 2;
    }
    found
}

/// The templates an access-entry username may carry (each after a `:`).
pub const ACCESS_ENTRY_USERNAME_TEMPLATES: &[&str] = &["SessionName", "SessionNameRaw"];

/// Why an aws-auth username cannot be an access-entry username as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameProblem {
    /// Starts with a reserved prefix.
    ReservedPrefix(&'static str),
    /// Uses a template access entries do not support.
    UnsupportedTemplate(String),
    /// `{{SessionName}}` or `{{SessionNameRaw}}` (the template named) without a `:` before it.
    SessionNameNeedsColon(String),
}

/// Checks an aws-auth username against the access-entry username rules.
pub fn username_problem(username: &str) -> Option<UsernameProblem> {
    if let Some(prefix) = RESERVED_USERNAME_PREFIXES
        .iter()
        .find(|p| username.starts_with(**p))
    {
        return Some(UsernameProblem::ReservedPrefix(prefix));
    }
    let found = placeholders(username);
    if let Some((_, name)) = found
        .iter()
        .find(|(_, name)| !ACCESS_ENTRY_USERNAME_TEMPLATES.contains(name))
    {
        return Some(UsernameProblem::UnsupportedTemplate((*name).to_owned()));
    }
    if let Some((at, name)) = found.first()
        && !username[..*at].contains(':')
    {
        return Some(UsernameProblem::SessionNameNeedsColon((*name).to_owned()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders() {
        assert_eq!(
            placeholders("a:{{AccountID}}:{{SessionName}}"),
            vec![(2, "AccountID"), (16, "SessionName")]
        );
        assert!(placeholders("plain").is_empty());
        assert!(placeholders("{{unclosed").is_empty());
    }

    #[test]
    fn username_rules() {
        assert_eq!(username_problem("admin"), None);
        assert_eq!(username_problem("sso-admin:{{SessionName}}"), None);
        assert_eq!(
            username_problem("{{SessionName}}"),
            Some(UsernameProblem::SessionNameNeedsColon("SessionName".into()))
        );
        assert_eq!(
            username_problem("dev-{{SessionName}}:x"),
            Some(UsernameProblem::SessionNameNeedsColon("SessionName".into()))
        );
        assert_eq!(username_problem("x:{{SessionNameRaw}}"), None);
        assert_eq!(username_problem("dev:{{SessionNameRaw}}@corp"), None);
        assert_eq!(
            username_problem("{{SessionNameRaw}}"),
            Some(UsernameProblem::SessionNameNeedsColon(
                "SessionNameRaw".into()
            ))
        );
        assert_eq!(
            username_problem("raw-{{SessionNameRaw}}:x"),
            Some(UsernameProblem::SessionNameNeedsColon(
                "SessionNameRaw".into()
            ))
        );
        assert_eq!(
            username_problem("admin:{{AccountID}}"),
            Some(UsernameProblem::UnsupportedTemplate("AccountID".into()))
        );
        assert_eq!(
            username_problem("system:admin"),
            Some(UsernameProblem::ReservedPrefix("system:"))
        );
        assert_eq!(
            username_problem("amazon:x"),
            Some(UsernameProblem::ReservedPrefix("amazon:"))
        );
    }
}
