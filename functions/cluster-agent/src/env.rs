//! What the Lambda environment and infra/cluster-agent.yaml give the agent: its region, its
//! role's credentials (which sign its bearer tokens), its role's ARN and an optional proxy.

use aws_credential_types::Credentials;
use eks_auth_kube::Region;

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
        Ok(Self {
            region,
            credentials,
            principal: value("AGENT_ROLE_ARN"),
            proxy: value("KUBE_API_PROXY"),
        })
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
    }
}
