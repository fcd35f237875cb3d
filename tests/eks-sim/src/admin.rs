//! The admin API under `/_sim/` (see docs/local-stack.md): seed, IAM principals, settings,
//! faults, oracle, statistics, cluster endpoints, VPC gateways.

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::faults::{FaultConfig, Faults};
use crate::model::{ClusterKey, Settings};
use crate::seed::Seed;
use crate::server::{Shared, lock};
use crate::wire::{self, HttpResponse};

fn bad_request(message: impl std::fmt::Display) -> HttpResponse {
    wire::json(
        StatusCode::BAD_REQUEST,
        &json!({ "error": message.to_string() }),
    )
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Body of `POST`/`DELETE /_sim/iam`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IamChange {
    principals: Vec<String>,
}

/// Serves one admin request.
pub async fn handle(shared: &std::sync::Arc<Shared>, req: Request<Incoming>) -> HttpResponse {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = wire::query_map(req.uri().query());
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return bad_request(e),
    };
    let text = String::from_utf8_lossy(&body);
    match (method.clone(), path.as_str()) {
        (Method::GET, "/_sim/health") => wire::json(StatusCode::OK, &json!({ "ok": true })),
        (Method::GET, p) if p.starts_with("/_sim/vpcs/") && p.ends_with("/gateway") => {
            let vpc = p
                .trim_start_matches("/_sim/vpcs/")
                .trim_end_matches("/gateway");
            match crate::network::vpc_gateway(shared, vpc) {
                Ok(url) => wire::json(StatusCode::OK, &json!({ "vpc": vpc, "proxy": url })),
                Err(e) => bad_request(error_chain(&e)),
            }
        }
        (Method::PUT | Method::POST, "/_sim/seed") => match Seed::parse(&text) {
            Ok(seed) => match shared.load(seed) {
                Ok(n) => wire::json(StatusCode::OK, &json!({ "clusters": n })),
                Err(e) => bad_request(error_chain(&e)),
            },
            Err(e) => bad_request(error_chain(&e)),
        },
        (Method::GET, "/_sim/settings") => {
            wire::json(StatusCode::OK, &json!(lock(&shared.world).settings))
        }
        (Method::PUT | Method::PATCH, "/_sim/settings") => {
            let patch: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return bad_request(e),
            };
            let mut world = lock(&shared.world);
            let mut current = json!(world.settings);
            crate::kube_store::merge(&mut current, &patch);
            match serde_json::from_value::<Settings>(current) {
                Ok(s) => {
                    world.settings = s;
                    wire::json(StatusCode::OK, &json!(world.settings))
                }
                Err(e) => bad_request(e),
            }
        }
        (Method::GET, "/_sim/faults") => {
            wire::json(StatusCode::OK, &json!(lock(&shared.faults).config()))
        }
        (Method::PUT | Method::POST, "/_sim/faults") => {
            match serde_json::from_str::<FaultConfig>(&text) {
                Ok(config) => {
                    *lock(&shared.faults) = Faults::new(config.clone());
                    wire::json(StatusCode::OK, &json!(config))
                }
                Err(e) => bad_request(e),
            }
        }
        (Method::DELETE, "/_sim/faults") => {
            *lock(&shared.faults) = Faults::default();
            wire::json(StatusCode::OK, &json!(FaultConfig::default()))
        }
        (Method::GET, "/_sim/iam") => {
            let arns: Vec<String> = lock(&shared.world)
                .iam
                .values()
                .map(|p| p.arn.clone())
                .collect();
            wire::json(StatusCode::OK, &json!({ "principals": arns }))
        }
        (Method::POST | Method::DELETE, "/_sim/iam") => {
            let body: IamChange = match serde_json::from_str(&text) {
                Ok(b) => b,
                Err(e) => return bad_request(e),
            };
            let mut world = lock(&shared.world);
            for arn in body.principals {
                let key = arn.to_lowercase();
                if method == Method::POST {
                    world.iam.insert(key, crate::model::IamPrincipal { arn });
                } else {
                    world.iam.remove(&key);
                }
            }
            wire::json(StatusCode::OK, &json!({ "principals": world.iam.len() }))
        }
        (Method::GET, "/_sim/stats") => wire::json(
            StatusCode::OK,
            &json!({ "operations": *lock(&shared.stats) }),
        ),
        (Method::DELETE, "/_sim/stats") => {
            lock(&shared.stats).clear();
            wire::json(StatusCode::OK, &json!({ "operations": {} }))
        }
        (Method::GET, "/_sim/clusters") => {
            let mut world = lock(&shared.world);
            world.settle(std::time::Instant::now());
            let clusters: Vec<Value> = world
                .clusters
                .values()
                .map(|c| {
                    json!({
                        "arn": c.key.arn(),
                        "status": c.status,
                        "authenticationMode": c.mode.as_str(),
                        "accessEntries": c.entries.len(),
                        "endpoint": c.kube.as_ref().map(|k| k.url.clone()),
                    })
                })
                .collect();
            wire::json(StatusCode::OK, &json!({ "clusters": clusters }))
        }
        (Method::GET, "/_sim/oracle") => {
            let (Some(cluster), Some(principal)) = (query.get("cluster"), query.get("principal"))
            else {
                return bad_request("cluster (ARN) and principal (ARN) are required");
            };
            let Some(key) = ClusterKey::from_arn(cluster) else {
                return bad_request(format!("not a cluster ARN: {cluster}"));
            };
            let mut world = lock(&shared.world);
            world.settle(std::time::Instant::now());
            let answer = crate::server::oracle(&world, &key, principal).map(|access| {
                access.map(|mut a| {
                    if let Some(session) = query.get("session")
                        && let Ok(mut p) = crate::oracle::Principal::from_arn(&world, principal)
                    {
                        p.session_name = Some(session.clone());
                        a.rendered_username = Some(crate::oracle::render(&a.username, &p));
                        a.rendered_groups = Some(
                            a.groups
                                .iter()
                                .map(|g| crate::oracle::render(g, &p))
                                .collect(),
                        );
                    }
                    a
                })
            });
            match answer {
                Ok(access) => wire::json(
                    StatusCode::OK,
                    &json!({ "cluster": cluster, "principal": principal, "access": access }),
                ),
                Err(e @ crate::server::SimError::NoCluster(_)) => {
                    wire::json(StatusCode::NOT_FOUND, &json!({ "error": e.to_string() }))
                }
                Err(e) => bad_request(error_chain(&e)),
            }
        }
        (Method::GET, "/_sim/can-i") => can_i(shared, &query),
        _ => wire::json(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("no admin endpoint {path}") }),
        ),
    }
}

/// `GET /_sim/can-i?cluster=ARN&principal=ARN&verb=V&resource=R[&group=G][&name=N][&namespace=NS]`
/// or `...&url=/healthz`: the permission oracle.
fn can_i(
    shared: &std::sync::Arc<Shared>,
    query: &std::collections::BTreeMap<String, String>,
) -> HttpResponse {
    let (Some(cluster), Some(principal), Some(verb)) = (
        query.get("cluster"),
        query.get("principal"),
        query.get("verb"),
    ) else {
        return bad_request("cluster (ARN), principal (ARN) and verb are required");
    };
    let Some(key) = ClusterKey::from_arn(cluster) else {
        return bad_request(format!("not a cluster ARN: {cluster}"));
    };
    let field = |k: &str| query.get(k).cloned().unwrap_or_default();
    let request = crate::rbac::Request {
        verb: verb.clone(),
        api_group: field("group"),
        resource: field("resource"),
        name: field("name"),
        namespace: query.get("namespace").cloned(),
        non_resource_url: query.get("url").cloned(),
    };
    let mut world = lock(&shared.world);
    world.settle(std::time::Instant::now());
    match crate::server::may(&world, &key, principal, &request) {
        Ok(allowed) => wire::json(StatusCode::OK, &json!({ "allowed": allowed })),
        Err(e @ crate::server::SimError::NoCluster(_)) => {
            wire::json(StatusCode::NOT_FOUND, &json!({ "error": e.to_string() }))
        }
        Err(e) => bad_request(error_chain(&e)),
    }
}
