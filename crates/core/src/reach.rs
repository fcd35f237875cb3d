//! Reachability of a cluster's Kubernetes API, as a fact and a decision (docs/networking.md).
//!
//! Reading and pruning aws-auth needs the cluster's Kubernetes API. DescribeCluster's
//! `resourcesVpcConfig` says where that API listens: a public endpoint open to the internet, a
//! public endpoint restricted to some CIDR blocks, and/or a private endpoint inside the
//! cluster's VPC. [`classify`] turns those fields ([`EndpointAccess`]) into a
//! [`Reachability`]: its [`ReachClass`] and, for a restricted endpoint, whether the migrator's
//! own egress addresses (configured, never guessed) fall inside the allowed blocks. [`route`]
//! then decides how the migrator talks to that API ([`Route`]): directly (from wherever the
//! worker runs, which may be a hub VPC connected to the cluster's VPC), through the in-VPC agent
//! (infra/cluster-agent.yaml), or not at all — with what to deploy so that it can.
//!
//! Pure data and pure functions: the adapters read DescribeCluster and the configuration
//! document; nothing here does I/O.

use crate::agent_pin::{AgentRef, deserialize_agents, validate_pin};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The name every agent function starts with (infra/cluster-agent.yaml); the member role may
/// invoke only functions with this prefix in its own account.
pub const AGENT_FUNCTION_PREFIX: &str = "eks-auth-migrator-agent-";

/// Default of [`NetworkConfig::agent_timeout_seconds`].
pub const DEFAULT_AGENT_TIMEOUT_SECONDS: u64 = 30;

/// The endpoint fields of DescribeCluster's `resourcesVpcConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointAccess {
    /// `endpointPublicAccess`.
    pub public_access: bool,
    /// `endpointPrivateAccess`.
    pub private_access: bool,
    /// `publicAccessCidrs` (EKS reports `0.0.0.0/0` when the public endpoint is unrestricted).
    #[serde(default)]
    pub public_access_cidrs: Vec<String>,
    /// `vpcId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// `subnetIds`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    /// `clusterSecurityGroupId`: the security group a hub or an agent needs HTTPS (443) into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_security_group_id: Option<String>,
}

/// Where a cluster's Kubernetes API can be reached from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReachClass {
    /// A public endpoint open to every address (`0.0.0.0/0`).
    Public,
    /// A public endpoint open only to `publicAccessCidrs`.
    PublicRestricted,
    /// Only the private endpoint, inside the cluster's VPC.
    PrivateOnly,
}

impl ReachClass {
    /// Every class, in the order reports list them.
    pub const ALL: [ReachClass; 3] = [
        ReachClass::Public,
        ReachClass::PublicRestricted,
        ReachClass::PrivateOnly,
    ];

    /// The wire name (`public`, `public_restricted`, `private_only`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReachClass::Public => "public",
            ReachClass::PublicRestricted => "public_restricted",
            ReachClass::PrivateOnly => "private_only",
        }
    }

    /// A few words for a person.
    pub fn describe(self) -> &'static str {
        match self {
            ReachClass::Public => "public endpoint",
            ReachClass::PublicRestricted => "public endpoint restricted to CIDRs",
            ReachClass::PrivateOnly => "private endpoint only",
        }
    }
}

/// Whether the migrator's egress addresses are inside a restricted endpoint's CIDR blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EgressFit {
    /// Every configured egress block lies inside an allowed block.
    Inside,
    /// At least one configured egress block does not.
    Outside,
    /// No egress addresses are configured (`network.egress_cidrs`).
    Unknown,
}

/// A cluster's reachability: its class and the facts a person needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reachability {
    /// The class.
    pub class: ReachClass,
    /// Whether the private endpoint is enabled (an agent in the VPC, or a hub VPC routed to
    /// it, can use it).
    pub private_access: bool,
    /// The cluster's VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// The cluster security group (HTTPS 443 into it is what a hub or an agent needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_security_group_id: Option<String>,
    /// The allowed blocks of a restricted public endpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_access_cidrs: Vec<String>,
    /// For a restricted public endpoint: whether the migrator's egress addresses are inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<EgressFit>,
}

/// The configuration document's `network` section (docs/configuration.md): where the worker
/// runs from and which agents it may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The public addresses the worker's traffic leaves from (a hub VPC's NAT gateways), as
    /// CIDR blocks; empty: unknown (a worker outside any VPC has no fixed address).
    #[serde(default)]
    pub egress_cidrs: Vec<String>,
    /// Cluster VPCs the worker reaches privately from its hub VPC (Transit Gateway or peering,
    /// DNS resolution of the private endpoints, HTTPS 443 into the cluster security group).
    #[serde(default)]
    pub hub_vpcs: Vec<String>,
    /// Agents by cluster VPC: VPC ID → the agent pinned ([`crate::agent_pin`]: its function's
    /// ARN in the cluster's account and region, starting with [`AGENT_FUNCTION_PREFIX`], and
    /// its code digest). An agent named without a pin is not trusted: the cluster is blocked
    /// with what to pin.
    #[serde(default, deserialize_with = "deserialize_agents")]
    pub agents: BTreeMap<String, AgentRef>,
    /// For a VPC `agents` does not list, use the agent infra/cluster-agent.yaml names after it,
    /// `eks-auth-migrator-agent-<vpc id>`, in the cluster's account and region, if it exists —
    /// whatever its code (weaker than pinning: docs/networking.md). Off unless set.
    #[serde(default)]
    pub discover_agents: bool,
    /// How long the worker waits for an agent's answer.
    #[serde(default = "default_agent_timeout")]
    pub agent_timeout_seconds: u64,
}

fn default_agent_timeout() -> u64 {
    DEFAULT_AGENT_TIMEOUT_SECONDS
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            egress_cidrs: Vec::new(),
            hub_vpcs: Vec::new(),
            agents: BTreeMap::new(),
            discover_agents: false,
            agent_timeout_seconds: DEFAULT_AGENT_TIMEOUT_SECONDS,
        }
    }
}

impl NetworkConfig {
    /// Checks every field; the error names the field (`network.agents.vpc-1`) and what to do.
    ///
    /// # Errors
    ///
    /// `(path, message)` for a block that is not a CIDR, a VPC ID that is not one, an agent
    /// whose name does not start with [`AGENT_FUNCTION_PREFIX`] or whose pin is not valid, a
    /// zero or over-15-minute timeout.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, block) in self.egress_cidrs.iter().enumerate() {
            Cidr::parse(block).map_err(|e| (format!("network.egress_cidrs[{i}]"), e))?;
        }
        for (i, vpc) in self.hub_vpcs.iter().enumerate() {
            if !is_vpc_id(vpc) {
                return Err((
                    format!("network.hub_vpcs[{i}]"),
                    format!("`{vpc}` is not a VPC ID (like vpc-0123456789abcdef0)"),
                ));
            }
        }
        for (vpc, agent) in &self.agents {
            let function = agent.function();
            let path = format!("network.agents.{vpc}");
            if !is_vpc_id(vpc) {
                return Err((
                    path,
                    format!("`{vpc}` is not a VPC ID (like vpc-0123456789abcdef0)"),
                ));
            }
            if !function_name(function).starts_with(AGENT_FUNCTION_PREFIX) {
                return Err((
                    path,
                    format!(
                        "`{function}` does not start with {AGENT_FUNCTION_PREFIX}: the member role may invoke only functions named so (infra/member-role.yaml)"
                    ),
                ));
            }
            if let Some(pin) = agent.pin() {
                validate_pin(pin)
                    .map_err(|(field, message)| (format!("{path}.{field}"), message))?;
            }
        }
        if !(1..=900).contains(&self.agent_timeout_seconds) {
            return Err((
                "network.agent_timeout_seconds".to_owned(),
                format!(
                    "is {}; it must be between 1 and 900 seconds (Lambda's longest run)",
                    self.agent_timeout_seconds
                ),
            ));
        }
        Ok(())
    }
}

/// A cluster's reachability and the route the migrator took to its Kubernetes API: what a live
/// plan, the cluster record and `status` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterReach {
    /// Where the API can be reached from.
    pub reachability: Reachability,
    /// How the migrator reached it (or why it could not).
    pub route: Route,
}

/// How the migrator talks to a cluster's Kubernetes API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Route {
    /// From where the worker runs.
    Direct {
        /// Why this works.
        via: DirectVia,
    },
    /// Through the in-VPC agent, a Lambda function in the cluster's account and region,
    /// invoked synchronously.
    Agent {
        /// The function's name or ARN.
        function: String,
        /// Whether the configuration names it or it is looked for by its conventional name.
        source: AgentSource,
    },
    /// Not at all, until something is deployed: the reason says what.
    Unreachable {
        /// Why, and what to deploy.
        reason: String,
    },
}

/// Why the direct route works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectVia {
    /// The public endpoint is open to every address.
    PublicEndpoint,
    /// The migrator's egress addresses are inside the allowed blocks.
    AllowedEgress,
    /// The worker's hub VPC reaches the cluster's VPC (`network.hub_vpcs`).
    HubVpc,
    /// The endpoint is restricted and the migrator's egress addresses are not configured: the
    /// connection is tried, and its failure says what to do.
    Unverified,
    /// The caller chose the direct route (the CLI: the operator's own network, VPN included).
    Chosen,
}

/// Where an agent's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentSource {
    /// `network.agents` names it (pinned or not) for the cluster's VPC.
    Configured,
    /// Its conventional name (`network.discover_agents`); it may not exist, and its code is not
    /// pinned.
    Discovered,
}

impl Route {
    /// One line for logs, status, reports and audit records: `direct`, `direct (hub VPC)`,
    /// `agent eks-auth-migrator-agent-vpc-1`, `unreachable`.
    pub fn label(&self) -> String {
        match self {
            Route::Direct { via } => match via {
                DirectVia::PublicEndpoint | DirectVia::Chosen => "direct",
                DirectVia::AllowedEgress => "direct (egress allowed)",
                DirectVia::HubVpc => "direct (hub VPC)",
                DirectVia::Unverified => "direct (egress not configured)",
            }
            .to_owned(),
            Route::Agent { function, .. } => format!("agent {function}"),
            Route::Unreachable { .. } => "unreachable".to_owned(),
        }
    }
}

/// Which cluster a route is for (names in what-to-deploy sentences).
#[derive(Debug, Clone, Copy)]
pub struct ClusterPlace<'a> {
    /// The cluster's account.
    pub account: &'a str,
    /// Its region.
    pub region: &'a str,
    /// Its name.
    pub name: &'a str,
}

/// Classifies a cluster's endpoint access; `egress_cidrs` are the migrator's configured egress
/// blocks (unparseable ones are ignored: the configuration document is validated on load).
pub fn classify(access: &EndpointAccess, egress_cidrs: &[String]) -> Reachability {
    let allowed: Vec<Cidr> = if access.public_access_cidrs.is_empty() {
        vec![Cidr::everything_v4()]
    } else {
        access
            .public_access_cidrs
            .iter()
            .filter_map(|c| Cidr::parse(c).ok())
            .collect()
    };
    let open = allowed.iter().any(Cidr::is_everything);
    let class = match (access.public_access, open) {
        (true, true) => ReachClass::Public,
        (true, false) => ReachClass::PublicRestricted,
        (false, _) => ReachClass::PrivateOnly,
    };
    let egress = (class == ReachClass::PublicRestricted).then(|| {
        let egress: Vec<Cidr> = egress_cidrs
            .iter()
            .filter_map(|c| Cidr::parse(c).ok())
            .collect();
        if egress.is_empty() {
            EgressFit::Unknown
        } else if egress.iter().all(|e| allowed.iter().any(|a| a.contains(e))) {
            EgressFit::Inside
        } else {
            EgressFit::Outside
        }
    });
    Reachability {
        class,
        private_access: access.private_access,
        vpc_id: access.vpc_id.clone(),
        cluster_security_group_id: access.cluster_security_group_id.clone(),
        public_access_cidrs: if class == ReachClass::PublicRestricted {
            access.public_access_cidrs.clone()
        } else {
            Vec::new()
        },
        egress,
    }
}

/// The route to a cluster of reachability `reach`, under `network`.
///
/// In order: a public endpoint open to all, or a restricted one the migrator's egress is
/// allowed into, is reached directly; a cluster whose private endpoint is on is reached through
/// the hub VPC when `network.hub_vpcs` lists its VPC, else through the agent `network.agents`
/// names for its VPC, else through the conventionally named agent (`discover_agents`); a
/// restricted endpoint whose egress fit is unknown is tried directly; anything else is
/// unreachable, with what to deploy.
pub fn route(reach: &Reachability, place: ClusterPlace<'_>, network: &NetworkConfig) -> Route {
    match (reach.class, reach.egress) {
        (ReachClass::Public, _) => {
            return Route::Direct {
                via: DirectVia::PublicEndpoint,
            };
        }
        (ReachClass::PublicRestricted, Some(EgressFit::Inside)) => {
            return Route::Direct {
                via: DirectVia::AllowedEgress,
            };
        }
        _ => {}
    }
    if reach.private_access
        && let Some(vpc) = &reach.vpc_id
    {
        if network.hub_vpcs.iter().any(|h| h == vpc) {
            return Route::Direct {
                via: DirectVia::HubVpc,
            };
        }
        if let Some(agent) = network.agents.get(vpc) {
            return Route::Agent {
                function: agent.function().to_owned(),
                source: AgentSource::Configured,
            };
        }
        if network.discover_agents {
            return Route::Agent {
                function: agent_function_name(vpc),
                source: AgentSource::Discovered,
            };
        }
    }
    if reach.class == ReachClass::PublicRestricted && reach.egress == Some(EgressFit::Unknown) {
        return Route::Direct {
            via: DirectVia::Unverified,
        };
    }
    Route::Unreachable {
        reason: what_to_deploy(reach, place),
    }
}

/// The conventional name of the agent for `vpc_id`: `eks-auth-migrator-agent-<vpc id>`.
pub fn agent_function_name(vpc_id: &str) -> String {
    format!("{AGENT_FUNCTION_PREFIX}{vpc_id}")
}

/// What a person deploys so that the migrator reaches a cluster it cannot reach now; empty for a
/// public endpoint open to all.
pub fn what_to_deploy(reach: &Reachability, place: ClusterPlace<'_>) -> String {
    let ClusterPlace {
        account,
        region,
        name,
    } = place;
    let vpc = reach.vpc_id.as_deref().unwrap_or("its VPC");
    let agent = format!(
        "deploy the in-VPC agent (infra/cluster-agent.yaml) to account {account}, region {region}, VPC {vpc}: it creates the function {}",
        agent_function_name(vpc)
    );
    let hub = format!(
        "or run cluster-worker in a hub VPC routed to {vpc} (template.yaml HubSubnetIds and HubSecurityGroupIds; HTTPS 443 into the cluster security group{}; DNS of the private endpoint) and list {vpc} in network.hub_vpcs",
        reach
            .cluster_security_group_id
            .as_deref()
            .map(|g| format!(" {g}"))
            .unwrap_or_default()
    );
    match (reach.class, reach.private_access) {
        (ReachClass::Public, _) => String::new(),
        (ReachClass::PrivateOnly, _) => format!(
            "cluster `{name}` has only a private Kubernetes API endpoint (in {vpc}): {agent}, {hub}"
        ),
        (ReachClass::PublicRestricted, true) => format!(
            "cluster `{name}`'s public endpoint admits only {} and the migrator's egress addresses are not all inside: add them (network.egress_cidrs) to publicAccessCidrs, or {agent}, {hub}",
            reach.public_access_cidrs.join(", ")
        ),
        (ReachClass::PublicRestricted, false) => format!(
            "cluster `{name}`'s public endpoint admits only {} and the migrator's egress addresses are not all inside, and its private endpoint is off: add the egress addresses (network.egress_cidrs) to publicAccessCidrs, or enable endpointPrivateAccess and {agent}",
            reach.public_access_cidrs.join(", ")
        ),
    }
}

/// True for `vpc-` followed by 8 or 17 lower-case hex digits (what EC2 hands out), or any
/// other lower-case alphanumeric suffix of 1–32 characters (simulated and older IDs).
pub fn is_vpc_id(s: &str) -> bool {
    s.strip_prefix("vpc-").is_some_and(|rest| {
        (1..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// The function name of a name or ARN (`arn:aws:lambda:R:A:function:NAME[:QUALIFIER]`).
fn function_name(function: &str) -> &str {
    match function.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name,
        _ => function,
    }
}

/// An IPv4 or IPv6 block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    base: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn everything_v4() -> Self {
        Self {
            base: IpAddr::from([0, 0, 0, 0]),
            prefix: 0,
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a CIDR block (like 203.0.113.0/24)");
        let (addr, prefix) = text.trim().split_once('/').ok_or_else(bad)?;
        let base: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { base, prefix })
    }

    fn is_everything(&self) -> bool {
        self.prefix == 0
    }

    /// The address as a 128-bit number and its width.
    fn bits(addr: IpAddr) -> (u128, u8) {
        match addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    }

    /// Whether `inner` lies wholly inside this block (same family).
    fn contains(&self, inner: &Cidr) -> bool {
        let (outer_bits, width) = Self::bits(self.base);
        let (inner_bits, inner_width) = Self::bits(inner.base);
        if width != inner_width || inner.prefix < self.prefix {
            return false;
        }
        let shift = u32::from(width - self.prefix);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        (outer_bits & mask) == (inner_bits & mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(public: bool, private: bool, cidrs: &[&str]) -> EndpointAccess {
        EndpointAccess {
            public_access: public,
            private_access: private,
            public_access_cidrs: cidrs.iter().map(|c| (*c).to_owned()).collect(),
            vpc_id: Some("vpc-0a1".to_owned()),
            subnet_ids: vec!["subnet-1".to_owned()],
            cluster_security_group_id: Some("sg-1".to_owned()),
        }
    }

    const PLACE: ClusterPlace<'static> = ClusterPlace {
        account: "111122223333",
        region: "eu-west-1",
        name: "prod",
    };

    #[test]
    fn classes_follow_resources_vpc_config() {
        let c = |a: &EndpointAccess| classify(a, &[]).class;
        assert_eq!(c(&access(true, false, &["0.0.0.0/0"])), ReachClass::Public);
        assert_eq!(c(&access(true, true, &[])), ReachClass::Public);
        assert_eq!(
            c(&access(true, true, &["203.0.113.0/24"])),
            ReachClass::PublicRestricted
        );
        assert_eq!(c(&access(false, true, &[])), ReachClass::PrivateOnly);
        // EKS keeps reporting 0.0.0.0/0 with the public endpoint off: still private only.
        assert_eq!(
            c(&access(false, true, &["0.0.0.0/0"])),
            ReachClass::PrivateOnly
        );
    }

    #[test]
    fn egress_is_inside_only_when_every_block_is() {
        let a = access(true, false, &["203.0.113.0/24", "198.51.100.7/32"]);
        let fit = |egress: &[&str]| {
            classify(
                &a,
                &egress.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>(),
            )
            .egress
        };
        assert_eq!(fit(&[]), Some(EgressFit::Unknown));
        assert_eq!(
            fit(&["203.0.113.9/32", "198.51.100.7/32"]),
            Some(EgressFit::Inside)
        );
        assert_eq!(
            fit(&["203.0.113.9/32", "198.51.100.8/32"]),
            Some(EgressFit::Outside)
        );
        assert_eq!(fit(&["203.0.112.0/23"]), Some(EgressFit::Outside));
        assert_eq!(fit(&["2001:db8::1/128"]), Some(EgressFit::Outside));
        assert_eq!(
            classify(
                &access(true, false, &["0.0.0.0/0"]),
                &["203.0.113.9/32".to_owned()]
            )
            .egress,
            None
        );
    }

    #[test]
    fn routes_in_order_of_preference() {
        let network = NetworkConfig {
            discover_agents: true,
            ..NetworkConfig::default()
        };
        let public = classify(&access(true, true, &["0.0.0.0/0"]), &[]);
        assert_eq!(
            route(&public, PLACE, &network),
            Route::Direct {
                via: DirectVia::PublicEndpoint
            }
        );
        let allowed = classify(
            &access(true, true, &["203.0.113.0/24"]),
            &["203.0.113.9/32".to_owned()],
        );
        assert_eq!(
            route(&allowed, PLACE, &network),
            Route::Direct {
                via: DirectVia::AllowedEgress
            }
        );
        let private = classify(&access(false, true, &[]), &[]);
        assert_eq!(
            route(&private, PLACE, &network),
            Route::Agent {
                function: "eks-auth-migrator-agent-vpc-0a1".to_owned(),
                source: AgentSource::Discovered
            }
        );
        let mut mapped = network.clone();
        mapped.agents.insert(
            "vpc-0a1".to_owned(),
            AgentRef::Named("eks-auth-migrator-agent-shared".to_owned()),
        );
        assert_eq!(
            route(&private, PLACE, &mapped),
            Route::Agent {
                function: "eks-auth-migrator-agent-shared".to_owned(),
                source: AgentSource::Configured
            }
        );
        let mut hub = mapped.clone();
        hub.hub_vpcs.push("vpc-0a1".to_owned());
        assert_eq!(
            route(&private, PLACE, &hub),
            Route::Direct {
                via: DirectVia::HubVpc
            }
        );
        let unknown = classify(&access(true, false, &["203.0.113.0/24"]), &[]);
        assert_eq!(
            route(&unknown, PLACE, &network),
            Route::Direct {
                via: DirectVia::Unverified
            }
        );
        // Discovery is off unless set: a private cluster whose VPC no agent is pinned for is
        // unreachable.
        assert!(matches!(
            route(&private, PLACE, &NetworkConfig::default()),
            Route::Unreachable { .. }
        ));
    }

    #[test]
    fn unreachable_says_what_to_deploy() {
        let network = NetworkConfig {
            discover_agents: false,
            ..NetworkConfig::default()
        };
        let private = classify(&access(false, true, &[]), &[]);
        let Route::Unreachable { reason } = route(&private, PLACE, &network) else {
            panic!("a private cluster without an agent or hub is unreachable")
        };
        for needle in [
            "only a private",
            "infra/cluster-agent.yaml",
            "account 111122223333, region eu-west-1, VPC vpc-0a1",
            "eks-auth-migrator-agent-vpc-0a1",
            "hub VPC",
            "sg-1",
        ] {
            assert!(reason.contains(needle), "{needle}: {reason}");
        }
        let fenced = classify(
            &access(true, false, &["203.0.113.0/24"]),
            &["198.51.100.1/32".to_owned()],
        );
        let Route::Unreachable { reason } = route(&fenced, PLACE, &NetworkConfig::default()) else {
            panic!("no private endpoint, egress outside: unreachable")
        };
        assert!(reason.contains("enable endpointPrivateAccess"), "{reason}");
        assert!(reason.contains("203.0.113.0/24"), "{reason}");
        assert!(what_to_deploy(&classify(&access(true, true, &[]), &[]), PLACE).is_empty());
    }

    #[test]
    fn network_config_is_validated_field_by_field() {
        let ok = NetworkConfig {
            egress_cidrs: vec!["203.0.113.0/24".to_owned()],
            hub_vpcs: vec!["vpc-0123456789abcdef0".to_owned()],
            agents: BTreeMap::from([(
                "vpc-1".to_owned(),
                AgentRef::Pinned(crate::agent_pin::AgentPin {
                    function:
                        "arn:aws:lambda:eu-west-1:111122223333:function:eks-auth-migrator-agent-x"
                            .to_owned(),
                    code_sha256: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".to_owned(),
                    role: None,
                }),
            )]),
            ..NetworkConfig::default()
        };
        assert_eq!(ok.validate(), Ok(()));
        let bad = |n: NetworkConfig| n.validate().expect_err("invalid").0;
        assert_eq!(
            bad(NetworkConfig {
                egress_cidrs: vec!["203.0.113.0".to_owned()],
                ..ok.clone()
            }),
            "network.egress_cidrs[0]"
        );
        assert_eq!(
            bad(NetworkConfig {
                hub_vpcs: vec!["subnet-1".to_owned()],
                ..ok.clone()
            }),
            "network.hub_vpcs[0]"
        );
        assert_eq!(
            bad(NetworkConfig {
                agents: BTreeMap::from([(
                    "vpc-1".to_owned(),
                    AgentRef::Named("my-function".to_owned())
                )]),
                ..ok.clone()
            }),
            "network.agents.vpc-1"
        );
        let mut bad_pin = ok.clone();
        if let Some(AgentRef::Pinned(pin)) = bad_pin.agents.get_mut("vpc-1") {
            pin.code_sha256 = "abc".to_owned();
        }
        assert_eq!(bad(bad_pin), "network.agents.vpc-1.code_sha256");
        assert_eq!(
            bad(NetworkConfig {
                agent_timeout_seconds: 0,
                ..ok
            }),
            "network.agent_timeout_seconds"
        );
    }

    #[test]
    fn cidr_containment() {
        let p = |s: &str| Cidr::parse(s).expect("cidr");
        assert!(p("10.0.0.0/8").contains(&p("10.1.2.3/32")));
        assert!(!p("10.0.0.0/8").contains(&p("11.0.0.0/32")));
        assert!(p("0.0.0.0/0").contains(&p("192.0.2.0/24")));
        assert!(!p("192.0.2.0/25").contains(&p("192.0.2.0/24")));
        assert!(p("2001:db8::/32").contains(&p("2001:db8:1::/48")));
        assert!(!p("10.0.0.0/8").contains(&p("2001:db8::/32")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope/8").is_err());
    }
}
