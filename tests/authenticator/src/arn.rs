//! The caller's canonical ARN, as the authenticator forms it from STS's answer: an STS
//! assumed-role session becomes its IAM role (`arn:P:iam::A:role/NAME`: STS session ARNs carry
//! no IAM path, so neither does the canonical ARN); IAM roles, users and the root, and STS
//! federated users, stay as they are. Other ARNs are refused, as are unknown partitions.

use crate::mapping::PARTITIONS;

/// A caller as the authenticator identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The ARN STS reported.
    pub arn: String,
    /// The canonical ARN aws-auth rows are matched against.
    pub canonical_arn: String,
    /// The account ID.
    pub account: String,
    /// The session name of an assumed role (empty otherwise).
    pub session_name: String,
}

/// An ARN the authenticator does not accept as an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(pub String);

impl std::fmt::Display for ArnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not an identity ARN the authenticator accepts: {}",
            self.0
        )
    }
}

impl std::error::Error for ArnError {}

/// Canonicalizes `arn` (what STS's GetCallerIdentity names the caller).
///
/// # Errors
///
/// [`ArnError`] for a malformed ARN, an unknown partition, or a resource that is not a role,
/// user, root, assumed role or federated user.
pub fn canonicalize(arn: &str) -> Result<Caller, ArnError> {
    let bad = || ArnError(arn.to_owned());
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, service, _region, account, resource] = parts.as_slice() else {
        return Err(bad());
    };
    if !PARTITIONS.contains(partition) {
        return Err(bad());
    }
    let pieces: Vec<&str> = resource.split('/').collect();
    let (canonical_arn, session_name) = match (*service, pieces[0]) {
        ("sts", "assumed-role") if pieces.len() >= 3 => {
            let role = pieces[1..pieces.len() - 1].join("/");
            let session = pieces[pieces.len() - 1];
            (
                format!("arn:{partition}:iam::{account}:role/{role}"),
                session.to_owned(),
            )
        }
        ("sts", "federated-user") | ("iam", "role" | "user" | "root") => {
            (arn.to_owned(), String::new())
        }
        _ => return Err(bad()),
    };
    Ok(Caller {
        arn: arn.to_owned(),
        canonical_arn,
        account: (*account).to_owned(),
        session_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_become_their_role_and_iam_arns_stay() {
        let c = canonicalize("arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com")
            .expect("arn");
        assert_eq!(c.canonical_arn, "arn:aws:iam::111122223333:role/Admin");
        assert_eq!(c.session_name, "alice@example.com");
        assert_eq!(c.account, "111122223333");
        let u = canonicalize("arn:aws:iam::111122223333:user/ops/bob").expect("arn");
        assert_eq!(u.canonical_arn, "arn:aws:iam::111122223333:user/ops/bob");
        let r = canonicalize("arn:aws:iam::111122223333:role/teams/dev").expect("arn");
        assert_eq!(r.canonical_arn, "arn:aws:iam::111122223333:role/teams/dev");
    }

    #[test]
    fn other_arns_are_refused() {
        for arn in [
            "arn:aws:s3:::bucket",
            "arn:mars:iam::1:role/x",
            "arn:aws:sts::1:assumed-role/OnlyRole",
            "not an arn",
        ] {
            assert!(canonicalize(arn).is_err(), "{arn}");
        }
    }
}
