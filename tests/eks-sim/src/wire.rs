//! HTTP plumbing shared by the listeners: bodies, JSON responses, query strings.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode, header};

/// The response type every listener produces.
pub type HttpResponse = Response<Full<Bytes>>;

/// A JSON response with `status`.
pub fn json(status: StatusCode, value: &serde_json::Value) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Removes `null` members from every object, as AWS services omit absent members.
pub fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Percent-decodes one URL component (`+` stays `+`).
pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits a path into decoded segments (`/a/b%2Fc` → `["a", "b/c"]`).
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect()
}

/// Parses a query string into (decoded key, decoded value) pairs, in order.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// The query as a map; for repeated keys the first value wins.
pub fn query_map(query: Option<&str>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (k, v) in query_pairs(query) {
        map.entry(k).or_insert(v);
    }
    map
}
