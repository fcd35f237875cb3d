//! The hosts an in-VPC agent connects to: only a cluster API server endpoint of EKS's documented
//! forms, in the agent's own region (the EKS user guide, "Cluster API server endpoint"):
//!
//! | partition | IPv4 format | dual-stack (IPv6 clusters since October 2024) |
//! |---|---|---|
//! | `aws`, `aws-us-gov` | `<id>.<suffix>.<region>.eks.amazonaws.com` | `<id>.<region>.api.aws` |
//! | `aws-cn` | `<id>.<suffix>.<region>.eks.amazonaws.com.cn` (`…<region>.amazonwebservices.com.cn` in the guide) | `<id>.<region>.api.amazonwebservices.com.cn` |
//!
//! over `https`, on the default port. The agent sends its bearer token to no other host, so a
//! request naming another endpoint gets no token — even one the worker signed. The local stack
//! (the simulator's endpoints on 127.0.0.1) is admitted only with [`Hosts::LoopbackToo`], which
//! no template sets.

use crate::arn::partition_of;

/// Which hosts besides EKS's are admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hosts {
    /// EKS endpoint hosts of the agent's region only (every deployment).
    EksOnly,
    /// Also `127.0.0.1`, `localhost` and `[::1]` on any port: the local stack's simulated
    /// endpoints (the agent's `AGENT_ALLOW_LOOPBACK_ENDPOINTS`, never set by a template).
    LoopbackToo,
}

/// The domains EKS endpoints of `partition` end with, after `.<region>`.
fn suffixes(partition: &str) -> &'static [&'static str] {
    match partition {
        "aws" | "aws-us-gov" => &["eks.amazonaws.com", "api.aws"],
        "aws-cn" => &[
            "eks.amazonaws.com.cn",
            "api.amazonwebservices.com.cn",
            "amazonwebservices.com.cn",
        ],
        _ => &[],
    }
}

/// Whether `endpoint` is an EKS cluster endpoint of `region` (or, with
/// [`Hosts::LoopbackToo`], a loopback one).
///
/// # Errors
///
/// What is wrong with it, for a person.
pub fn check(endpoint: &str, region: &str, hosts: Hosts) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "endpoint `{endpoint}` {why}: an agent connects only to an EKS cluster endpoint of its region {region} (https://<id>.<suffix>.{region}.{}, docs/cluster-agent.md)",
            suffixes(partition_of(region))
                .first()
                .unwrap_or(&"eks.amazonaws.com")
        ))
    };
    let Some(rest) = endpoint.strip_prefix("https://") else {
        return refuse("is not https");
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@', '\\']) {
        return refuse("has a path, query or user part");
    }
    let (host, port) = split_port(authority);
    let host = host.to_ascii_lowercase();
    if hosts == Hosts::LoopbackToo && matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
        return Ok(());
    }
    if port.is_some_and(|p| p != "443") {
        return refuse("is not on port 443");
    }
    let partition = partition_of(region);
    let fits = suffixes(partition).iter().any(|suffix| {
        host.strip_suffix(&format!(".{region}.{suffix}"))
            .is_some_and(|id| !id.is_empty() && id.split('.').all(is_label))
    });
    if fits {
        Ok(())
    } else if suffixes(partition).is_empty() {
        refuse(&format!(
            "cannot be checked: the EKS endpoint form of partition {partition} is not known to this release"
        ))
    } else {
        refuse("is not of the EKS endpoint form")
    }
}

/// `(host, port)` of `host[:port]` or `[v6]:port`.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => (&authority[..=end], authority[end + 1..].strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// A DNS label: 1–63 letters, digits and dashes, not starting or ending with a dash.
fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eks_endpoint_forms_of_the_agents_region_are_admitted() {
        for (endpoint, region) in [
            (
                "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
                "eu-west-1",
            ),
            (
                "https://0123456789abcdef0123456789abcdef.yl4.us-east-1.eks.amazonaws.com/",
                "us-east-1",
            ),
            (
                "https://ABCDEF.sk1.us-east-1.eks.amazonaws.com:443",
                "us-east-1",
            ),
            ("https://ABCDEF.us-west-2.api.aws", "us-west-2"),
            (
                "https://ABCDEF.gr7.us-gov-west-1.eks.amazonaws.com",
                "us-gov-west-1",
            ),
            (
                "https://ABCDEF.yl4.cn-north-1.eks.amazonaws.com.cn",
                "cn-north-1",
            ),
            (
                "https://ABCDEF.cn-northwest-1.api.amazonwebservices.com.cn",
                "cn-northwest-1",
            ),
            (
                "https://ABCDEF.cn-north-1.amazonwebservices.com.cn",
                "cn-north-1",
            ),
        ] {
            assert_eq!(
                check(endpoint, region, Hosts::EksOnly),
                Ok(()),
                "{endpoint}"
            );
        }
    }

    #[test]
    fn every_other_host_is_refused_with_what_is_admitted() {
        for (endpoint, region, says) in [
            ("https://127.0.0.1:6443", "eu-west-1", "not on port 443"),
            (
                "https://127.0.0.1",
                "eu-west-1",
                "not of the EKS endpoint form",
            ),
            (
                "https://evil.example.com",
                "eu-west-1",
                "not of the EKS endpoint form",
            ),
            // Another region's cluster: its token would be for another region's clusters.
            (
                "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com",
                "eu-west-1",
                "not of the EKS endpoint form",
            ),
            (
                "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com.evil.example.com",
                "eu-west-1",
                "not of the EKS endpoint form",
            ),
            (
                "https://eu-west-1.eks.amazonaws.com",
                "eu-west-1",
                "not of the EKS endpoint form",
            ),
            (
                "https://x..gr7.eu-west-1.eks.amazonaws.com",
                "eu-west-1",
                "not of the EKS endpoint form",
            ),
            (
                "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com:8443",
                "eu-west-1",
                "not on port 443",
            ),
            (
                "https://user@ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
                "eu-west-1",
                "user part",
            ),
            (
                "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com/api?x=1",
                "eu-west-1",
                "path",
            ),
            (
                "http://ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
                "eu-west-1",
                "not https",
            ),
            // A China host for a commercial region, and the reverse.
            (
                "https://ABCDEF.yl4.eu-west-1.eks.amazonaws.com.cn",
                "eu-west-1",
                "not of the EKS endpoint form",
            ),
            (
                "https://ABCDEF.gr7.cn-north-1.eks.amazonaws.com",
                "cn-north-1",
                "not of the EKS endpoint form",
            ),
        ] {
            let message = check(endpoint, region, Hosts::EksOnly).expect_err(endpoint);
            assert!(message.contains(says), "{endpoint}: {message}");
            assert!(message.contains(region), "{message}");
        }
    }

    #[test]
    fn loopback_is_admitted_only_when_asked_for() {
        for endpoint in [
            "https://127.0.0.1:40001",
            "https://localhost:40001/",
            "https://[::1]:40001",
        ] {
            assert!(
                check(endpoint, "us-east-1", Hosts::EksOnly).is_err(),
                "{endpoint}"
            );
            assert_eq!(
                check(endpoint, "us-east-1", Hosts::LoopbackToo),
                Ok(()),
                "{endpoint}"
            );
        }
        assert!(check("https://127.0.0.2:1", "us-east-1", Hosts::LoopbackToo).is_err());
        assert!(check("http://127.0.0.1:1", "us-east-1", Hosts::LoopbackToo).is_err());
    }
}
