//! The route to a cluster's Kubernetes API (docs/networking.md): directly from where this
//! process runs (the internet, a hub VPC routed to the cluster's VPC, an operator's VPN), or
//! through the in-VPC agent (functions/cluster-agent) in the cluster's account, invoked through
//! the member role. [`choose`] applies `eks_auth_core::reach` to what DescribeCluster said;
//! `live` then reads and writes through the chosen [`Via`], so the engine's logic does not
//! depend on the route.

pub(crate) mod agent_client;
mod agent_trust;
pub mod signer;

use agent_client::AgentClient;
use agent_trust::Trust;
use eks_auth_core::agent_pin::Expected;
use eks_auth_core::reach::{
    self, AgentSource, ClusterPlace, ClusterReach, DirectVia, EndpointAccess, NetworkConfig, Route,
};
use signer::AgentSigner;
use std::time::Duration;

/// How a gather picks its route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RoutePolicy {
    /// Always directly (the CLI: the operator's own network, a VPN or a bastion included).
    #[default]
    Direct,
    /// From the cluster's reachability and the configuration document's `network` section (the
    /// functions).
    ByReachability(NetworkConfig),
}

/// The route chosen for one cluster, ready to use.
pub(crate) struct Access {
    /// The reachability fact and the route, as recorded.
    pub(crate) reach: ClusterReach,
    /// How calls are made.
    pub(crate) via: Via,
}

/// How calls to the Kubernetes API are made.
pub(crate) enum Via {
    /// From this process, with a token signed from its configuration's credentials.
    Direct,
    /// Through an agent function.
    Agent(Box<AgentClient>),
}

/// Why there is no route: the fact, and what to deploy.
#[derive(Debug, Clone)]
pub(crate) struct NoRoute {
    /// The reachability and [`Route::Unreachable`].
    pub(crate) reach: ClusterReach,
    /// What to deploy.
    pub(crate) reason: String,
}

impl NoRoute {
    /// No route for `reachability`, because `reason`.
    pub(crate) fn new(reachability: reach::Reachability, reason: String) -> Self {
        Self {
            reach: ClusterReach {
                reachability,
                route: Route::Unreachable {
                    reason: reason.clone(),
                },
            },
            reason,
        }
    }
}

/// What the worker expects of the agent of the cluster's VPC: the pin `network.agents` gives
/// it, or how the route came by it.
fn trust(access: &EndpointAccess, source: AgentSource, policy: &RoutePolicy) -> Trust {
    let vpc = access.vpc_id.clone().unwrap_or_default();
    let expected = match (source, policy) {
        (AgentSource::Discovered, _) => Expected::Discovered,
        (AgentSource::Configured, RoutePolicy::ByReachability(network)) => network
            .agents
            .get(&vpc)
            .and_then(|agent| agent.pin().cloned())
            .map_or(Expected::Named, Expected::Pinned),
        (AgentSource::Configured, RoutePolicy::Direct) => Expected::Named,
    };
    Trust { vpc, expected }
}

/// Chooses the route to the cluster at `place` whose endpoint access is `access`; agents are
/// invoked with `config` (the member role's configuration in the cluster's account and region)
/// and their requests signed with `signer`.
pub(crate) fn choose(
    config: &aws_config::SdkConfig,
    place: ClusterPlace<'_>,
    access: &EndpointAccess,
    policy: &RoutePolicy,
    signer: Option<&AgentSigner>,
) -> Result<Access, Box<NoRoute>> {
    let (reachability, route, timeout) = match policy {
        RoutePolicy::Direct => (
            reach::classify(access, &[]),
            Route::Direct {
                via: DirectVia::Chosen,
            },
            Duration::ZERO,
        ),
        RoutePolicy::ByReachability(network) => {
            let reachability = reach::classify(access, &network.egress_cidrs);
            let route = reach::route(&reachability, place, network);
            (
                reachability,
                route,
                Duration::from_secs(network.agent_timeout_seconds),
            )
        }
    };
    let via = match &route {
        Route::Direct { .. } => Via::Direct,
        Route::Agent { function, source } => {
            let trust = trust(access, *source, policy);
            Via::Agent(Box::new(AgentClient::new(
                config,
                function,
                timeout,
                signer.cloned(),
                trust,
            )))
        }
        Route::Unreachable { reason } => {
            return Err(Box::new(NoRoute::new(reachability, reason.clone())));
        }
    };
    Ok(Access {
        reach: ClusterReach {
            reachability,
            route,
        },
        via,
    })
}
