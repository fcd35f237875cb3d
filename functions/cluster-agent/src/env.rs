//! What the Lambda environment and infra/cluster-agent.yaml give the agent: its region, its
//! role's credentials (which sign its bearer tokens), its role's ARN, an optional proxy, the
//! public key of the central worker's signing key, and — for the local stack only — whether
//! loopback endpoints are admitted.

use aws_credential_types::Credentials;
use base64::Engine as _;
use eks_auth_core::agent_auth::RecentRequests;
use eks_auth_core::eks_endpoint::Hosts;
use eks_auth_kube::Region;
use std::sync::{Arc, Mutex};

/// Why the environment is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}: {reason} (Lambda and infra/cluster-agent.yaml set it)")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// What the Lambda environment and infra/cluster-agent.yaml give the agent.
#[derive(Debug, Clone)]
pub struct AgentEnv {
    /// `AWS_REGION`: the only region it serves.
    pub region: Region,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: its role's credentials,
    /// which sign its bearer tokens.
    pub credentials: Credentials,
    /// `AGENT_ROLE_ARN`: its role, named in refusals so that a person knows what to map.
    pub principal: Option<String>,
    /// `KUBE_API_PROXY`: an HTTP CONNECT proxy every Kubernetes API connection goes through
    /// (for VPCs that reach cluster endpoints only through one); unset: directly.
    pub proxy: Option<String>,
    /// `AGENT_SIGNING_PUBLIC_KEY`: the DER `SubjectPublicKeyInfo` of the central worker's KMS
    /// signing key, base64 as `aws kms get-public-key --query PublicKey` prints it; unset: every
    /// request is refused.
    pub signing_public_key: Option<Vec<u8>>,
    /// `AGENT_ALLOW_LOOPBACK_ENDPOINTS=true` admits loopback endpoints besides EKS's (the local
    /// stack's simulated clusters); no template sets it.
    pub hosts: Hosts,
    /// The request ids this execution environment has carried out.
    pub recent: Arc<Mutex<RecentRequests>>,
}

impl AgentEnv {
    /// From the process environment.
    ///
    /// # Errors
    ///
    /// [`EnvError`] naming the missing or invalid variable.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any lookup (tests, and the in-process agents of the local demo).
    ///
    /// # Errors
    ///
    /// [`EnvError`] naming the missing or invalid variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let value = |name| get(name).filter(|v: &String| !v.trim().is_empty());
        let required = |name: &'static str| {
            value(name).ok_or_else(|| EnvError {
                name,
                reason: "is not set".to_owned(),
            })
        };
        let region = Region::parse(required("AWS_REGION")?).map_err(|e| EnvError {
            name: "AWS_REGION",
            reason: e.to_string(),
        })?;
        let credentials = Credentials::new(
            required("AWS_ACCESS_KEY_ID")?,
            required("AWS_SECRET_ACCESS_KEY")?,
            value("AWS_SESSION_TOKEN"),
            None,
            "lambda-environment",
        );
        let signing_public_key = value("AGENT_SIGNING_PUBLIC_KEY")
            .map(|text| {
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|e| EnvError {
                        name: "AGENT_SIGNING_PUBLIC_KEY",
                        reason: format!(
                            "is not base64 ({e}): set it to `aws kms get-public-key --key-id <AgentSigningKeyArn> --query PublicKey --output text`"
                        ),
                    })
            })
            .transpose()?;
        let hosts = match value("AGENT_ALLOW_LOOPBACK_ENDPOINTS").as_deref() {
            None | Some("false") => Hosts::EksOnly,
            Some("true") => Hosts::LoopbackToo,
            Some(other) => {
                return Err(EnvError {
                    name: "AGENT_ALLOW_LOOPBACK_ENDPOINTS",
                    reason: format!("is `{other}`, not true or false (the local stack's only)"),
                });
            }
        };
        Ok(Self {
            region,
            credentials,
            principal: value("AGENT_ROLE_ARN"),
            proxy: value("KUBE_API_PROXY"),
            signing_public_key,
            hosts,
            recent: Arc::new(Mutex::new(RecentRequests::new())),
        })
    }

    /// Its account, from its role's ARN (`arn:<partition>:iam::<account>:role/…`), when known.
    pub fn account(&self) -> Option<&str> {
        let principal = self.principal.as_deref()?;
        principal
            .split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_names_what_is_missing() {
        let e = AgentEnv::from_lookup(|k| (k == "AWS_REGION").then(|| "eu-west-1".to_owned()))
            .expect_err("no credentials");
        assert_eq!(e.name, "AWS_ACCESS_KEY_ID");
        let e = AgentEnv::from_lookup(|_| None).expect_err("nothing");
        assert_eq!(e.name, "AWS_REGION");
        let vars = |extra: (&'static str, &'static str)| {
            move |k: &str| {
                [
                    ("AWS_REGION", "eu-west-1"),
                    ("AWS_ACCESS_KEY_ID", "AKIAAGENT"),
                    ("AWS_SECRET_ACCESS_KEY", "secret"),
                    extra,
                ]
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
            }
        };
        let e = AgentEnv::from_lookup(vars(("AGENT_SIGNING_PUBLIC_KEY", "not base64!")))
            .expect_err("not base64");
        assert_eq!(e.name, "AGENT_SIGNING_PUBLIC_KEY");
        let e = AgentEnv::from_lookup(vars(("AGENT_ALLOW_LOOPBACK_ENDPOINTS", "yes")))
            .expect_err("not a boolean");
        assert_eq!(e.name, "AGENT_ALLOW_LOOPBACK_ENDPOINTS");
        let env = AgentEnv::from_lookup(vars(("AGENT_SIGNING_PUBLIC_KEY", "MFkw"))).expect("a key");
        assert_eq!(env.hosts, Hosts::EksOnly, "loopback is off unless set");
        assert_eq!(
            env.signing_public_key.as_deref(),
            Some(&[0x30, 0x59, 0x30][..])
        );
    }
}
