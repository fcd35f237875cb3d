//! Lambda's Invoke API for functions hosted in-process: the in-VPC agents of the local stack.
//!
//! A test or the demo registers a handler per (account, region, function name)
//! ([`crate::Sim::register_function`]); the product's Lambda client, pointed here with
//! `AWS_ENDPOINT_URL_LAMBDA`, invokes it through the real SDK: `POST
//! /2015-03-31/functions/{FunctionName}/invocations`, signed with SigV4 like every call to the
//! simulator, `X-Amz-Invocation-Type: RequestResponse`. A name, a full ARN or a partial ARN
//! (`ACCOUNT:function:NAME`) is accepted, as Lambda does; an unknown function is Lambda's 404
//! `ResourceNotFoundException` ("Function not found: arn:…").
//!
//! `GET /2015-03-31/functions/{FunctionName}` (GetFunction) answers each hosted function's
//! configuration — its ARN, its `CodeSha256` and its execution role ([`FunctionConfig`]) — which
//! the worker checks against the agent it pinned.
//!
//! Every invocation is recorded ([`Invocation`]: who called what, with which payload) so tests
//! can check who may invoke the agents and that payloads carry no credentials. Faults stand for
//! an agent that misbehaves ([`LambdaFault`]): an answer that comes too late (after the handler
//! ran, so a write may have landed), garbage, another protocol version, a crashed function.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::server::{Shared, lock};
use crate::wire::{self, HttpResponse};

/// A hosted function: its payload in, its answer out.
pub type Handler = Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Value> + Send>> + Send + Sync>;

/// How a hosted function misbehaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LambdaFault {
    /// The handler runs (its effects land), then the answer waits this long.
    SlowAnswer(Duration),
    /// The handler does not run; the answer is an HTML error page.
    Garbage,
    /// The handler does not run; the answer is a well-formed response of protocol version 2.
    OtherVersion,
    /// The handler does not run; Lambda reports an unhandled function error.
    Crash,
}

/// A fault, how many more invocations it hits, and which ones.
#[derive(Debug, Clone)]
struct ArmedFault {
    fault: LambdaFault,
    remaining: u32,
    /// Only invocations whose payload contains this text (`None`: every one).
    when: Option<String>,
}

/// Which function: (account, region, name).
pub type FunctionKey = (String, String, String);

/// What GetFunction says of a hosted function besides its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionConfig {
    /// `Configuration.CodeSha256`: base64 of the SHA-256 of its deployment package.
    pub code_sha256: String,
    /// `Configuration.Role`: its execution role's ARN.
    pub role: String,
}

impl FunctionConfig {
    /// What a function registered without one reports: a digest of its name (standing for its
    /// package) and the role infra/cluster-agent.yaml names after the function.
    pub fn conventional(account: &str, name: &str) -> Self {
        use base64::Engine as _;
        use sha2::Digest as _;
        Self {
            code_sha256: base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(
                format!("package of {name}").as_bytes(),
            )),
            role: format!("arn:aws:iam::{account}:role/{name}"),
        }
    }
}

/// The hosted functions.
#[derive(Default)]
pub struct Functions {
    handlers: BTreeMap<FunctionKey, Handler>,
    configs: BTreeMap<FunctionKey, FunctionConfig>,
    faults: BTreeMap<FunctionKey, ArmedFault>,
    invocations: Vec<Invocation>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .field("invocations", &self.invocations.len())
            .finish_non_exhaustive()
    }
}

/// One invocation, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The caller's ARN (STS GetCallerIdentity's, e.g. an assumed-role session).
    pub caller_arn: String,
    /// The function's account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name.
    pub function: String,
    /// The payload as sent.
    pub payload: String,
    /// The fault that hit it, if one did.
    pub fault: Option<LambdaFault>,
}

impl Functions {
    /// Hosts `handler` as `name` in `account` and `region` (replacing one of that name), with
    /// `config` ([`FunctionConfig::conventional`] when `None`).
    pub fn register(
        &mut self,
        account: &str,
        region: &str,
        name: &str,
        config: Option<FunctionConfig>,
        handler: Handler,
    ) {
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        let config = config.unwrap_or_else(|| FunctionConfig::conventional(account, name));
        self.configs.insert(key.clone(), config);
        self.handlers.insert(key, handler);
    }

    /// Makes the next `times` invocations of the function misbehave as `fault` — only those
    /// whose payload contains `when`, when given (`"write_aws_auth"`: its writes).
    pub fn arm(
        &mut self,
        function: (&str, &str, &str),
        fault: LambdaFault,
        times: u32,
        when: Option<&str>,
    ) {
        let (account, region, name) = function;
        self.faults.insert(
            (account.to_owned(), region.to_owned(), name.to_owned()),
            ArmedFault {
                fault,
                remaining: times,
                when: when.map(str::to_owned),
            },
        );
    }

    /// Every invocation so far.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.invocations.clone()
    }

    fn take_fault(&mut self, key: &FunctionKey, payload: &[u8]) -> Option<LambdaFault> {
        let armed = self.faults.get_mut(key)?;
        if armed.remaining == 0 {
            return None;
        }
        if let Some(when) = &armed.when
            && !String::from_utf8_lossy(payload).contains(when.as_str())
        {
            return None;
        }
        armed.remaining -= 1;
        Some(armed.fault.clone())
    }
}

/// True for the Invoke API's path.
pub fn is_invoke(path: &str) -> bool {
    path.starts_with("/2015-03-31/functions/") && path.ends_with("/invocations")
}

/// The Lambda operation of `method` on `path`: `Invoke`, `GetFunction`, or none.
pub fn operation(method: &hyper::Method, path: &str) -> Option<&'static str> {
    let function = path.strip_prefix("/2015-03-31/functions/")?;
    if *method == hyper::Method::POST && is_invoke(path) {
        Some("Invoke")
    } else if *method == hyper::Method::GET && !function.is_empty() && !function.contains('/') {
        Some("GetFunction")
    } else {
        None
    }
}

/// The (account, function name) a path's `{FunctionName}` names: a name (in the caller's
/// account), a full ARN or a partial ARN, qualifiers ignored.
fn function_of(raw: &str, caller_account: &str) -> (String, String) {
    let name = percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned();
    match name.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, account, "function", function, ..] => {
            ((*account).to_owned(), (*function).to_owned())
        }
        [account, "function", function, ..] => ((*account).to_owned(), (*function).to_owned()),
        _ => (caller_account.to_owned(), name.clone()),
    }
}

/// Serves one GetFunction call: the hosted function's configuration, or Lambda's 404.
pub fn get_function(shared: &Arc<Shared>, caller: Caller<'_>, path: &str) -> HttpResponse {
    let raw = path.trim_start_matches("/2015-03-31/functions/");
    let (account, function) = function_of(raw, caller.account);
    let arn = format!(
        "arn:aws:lambda:{}:{account}:function:{function}",
        caller.region
    );
    let key: FunctionKey = (account, caller.region.to_owned(), function.clone());
    let Some(config) = lock(&shared.functions).configs.get(&key).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {arn}"),
        );
    };
    wire::json(
        StatusCode::OK,
        &json!({
            "Configuration": {
                "FunctionName": function,
                "FunctionArn": arn,
                "Runtime": "provided.al2023",
                "Role": config.role,
                "Handler": "bootstrap",
                "CodeSha256": config.code_sha256,
                "Version": "$LATEST",
                "State": "Active",
            },
            "Code": {"RepositoryType": "S3", "Location": "https://awslambda.invalid/snapshots"},
            "Tags": {"eks-auth-migrator/component": "cluster-agent"},
        }),
    )
}

/// Who called, from where.
pub struct Caller<'a> {
    /// The caller's account (its access key's).
    pub account: &'a str,
    /// The caller's ARN.
    pub arn: &'a str,
    /// The region the request was signed for.
    pub region: &'a str,
}

/// Serves one Invoke call.
pub async fn invoke(
    shared: &Arc<Shared>,
    caller: Caller<'_>,
    path: &str,
    headers: &hyper::HeaderMap,
    body: &Bytes,
) -> HttpResponse {
    let raw = path
        .trim_start_matches("/2015-03-31/functions/")
        .trim_end_matches("/invocations");
    let (account, function) = function_of(raw, caller.account);
    let key: FunctionKey = (account.clone(), caller.region.to_owned(), function.clone());
    let invocation_type = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    if invocation_type != "RequestResponse" {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            &format!("The simulator hosts synchronous invocations only, not {invocation_type}"),
        );
    }
    let (handler, fault) = {
        let mut functions = lock(&shared.functions);
        let Some(handler) = functions.handlers.get(&key).cloned() else {
            return error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &format!(
                    "Function not found: arn:aws:lambda:{}:{account}:function:{function}",
                    caller.region
                ),
            );
        };
        let fault = functions.take_fault(&key, body);
        functions.invocations.push(Invocation {
            caller_arn: caller.arn.to_owned(),
            account,
            region: caller.region.to_owned(),
            function,
            payload: String::from_utf8_lossy(body).into_owned(),
            fault: fault.clone(),
        });
        (handler, fault)
    };
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not parse request body into json",
        );
    };
    match fault {
        None => answer(&handler(payload).await),
        Some(LambdaFault::SlowAnswer(delay)) => {
            let out = handler(payload).await;
            tokio::time::sleep(delay).await;
            answer(&out)
        }
        Some(LambdaFault::Garbage) => {
            let mut r = wire::json(StatusCode::OK, &Value::Null);
            *r.body_mut() = http_body_util::Full::new(Bytes::from_static(
                b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            ));
            r
        }
        Some(LambdaFault::OtherVersion) => answer(&json!({
            "version": 2,
            "outcome": {"kind": "aws_auth", "config_map": null},
        })),
        Some(LambdaFault::Crash) => {
            let mut r = answer(&json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": "RequestId: 00000000-0000-0000-0000-000000000000 Error: Runtime exited with error: signal: killed",
            }));
            r.headers_mut().insert(
                "x-amz-function-error",
                hyper::header::HeaderValue::from_static("Unhandled"),
            );
            r
        }
    }
}

fn answer(value: &Value) -> HttpResponse {
    let mut r = wire::json(StatusCode::OK, value);
    r.headers_mut().insert(
        "x-amz-executed-version",
        hyper::header::HeaderValue::from_static("$LATEST"),
    );
    r
}

fn error(status: StatusCode, code: &'static str, message: &str) -> HttpResponse {
    let mut r = wire::json(status, &json!({ "Type": "User", "Message": message }));
    r.headers_mut().insert(
        "x-amzn-errortype",
        hyper::header::HeaderValue::from_static(code),
    );
    r
}
