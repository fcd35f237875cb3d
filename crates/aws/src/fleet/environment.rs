//! The functions' environment (set by template.yaml), read once at cold start.

use eks_auth_core::state::Mode;

/// Why the environment is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}: {reason} (template.yaml sets it)")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// What template.yaml passes to every function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionEnv {
    /// `TABLE_NAME`: the state table.
    pub table: String,
    /// `QUEUE_URL`: the job queue.
    pub queue_url: String,
    /// `CONFIG_PARAMETER`: the SSM parameter holding the configuration document.
    pub config_parameter: String,
    /// `MEMBER_ROLE_NAME`: the read role in member accounts (scan, events, audit, reports, and
    /// the worker's lookups of principals in other accounts).
    pub member_role_name: String,
    /// `MEMBER_WRITE_ROLE_NAME`: the write role in member accounts, which only the worker's role
    /// can assume (default: `MEMBER_ROLE_NAME` + `-write`, infra/member-role.yaml's default).
    pub member_write_role_name: String,
    /// `DEFAULT_MODE`: the mode when the document sets none (default `audit`).
    pub default_mode: Mode,
    /// `REGIONS`: comma-separated regions to scan when the document lists none.
    pub regions: Vec<String>,
    /// `MAX_RECEIVE_COUNT` (worker): deliveries before the queue dead-letters a job (default 5).
    pub max_receive_count: u32,
    /// `UPDATE_POLL_SECONDS` (worker): delay of the job re-enqueued while an EKS update runs
    /// (default 30; EKS authentication-mode updates take minutes).
    pub update_poll: std::time::Duration,
    /// `EVENT_BUS_NAME`: the central bus phase-change events go to (unset: none are sent; they
    /// stay recorded on each cluster).
    pub event_bus: Option<String>,
    /// `METRICS_NAMESPACE`: the CloudWatch namespace of the EMF metrics (unset: none printed).
    pub metrics_namespace: Option<String>,
    /// `SECURITY_HUB_FINDINGS` (`true`/`false`, default false): fleet-scan imports a finding per
    /// cluster that still authenticates through aws-auth, in the cluster's account.
    pub security_hub_findings: bool,
    /// `AGENT_SIGNING_KEY_ARN` (worker): the KMS key that signs in-VPC agent requests (unset:
    /// agent calls fail with what to configure).
    pub agent_signing_key: Option<String>,
}

impl FunctionEnv {
    /// From the process environment.
    ///
    /// # Errors
    ///
    /// [`EnvError`] naming the missing or invalid variable.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any lookup (tests).
    ///
    /// # Errors
    ///
    /// [`EnvError`] naming the missing or invalid variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| EnvError {
                    name,
                    reason: "is not set".to_owned(),
                })
        };
        let default_mode = match get("DEFAULT_MODE").filter(|v| !v.is_empty()) {
            None => Mode::Audit,
            Some(v) => v.parse().map_err(|e| EnvError {
                name: "DEFAULT_MODE",
                reason: format!("{e}; use audit, migrate, finalize or skip"),
            })?,
        };
        let max_receive_count = match get("MAX_RECEIVE_COUNT").filter(|v| !v.is_empty()) {
            None => 5,
            Some(v) => v.parse().map_err(|_| EnvError {
                name: "MAX_RECEIVE_COUNT",
                reason: format!("`{v}` is not a positive number"),
            })?,
        };
        let update_poll = match get("UPDATE_POLL_SECONDS").filter(|v| !v.is_empty()) {
            None => 30,
            Some(v) => v.parse().map_err(|_| EnvError {
                name: "UPDATE_POLL_SECONDS",
                reason: format!("`{v}` is not a number of seconds"),
            })?,
        };
        let security_hub_findings = match get("SECURITY_HUB_FINDINGS").as_deref() {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(EnvError {
                    name: "SECURITY_HUB_FINDINGS",
                    reason: format!("`{other}` is neither true nor false"),
                });
            }
        };
        let optional = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let member_role_name = required("MEMBER_ROLE_NAME")?;
        Ok(Self {
            event_bus: optional("EVENT_BUS_NAME"),
            metrics_namespace: optional("METRICS_NAMESPACE"),
            agent_signing_key: optional("AGENT_SIGNING_KEY_ARN"),
            security_hub_findings,
            update_poll: std::time::Duration::from_secs(update_poll),
            table: required("TABLE_NAME")?,
            queue_url: required("QUEUE_URL")?,
            config_parameter: required("CONFIG_PARAMETER")?,
            member_write_role_name: optional("MEMBER_WRITE_ROLE_NAME")
                .unwrap_or_else(|| format!("{member_role_name}-write")),
            member_role_name,
            default_mode,
            regions: get("REGIONS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            max_receive_count,
        })
    }
}

/// Which Lambda function is running: its member role and its session name there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `fleet-scan`: the read role.
    FleetScan,
    /// `cluster-worker`: the write role in the cluster's account, the read role elsewhere.
    ClusterWorker,
}

impl Function {
    /// The session name and SourceIdentity of its AssumeRole calls, as CloudTrail shows them in
    /// the member account (`eks-auth-migrator-cluster-worker`).
    pub fn session_name(self) -> &'static str {
        match self {
            Function::FleetScan => "eks-auth-migrator-fleet-scan",
            Function::ClusterWorker => "eks-auth-migrator-cluster-worker",
        }
    }

    /// The member role it assumes in a cluster's account.
    pub fn member_role(self, env: &FunctionEnv) -> &str {
        match self {
            Function::ClusterWorker => &env.member_write_role_name,
            Function::FleetScan => &env.member_role_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<FunctionEnv, EnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        FunctionEnv::from_lookup(|k| map.get(k).cloned())
    }

    const BASE: [(&str, &str); 4] = [
        ("TABLE_NAME", "t"),
        ("QUEUE_URL", "https://sqs/q"),
        ("CONFIG_PARAMETER", "/eam/config"),
        ("MEMBER_ROLE_NAME", "eam-member"),
    ];

    #[test]
    fn reads_the_template_variables_with_defaults() {
        let e = env(&BASE).expect("env");
        assert_eq!(e.default_mode, Mode::Audit);
        assert!(e.regions.is_empty());
        assert_eq!(e.max_receive_count, 5);
        assert_eq!(
            (e.event_bus.as_deref(), e.metrics_namespace.as_deref()),
            (None, None)
        );
        assert!(!e.security_hub_findings);
        assert_eq!(e.member_write_role_name, "eam-member-write");
        assert_eq!(Function::FleetScan.member_role(&e), "eam-member");
        assert_eq!(Function::ClusterWorker.member_role(&e), "eam-member-write");
        let mut more = BASE.to_vec();
        more.extend([
            ("DEFAULT_MODE", "migrate"),
            ("REGIONS", "us-east-1, eu-west-1"),
            ("MAX_RECEIVE_COUNT", "3"),
            ("EVENT_BUS_NAME", "eam-events"),
            ("METRICS_NAMESPACE", "EksAuthMigrator"),
            ("SECURITY_HUB_FINDINGS", "true"),
            ("MEMBER_WRITE_ROLE_NAME", "eam-writer"),
        ]);
        let e = env(&more).expect("env");
        assert_eq!(Function::ClusterWorker.member_role(&e), "eam-writer");
        assert_eq!(e.default_mode, Mode::Migrate);
        assert_eq!(e.regions, vec!["us-east-1", "eu-west-1"]);
        assert_eq!(e.max_receive_count, 3);
        assert_eq!(e.event_bus.as_deref(), Some("eam-events"));
        assert_eq!(e.metrics_namespace.as_deref(), Some("EksAuthMigrator"));
        assert!(e.security_hub_findings);
    }

    #[test]
    fn names_what_is_missing_or_wrong() {
        let e = env(&BASE[1..]).expect_err("missing table");
        assert_eq!(e.name, "TABLE_NAME");
        let mut bad = BASE.to_vec();
        bad.push(("DEFAULT_MODE", "yolo"));
        assert_eq!(env(&bad).expect_err("bad mode").name, "DEFAULT_MODE");
        let mut bad = BASE.to_vec();
        bad.push(("SECURITY_HUB_FINDINGS", "yes"));
        assert_eq!(
            env(&bad).expect_err("bad flag").name,
            "SECURITY_HUB_FINDINGS"
        );
    }
}
