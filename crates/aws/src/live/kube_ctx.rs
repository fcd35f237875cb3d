//! The cluster a Kubernetes API call is for, and how each way such a call can fail is worded:
//! with the cluster, its account and region, the route taken and what to do.

use super::eks::ClusterInfo;
use super::error::{AgentFailed, GatherError, KubeDenied, KubeStatus, Refused, Unreachable};
use super::target::Target;
use crate::route::NoRoute;
use crate::route::agent_client::{AgentClient, CallError, outcome_name};
use eks_auth_core::agent_protocol::{AgentCluster, Failure, FailureReason, Outcome};
use eks_auth_core::reach::{self, ClusterPlace, ClusterReach, DirectVia, ReachClass, Route};
use eks_auth_kube::ClusterEndpoint;
use eks_auth_kube::ids::{ClusterName, Region};

/// The cluster a call is for, as errors name it.
pub(crate) struct KubeCtx<'a> {
    pub(crate) cluster: &'a ClusterName,
    pub(crate) region: &'a Region,
    pub(crate) info: &'a ClusterInfo,
    pub(crate) reach: &'a ClusterReach,
}

/// A refusal (401/403) as the API, or the agent for it, reported it.
pub(crate) struct Refusal {
    pub(crate) code: u16,
    pub(crate) status_reason: String,
    pub(crate) message: String,
}

impl<'a> KubeCtx<'a> {
    /// Calls to `target`'s API reached as `reach` says.
    pub(crate) fn new(target: &'a Target, reach: &'a ClusterReach) -> Self {
        Self {
            cluster: &target.cluster,
            region: &target.region,
            info: &target.info,
            reach,
        }
    }
}

impl KubeCtx<'_> {
    fn place(&self) -> ClusterPlace<'_> {
        ClusterPlace {
            account: &self.info.account,
            region: self.region.as_ref(),
            name: self.cluster.as_ref(),
        }
    }

    /// Where the API listens and the CA it presents.
    pub(crate) fn endpoint(&self) -> ClusterEndpoint<'_> {
        ClusterEndpoint {
            url: &self.info.endpoint,
            ca_data: &self.info.ca_data,
        }
    }

    /// The cluster as the agent protocol names it.
    pub(crate) fn agent_cluster(&self) -> AgentCluster {
        AgentCluster {
            name: self.cluster.to_string(),
            region: self.region.to_string(),
            endpoint: self.info.endpoint.clone(),
            certificate_authority: self.info.ca_data.clone(),
            arn: Some(format!(
                "arn:{}:eks:{}:{}:cluster/{}",
                self.info.partition, self.region, self.info.account, self.cluster
            )),
        }
    }

    /// The API refused `refused` to `caller`.
    pub(crate) fn denied(
        &self,
        refused: Refused,
        refusal: Refusal,
        caller: String,
    ) -> Box<KubeDenied> {
        Box::new(KubeDenied {
            refused,
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            code: refusal.code,
            status_reason: refusal.status_reason,
            message: refusal.message,
            caller,
        })
    }

    /// A call that reached nothing: the endpoint, and what the reachability says to do.
    pub(crate) fn unreachable(&self, reason: String) -> GatherError {
        let r = &self.reach.reachability;
        let hint = match (&self.reach.route, r.class) {
            (Route::Direct { via: DirectVia::HubVpc }, _) => format!(
                "The migrator reaches {} through its hub VPC: check the route to it, DNS resolution of the private endpoint and HTTPS 443 into the cluster security group (docs/networking.md)",
                r.vpc_id.as_deref().unwrap_or("the cluster's VPC")
            ),
            (_, ReachClass::Public) => "If the endpoint is not reachable from where the migrator runs (a firewall, a private endpoint), run the migrator inside its VPC or deploy the in-VPC agent (docs/networking.md)".to_owned(),
            (_, class) => format!(
                "The cluster has a {}: {}",
                class.describe(),
                reach::what_to_deploy(r, self.place())
            ),
        };
        GatherError::KubeUnreachable {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            endpoint: self.info.endpoint.clone(),
            reason: format!("{reason}. {hint}"),
        }
    }

    /// The API answered `code` (neither a refusal nor what the call expects).
    pub(crate) fn api(&self, code: u16, status_reason: String, message: String) -> GatherError {
        GatherError::KubeApi(Box::new(KubeStatus {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            code,
            status_reason,
            message,
        }))
    }

    /// No client could be built from the endpoint and CA.
    pub(crate) fn config(&self, reason: String) -> GatherError {
        GatherError::KubeConfig {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            reason,
        }
    }

    fn agent_failed(&self, agent: &AgentClient, reason: String) -> GatherError {
        GatherError::Agent(Box::new(AgentFailed {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            function: agent.function().to_owned(),
            reason,
        }))
    }

    /// The agent does not exist: the cluster is unreachable until it is deployed.
    fn agent_missing(&self, agent: &AgentClient, reason: &str) -> GatherError {
        let what = format!(
            "no agent function {} exists in account {}, region {} ({reason}); {}",
            agent.function(),
            self.info.account,
            self.region,
            reach::what_to_deploy(&self.reach.reachability, self.place())
        );
        self.blocked_by_agent(what)
    }

    /// The agent the route names is missing or not the one pinned: the cluster is blocked with
    /// `finding` (what to deploy, or what was found and what to pin), and nothing is sent to the
    /// function.
    fn blocked_by_agent(&self, finding: String) -> GatherError {
        let no_route = NoRoute::new(self.reach.reachability.clone(), finding);
        GatherError::Unreachable(Box::new(Unreachable {
            cluster: self.cluster.to_string(),
            account: self.info.account.clone(),
            region: self.region.to_string(),
            reach: no_route.reach,
            reason: no_route.reason,
        }))
    }

    /// A failure an agent reported that is not the API's refusal.
    pub(crate) fn agent_failure(&self, agent: &AgentClient, f: &Failure) -> GatherError {
        match (f.reason, f.code) {
            (FailureReason::ApiError, Some(code)) => self.api(
                code,
                f.status_reason.clone().unwrap_or_default(),
                f.message.clone(),
            ),
            (FailureReason::Unreachable, _) => self.unreachable(format!(
                "the agent {} could not reach it either: {}",
                agent.function(),
                f.message
            )),
            _ => self.agent_failed(
                agent,
                format!("it reported {}: {}", wire_name(f.reason), f.message),
            ),
        }
    }

    /// The agent's refusal of `refused`, run as the agent's role.
    pub(crate) fn agent_denied(
        &self,
        refused: Refused,
        agent: &AgentClient,
        f: Failure,
    ) -> Box<KubeDenied> {
        let caller = format!(
            "{} (the in-VPC agent {})",
            f.agent_principal.as_deref().unwrap_or("the agent's role"),
            agent.function()
        );
        let refusal = Refusal {
            code: f.code.unwrap_or(403),
            status_reason: f.status_reason.unwrap_or_else(|| "Forbidden".to_owned()),
            message: f.message,
        };
        self.denied(refused, refusal, caller)
    }

    /// The agent answered `outcome`, which does not answer `operation`.
    pub(crate) fn unexpected(
        &self,
        agent: &AgentClient,
        operation: &str,
        outcome: &Outcome,
    ) -> GatherError {
        self.agent_failed(
            agent,
            format!("it answered `{}` to {operation}", outcome_name(outcome)),
        )
    }

    /// The agent gave no outcome.
    pub(crate) fn call_failed(&self, agent: &AgentClient, e: CallError) -> GatherError {
        match e {
            CallError::Missing(reason) => self.agent_missing(agent, &reason),
            CallError::Failed(reason) => self.agent_failed(agent, reason),
            CallError::Untrusted(finding) => self.blocked_by_agent(finding),
        }
    }
}

/// An agent's failure reason as the protocol names it (`invalid_request`).
fn wire_name(reason: FailureReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "an unnamed failure".to_owned())
}
