//! The EKS bearer token (domain.md §5): a SigV4-presigned STS `GetCallerIdentity` URL that names
//! the cluster in a signed `x-k8s-aws-id` header, as `k8s-aws-v1.` + base64url without padding.
//!
//! [`token`] is a pure function of credentials, region, cluster and time, and produces the very
//! bytes `aws eks get-token` produces for the same inputs (botocore's query-parameter order,
//! `X-Amz-Security-Token` signed inside the query).

use crate::ids::{ClusterName, Region};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningError, SigningParams, SigningSettings,
    sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Prefix of every EKS bearer token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// `X-Amz-Expires` of the presigned URL (EKS accepts the token for 15 minutes regardless).
pub const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);
/// How long after signing a token should be replaced (EKS rejects it after 15 minutes).
pub const REFRESH_AFTER: Duration = Duration::from_secs(14 * 60);

/// Characters SigV4 leaves unescaped in query strings: `A-Z a-z 0-9 - _ . ~`.
const QUERY_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The signing parameters were incomplete.
    #[error("incomplete SigV4 signing parameters")]
    Params(#[source] v4::signing_params::BuildError),
    /// SigV4 signing failed.
    #[error("SigV4 presigning of the STS GetCallerIdentity URL failed")]
    Signing(#[source] SigningError),
    /// The signing time is before 1970.
    #[error("the signing time is before the Unix epoch")]
    Clock,
}

/// An EKS bearer token and when to replace it.
///
/// `Debug` redacts the token: it is a credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    value: String,
    signed_at: SystemTime,
}

impl Token {
    /// The bearer token (`k8s-aws-v1.…`).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The signing time (whole seconds, as in `X-Amz-Date`).
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// The refresh point: 14 minutes after signing (EKS honours the token for 15).
    pub fn expires_at(&self) -> SystemTime {
        self.signed_at + REFRESH_AFTER
    }

    /// Whether a token used at `now` should be replaced first.
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        now >= self.expires_at()
    }

    /// [`Token::expires_at`] as `aws eks get-token` prints it: `2026-01-02T03:18:05Z`.
    pub fn expiration_timestamp(&self) -> String {
        rfc3339_seconds(self.expires_at())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &format_args!("{TOKEN_PREFIX}<redacted>"))
            .field("expires_at", &self.expiration_timestamp())
            .finish()
    }
}

/// Format a time as RFC 3339 UTC with whole seconds (`%Y-%m-%dT%H:%M:%SZ`).
pub fn rfc3339_seconds(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| String::from("9999-12-31T23:59:59Z"))
}

/// Create the bearer token for `cluster` in `region`, signed with `credentials` at `now`.
///
/// The result is byte-identical to the token of `aws eks get-token --cluster-name CLUSTER
/// --region REGION` run at the same second with the same credentials.
///
/// # Errors
///
/// [`TokenError`] when SigV4 signing fails (not expected for validated inputs) or `now` is before
/// 1970.
pub fn token(
    credentials: &Credentials,
    region: &Region,
    cluster: &ClusterName,
    now: SystemTime,
) -> Result<Token, TokenError> {
    let since_epoch = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| TokenError::Clock)?;
    let signed_at = UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs());
    let host = format!("sts.{region}.{}", region.dns_suffix());
    let base = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let identity = credentials.clone().into();
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region.as_ref())
        .name("sts")
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(TokenError::Params)?
        .into();
    let request = SignableRequest::new(
        "GET",
        base.as_str(),
        [(CLUSTER_ID_HEADER, cluster.as_ref())].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(TokenError::Signing)?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(TokenError::Signing)?
        .into_parts();
    let (_headers, query) = instructions.into_parts();

    let url = botocore_url(&base, &query);
    Ok(Token {
        value: format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(url)),
        signed_at,
    })
}

/// Append the signing parameters in botocore's order: the auth parameters as it inserts them,
/// then the signature last.
fn botocore_url(base: &str, query: &[(&str, Cow<'static, str>)]) -> String {
    const ORDER: [&str; 7] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ];
    let mut url = String::from(base);
    let rank = |name: &str| ORDER.iter().position(|o| *o == name).unwrap_or(ORDER.len());
    let mut sorted: Vec<&(&str, Cow<'static, str>)> = query.iter().collect();
    sorted.sort_by_key(|(name, _)| rank(name));
    for (name, value) in sorted {
        url.push('&');
        url.push_str(name);
        url.push('=');
        url.extend(utf8_percent_encode(value, QUERY_ESCAPE));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn decode(token: &Token) -> String {
        let payload = token.as_str().strip_prefix(TOKEN_PREFIX).expect("prefix");
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url without padding");
        String::from_utf8(bytes).expect("utf-8 url")
    }

    fn ids() -> (Region, ClusterName) {
        (
            Region::parse("eu-west-1").expect("region"),
            ClusterName::parse("prod").expect("cluster"),
        )
    }

    #[test]
    fn url_shape_and_parameter_order() {
        let (region, cluster) = ids();
        let creds = Credentials::new("AKID", "secret", Some("tok/en+=".into()), None, "test");
        // 2026-01-02T03:04:05Z plus 999 ms: sub-second precision is dropped like X-Amz-Date.
        let t = token(
            &creds,
            &region,
            &cluster,
            at(1_767_323_045) + Duration::from_millis(999),
        )
        .expect("sign");
        let url = decode(&t);
        let names: Vec<&str> = url
            .split_once('?')
            .expect("query")
            .1
            .split('&')
            .map(|kv| kv.split_once('=').expect("k=v").0)
            .collect();
        assert_eq!(
            names,
            [
                "Action",
                "Version",
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Date",
                "X-Amz-Expires",
                "X-Amz-SignedHeaders",
                "X-Amz-Security-Token",
                "X-Amz-Signature"
            ]
        );
        assert!(url.starts_with(
            "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
        ));
        assert!(
            url.contains("&X-Amz-Credential=AKID%2F20260102%2Feu-west-1%2Fsts%2Faws4_request&")
        );
        assert!(url.contains("&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&"));
        assert!(url.contains("&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&"));
        assert!(url.contains("&X-Amz-Security-Token=tok%2Fen%2B%3D&"));
        assert!(!t.as_str().contains('='), "no padding");
        assert_eq!(t.expiration_timestamp(), "2026-01-02T03:18:05Z");
        assert_eq!(t.signed_at(), at(1_767_323_045));
    }

    #[test]
    fn without_session_token_there_is_no_security_token_parameter() {
        let (region, cluster) = ids();
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let url = decode(&token(&creds, &region, &cluster, at(1_767_323_045)).expect("sign"));
        assert!(!url.contains("X-Amz-Security-Token"));
    }

    #[test]
    fn token_is_a_pure_function_of_its_inputs() {
        let (region, cluster) = ids();
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let a = token(&creds, &region, &cluster, at(1_000_000)).expect("sign");
        assert_eq!(
            a,
            token(&creds, &region, &cluster, at(1_000_000)).expect("sign")
        );
        let other_cluster = ClusterName::parse("staging").expect("cluster");
        assert_ne!(
            a,
            token(&creds, &region, &other_cluster, at(1_000_000)).expect("sign")
        );
        assert_ne!(
            a,
            token(&creds, &region, &cluster, at(1_000_001)).expect("sign")
        );
        let other_secret = Credentials::new("AKID", "secret2", None, None, "test");
        assert_ne!(
            a,
            token(&other_secret, &region, &cluster, at(1_000_000)).expect("sign")
        );
    }

    #[test]
    fn refresh_point_is_fourteen_minutes_after_signing() {
        let (region, cluster) = ids();
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let t = token(&creds, &region, &cluster, at(1_000)).expect("sign");
        assert_eq!(t.expires_at(), at(1_000 + 14 * 60));
        assert!(!t.needs_refresh(at(1_000 + 14 * 60 - 1)));
        assert!(t.needs_refresh(at(1_000 + 14 * 60)));
    }

    #[test]
    fn debug_redacts_the_token() {
        let (region, cluster) = ids();
        let creds = Credentials::new("AKID", "secret", Some("session".into()), None, "test");
        let t = token(&creds, &region, &cluster, at(1_000)).expect("sign");
        let debug = format!("{t:?}");
        assert!(
            !debug.contains(&t.as_str()[TOKEN_PREFIX.len()..]),
            "{debug}"
        );
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn partition_dns_suffix_reaches_the_host() {
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let cluster = ClusterName::parse("c").expect("cluster");
        let region = Region::parse("cn-north-1").expect("region");
        let url = decode(&token(&creds, &region, &cluster, at(1_000)).expect("sign"));
        assert!(
            url.starts_with("https://sts.cn-north-1.amazonaws.com.cn/?"),
            "{url}"
        );
    }
}
