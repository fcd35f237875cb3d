//! Identities of access keys the seed does not list, from an STS endpoint (moto), as EKS relies
//! on STS/IAM for who a caller is: with `settings.sts_endpoint` set, an unknown access key is
//! looked up once with GetCallerIdentity and remembered. Such a key's requests and tokens are
//! trusted as STS answered (the simulator has no secret to check their signatures against —
//! the real authenticator likewise trusts STS's answer to the presigned request).

use crate::model::Credential;
use crate::server::{Shared, lock};
use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Makes sure `access_key` is known, asking the STS endpoint when it is not and one is set.
pub async fn resolve(shared: &Shared, access_key: &str) {
    let endpoint = {
        let world = lock(&shared.world);
        if world.credentials.contains_key(access_key) {
            return;
        }
        match world.settings.sts_endpoint.clone() {
            Some(e) => e,
            None => return,
        }
    };
    match caller_identity(&endpoint, access_key).await {
        Ok((arn, account)) => {
            tracing::debug!(access_key, %arn, "access key resolved through STS");
            lock(&shared.world).credentials.insert(
                access_key.to_owned(),
                Credential {
                    access_key_id: access_key.to_owned(),
                    secret_access_key: String::new(),
                    account,
                    arn,
                    sts_resolved: true,
                },
            );
        }
        Err(e) => tracing::debug!(access_key, error = %e, "STS could not resolve the access key"),
    }
}

/// The access key of a `k8s-aws-v1.` bearer token (its `X-Amz-Credential`), if it has one.
pub fn token_access_key(authorization: Option<&str>) -> Option<String> {
    let token = authorization?.strip_prefix("Bearer ")?.trim();
    let encoded = token.strip_prefix("k8s-aws-v1.")?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    let url = String::from_utf8(raw).ok()?;
    let (_, query) = url.split_once('?')?;
    crate::wire::query_pairs(Some(query))
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Credential"))
        .and_then(|(_, v)| v.split('/').next().map(str::to_owned))
}

/// GetCallerIdentity at `endpoint` (`http://host:port`) for `access_key`: (ARN, account).
async fn caller_identity(endpoint: &str, access_key: &str) -> Result<(String, String), String> {
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("sts_endpoint {endpoint} must be http://host:port"))?
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect {authority}: {e}"))?;
    let request = format!(
        "GET /?Action=GetCallerIdentity&Version=2011-06-15 HTTP/1.1\r\nHost: {authority}\r\nAuthorization: AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let element = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&close)? + start;
        Some(text[start..end].to_owned())
    };
    match (element("Arn"), element("Account")) {
        (Some(arn), Some(account)) => Ok((arn, account)),
        _ => Err(format!(
            "no Arn/Account in the answer: {}",
            text.lines().next().unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_access_key_of_a_token() {
        let url = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=ASIAEXAMPLE%2F20260101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=00";
        let token = format!(
            "Bearer k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        );
        assert_eq!(
            token_access_key(Some(&token)).as_deref(),
            Some("ASIAEXAMPLE")
        );
        assert_eq!(token_access_key(Some("Bearer nope")), None);
        assert_eq!(token_access_key(None), None);
    }
}
