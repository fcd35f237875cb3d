//! SigV4 verification of EKS API requests signed with a key the seed lists (the simulator
//! knows its secret), as the real service does: a wrong secret or a tampered request is a 403.

use hyper::HeaderMap;

use crate::sigv4::{Scope, canonical_query, sha256_hex, signature, uri_encode};

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestAuthError {
    /// The Authorization header or X-Amz-Date is not SigV4 as expected.
    #[error("malformed SigV4 authorization: {0}")]
    Malformed(&'static str),
    /// The signature does not match.
    #[error("signature mismatch")]
    Signature,
}

/// The parts of a request its signature covers.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path as received (still percent-encoded).
    pub raw_path: &'a str,
    /// Query string as received.
    pub raw_query: Option<&'a str>,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Body.
    pub body: &'a [u8],
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Verifies the `Authorization` header of `req` against `secret`.
///
/// # Errors
///
/// [`RequestAuthError`] when the header is malformed or the signature differs.
pub fn verify(req: &SignedRequest<'_>, secret: &str) -> Result<(), RequestAuthError> {
    let authorization = header(req.headers, "authorization")
        .ok_or(RequestAuthError::Malformed("no Authorization"))?;
    let rest = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or(RequestAuthError::Malformed("algorithm"))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut provided = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            provided = Some(v);
        }
    }
    let (credential, signed_headers, provided) = match (credential, signed_headers, provided) {
        (Some(c), Some(h), Some(s)) => (c, h, s),
        _ => {
            return Err(RequestAuthError::Malformed(
                "Credential, SignedHeaders or Signature",
            ));
        }
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [_key, date, region, service, _terminator] = scope.as_slice() else {
        return Err(RequestAuthError::Malformed("credential scope"));
    };
    let amz_date =
        header(req.headers, "x-amz-date").ok_or(RequestAuthError::Malformed("no X-Amz-Date"))?;
    let signed_at =
        crate::clock::parse_amz_date(amz_date).ok_or(RequestAuthError::Malformed("X-Amz-Date"))?;

    let canonical_uri = if req.raw_path.is_empty() || req.raw_path == "/" {
        "/".to_owned()
    } else {
        req.raw_path
            .split('/')
            .map(uri_encode)
            .collect::<Vec<_>>()
            .join("/")
    };
    let query = canonical_query(&crate::wire::query_pairs(req.raw_query), "");
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = req
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(RequestAuthError::Malformed("a signed header is missing"));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload = header(req.headers, "x-amz-content-sha256")
        .map_or_else(|| sha256_hex(req.body), str::to_owned);
    let canonical_request = format!(
        "{}\n{canonical_uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload}",
        req.method
    );
    let scope = Scope {
        date,
        region,
        service,
    };
    if signature(secret, signed_at, amz_date, scope, &canonical_request) == provided {
        Ok(())
    } else {
        Err(RequestAuthError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_headers_are_named() {
        let headers = HeaderMap::new();
        let req = SignedRequest {
            method: "GET",
            raw_path: "/clusters",
            raw_query: None,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            verify(&req, "s"),
            Err(RequestAuthError::Malformed("no Authorization"))
        );
    }
}
