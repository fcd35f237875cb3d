//! An error chain as text a person may read: each error's `Display`, never its `Debug`, and the
//! transport failure it ends in sorted into a [`Network`] kind.

use eks_auth_core::call_failure::Network;
use std::error::Error;

/// Every error of the chain `: `-joined (a text already said is not repeated), and the
/// innermost error's text.
pub(crate) fn render(err: &(dyn Error + 'static)) -> (String, String) {
    let mut chain = err.to_string();
    let mut innermost = chain.clone();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        if !text.is_empty() {
            innermost = text;
        }
        source = s.source();
    }
    (chain, innermost)
}

/// The first error of type `T` in the chain.
pub(crate) fn find<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// The transport failure a chain's text describes (`Connection refused`, `dns error`, an
/// untrusted certificate, a timeout, a closed connection).
pub(crate) fn network(chain: &str) -> Network {
    let text = chain.to_ascii_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if any(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
        "temporary failure in name resolution",
    ]) {
        Network::Dns
    } else if any(&["connection refused"]) {
        Network::Refused
    } else if any(&["certificate", "tls", "handshake", "unknownissuer", "ssl"]) {
        Network::Tls
    } else if any(&["timed out", "timeout"]) {
        Network::Timeout
    } else if any(&[
        "connection reset",
        "connection closed",
        "connection aborted",
        "broken pipe",
        "incomplete message",
        "unexpected eof",
        "channel closed",
    ]) {
        Network::Closed
    } else {
        Network::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner: Connection refused (os error 111)")]
    struct Inner;

    #[test]
    fn a_chain_is_its_displays_and_ends_in_the_innermost() {
        let (chain, innermost) = render(&Outer(Inner));
        assert_eq!(chain, "outer: inner: Connection refused (os error 111)");
        assert_eq!(innermost, "inner: Connection refused (os error 111)");
        assert!(find::<Inner>(&Outer(Inner)).is_some());
        assert!(find::<std::io::Error>(&Outer(Inner)).is_none());
    }

    #[test]
    fn transport_failures_are_sorted_by_their_words() {
        let cases = [
            (
                "client error (Connect): tcp connect error: Connection refused (os error 111)",
                Network::Refused,
            ),
            (
                "client error (Connect): dns error: failed to lookup address information: Name or service not known",
                Network::Dns,
            ),
            (
                "client error (Connect): invalid peer certificate: UnknownIssuer",
                Network::Tls,
            ),
            (
                "operation timeout (all attempts including retries) occurred after 2s",
                Network::Timeout,
            ),
            (
                "client error (SendRequest): connection closed before message completed",
                Network::Closed,
            ),
            ("something else", Network::Other),
        ];
        for (text, kind) in cases {
            assert_eq!(network(text), kind, "{text}");
        }
    }
}
