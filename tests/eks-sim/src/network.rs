//! Where a cluster's Kubernetes API can be reached from.
//!
//! Every cluster's API has a listener on 127.0.0.1 — its endpoint as DescribeCluster reports it
//! — which stands for the view from outside the cluster's VPC: like EKS's public endpoint, it
//! admits a connection only when `endpointPublicAccess` is on and the peer's address lies in
//! `publicAccessCidrs`; a private-only endpoint, or an address outside the blocks, gets its
//! connection closed before TLS (on EKS such packets are dropped).
//!
//! Being inside a VPC is being connected to its **gateway**: one HTTP CONNECT listener per VPC
//! ([`vpc_gateway`]), which a process in the VPC — the in-VPC agent, given the gateway as its
//! `KUBE_API_PROXY` — sends its connections through. The gateway serves the API of a cluster of
//! its own VPC whose private endpoint is on (`CONNECT 127.0.0.1:PORT` naming that cluster's
//! endpoint), whatever the public side says, and refuses everything else with 403. Nothing else
//! reaches a private-only endpoint.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::model::ClusterKey;
use crate::server::{Shared, SimError, lock};

/// The VPC gateways started so far: VPC ID → (proxy URL, listener task).
#[derive(Debug, Default)]
pub struct Gateways {
    by_vpc: BTreeMap<String, (String, tokio::task::AbortHandle)>,
}

impl Gateways {
    /// Stops every gateway (the simulator is going away).
    pub fn abort_all(&mut self) {
        for (_, task) in std::mem::take(&mut self.by_vpc).into_values() {
            task.abort();
        }
    }
}

/// An IPv4 block (EKS's `publicAccessCidrs` are IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: u32,
    prefix: u32,
}

impl Cidr {
    /// Parses `a.b.c.d/n`.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = text.split_once('/')?;
        let base: Ipv4Addr = addr.parse().ok()?;
        let prefix: u32 = prefix.parse().ok()?;
        (prefix <= 32).then(|| Self {
            base: u32::from(base),
            prefix,
        })
    }

    /// Whether `addr` lies in the block.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let IpAddr::V4(v4) = addr else {
            return false;
        };
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        };
        (u32::from(v4) & mask) == (self.base & mask)
    }
}

/// Whether the public endpoint of `key` admits a connection from `peer`.
pub fn admitted_publicly(shared: &Shared, key: &ClusterKey, peer: IpAddr) -> bool {
    let world = lock(&shared.world);
    world.clusters.get(key).is_some_and(|c| {
        c.network.public_access
            && c.network
                .public_access_cidrs
                .iter()
                .filter_map(|b| Cidr::parse(b))
                .any(|b| b.contains(peer))
    })
}

/// The HTTP CONNECT proxy that stands for being inside `vpc_id` (`http://127.0.0.1:PORT`),
/// started on first use.
///
/// # Errors
///
/// [`SimError::Bind`] when no port can be bound.
pub fn vpc_gateway(shared: &Arc<Shared>, vpc_id: &str) -> Result<String, SimError> {
    let mut gateways = lock(&shared.gateways);
    if let Some((url, _)) = gateways.by_vpc.get(vpc_id) {
        return Ok(url.clone());
    }
    let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(SimError::Bind)?;
    std_listener.set_nonblocking(true).map_err(SimError::Bind)?;
    let port = std_listener.local_addr().map_err(SimError::Bind)?.port();
    let listener = TcpListener::from_std(std_listener).map_err(SimError::Bind)?;
    let task = tokio::spawn(serve(listener, Arc::clone(shared), vpc_id.to_owned())).abort_handle();
    let url = format!("http://127.0.0.1:{port}");
    gateways
        .by_vpc
        .insert(vpc_id.to_owned(), (url.clone(), task));
    Ok(url)
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, vpc: String) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(tunnel(stream, Arc::clone(&shared), vpc.clone()));
    }
}

/// One CONNECT: the request head, the decision, then the cluster's API over the stream.
async fn tunnel(mut stream: TcpStream, shared: Arc<Shared>, vpc: String) {
    let Some(target) = read_connect(&mut stream).await else {
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    match route(&shared, &vpc, &target) {
        Ok((key, acceptor)) => {
            if stream
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .is_ok()
            {
                crate::kube_api::serve_connection(stream, acceptor, shared, key).await;
            }
        }
        Err(why) => {
            tracing::debug!(%vpc, %target, %why, "VPC gateway refused a CONNECT");
            let body = format!("{why}\n");
            let head = format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        }
    }
}

/// The `host:port` of a `CONNECT host:port HTTP/1.1` request head (read up to its blank line).
async fn read_connect(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || stream.read_exact(&mut byte).await.is_err() {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).ok()?;
    let mut words = text.lines().next()?.split_whitespace();
    match (words.next(), words.next()) {
        (Some("CONNECT"), Some(target)) => Some(target.to_owned()),
        _ => None,
    }
}

/// The cluster of this VPC whose endpoint `target` names, if its private endpoint is on.
fn route(
    shared: &Shared,
    vpc: &str,
    target: &str,
) -> Result<(ClusterKey, tokio_rustls::TlsAcceptor), String> {
    let port: u16 = target
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .ok_or_else(|| format!("{target} is not host:port"))?;
    let world = lock(&shared.world);
    let cluster = world
        .clusters
        .values()
        .find(|c| c.kube.as_ref().is_some_and(|k| k.port == port))
        .ok_or_else(|| format!("no cluster endpoint at {target}"))?;
    if cluster.network.vpc_id != vpc {
        return Err(format!(
            "{} is in {}, not {vpc}: no route from this VPC",
            cluster.key.name, cluster.network.vpc_id
        ));
    }
    if !cluster.network.private_access {
        return Err(format!(
            "{} has no private endpoint (endpointPrivateAccess is off)",
            cluster.key.name
        ));
    }
    let acceptor = cluster
        .kube
        .as_ref()
        .map(|k| k.acceptor.clone())
        .ok_or_else(|| format!("no cluster endpoint at {target}"))?;
    Ok((cluster.key.clone(), acceptor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let b = Cidr::parse("127.0.0.0/8").expect("block");
        assert!(b.contains(ip("127.0.0.1")));
        assert!(!b.contains(ip("128.0.0.1")));
        assert!(!b.contains(ip("::1")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("all")
                .contains(ip("203.0.113.9"))
        );
        assert!(
            !Cidr::parse("203.0.113.0/24")
                .expect("block")
                .contains(ip("127.0.0.1"))
        );
        assert!(Cidr::parse("1.2.3.4/33").is_none());
        assert!(Cidr::parse("1.2.3.4").is_none());
    }
}
