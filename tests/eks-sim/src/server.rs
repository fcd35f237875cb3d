//! The simulator process: shared state, the EKS + admin listener, and lifecycle.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::eks::{self, Call, EksError};
use crate::faults::{FaultConfig, Faults, Outcome};
use crate::model::{ClusterKey, World};
use crate::oracle::{EffectiveAccess, Principal};
use crate::seed::{Seed, SeedError};
use crate::wire::{self, HttpResponse};

/// Errors starting or driving the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A listener could not be bound.
    #[error("binding a listener")]
    Bind(#[source] std::io::Error),
    /// The seed is invalid.
    #[error("loading the seed")]
    Seed(#[from] SeedError),
    /// Certificates could not be made.
    #[error("creating the cluster's TLS identity")]
    Tls(#[from] crate::tls::TlsError),
    /// The oracle question names no known cluster.
    #[error("no such cluster: {0}")]
    NoCluster(String),
    /// The oracle question names no principal.
    #[error(transparent)]
    Oracle(#[from] crate::oracle::OracleError),
}

/// The connection is closed without a response (fault injection).
#[derive(Debug, thiserror::Error)]
#[error("connection reset by fault injection")]
pub struct InjectedReset;

/// State shared by every listener.
#[derive(Debug, Default)]
pub struct Shared {
    /// The fleet.
    pub world: Mutex<World>,
    /// Fault injection.
    pub faults: Mutex<Faults>,
    /// Calls served per operation (EKS operation names; `Kubernetes:<verb>` for the kube APIs).
    pub stats: Mutex<BTreeMap<String, u64>>,
    /// The VPC gateways (`crate::network`).
    pub gateways: Mutex<crate::network::Gateways>,
    /// Functions hosted in-process behind Lambda's Invoke API (`crate::lambda`).
    pub functions: Mutex<crate::lambda::Functions>,
}

/// Locks a mutex, recovering the data if a holder panicked.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Counts one call of `operation`.
    pub fn count(&self, operation: &str) {
        *lock(&self.stats).entry(operation.to_owned()).or_default() += 1;
    }

    /// Replaces the world with `seed`, stopping the old clusters' Kubernetes listeners.
    ///
    /// # Errors
    ///
    /// [`SimError::Seed`] when the seed is invalid (the old world stays).
    pub fn load(&self, seed: Seed) -> Result<usize, SimError> {
        let fresh = seed.into_world()?;
        let n = fresh.clusters.len();
        let old = std::mem::replace(&mut *lock(&self.world), fresh);
        for c in old.clusters.values() {
            if let Some(k) = &c.kube {
                k.abort.abort();
            }
        }
        Ok(n)
    }
}

/// A running simulator. Dropping it stops every listener.
#[derive(Debug)]
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: tokio::task::AbortHandle,
}

impl Sim {
    /// Starts the simulator on 127.0.0.1 with an OS-chosen port.
    ///
    /// # Errors
    ///
    /// [`SimError`] when the seed is invalid or the port cannot be bound.
    pub async fn start(seed: Seed) -> Result<Self, SimError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), seed).await
    }

    /// Starts the simulator on `addr`.
    ///
    /// # Errors
    ///
    /// [`SimError`] when the seed is invalid or the address cannot be bound.
    pub async fn start_on(addr: SocketAddr, seed: Seed) -> Result<Self, SimError> {
        let shared = Arc::new(Shared::default());
        shared.load(seed)?;
        let listener = TcpListener::bind(addr).await.map_err(SimError::Bind)?;
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        let task = tokio::spawn(serve(listener, Arc::clone(&shared))).abort_handle();
        Ok(Self { shared, addr, task })
    }

    /// The EKS endpoint, e.g. `http://127.0.0.1:40123` (use as `AWS_ENDPOINT_URL_EKS`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The admin API base, `<url>/_sim`.
    pub fn admin_url(&self) -> String {
        format!("{}/_sim", self.url())
    }

    /// The shared state (for tests that need to look inside).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Replaces the fleet with `seed`.
    ///
    /// # Errors
    ///
    /// [`SimError::Seed`] when the seed is invalid.
    pub fn load_seed(&self, seed: Seed) -> Result<usize, SimError> {
        self.shared.load(seed)
    }

    /// Installs a fault configuration.
    pub fn set_faults(&self, config: FaultConfig) {
        *lock(&self.shared.faults) = Faults::new(config);
    }

    /// Runs `f` on the world (after finishing due updates).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = lock(&self.shared.world);
        world.settle(Instant::now());
        f(&mut world)
    }

    /// The effective-access oracle: what `principal_arn` (IAM role/user ARN or STS
    /// assumed-role ARN) gets on `cluster` right now, or `None`.
    ///
    /// # Errors
    ///
    /// [`SimError::NoCluster`] or [`SimError::Oracle`] for questions that name nothing.
    pub fn oracle(
        &self,
        cluster: &ClusterKey,
        principal_arn: &str,
    ) -> Result<Option<EffectiveAccess>, SimError> {
        self.with_world(|world| oracle(world, cluster, principal_arn))
    }

    /// The permission oracle: may `principal_arn` (as the oracle reads it; a session name in an
    /// STS ARN renders templates) make `request` on `cluster` right now, through its access
    /// entry or aws-auth row, its access policies and the cluster's RBAC? `false` when it cannot
    /// authenticate at all.
    ///
    /// # Errors
    ///
    /// [`SimError::NoCluster`] or [`SimError::Oracle`] for questions that name nothing.
    pub fn may(
        &self,
        cluster: &ClusterKey,
        principal_arn: &str,
        request: &crate::rbac::Request,
    ) -> Result<bool, SimError> {
        self.with_world(|world| may(world, cluster, principal_arn, request))
    }

    /// Starts (if needed) the cluster's Kubernetes API and returns its URL and CA (PEM).
    ///
    /// # Errors
    ///
    /// [`SimError`] when the cluster does not exist or TLS/binding fails.
    pub fn kube_endpoint(&self, cluster: &ClusterKey) -> Result<(String, String), SimError> {
        crate::kube_api::ensure_endpoint(&self.shared, cluster)?
            .ok_or_else(|| SimError::NoCluster(cluster.arn()))
    }

    /// Calls served per operation since start (or the last reset).
    pub fn stats(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.stats).clone()
    }

    /// The HTTP CONNECT proxy standing for being inside VPC `vpc_id`: what an in-VPC agent is
    /// given as `KUBE_API_PROXY` (`crate::network`).
    ///
    /// # Errors
    ///
    /// [`SimError::Bind`] when no port can be bound.
    pub fn vpc_gateway(&self, vpc_id: &str) -> Result<String, SimError> {
        crate::network::vpc_gateway(&self.shared, vpc_id)
    }

    /// Hosts `handler` behind Lambda's Invoke API as function `name` in `account` and `region`
    /// (`crate::lambda`), GetFunction reporting [`crate::lambda::FunctionConfig::conventional`].
    pub fn register_function(
        &self,
        account: &str,
        region: &str,
        name: &str,
        handler: crate::lambda::Handler,
    ) {
        lock(&self.shared.functions).register(account, region, name, None, handler);
    }

    /// [`Sim::register_function`] with the code digest and role GetFunction reports.
    pub fn register_function_as(
        &self,
        (account, region, name): (&str, &str, &str),
        config: crate::lambda::FunctionConfig,
        handler: crate::lambda::Handler,
    ) {
        lock(&self.shared.functions).register(account, region, name, Some(config), handler);
    }

    /// Makes the next `times` invocations of a hosted function — (account, region, name) —
    /// misbehave; only those whose payload contains `when`, when given.
    pub fn arm_function_fault(
        &self,
        function: (&str, &str, &str),
        fault: crate::lambda::LambdaFault,
        times: u32,
        when: Option<&str>,
    ) {
        lock(&self.shared.functions).arm(function, fault, times, when);
    }

    /// Every invocation of a hosted function so far.
    pub fn invocations(&self) -> Vec<crate::lambda::Invocation> {
        lock(&self.shared.functions).invocations()
    }
}

/// The oracle over a locked world.
///
/// # Errors
///
/// [`SimError::NoCluster`] or [`SimError::Oracle`].
pub fn oracle(
    world: &World,
    cluster: &ClusterKey,
    principal_arn: &str,
) -> Result<Option<EffectiveAccess>, SimError> {
    let c = world
        .clusters
        .get(cluster)
        .ok_or_else(|| SimError::NoCluster(cluster.arn()))?;
    let principal = Principal::from_arn(world, principal_arn)?;
    Ok(crate::oracle::effective_access(c, &principal))
}

/// The permission oracle over a locked world (see [`Sim::may`]).
///
/// # Errors
///
/// [`SimError::NoCluster`] or [`SimError::Oracle`].
pub fn may(
    world: &World,
    cluster: &ClusterKey,
    principal_arn: &str,
    request: &crate::rbac::Request,
) -> Result<bool, SimError> {
    let c = world
        .clusters
        .get(cluster)
        .ok_or_else(|| SimError::NoCluster(cluster.arn()))?;
    let principal = Principal::from_arn(world, principal_arn)?;
    let Some(access) = crate::oracle::effective_access(c, &principal) else {
        return Ok(false);
    };
    let username = crate::oracle::render(&access.username, &principal);
    let groups: Vec<String> = access
        .groups
        .iter()
        .map(|g| crate::oracle::render(g, &principal))
        .collect();
    Ok(crate::rbac::allows(
        &c.rbac,
        &username,
        &groups,
        &access.policies,
        request,
    ))
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.task.abort();
        lock(&self.shared.gateways).abort_all();
        for c in lock(&self.shared.world).clusters.values() {
            if let Some(k) = &c.kube {
                k.abort.abort();
            }
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&shared), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Access key and region from a SigV4 `Authorization` header.
fn credential_scope(req: &Request<Incoming>) -> Option<(String, String)> {
    let header = req
        .headers()
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let credential = header.split("Credential=").nth(1)?.split(',').next()?;
    let parts: Vec<&str> = credential.trim().split('/').collect();
    match parts.as_slice() {
        [key, _date, region, _service, _term] => Some(((*key).to_owned(), (*region).to_owned())),
        _ => None,
    }
}

fn eks_error(e: &EksError) -> HttpResponse {
    let mut response = wire::json(e.status_code(), &e.body());
    if let Ok(v) = hyper::header::HeaderValue::from_str(e.code) {
        response.headers_mut().insert("x-amzn-errortype", v);
    }
    response
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<HttpResponse, InjectedReset> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    if path == "/_sim" || path.starts_with("/_sim/") {
        return Ok(crate::admin::handle(&shared, req).await);
    }
    let scope = credential_scope(&req);
    let headers = req.headers().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(InjectedReset),
    };
    let segments = wire::segments(&path);
    let lambda = crate::lambda::operation(&method, &path);
    let operation = match eks::operation(&method, &segments) {
        Some(operation) => operation,
        None if lambda.is_some() => lambda.unwrap_or("Invoke"),
        None => return Ok(eks_error(&EksError::unknown_operation())),
    };
    let Some((access_key, region)) = scope else {
        return Ok(eks_error(&EksError::unrecognized_client()));
    };
    crate::sts::resolve(&shared, &access_key).await;
    let secret = lock(&shared.world)
        .credentials
        .get(&access_key)
        .filter(|c| !c.sts_resolved)
        .map(|c| c.secret_access_key.clone());
    if let Some(secret) = secret {
        let signed = crate::request_auth::SignedRequest {
            method: method.as_str(),
            raw_path: &path,
            raw_query: query.as_deref(),
            headers: &headers,
            body: &body,
        };
        if let Err(e) = crate::request_auth::verify(&signed, &secret) {
            tracing::debug!(operation, error = %e, "signature refused");
            return Ok(eks_error(&EksError::invalid_signature()));
        }
    }
    if let Some(lambda) = lambda {
        let (account, arn) = {
            let world = lock(&shared.world);
            world.credentials.get(&access_key).map_or_else(
                || (world.settings.default_account.clone(), String::new()),
                |c| (c.account.clone(), c.arn.clone()),
            )
        };
        let caller = crate::lambda::Caller {
            account: &account,
            arn: &arn,
            region: &region,
        };
        if lambda == "GetFunction" {
            return Ok(crate::lambda::get_function(&shared, caller, &path));
        }
        return Ok(crate::lambda::invoke(&shared, caller, &path, &headers, &body).await);
    }
    let decision = lock(&shared.faults).decide(operation, Instant::now());
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.outcome {
        Outcome::Serve => {}
        Outcome::Throttle => return Ok(eks_error(&EksError::throttling())),
        Outcome::ServerError(status) => return Ok(eks_error(&EksError::server(status))),
        Outcome::Reset => return Err(InjectedReset),
    }
    shared.count(operation);
    let account = {
        let world = lock(&shared.world);
        world.credentials.get(&access_key).map_or_else(
            || world.settings.default_account.clone(),
            |c| c.account.clone(),
        )
    };
    let query_pairs = wire::query_pairs(query.as_deref());
    let query_map = wire::query_map(query.as_deref());
    let call = Call {
        account: &account,
        region: &region,
        segments: &segments,
        query: &query_map,
        query_pairs: &query_pairs,
        body: &body,
    };
    if operation == "DescribeCluster"
        && let Err(e) = crate::kube_api::ensure_endpoint(&shared, &call.cluster_key())
    {
        tracing::error!(error = %e, "starting a cluster's Kubernetes API");
        return Ok(eks_error(&EksError::server(500)));
    }
    let result = eks::dispatch(&mut lock(&shared.world), operation, &call);
    Ok(match result {
        Ok(mut value) => {
            wire::strip_nulls(&mut value);
            wire::json(StatusCode::OK, &value)
        }
        Err(e) => {
            tracing::debug!(operation, error = %e, "EKS call refused");
            eks_error(&e)
        }
    })
}
