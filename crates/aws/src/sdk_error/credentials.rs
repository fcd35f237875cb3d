//! A credentials provider's failure, sorted: nothing found anywhere (the default chain ran out —
//! on a laptop it ends at the EC2 instance metadata service, which is not the user's problem),
//! or a configured source that failed (an expired SSO session, a broken profile).

use super::chain::render;
use aws_credential_types::provider::error::CredentialsError;
use eks_auth_core::call_failure::{CallFailure, Cause};

/// The profile the default chain reads: `AWS_PROFILE`, or `default`.
fn profile() -> String {
    std::env::var("AWS_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

/// Whether a provider error comes from the instance metadata service, the chain's last source:
/// reached only when no other source provided credentials.
fn from_instance_metadata(chain: &str) -> bool {
    let text = chain.to_ascii_lowercase();
    ["imds", "instance metadata", "ec2 metadata"]
        .iter()
        .any(|w| text.contains(w))
}

/// `err` as a [`CallFailure`] (no service, no operation: credentials come before any call).
pub fn credentials_failure(err: &CredentialsError) -> CallFailure {
    let (chain, detail) = render(err);
    let profile = profile();
    let cause = match err {
        CredentialsError::CredentialsNotLoaded(_) => Cause::NoCredentials { profile },
        _ if from_instance_metadata(&chain) => Cause::NoCredentials { profile },
        _ => Cause::CredentialsFailed { profile },
    };
    CallFailure {
        detail,
        chain,
        ..CallFailure::new(cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_found_and_an_instance_metadata_refusal_both_mean_no_credentials() {
        let none = CredentialsError::not_loaded("no providers in chain provided credentials");
        assert!(matches!(
            credentials_failure(&none).cause,
            Cause::NoCredentials { .. }
        ));
        let imds = CredentialsError::provider_error(
            "failed to load IMDS session token: request forbidden: IMDS is disabled",
        );
        let failure = credentials_failure(&imds);
        assert!(matches!(failure.cause, Cause::NoCredentials { .. }));
        assert!(!failure.to_string().contains("IMDS"), "{failure}");
        assert!(failure.to_string().contains("aws sso login"), "{failure}");
    }

    #[test]
    fn a_failing_configured_source_says_why() {
        let sso = CredentialsError::provider_error("the SSO session has expired or is invalid");
        let failure = credentials_failure(&sso);
        assert!(matches!(failure.cause, Cause::CredentialsFailed { .. }));
        assert!(
            failure
                .to_string()
                .contains("the SSO session has expired or is invalid"),
            "{failure}"
        );
    }
}
