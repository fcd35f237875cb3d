//! One Kubernetes API server per cluster, over HTTPS with the cluster's own CA: ConfigMaps
//! (kube-system/aws-auth above all), bearer tokens checked like the authenticator, and
//! authorization from the cluster's authentication mode, entries, aws-auth and RBAC.

use std::sync::Arc;
use std::time::SystemTime;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::faults::Outcome;
use crate::kube_store::{self, KubeError};
use crate::model::{ClusterKey, KubeEndpoint, World};
use crate::oracle::{Principal, effective_access, render_strict};
use crate::rbac::Request as AuthRequest;
use crate::rbac_store::Kind;
use crate::server::{InjectedReset, Shared, SimError, lock};
use crate::wire::{self, HttpResponse};

/// Starts the Kubernetes API of `key` unless it runs already; returns its URL and CA PEM,
/// or `None` when there is no such cluster.
///
/// # Errors
///
/// [`SimError`] when certificates cannot be made or no port can be bound.
pub fn ensure_endpoint(
    shared: &Arc<Shared>,
    key: &ClusterKey,
) -> Result<Option<(String, String)>, SimError> {
    let mut world = lock(&shared.world);
    let Some(cluster) = world.clusters.get_mut(key) else {
        return Ok(None);
    };
    if let Some(k) = &cluster.kube {
        return Ok(Some((k.url.clone(), k.ca_pem.clone())));
    }
    let tls = crate::tls::cluster_tls(&key.name)?;
    let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(SimError::Bind)?;
    std_listener.set_nonblocking(true).map_err(SimError::Bind)?;
    let port = std_listener.local_addr().map_err(SimError::Bind)?.port();
    let listener = TcpListener::from_std(std_listener).map_err(SimError::Bind)?;
    let acceptor = TlsAcceptor::from(tls.config);
    let abort = tokio::spawn(serve(
        listener,
        acceptor.clone(),
        Arc::clone(shared),
        key.clone(),
    ))
    .abort_handle();
    let url = format!("https://127.0.0.1:{port}");
    cluster.kube = Some(KubeEndpoint {
        url: url.clone(),
        port,
        ca_pem: tls.ca_pem.clone(),
        acceptor,
        abort,
    });
    Ok(Some((url, tls.ca_pem)))
}

/// The endpoint's listener: what reaches it from outside the cluster's VPC. Like EKS's public
/// endpoint it admits a connection only when `endpointPublicAccess` is on and the peer's
/// address is inside `publicAccessCidrs` (every peer here is 127.0.0.1); otherwise the
/// connection is closed before TLS, as a private-only endpoint is out of reach from outside
/// its VPC. Inside the VPC, the VPC's gateway (`crate::network`) serves the same API.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>, key: ClusterKey) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        if !crate::network::admitted_publicly(&shared, &key, peer.ip()) {
            tracing::debug!(cluster = %key.name, %peer, "connection from outside the allowed CIDRs closed");
            drop(stream);
            continue;
        }
        tokio::spawn(serve_connection(
            stream,
            acceptor.clone(),
            Arc::clone(&shared),
            key.clone(),
        ));
    }
}

/// Serves the Kubernetes API of `key` over one connection: TLS with the cluster's certificate,
/// then HTTP/1.1.
pub(crate) async fn serve_connection<S>(
    stream: S,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    key: ClusterKey,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let Ok(tls) = acceptor.accept(stream).await else {
        return;
    };
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        let key = key.clone();
        async move { handle(&shared, &key, req).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

fn status(e: &KubeError) -> HttpResponse {
    wire::json(
        StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.status(),
    )
}

fn unauthorized() -> KubeError {
    KubeError {
        code: 401,
        reason: "Unauthorized",
        message: "Unauthorized".to_owned(),
        name: None,
    }
}

/// The identity a request authenticates as.
#[derive(Debug, Clone)]
pub struct KubeIdentity {
    /// Rendered username.
    pub username: String,
    /// Rendered groups.
    pub groups: Vec<String>,
    /// Access policies from the access entry.
    pub policies: Vec<crate::oracle::PolicyGrant>,
}

/// Authenticates a bearer token against `key` as the authenticator would.
///
/// # Errors
///
/// 401 Unauthorized for a bad token or an unmapped principal.
pub fn authenticate(
    world: &World,
    key: &ClusterKey,
    authorization: Option<&str>,
    now: SystemTime,
) -> Result<KubeIdentity, KubeError> {
    let cluster = world.clusters.get(key).ok_or_else(unauthorized)?;
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let credential = crate::token::verify(token.trim(), &key.name, &world.credentials, now)
        .map_err(|e| {
            tracing::debug!(cluster = %key.name, error = %e, "token refused");
            unauthorized()
        })?;
    let mut principal = Principal::from_arn(world, &credential.arn).map_err(|_| unauthorized())?;
    principal.access_key_id = Some(credential.access_key_id.clone());
    let access = effective_access(cluster, &principal).ok_or_else(|| {
        tracing::debug!(cluster = %key.name, arn = %credential.arn, "principal not mapped");
        unauthorized()
    })?;
    let rendered = |t: &String| {
        render_strict(t, &principal).map_err(|e| {
            tracing::debug!(cluster = %key.name, arn = %credential.arn, error = e.0, "template not rendered");
            unauthorized()
        })
    };
    Ok(KubeIdentity {
        username: rendered(&access.username)?,
        groups: access
            .groups
            .iter()
            .map(rendered)
            .collect::<Result<_, _>>()?,
        policies: access.policies,
    })
}

fn forbidden(identity: &KubeIdentity, req: &AuthRequest) -> KubeError {
    let what = if req.name.is_empty() {
        qualified(req)
    } else {
        format!("{} \"{}\"", qualified(req), req.name)
    };
    let place = match &req.namespace {
        Some(ns) => format!(" in the namespace \"{ns}\""),
        None => " at the cluster scope".to_owned(),
    };
    KubeError {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "{what} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\"{place}",
            identity.username, req.verb, req.resource, req.api_group
        ),
        name: (!req.name.is_empty()).then(|| req.name.clone()),
    }
}

/// `configmaps` or `clusterroles.rbac.authorization.k8s.io`, as the API server names them.
fn qualified(req: &AuthRequest) -> String {
    if req.api_group.is_empty() {
        req.resource.clone()
    } else {
        format!("{}.{}", req.resource, req.api_group)
    }
}

fn discovery(path: &str, url: &str) -> Option<Value> {
    Some(match path {
        "/version" => json!({
            "major": "1", "minor": "31", "gitVersion": "v1.31.0-eks-sim",
            "platform": "linux/amd64",
        }),
        "/api" => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": url }],
        }),
        "/apis" => json!({
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": [{
                "name": "rbac.authorization.k8s.io",
                "versions": [{ "groupVersion": "rbac.authorization.k8s.io/v1", "version": "v1" }],
                "preferredVersion": { "groupVersion": "rbac.authorization.k8s.io/v1", "version": "v1" },
            }],
        }),
        "/apis/rbac.authorization.k8s.io" => json!({
            "kind": "APIGroup", "apiVersion": "v1", "name": "rbac.authorization.k8s.io",
            "versions": [{ "groupVersion": "rbac.authorization.k8s.io/v1", "version": "v1" }],
            "preferredVersion": { "groupVersion": "rbac.authorization.k8s.io/v1", "version": "v1" },
        }),
        "/apis/rbac.authorization.k8s.io/v1" => json!({
            "kind": "APIResourceList",
            "groupVersion": "rbac.authorization.k8s.io/v1",
            "resources": [
                { "name": "clusterrolebindings", "singularName": "clusterrolebinding", "namespaced": false, "kind": "ClusterRoleBinding", "verbs": ["get", "list"] },
                { "name": "clusterroles", "singularName": "clusterrole", "namespaced": false, "kind": "ClusterRole", "verbs": ["get", "list"] },
                { "name": "rolebindings", "singularName": "rolebinding", "namespaced": true, "kind": "RoleBinding", "verbs": ["get", "list"] },
                { "name": "roles", "singularName": "role", "namespaced": true, "kind": "Role", "verbs": ["get", "list"] },
            ],
        }),
        "/api/v1" => json!({
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [{
                "name": "configmaps", "singularName": "configmap", "namespaced": true,
                "kind": "ConfigMap", "shortNames": ["cm"],
                "verbs": ["create", "delete", "get", "list", "patch", "update"],
            }],
        }),
        _ => return None,
    })
}

/// What a request addresses: discovery, a ConfigMap verb in a namespace, or reading RBAC.
enum Target {
    Discovery,
    ConfigMaps {
        verb: &'static str,
        namespace: String,
        name: Option<String>,
    },
    Rbac {
        verb: &'static str,
        kind: Kind,
        namespace: Option<String>,
        name: Option<String>,
    },
}

fn not_found() -> KubeError {
    KubeError {
        code: 404,
        reason: "NotFound",
        message: "the server could not find the requested resource".to_owned(),
        name: None,
    }
}

fn method_not_allowed() -> KubeError {
    KubeError {
        code: 405,
        reason: "MethodNotAllowed",
        message: "the server does not allow this method on the requested resource".to_owned(),
        name: None,
    }
}

/// `/apis/rbac.authorization.k8s.io/v1/[namespaces/NS/]PLURAL[/NAME]`, GET only.
fn rbac_target(method: &Method, s: &[&str]) -> Option<Result<Target, KubeError>> {
    let rest = s.strip_prefix(&["apis", "rbac.authorization.k8s.io", "v1"][..])?;
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] => (Some((*ns).to_owned()), rest),
        _ => (None, rest),
    };
    let (plural, name) = match rest {
        [plural] => (*plural, None),
        [plural, name] => (*plural, Some((*name).to_owned())),
        _ => return Some(Err(not_found())),
    };
    let Some(kind) = Kind::from_plural(plural) else {
        return Some(Err(not_found()));
    };
    if namespace.is_some() && !kind.namespaced()
        || name.is_some() && kind.namespaced() && namespace.is_none()
    {
        return Some(Err(not_found()));
    }
    if method != Method::GET {
        return Some(Err(method_not_allowed()));
    }
    let verb = if name.is_some() { "get" } else { "list" };
    Some(Ok(Target::Rbac {
        verb,
        kind,
        namespace,
        name,
    }))
}

fn target(method: &Method, path: &str) -> Result<Target, KubeError> {
    let discovery_paths = [
        "/version",
        "/api",
        "/apis",
        "/api/v1",
        "/apis/rbac.authorization.k8s.io",
        "/apis/rbac.authorization.k8s.io/v1",
    ];
    if method == Method::GET && discovery_paths.contains(&path) {
        return Ok(Target::Discovery);
    }
    let segments = wire::segments(path);
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some(target) = rbac_target(method, &s) {
        return target;
    }
    let (namespace, name) = match s.as_slice() {
        ["api", "v1", "namespaces", ns, "configmaps"] => (*ns, None),
        ["api", "v1", "namespaces", ns, "configmaps", name] => (*ns, Some(*name)),
        _ => {
            return Err(KubeError {
                code: 404,
                reason: "NotFound",
                message: "the server could not find the requested resource".to_owned(),
                name: None,
            });
        }
    };
    let verb = match (method, name) {
        (&Method::GET, Some(_)) => "get",
        (&Method::GET, None) => "list",
        (&Method::POST, None) => "create",
        (&Method::PUT, Some(_)) => "update",
        (&Method::PATCH, Some(_)) => "patch",
        (&Method::DELETE, Some(_)) => "delete",
        _ => {
            return Err(KubeError {
                code: 405,
                reason: "MethodNotAllowed",
                message: "the server does not allow this method on the requested resource"
                    .to_owned(),
                name: None,
            });
        }
    };
    Ok(Target::ConfigMaps {
        verb,
        namespace: namespace.to_owned(),
        name: name.map(str::to_owned),
    })
}

async fn handle(
    shared: &Shared,
    key: &ClusterKey,
    req: Request<Incoming>,
) -> Result<HttpResponse, InjectedReset> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let user_agent = req
        .headers()
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Ok(body) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
        return Err(InjectedReset);
    };
    if let Some(access_key) = crate::sts::token_access_key(authorization.as_deref()) {
        crate::sts::resolve(shared, &access_key).await;
    }
    // Unknown paths are still authenticated first, as the API server does.
    let target = target(&method, &path);
    let counted_verb = match &target {
        Ok(Target::ConfigMaps { verb, .. } | Target::Rbac { verb, .. }) => Some(*verb),
        _ => None,
    };
    if let Some(verb) = counted_verb {
        let operation = format!("Kubernetes:{verb}");
        let decision = lock(&shared.faults).decide(&operation, std::time::Instant::now());
        if !decision.latency.is_zero() {
            tokio::time::sleep(decision.latency).await;
        }
        match decision.outcome {
            Outcome::Serve => shared.count(&operation),
            Outcome::Reset => return Err(InjectedReset),
            Outcome::Throttle => {
                return Ok(status(&KubeError {
                    code: 429,
                    reason: "TooManyRequests",
                    message: "Too many requests, please try again later.".to_owned(),
                    name: None,
                }));
            }
            Outcome::ServerError(code) => {
                return Ok(status(&KubeError {
                    code,
                    reason: "InternalError",
                    message: "Internal error occurred: injected fault".to_owned(),
                    name: None,
                }));
            }
        }
    }
    Ok(serve_request(
        shared,
        key,
        &Parts {
            path: &path,
            query: query.as_deref(),
            authorization: authorization.as_deref(),
            content_type: &content_type,
            user_agent: &user_agent,
            body: &body,
        },
        target,
    ))
}

/// What `serve_request` reads of a request.
struct Parts<'a> {
    path: &'a str,
    query: Option<&'a str>,
    authorization: Option<&'a str>,
    content_type: &'a str,
    user_agent: &'a str,
    body: &'a [u8],
}

fn serve_request(
    shared: &Shared,
    key: &ClusterKey,
    parts: &Parts<'_>,
    target: Result<Target, KubeError>,
) -> HttpResponse {
    let Parts {
        path,
        query,
        authorization,
        content_type,
        user_agent,
        body,
    } = *parts;
    let mut world = lock(&shared.world);
    world.settle(std::time::Instant::now());
    let identity = match authenticate(&world, key, authorization, SystemTime::now()) {
        Ok(i) => i,
        Err(e) => return status(&e),
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => return status(&e),
    };
    let (verb, namespace, name) = match target {
        Target::Discovery => {
            let url = world
                .clusters
                .get(key)
                .and_then(|c| c.kube.as_ref())
                .map(|k| k.url.clone())
                .unwrap_or_default();
            return match discovery(path, &url) {
                Some(doc) => wire::json(StatusCode::OK, &doc),
                None => status(&unauthorized()),
            };
        }
        Target::ConfigMaps {
            verb,
            namespace,
            name,
        } => (verb, namespace, name),
        Target::Rbac {
            verb,
            kind,
            namespace,
            name,
        } => {
            let Some(cluster) = world.clusters.get(key) else {
                return status(&unauthorized());
            };
            return serve_rbac(&cluster.rbac, &identity, verb, kind, namespace, name, query);
        }
    };
    let Some(cluster) = world.clusters.get_mut(key) else {
        return status(&unauthorized());
    };
    let req = AuthRequest {
        verb: verb.to_owned(),
        resource: "configmaps".to_owned(),
        name: name.clone().unwrap_or_default(),
        namespace: Some(namespace.clone()),
        ..AuthRequest::default()
    };
    if !crate::rbac::allows(
        &cluster.rbac,
        &identity.username,
        &identity.groups,
        &identity.policies,
        &req,
    ) {
        return status(&forbidden(&identity, &req));
    }
    let parse = || -> Result<Value, KubeError> {
        serde_json::from_slice(body).map_err(|e| KubeError {
            code: 400,
            reason: "BadRequest",
            message: format!("the body of the request was not valid JSON: {e}"),
            name: None,
        })
    };
    let (namespace, name) = (namespace.as_str(), name.as_deref().unwrap_or_default());
    let result = match verb {
        "get" => kube_store::get(cluster, namespace, name),
        "list" => Ok(kube_store::list(cluster, namespace)),
        "create" => parse().and_then(|b| kube_store::create(cluster, namespace, b)),
        "update" => parse().and_then(|b| kube_store::replace(cluster, namespace, name, b)),
        "patch" => {
            if content_type.starts_with("application/merge-patch+json")
                || content_type.starts_with("application/strategic-merge-patch+json")
            {
                parse().and_then(|p| kube_store::merge_patch(cluster, namespace, name, &p))
            } else {
                Err(KubeError {
                    code: 415,
                    reason: "UnsupportedMediaType",
                    message: format!(
                        "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got {content_type})"
                    ),
                    name: None,
                })
            }
        }
        _ => kube_store::delete(cluster, namespace, name),
    };
    // Every write is recorded in managedFields under its field manager, as the API server does.
    let result = match result {
        Ok(object) if matches!(verb, "create" | "update" | "patch") => {
            let written = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_owned();
            let fields = parse()
                .map(|b| kube_store::written_fields(&b))
                .unwrap_or_default();
            let manager = kube_store::field_manager(query, user_agent);
            kube_store::track_manager(cluster, namespace, &written, &manager, &fields)
        }
        other => other,
    };
    match result {
        Ok(v) if verb == "create" => wire::json(StatusCode::CREATED, &v),
        Ok(v) => wire::json(StatusCode::OK, &v),
        Err(e) => status(&e),
    }
}

/// Serves a get or list of RBAC objects, authorised like any request; lists page with `limit`
/// and `continue` (an offset), as the API server does for large lists.
fn serve_rbac(
    rbac: &crate::rbac_store::ClusterRbac,
    identity: &KubeIdentity,
    verb: &'static str,
    kind: Kind,
    namespace: Option<String>,
    name: Option<String>,
    query: Option<&str>,
) -> HttpResponse {
    let req = AuthRequest {
        verb: verb.to_owned(),
        api_group: "rbac.authorization.k8s.io".to_owned(),
        resource: kind.plural().to_owned(),
        name: name.clone().unwrap_or_default(),
        namespace: namespace.clone(),
        non_resource_url: None,
    };
    if !crate::rbac::allows(
        rbac,
        &identity.username,
        &identity.groups,
        &identity.policies,
        &req,
    ) {
        return status(&forbidden(identity, &req));
    }
    if let Some(name) = name {
        return match rbac.get(kind, namespace.as_deref(), &name) {
            Some(object) => wire::json(StatusCode::OK, object),
            None => status(&KubeError {
                code: 404,
                reason: "NotFound",
                message: format!("{} \"{name}\" not found", qualified(&req)),
                name: Some(name),
            }),
        };
    }
    let params = wire::query_map(query);
    let start: usize = params
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let all = rbac.list(kind, namespace.as_deref());
    let end = start.saturating_add(limit).min(all.len());
    let items: Vec<Value> = all
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|object| {
            // Items of a list carry no kind or apiVersion, as the API server sends them.
            let mut item = (*object).clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            item
        })
        .collect();
    let mut metadata = json!({ "resourceVersion": "1" });
    if end < all.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(all.len() - end);
    }
    wire::json(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", kind.name()),
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": metadata,
            "items": items,
        }),
    )
}
