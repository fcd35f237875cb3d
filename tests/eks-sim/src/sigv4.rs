//! The SigV4 pieces both verifiers need: URI encoding, canonical query strings and the
//! signature of a canonical request (key derivation and HMAC come from aws-sigv4).

use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// SigV4 URI encoding: everything but unreserved characters is percent-encoded.
pub fn uri_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// The canonical query string of decoded `pairs`, leaving out the key `skip`.
pub fn canonical_query(pairs: &[(String, String)], skip: &str) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != skip)
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The credential scope of a SigV4 signature.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `YYYYMMDD`.
    pub date: &'a str,
    /// Region.
    pub region: &'a str,
    /// Service (`sts`, `eks`).
    pub service: &'a str,
}

/// The hex signature of `canonical_request` signed at `amz_date` (`signed_at`) with `secret`.
pub fn signature(
    secret: &str,
    signed_at: SystemTime,
    amz_date: &str,
    scope: Scope<'_>,
    canonical_request: &str,
) -> String {
    let key =
        aws_sigv4::sign::v4::generate_signing_key(secret, signed_at, scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
        scope.date,
        scope.region,
        scope.service,
        sha256_hex(canonical_request.as_bytes())
    );
    aws_sigv4::sign::v4::calculate_signature(&key, string_to_sign.as_bytes())
}
