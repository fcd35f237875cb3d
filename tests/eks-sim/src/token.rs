//! Kubernetes bearer tokens checked the way aws-iam-authenticator and STS check them.
//!
//! A token is `k8s-aws-v1.` + base64url (no padding) of a SigV4-presigned
//! `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`
//! whose signed headers include `x-k8s-aws-id: <cluster name>`. The signature is recomputed
//! with the secret key the seed gives the access key.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;

use crate::model::Credential;

/// Why a token was refused (the API server answers 401 for all of them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Missing `k8s-aws-v1.` prefix.
    #[error("token is missing the k8s-aws-v1. prefix")]
    Prefix,
    /// Not base64url without padding, or not UTF-8.
    #[error("input token was not properly formatted: {0}")]
    Encoding(String),
    /// URL is not an https STS GetCallerIdentity URL.
    #[error("invalid token URL: {0}")]
    Url(String),
    /// A query parameter is missing, repeated, unknown or malformed.
    #[error("invalid token parameter: {0}")]
    Parameter(String),
    /// `x-k8s-aws-id` is not signed or names another cluster.
    #[error("token is not for this cluster")]
    Cluster,
    /// Older than 15 minutes (or dated in the future).
    #[error("X-Amz-Date parameter is expired (15 minute expiration)")]
    Expired,
    /// The access key is unknown.
    #[error("unknown access key {0}")]
    UnknownAccessKey(String),
    /// The signature does not match.
    #[error("signature does not match")]
    Signature,
}

/// The STS query parameters the authenticator accepts (lower-cased).
const ALLOWED_PARAMS: [&str; 9] = [
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
];

/// The token prefix.
pub const PREFIX: &str = "k8s-aws-v1.";

/// SHA-256 of the empty string, hex.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Verifies `token` for `cluster_name` at time `now` and returns the credential that signed it.
///
/// # Errors
///
/// [`TokenError`] naming the first check that failed.
pub fn verify<'c>(
    token: &str,
    cluster_name: &str,
    credentials: &'c BTreeMap<String, Credential>,
    now: SystemTime,
) -> Result<&'c Credential, TokenError> {
    let encoded = token.strip_prefix(PREFIX).ok_or(TokenError::Prefix)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|e| TokenError::Encoding(e.to_string()))?;
    let url = String::from_utf8(raw).map_err(|e| TokenError::Encoding(e.to_string()))?;
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| TokenError::Url("scheme must be https".to_owned()))?;
    let (host, path_query) = rest
        .split_once('/')
        .ok_or_else(|| TokenError::Url("missing path".to_owned()))?;
    if !is_sts_host(host) {
        return Err(TokenError::Url(format!("unexpected hostname {host}")));
    }
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    if !path.is_empty() {
        return Err(TokenError::Url(format!("unexpected path /{path}")));
    }
    let pairs = crate::wire::query_pairs(Some(query));
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &pairs {
        let lower = k.to_lowercase();
        if !ALLOWED_PARAMS.contains(&lower.as_str()) {
            return Err(TokenError::Parameter(format!("unexpected parameter {k}")));
        }
        if params.insert(lower, v.clone()).is_some() {
            return Err(TokenError::Parameter(format!("duplicate parameter {k}")));
        }
    }
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| TokenError::Parameter(format!("missing {name}")))
    };
    if get("action")? != "GetCallerIdentity" {
        return Err(TokenError::Parameter(
            "Action must be GetCallerIdentity".to_owned(),
        ));
    }
    if get("x-amz-algorithm")? != "AWS4-HMAC-SHA256" {
        return Err(TokenError::Parameter(
            "unsupported X-Amz-Algorithm".to_owned(),
        ));
    }
    let signed_headers = get("x-amz-signedheaders")?;
    if !signed_headers.split(';').any(|h| h == "x-k8s-aws-id") {
        return Err(TokenError::Cluster);
    }
    let expires: u64 = get("x-amz-expires")?
        .parse()
        .map_err(|_| TokenError::Parameter("X-Amz-Expires is not a number".to_owned()))?;
    if expires == 0 || expires > 900 {
        return Err(TokenError::Parameter(
            "X-Amz-Expires must be 1..=900".to_owned(),
        ));
    }
    let amz_date = get("x-amz-date")?;
    let signed_at = crate::clock::parse_amz_date(amz_date)
        .ok_or_else(|| TokenError::Parameter("X-Amz-Date is malformed".to_owned()))?;
    let fifteen = Duration::from_secs(15 * 60);
    match now.duration_since(signed_at) {
        Ok(age) if age > fifteen => return Err(TokenError::Expired),
        Err(ahead) if ahead.duration() > fifteen => return Err(TokenError::Expired),
        _ => {}
    }
    let credential = get("x-amz-credential")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = scope.as_slice() else {
        return Err(TokenError::Parameter(
            "X-Amz-Credential is malformed".to_owned(),
        ));
    };
    if *service != "sts" || *terminator != "aws4_request" || !amz_date.starts_with(date) {
        return Err(TokenError::Parameter(
            "X-Amz-Credential scope is wrong".to_owned(),
        ));
    }
    let cred = credentials
        .get(*access_key)
        .ok_or_else(|| TokenError::UnknownAccessKey((*access_key).to_owned()))?;
    if cred.sts_resolved {
        // STS named this key's identity (sts.rs); there is no secret to check against.
        return Ok(cred);
    }

    let canonical_query = crate::sigv4::canonical_query(&pairs, "X-Amz-Signature");
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = match name {
            "host" => host,
            "x-k8s-aws-id" => cluster_name,
            _ => {
                return Err(TokenError::Parameter(format!(
                    "cannot verify signed header {name}"
                )));
            }
        };
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let expected = get("x-amz-signature")?;
    let scope = crate::sigv4::Scope {
        date,
        region,
        service: "sts",
    };
    for payload in [EMPTY_SHA256, "UNSIGNED-PAYLOAD"] {
        let canonical_request =
            format!("GET\n/\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload}");
        let signature = crate::sigv4::signature(
            &cred.secret_access_key,
            signed_at,
            amz_date,
            scope,
            &canonical_request,
        );
        if signature == expected {
            return Ok(cred);
        }
    }
    // The cluster name is part of the signature: a token for another cluster lands here.
    Err(TokenError::Signature)
}

/// True for the STS hostnames the authenticator accepts.
fn is_sts_host(host: &str) -> bool {
    if host == "sts.amazonaws.com" {
        return true;
    }
    host.strip_prefix("sts.")
        .and_then(|h| h.strip_suffix(".amazonaws.com"))
        .is_some_and(|region| {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_sts_hosts() {
        assert!(is_sts_host("sts.amazonaws.com"));
        assert!(is_sts_host("sts.eu-west-1.amazonaws.com"));
        assert!(!is_sts_host("sts.evil.com"));
        assert!(!is_sts_host("sts.eu-west-1.amazonaws.com.evil.com"));
    }
}
