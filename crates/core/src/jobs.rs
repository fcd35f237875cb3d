//! What the Lambda functions receive, decoded into plain data: the SQS job body
//! ([`Job`]), the scheduler's input ([`ScheduleInput`]) and CloudTrail `aws.eks` events
//! ([`decode_cloudtrail`] → [`Decision`]), plus de-duplication of jobs ([`dedup`]).
//! events/README.md documents every sample event and what each must do.
//!
//! Principal and policy ARNs are recorded URL-encoded by CloudTrail (they are path
//! parameters); they are decoded with the workspace's `percent-encoding` crate (no_std, no
//! dependencies) rather than a hand-written decoder.

use crate::arn::{Arn, Principal, is_account_id, partition_of};
use crate::config::{MODE_TAG, is_region_name};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Format version of the job body this build writes and understands.
pub const JOB_FORMAT_VERSION: u32 = 1;

/// `source` of the scheduler's input.
pub const SCHEDULE_SOURCE: &str = "eks-auth-migrator.schedule";

/// `kind` of the scheduler's input.
pub const SCHEDULE_KIND_FLEET_SCAN: &str = "fleet-scan";

/// Why a job body or a scheduler input is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or not a JSON object.
    #[error("{what} is not a JSON object: {message}")]
    Syntax {
        /// `job body` or `schedule input`.
        what: &'static str,
        /// The parser's message.
        message: String,
    },
    /// One field is missing, unknown or wrong.
    #[error("{what} field `{field}`: {message}")]
    Field {
        /// `job body` or `schedule input`.
        what: &'static str,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Why a cluster needs the worker, from least to most significant (the derived order is the
/// significance [`dedup`] keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobReason {
    /// A fleet scan found work.
    Scan,
    /// The worker is waiting for an EKS update and sent itself a delayed job.
    UpdateInProgress,
    /// Someone changed the cluster's access (an entry, an access policy) or deleted it.
    Drift,
    /// Someone changed the cluster's authentication mode, or its mode tag
    /// (`eks-auth-migrator/mode`, TagResource/UntagResource): its mode is decided again.
    ModeChange,
    /// The cluster was just created.
    NewCluster,
}

impl JobReason {
    /// Every reason, least significant first.
    pub const ALL: [JobReason; 5] = [
        JobReason::Scan,
        JobReason::UpdateInProgress,
        JobReason::Drift,
        JobReason::ModeChange,
        JobReason::NewCluster,
    ];

    /// The wire spelling (`scan`, `new-cluster`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            JobReason::Scan => "scan",
            JobReason::UpdateInProgress => "update-in-progress",
            JobReason::Drift => "drift",
            JobReason::ModeChange => "mode-change",
            JobReason::NewCluster => "new-cluster",
        }
    }
}

impl fmt::Display for JobReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One unit of work for `cluster-worker`: the SQS message body
/// `{"version":1,"account":…,"region":…,"cluster":…,"reason":…}`.
///
/// `detail` is optional context for logs and audit records (what the event was, which
/// principal, who made the call); it never changes what the worker does and is left out of
/// the body when `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// [`JOB_FORMAT_VERSION`].
    pub version: u32,
    /// 12-digit account ID.
    pub account: String,
    /// Region name.
    pub region: String,
    /// EKS cluster name.
    pub cluster: String,
    /// Why.
    pub reason: JobReason,
    /// Context only, e.g. `DeleteAccessEntry arn:aws:iam::111122223333:role/team-a by …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

const JOB_FIELDS: &[&str] = &[
    "version", "account", "region", "cluster", "reason", "detail",
];

/// Longest `detail` a job may carry (SQS bodies are small; this is context only).
pub const MAX_DETAIL_LEN: usize = 1024;

impl Job {
    /// A job without detail.
    pub fn new(
        account: impl Into<String>,
        region: impl Into<String>,
        cluster: impl Into<String>,
        reason: JobReason,
    ) -> Job {
        Job {
            version: JOB_FORMAT_VERSION,
            account: account.into(),
            region: region.into(),
            cluster: cluster.into(),
            reason,
            detail: None,
        }
    }

    /// Parses a job body strictly.
    ///
    /// # Errors
    /// [`EventError`] naming the problem: not JSON (e.g. truncated), an unknown field, another
    /// `version`, an account that is not 12 digits, a region that does not look like one, a
    /// cluster name EKS would not accept, an unknown reason.
    pub fn parse(body: &str) -> Result<Job, EventError> {
        const WHAT: &str = "job body";
        let value: Value = serde_json::from_str(body).map_err(|e| EventError::Syntax {
            what: WHAT,
            message: e.to_string(),
        })?;
        let obj = as_object(&value, WHAT)?;
        let fail = |field: &str, message: String| EventError::Field {
            what: WHAT,
            field: field.to_owned(),
            message,
        };
        if let Some(k) = obj.keys().find(|k| !JOB_FIELDS.contains(&k.as_str())) {
            return Err(fail(k, "is not a known field".to_owned()));
        }
        let version = obj
            .get("version")
            .ok_or_else(|| fail("version", "is missing".to_owned()))?;
        if version.as_u64() != Some(u64::from(JOB_FORMAT_VERSION)) {
            return Err(fail(
                "version",
                format!("is {version}; this build understands version {JOB_FORMAT_VERSION}"),
            ));
        }
        let string = |field: &str| -> Result<String, EventError> {
            match obj.get(field) {
                None => Err(fail(field, "is missing".to_owned())),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(v) => Err(fail(field, format!("is {v}; expected a string"))),
            }
        };
        let account = string("account")?;
        if !is_account_id(&account) {
            return Err(fail(
                "account",
                format!("`{account}` is not a 12-digit account ID"),
            ));
        }
        let region = string("region")?;
        if !is_region_name(&region) {
            return Err(fail("region", format!("`{region}` is not a region name")));
        }
        let cluster = string("cluster")?;
        if !is_cluster_name(&cluster) {
            return Err(fail(
                "cluster",
                format!("`{cluster}` is not a valid EKS cluster name"),
            ));
        }
        let reason_text = string("reason")?;
        let reason = JobReason::ALL
            .into_iter()
            .find(|r| r.as_str() == reason_text)
            .ok_or_else(|| {
                fail(
                    "reason",
                    format!(
                        "`{reason_text}` is not one of scan, new-cluster, drift, mode-change, update-in-progress"
                    ),
                )
            })?;
        let detail = match obj.get("detail") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() <= MAX_DETAIL_LEN => Some(s.clone()),
            Some(Value::String(_)) => {
                return Err(fail(
                    "detail",
                    format!("is longer than {MAX_DETAIL_LEN} bytes"),
                ));
            }
            Some(v) => return Err(fail("detail", format!("is {v}; expected a string"))),
        };
        Ok(Job {
            version: JOB_FORMAT_VERSION,
            account,
            region,
            cluster,
            reason,
            detail,
        })
    }

    /// The SQS message body.
    pub fn to_body(&self) -> String {
        // Serializing plain strings and an enum cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stable identifier of (account, region, cluster, reason), e.g. for logs or a
    /// de-duplication record: `111122223333/us-east-1/prod-payments/drift`. `detail` is not
    /// part of it.
    pub fn dedup_id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.account, self.region, self.cluster, self.reason
        )
    }

    /// The cluster this job is about: (account, region, cluster).
    pub fn cluster_key(&self) -> (&str, &str, &str) {
        (&self.account, &self.region, &self.cluster)
    }
}

/// One job per cluster (account, region, name), keeping the most significant reason
/// (new-cluster > mode-change > drift > update-in-progress > scan; on a tie the first job).
/// Clusters keep the order of their first job.
pub fn dedup(jobs: impl IntoIterator<Item = Job>) -> Vec<Job> {
    let mut out: Vec<Job> = Vec::new();
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for job in jobs {
        let key = (job.account.clone(), job.region.clone(), job.cluster.clone());
        match index.get(&key) {
            Some(&i) => {
                if job.reason > out[i].reason {
                    out[i] = job;
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(job);
            }
        }
    }
    out
}

/// True for a name EKS accepts for a cluster: 1–100 characters, letters, digits, `-` and `_`,
/// starting with a letter or digit.
pub fn is_cluster_name(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The EventBridge Scheduler's constant input to `fleet-scan`:
/// `{"version":1,"source":"eks-auth-migrator.schedule","kind":"fleet-scan"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// 1.
    pub version: u32,
    /// [`SCHEDULE_SOURCE`].
    pub source: String,
    /// [`SCHEDULE_KIND_FLEET_SCAN`].
    pub kind: String,
}

impl Default for ScheduleInput {
    fn default() -> Self {
        ScheduleInput {
            version: 1,
            source: SCHEDULE_SOURCE.to_owned(),
            kind: SCHEDULE_KIND_FLEET_SCAN.to_owned(),
        }
    }
}

impl ScheduleInput {
    /// Checks the scheduler's input; anything but the documented constant is rejected.
    ///
    /// # Errors
    /// [`EventError`] naming the unexpected field.
    pub fn parse(input: &Value) -> Result<ScheduleInput, EventError> {
        const WHAT: &str = "schedule input";
        let obj = as_object(input, WHAT)?;
        let expected = ScheduleInput::default();
        let wanted: [(&str, Value); 3] = [
            ("version", Value::from(expected.version)),
            ("source", Value::from(expected.source.clone())),
            ("kind", Value::from(expected.kind.clone())),
        ];
        if let Some(k) = obj.keys().find(|k| !wanted.iter().any(|(w, _)| w == k)) {
            return Err(EventError::Field {
                what: WHAT,
                field: k.clone(),
                message: "is not a known field".to_owned(),
            });
        }
        for (field, value) in &wanted {
            if obj.get(*field) != Some(value) {
                return Err(EventError::Field {
                    what: WHAT,
                    field: (*field).to_owned(),
                    message: format!(
                        "is {}; expected {value}",
                        obj.get(*field)
                            .map_or("missing".to_owned(), Value::to_string)
                    ),
                });
            }
        }
        Ok(expected)
    }
}

fn as_object<'a>(
    value: &'a Value,
    what: &'static str,
) -> Result<&'a Map<String, Value>, EventError> {
    value.as_object().ok_or_else(|| EventError::Syntax {
        what,
        message: format!("found {value}"),
    })
}

/// What `cluster-events` does with one EventBridge event. None of these fails the invocation:
/// EventBridge would only retry it into the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send this job to the queue.
    Enqueue(Job),
    /// A well-formed event that needs no work (failed call, the migrator's own call, an
    /// operation that does not affect access). Log at info.
    Ignore {
        /// Why, one line.
        reason: String,
    },
    /// A malformed event (missing or invalid field). Log as a warning and drop; never retry.
    Drop {
        /// Why, naming the field.
        reason: String,
    },
}

/// `detail-type` of CloudTrail API-call events on EventBridge.
pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// The CloudTrail `detail.eventID`, on which `cluster-events` de-duplicates deliveries.
pub fn cloudtrail_event_id(event: &Value) -> Option<&str> {
    event.pointer("/detail/eventID").and_then(Value::as_str)
}

/// Decodes one EventBridge CloudTrail event from `aws.eks` (domain.md §6, events/README.md).
///
/// - Another `source` or `detail-type` → [`Decision::Ignore`].
/// - A failed call (`detail.errorCode` present) → Ignore.
/// - The migrator's own call → Ignore: made by a session of exactly
///   `arn:<partition>:iam::<the event's account>:role/<own_role_name>` (the member write role,
///   the only role of the migrator that can change a cluster), as
///   `userIdentity.sessionContext.sessionIssuer.arn` or the `assumed-role` session ARN says. A
///   role of that name in another account, or a name that merely looks alike, is not the
///   migrator.
/// - `CreateCluster` → `new-cluster`; `UpdateClusterConfig` with
///   `requestParameters.accessConfig.authenticationMode` → `mode-change` (without → Ignore);
///   `TagResource` / `UntagResource` of a cluster's `eks-auth-migrator/mode` tag → `mode-change`
///   (the mode is decided again; other tags or resources → Ignore);
///   `DeleteCluster`, `Create/Update/DeleteAccessEntry`, `Associate/DisassociateAccessPolicy`
///   → `drift` (for `DeleteCluster` the worker finds the cluster gone or deleting and closes
///   its record); any other `eventName` → Ignore ("unexpected eventName").
/// - Cluster from `requestParameters.name` (else `clusterName`; for tag calls the cluster ARN
///   `resourceArn`, which must name the event's account and region), account from
///   `detail.recipientAccountId` (else the envelope's `account`), region from
///   `detail.awsRegion` (else the envelope's `region`); missing or invalid → [`Decision::Drop`]
///   naming the field.
/// - `principalArn` / `policyArn` are percent-decoded into the job's `detail` (with the event
///   name, the caller's ARN and the event ID); invalid percent-encoding → Drop.
pub fn decode_cloudtrail(event: &Value, own_role_name: &str) -> Decision {
    match decode(event, own_role_name) {
        Ok(job) => Decision::Enqueue(job),
        Err(d) => d,
    }
}

fn ignore(reason: impl Into<String>) -> Decision {
    Decision::Ignore {
        reason: reason.into(),
    }
}

fn drop_(reason: impl Into<String>) -> Decision {
    Decision::Drop {
        reason: reason.into(),
    }
}

fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Decodes in named steps: the envelope, what the call means for the cluster, where the
/// cluster is, which cluster it is, then the job's detail.
fn decode(event: &Value, own_role_name: &str) -> Result<Job, Decision> {
    let call = cloudtrail_call(event)?;
    let Call {
        envelope,
        detail,
        event_name,
    } = call;
    let reason = job_reason(&call, own_role_name)?;
    let (account, region) = account_region(envelope, detail)?;
    if is_tag_call(event_name) {
        return tag_job(detail, event_name, (account, region));
    }
    let (params, cluster) = cluster_named(detail)?;
    let mode = params
        .get("accessConfig")
        .and_then(|a| a.get("authenticationMode"));
    if reason == JobReason::ModeChange && non_empty_str(mode).is_none() {
        return Err(ignore(format!(
            "UpdateClusterConfig of {cluster} does not change accessConfig.authenticationMode"
        )));
    }
    let mode = mode
        .and_then(Value::as_str)
        .filter(|_| reason == JobReason::ModeChange)
        .map(|m| format!("authenticationMode={m}"));
    let text = job_detail(event_name, mode, params, detail)?;
    Ok(Job {
        detail: Some(text),
        ..Job::new(account, region, cluster, reason)
    })
}

/// A CloudTrail API call from `aws.eks`, as EventBridge delivers it.
#[derive(Clone, Copy)]
struct Call<'a> {
    /// The EventBridge envelope.
    envelope: &'a Map<String, Value>,
    /// Its `detail`: the CloudTrail record.
    detail: &'a Map<String, Value>,
    /// The call's `eventName`.
    event_name: &'a str,
}

/// The call, when the event is a CloudTrail API call from `aws.eks`.
fn cloudtrail_call(event: &Value) -> Result<Call<'_>, Decision> {
    let Some(envelope) = event.as_object() else {
        return Err(drop_("event is not a JSON object"));
    };
    let source = non_empty_str(envelope.get("source")).ok_or_else(|| drop_("missing source"))?;
    if source != "aws.eks" {
        return Err(ignore(format!("source `{source}` is not aws.eks")));
    }
    let detail_type =
        non_empty_str(envelope.get("detail-type")).ok_or_else(|| drop_("missing detail-type"))?;
    if detail_type != CLOUDTRAIL_DETAIL_TYPE {
        return Err(ignore(format!(
            "detail-type `{detail_type}` is not `{CLOUDTRAIL_DETAIL_TYPE}`"
        )));
    }
    let detail = envelope
        .get("detail")
        .and_then(Value::as_object)
        .ok_or_else(|| drop_("missing detail"))?;
    let event_name =
        non_empty_str(detail.get("eventName")).ok_or_else(|| drop_("missing detail.eventName"))?;
    Ok(Call {
        envelope,
        detail,
        event_name,
    })
}

/// Why the call needs a job: a failed call, the migrator's own call and other calls are
/// ignored.
fn job_reason(call: &Call<'_>, own_role_name: &str) -> Result<JobReason, Decision> {
    let (detail, event_name) = (call.detail, call.event_name);
    if let Some(code) = detail.get("errorCode").filter(|v| !v.is_null()) {
        let code = code
            .as_str()
            .map_or_else(|| code.to_string(), str::to_owned);
        return Err(ignore(format!(
            "{event_name} failed (errorCode {code}); it changed nothing"
        )));
    }
    if let Some(who) = own_call(call, own_role_name) {
        return Err(ignore(format!(
            "{event_name} made by the migrator itself ({who})"
        )));
    }
    match event_name {
        "CreateCluster" => Ok(JobReason::NewCluster),
        "UpdateClusterConfig" | "TagResource" | "UntagResource" => Ok(JobReason::ModeChange),
        "DeleteCluster"
        | "CreateAccessEntry"
        | "UpdateAccessEntry"
        | "DeleteAccessEntry"
        | "AssociateAccessPolicy"
        | "DisassociateAccessPolicy" => Ok(JobReason::Drift),
        other => Err(ignore(format!("unexpected eventName {other}"))),
    }
}

/// The cluster's account and region: the call's own fields, else the envelope's.
fn account_region<'a>(
    envelope: &'a Map<String, Value>,
    detail: &'a Map<String, Value>,
) -> Result<(&'a str, &'a str), Decision> {
    let (account, account_field) =
        call_or_envelope(envelope, detail, "recipientAccountId", "account")?;
    if !is_account_id(account) {
        return Err(drop_(format!(
            "{account_field} `{account}` is not a 12-digit account ID"
        )));
    }
    let (region, region_field) = call_or_envelope(envelope, detail, "awsRegion", "region")?;
    if !is_region_name(region) {
        return Err(drop_(format!(
            "{region_field} `{region}` is not a region name"
        )));
    }
    Ok((account, region))
}

/// The call's `detail.<field>`, else the envelope's `<fallback>`, with the name of the one
/// used; missing from both: Drop.
fn call_or_envelope<'a>(
    envelope: &'a Map<String, Value>,
    detail: &'a Map<String, Value>,
    field: &str,
    fallback: &'static str,
) -> Result<(&'a str, String), Decision> {
    if let Some(value) = non_empty_str(detail.get(field)) {
        return Ok((value, format!("detail.{field}")));
    }
    let value = non_empty_str(envelope.get(fallback))
        .ok_or_else(|| drop_(format!("missing detail.{field} (and {fallback})")))?;
    Ok((value, fallback.to_owned()))
}

/// The call's `requestParameters` and the cluster they name (`name`, else `clusterName`).
fn cluster_named(detail: &Map<String, Value>) -> Result<(&Map<String, Value>, &str), Decision> {
    let missing_name = || drop_("missing detail.requestParameters.name");
    let params = detail
        .get("requestParameters")
        .and_then(Value::as_object)
        .ok_or_else(missing_name)?;
    let (cluster, cluster_field) = non_empty_str(params.get("name"))
        .map(|n| (n, "detail.requestParameters.name"))
        .or_else(|| {
            non_empty_str(params.get("clusterName"))
                .map(|n| (n, "detail.requestParameters.clusterName"))
        })
        .ok_or_else(missing_name)?;
    if !is_cluster_name(cluster) {
        return Err(drop_(format!(
            "{cluster_field} `{cluster}` is not a valid EKS cluster name"
        )));
    }
    Ok((params, cluster))
}

/// The job's `detail`: the event name, what changed (the new authentication mode, the mode
/// tag), the percent-decoded
/// principal and policy ARNs, the caller and the event ID, cut to [`MAX_DETAIL_LEN`] bytes.
fn job_detail(
    event_name: &str,
    change: Option<String>,
    params: &Map<String, Value>,
    detail: &Map<String, Value>,
) -> Result<String, Decision> {
    let mut context = vec![event_name.to_owned()];
    context.extend(change);
    for field in ["principalArn", "policyArn"] {
        if let Some(raw) = non_empty_str(params.get(field)) {
            let decoded = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| {
                    drop_(format!(
                        "detail.requestParameters.{field} is not valid percent-encoded UTF-8"
                    ))
                })?;
            context.push(format!("{field}={decoded}"));
        }
    }
    if let Some(actor) = non_empty_str(detail.get("userIdentity").and_then(|u| u.get("arn"))) {
        context.push(format!("by {actor}"));
    }
    if let Some(id) = non_empty_str(detail.get("eventID")) {
        context.push(format!("event {id}"));
    }
    let mut text = context.join(" ");
    if text.len() > MAX_DETAIL_LEN {
        let mut cut = MAX_DETAIL_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    Ok(text)
}

/// `Some(description)` when the call was made by a session of exactly the migrator's own role in
/// the event's account: `arn:<partition>:iam::<account>:role/<own_role_name>` as the session
/// issuer, or an `assumed-role/<own_role_name>/…` session of that account and partition.
fn own_call(call: &Call<'_>, own_role_name: &str) -> Option<String> {
    if own_role_name.is_empty() {
        return None;
    }
    let (account, _) =
        call_or_envelope(call.envelope, call.detail, "recipientAccountId", "account").ok()?;
    let (region, _) = call_or_envelope(call.envelope, call.detail, "awsRegion", "region").ok()?;
    let partition = partition_of(region);
    let identity = call.detail.get("userIdentity")?;
    let role_arn = format!("arn:{partition}:iam::{account}:role/{own_role_name}");
    if let Some(issuer) = identity
        .pointer("/sessionContext/sessionIssuer/arn")
        .and_then(Value::as_str)
        && issuer == role_arn
    {
        return Some(format!("session issued by {issuer}"));
    }
    let arn = identity.get("arn").and_then(Value::as_str)?;
    let parsed = arn.parse::<Arn>().ok()?;
    match parsed.principal() {
        Principal::AssumedRole { role }
            if role == own_role_name
                && parsed.account() == account
                && parsed.partition() == partition =>
        {
            Some(format!("session {arn} of {role_arn}"))
        }
        _ => None,
    }
}

/// Whether the call sets or removes tags (of any EKS resource).
fn is_tag_call(event_name: &str) -> bool {
    matches!(event_name, "TagResource" | "UntagResource")
}

/// The job of a tag call: only a cluster's [`MODE_TAG`] matters (its mode is decided again);
/// the resource ARN (percent-encoded, a path parameter) must name a cluster in the event's own
/// account and region.
fn tag_job(
    detail: &Map<String, Value>,
    event_name: &str,
    (account, region): (&str, &str),
) -> Result<Job, Decision> {
    let params = detail
        .get("requestParameters")
        .and_then(Value::as_object)
        .ok_or_else(|| drop_("missing detail.requestParameters.resourceArn"))?;
    let raw = non_empty_str(params.get("resourceArn"))
        .ok_or_else(|| drop_("missing detail.requestParameters.resourceArn"))?;
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| {
            drop_("detail.requestParameters.resourceArn is not valid percent-encoded UTF-8")
        })?;
    let arn: Arn = decoded.parse().map_err(|_| {
        drop_(format!(
            "detail.requestParameters.resourceArn `{decoded}` is not a valid ARN"
        ))
    })?;
    let Some(cluster) = arn
        .resource()
        .strip_prefix("cluster/")
        .filter(|_| arn.service() == "eks")
    else {
        return Err(ignore(format!(
            "{event_name} of {decoded}, not of a cluster: no mode to decide"
        )));
    };
    if arn.account() != account || arn.region() != region {
        return Err(drop_(format!(
            "detail.requestParameters.resourceArn `{decoded}` is not in the event's account {account} and region {region}"
        )));
    }
    if !is_cluster_name(cluster) {
        return Err(drop_(format!(
            "detail.requestParameters.resourceArn `{decoded}` names no valid EKS cluster"
        )));
    }
    let change = mode_tag_change(params, event_name).ok_or_else(|| {
        ignore(format!(
            "{event_name} of {cluster} does not change the {MODE_TAG} tag"
        ))
    })?;
    let text = job_detail(event_name, Some(change), params, detail)?;
    Ok(Job {
        detail: Some(text),
        ..Job::new(account, region, cluster, JobReason::ModeChange)
    })
}

/// What a tag call does to [`MODE_TAG`]: `eks-auth-migrator/mode=<value>` (TagResource's
/// `tags`), `eks-auth-migrator/mode removed` (UntagResource's `tagKeys`), or `None` when the
/// call leaves it alone.
fn mode_tag_change(params: &Map<String, Value>, event_name: &str) -> Option<String> {
    if event_name == "TagResource" {
        let value = params.get("tags")?.as_object()?.get(MODE_TAG)?;
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        return Some(format!("{MODE_TAG}={value}"));
    }
    params
        .get("tagKeys")?
        .as_array()?
        .iter()
        .any(|k| k.as_str() == Some(MODE_TAG))
        .then(|| format!("{MODE_TAG} removed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROLE: &str = "eks-auth-migrator-member";

    fn event(name: &str, params: Value) -> Value {
        json!({
            "version": "0",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.eks",
            "account": "111122223333",
            "region": "us-east-1",
            "detail": {
                "userIdentity": {
                    "type": "AssumedRole",
                    "arn": "arn:aws:sts::111122223333:assumed-role/developer/bob",
                    "sessionContext": {"sessionIssuer": {"userName": "developer"}}
                },
                "eventName": name,
                "awsRegion": "us-east-1",
                "requestParameters": params,
                "eventID": "e-1",
                "recipientAccountId": "111122223333"
            }
        })
    }

    fn enqueued(d: Decision) -> Job {
        match d {
            Decision::Enqueue(job) => job,
            other => panic!("expected a job, got {other:?}"),
        }
    }

    fn ignored(d: &Decision, needle: &str) {
        match d {
            Decision::Ignore { reason } => assert!(reason.contains(needle), "{reason} / {needle}"),
            other => panic!("expected Ignore({needle}), got {other:?}"),
        }
    }

    fn dropped(d: &Decision, needle: &str) {
        match d {
            Decision::Drop { reason } => assert!(reason.contains(needle), "{reason} / {needle}"),
            other => panic!("expected Drop({needle}), got {other:?}"),
        }
    }

    #[test]
    fn maps_each_operation_to_its_reason() {
        for (name, reason) in [
            ("CreateCluster", JobReason::NewCluster),
            ("DeleteCluster", JobReason::Drift),
            ("CreateAccessEntry", JobReason::Drift),
            ("UpdateAccessEntry", JobReason::Drift),
            ("DeleteAccessEntry", JobReason::Drift),
            ("AssociateAccessPolicy", JobReason::Drift),
            ("DisassociateAccessPolicy", JobReason::Drift),
        ] {
            let job = enqueued(decode_cloudtrail(
                &event(name, json!({"name": "prod"})),
                ROLE,
            ));
            assert_eq!(job.reason, reason, "{name}");
            assert_eq!(job.cluster_key(), ("111122223333", "us-east-1", "prod"));
            assert!(job.detail.as_deref().is_some_and(|d| d.starts_with(name)));
        }
    }

    #[test]
    fn update_cluster_config_only_for_authentication_mode() {
        let e = event(
            "UpdateClusterConfig",
            json!({"name": "prod", "accessConfig": {"authenticationMode": "API"}}),
        );
        let job = enqueued(decode_cloudtrail(&e, ROLE));
        assert_eq!(job.reason, JobReason::ModeChange);
        assert!(
            job.detail
                .as_deref()
                .is_some_and(|d| d.contains("authenticationMode=API"))
        );
        let logging = event(
            "UpdateClusterConfig",
            json!({"name": "prod", "logging": {}}),
        );
        ignored(&decode_cloudtrail(&logging, ROLE), "authenticationMode");
        let missing = event("UpdateClusterConfig", Value::Null);
        dropped(
            &decode_cloudtrail(&missing, ROLE),
            "missing detail.requestParameters.name",
        );
    }

    #[test]
    fn cluster_name_from_name_or_cluster_name() {
        let job = enqueued(decode_cloudtrail(
            &event("DeleteAccessEntry", json!({"clusterName": "alt_1"})),
            ROLE,
        ));
        assert_eq!(job.cluster, "alt_1");
        dropped(
            &decode_cloudtrail(
                &event("DeleteAccessEntry", json!({"name": "bad name"})),
                ROLE,
            ),
            "detail.requestParameters.name `bad name`",
        );
        dropped(
            &decode_cloudtrail(&event("DeleteAccessEntry", json!({})), ROLE),
            "missing detail.requestParameters.name",
        );
    }

    #[test]
    fn other_sources_and_detail_types_are_ignored() {
        let mut e = event("CreateCluster", json!({"name": "prod"}));
        e["source"] = json!("aws.ec2");
        ignored(&decode_cloudtrail(&e, ROLE), "aws.ec2");
        let mut e = event("CreateCluster", json!({"name": "prod"}));
        e["detail-type"] = json!("EKS Cluster State Change");
        ignored(&decode_cloudtrail(&e, ROLE), "detail-type");
        ignored(
            &decode_cloudtrail(&event("ListClusters", json!({})), ROLE),
            "unexpected eventName ListClusters",
        );
    }

    #[test]
    fn failed_calls_are_ignored() {
        let mut e = event("CreateAccessEntry", json!({"name": "prod"}));
        e["detail"]["errorCode"] = json!("AccessDeniedException");
        ignored(&decode_cloudtrail(&e, ROLE), "AccessDeniedException");
        // A null errorCode is no error.
        e["detail"]["errorCode"] = Value::Null;
        enqueued(decode_cloudtrail(&e, ROLE));
    }

    #[test]
    fn own_calls_are_ignored_by_session_arn_or_issuer() {
        // The write role of the event's own account, by session ARN or by session issuer.
        let mut e = event("CreateAccessEntry", json!({"name": "prod"}));
        e["detail"]["userIdentity"]["arn"] = json!(format!(
            "arn:aws:sts::111122223333:assumed-role/{ROLE}/worker"
        ));
        ignored(&decode_cloudtrail(&e, ROLE), "migrator itself");
        let mut e = event("CreateAccessEntry", json!({"name": "prod"}));
        e["detail"]["userIdentity"]["arn"] = json!("not an arn");
        e["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] =
            json!(format!("arn:aws:iam::111122223333:role/{ROLE}"));
        ignored(&decode_cloudtrail(&e, ROLE), "migrator itself");
        // A role of that name in another account (issue 18 item 5: the filter matched the name in
        // any account), with another case, or named only by userName, is not the migrator.
        let mut e = event("CreateAccessEntry", json!({"name": "prod"}));
        e["detail"]["userIdentity"]["arn"] = json!(format!(
            "arn:aws:sts::999988887777:assumed-role/{ROLE}/worker"
        ));
        enqueued(decode_cloudtrail(&e, ROLE));
        let mut e = event("CreateAccessEntry", json!({"name": "prod"}));
        e["detail"]["userIdentity"]["arn"] =
            json!("arn:aws:sts::111122223333:assumed-role/EKS-Auth-Migrator-Member/worker");
        enqueued(decode_cloudtrail(&e, ROLE));
        let mut e = event("CreateAccessEntry", json!({"name": "prod"}));
        e["detail"]["userIdentity"]["arn"] = json!("not an arn");
        e["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] = json!(ROLE);
        e["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] =
            json!(format!("arn:aws:iam::999988887777:role/{ROLE}"));
        enqueued(decode_cloudtrail(&e, ROLE));
        // A person's session, or an empty role name, is not the migrator.
        let e = event("CreateAccessEntry", json!({"name": "prod"}));
        enqueued(decode_cloudtrail(&e, ROLE));
        enqueued(decode_cloudtrail(&e, ""));
        // A role whose name only starts with the migrator's is not the migrator.
        let mut e = event("CreateAccessEntry", json!({"name": "prod"}));
        e["detail"]["userIdentity"]["arn"] =
            json!("arn:aws:sts::111122223333:assumed-role/eks-auth-migrator-member-x/s");
        enqueued(decode_cloudtrail(&e, ROLE));
    }

    /// Issue 18 item 3: a change of a cluster's mode tag is re-evaluated; other tags and other
    /// resources are not.
    #[test]
    fn mode_tag_changes_are_decided_again() {
        let arn = "arn%3Aaws%3Aeks%3Aus-east-1%3A111122223333%3Acluster%2Fprod";
        let tagged = event(
            "TagResource",
            json!({"resourceArn": arn, "tags": {MODE_TAG: "finalize", "team": "a"}}),
        );
        let job = enqueued(decode_cloudtrail(&tagged, ROLE));
        assert_eq!(
            (job.cluster.as_str(), job.reason),
            ("prod", JobReason::ModeChange)
        );
        let detail = job.detail.expect("detail");
        assert!(
            detail.starts_with("TagResource eks-auth-migrator/mode=finalize"),
            "{detail}"
        );
        let untagged = event(
            "UntagResource",
            json!({"resourceArn": arn, "tagKeys": ["team", MODE_TAG]}),
        );
        let job = enqueued(decode_cloudtrail(&untagged, ROLE));
        assert!(
            job.detail
                .expect("detail")
                .contains("eks-auth-migrator/mode removed")
        );
        ignored(
            &decode_cloudtrail(
                &event(
                    "TagResource",
                    json!({"resourceArn": arn, "tags": {"team": "a"}}),
                ),
                ROLE,
            ),
            "does not change the eks-auth-migrator/mode tag",
        );
        ignored(
            &decode_cloudtrail(
                &event(
                    "UntagResource",
                    json!({"resourceArn": arn, "tagKeys": ["team"]}),
                ),
                ROLE,
            ),
            "does not change",
        );
        let entry = "arn:aws:eks:us-east-1:111122223333:access-entry/prod/role/111122223333/a/1";
        ignored(
            &decode_cloudtrail(
                &event(
                    "TagResource",
                    json!({"resourceArn": entry, "tags": {MODE_TAG: "skip"}}),
                ),
                ROLE,
            ),
            "not of a cluster",
        );
        // The ARN must name the event's own account and region.
        let elsewhere = "arn:aws:eks:us-east-1:999988887777:cluster/prod";
        dropped(
            &decode_cloudtrail(
                &event(
                    "TagResource",
                    json!({"resourceArn": elsewhere, "tags": {MODE_TAG: "skip"}}),
                ),
                ROLE,
            ),
            "not in the event's account",
        );
        dropped(
            &decode_cloudtrail(&event("TagResource", json!({"tags": {}})), ROLE),
            "missing detail.requestParameters.resourceArn",
        );
        // A failed tag call changed nothing.
        let mut failed = tagged.clone();
        failed["detail"]["errorCode"] = json!("AccessDeniedException");
        ignored(&decode_cloudtrail(&failed, ROLE), "AccessDeniedException");
    }

    #[test]
    fn account_and_region_fall_back_to_the_envelope() {
        let mut e = event("CreateCluster", json!({"name": "prod"}));
        let d = e["detail"].as_object_mut().expect("object");
        d.remove("recipientAccountId");
        d.remove("awsRegion");
        e["account"] = json!("444455556666");
        e["region"] = json!("eu-west-1");
        let job = enqueued(decode_cloudtrail(&e, ROLE));
        assert_eq!(
            (job.account.as_str(), job.region.as_str()),
            ("444455556666", "eu-west-1")
        );
        e["region"] = json!("nowhere");
        dropped(&decode_cloudtrail(&e, ROLE), "region `nowhere`");
        e.as_object_mut().expect("object").remove("region");
        dropped(&decode_cloudtrail(&e, ROLE), "missing detail.awsRegion");
        let mut e = event("CreateCluster", json!({"name": "prod"}));
        e["detail"]["recipientAccountId"] = json!("12");
        dropped(
            &decode_cloudtrail(&e, ROLE),
            "detail.recipientAccountId `12`",
        );
    }

    #[test]
    fn malformed_envelopes_are_dropped() {
        dropped(&decode_cloudtrail(&json!([1]), ROLE), "not a JSON object");
        dropped(
            &decode_cloudtrail(&json!({"detail-type": "x"}), ROLE),
            "missing source",
        );
        dropped(
            &decode_cloudtrail(
                &json!({"source": "aws.eks", "detail-type": CLOUDTRAIL_DETAIL_TYPE}),
                ROLE,
            ),
            "missing detail",
        );
        let mut e = event("CreateCluster", json!({"name": "prod"}));
        e["detail"]
            .as_object_mut()
            .expect("object")
            .remove("eventName");
        dropped(&decode_cloudtrail(&e, ROLE), "missing detail.eventName");
    }

    #[test]
    fn principal_and_policy_arns_are_percent_decoded() {
        let e = event(
            "DisassociateAccessPolicy",
            json!({
                "name": "prod",
                "principalArn": "arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fteam-a",
                "policyArn": "arn%3aaws%3aeks%3a%3aaws%3acluster-access-policy%2FAmazonEKSViewPolicy"
            }),
        );
        let detail = enqueued(decode_cloudtrail(&e, ROLE))
            .detail
            .expect("detail");
        assert!(
            detail.contains("principalArn=arn:aws:iam::111122223333:role/team-a"),
            "{detail}"
        );
        assert!(
            detail.contains("policyArn=arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"),
            "{detail}"
        );
        assert!(detail.contains("by arn:aws:sts::111122223333:assumed-role/developer/bob"));
        assert!(detail.ends_with("event e-1"));
        let bad = event(
            "DeleteAccessEntry",
            json!({"name": "prod", "principalArn": "arn%FF"}),
        );
        dropped(&decode_cloudtrail(&bad, ROLE), "principalArn");
        assert_eq!(cloudtrail_event_id(&e), Some("e-1"));
    }

    #[test]
    fn job_body_round_trip_and_wire_shape() {
        let job = Job::new(
            "111122223333",
            "us-east-1",
            "prod-payments",
            JobReason::NewCluster,
        );
        assert_eq!(
            job.to_body(),
            r#"{"version":1,"account":"111122223333","region":"us-east-1","cluster":"prod-payments","reason":"new-cluster"}"#
        );
        assert_eq!(Job::parse(&job.to_body()), Ok(job.clone()));
        assert_eq!(
            job.dedup_id(),
            "111122223333/us-east-1/prod-payments/new-cluster"
        );
        let with = Job {
            detail: Some("x".into()),
            ..job.clone()
        };
        assert_eq!(Job::parse(&with.to_body()), Ok(with.clone()));
        assert_eq!(with.dedup_id(), job.dedup_id());
    }

    #[test]
    fn job_parse_names_the_bad_field() {
        let ok = r#""account":"111122223333","region":"us-east-1","cluster":"c","reason":"scan""#;
        for (body, field, needle) in [
            (format!(r#"{{"version":2,{ok}}}"#), "version", "is 2"),
            (format!(r#"{{"version":"1",{ok}}}"#), "version", "understands version 1"),
            (format!(r#"{{{ok}}}"#), "version", "missing"),
            (
                r#"{"version":1,"account":"1111","region":"us-east-1","cluster":"c","reason":"scan"}"#.to_owned(),
                "account",
                "12-digit",
            ),
            (
                r#"{"version":1,"account":"111122223333","region":"mars","cluster":"c","reason":"scan"}"#.to_owned(),
                "region",
                "not a region",
            ),
            (
                r#"{"version":1,"account":"111122223333","region":"us-east-1","cluster":"-c","reason":"scan"}"#.to_owned(),
                "cluster",
                "cluster name",
            ),
            (
                r#"{"version":1,"account":"111122223333","region":"us-east-1","cluster":7,"reason":"scan"}"#.to_owned(),
                "cluster",
                "expected a string",
            ),
            (
                r#"{"version":1,"account":"111122223333","region":"us-east-1","cluster":"c","reason":"Scan"}"#.to_owned(),
                "reason",
                "not one of",
            ),
            (format!(r#"{{"version":1,{ok},"extra":1}}"#), "extra", "not a known field"),
            (format!(r#"{{"version":1,{ok},"detail":5}}"#), "detail", "expected a string"),
        ] {
            match Job::parse(&body) {
                Err(e @ EventError::Field { .. }) => {
                    let EventError::Field { field: f, .. } = &e else { unreachable!() };
                    assert_eq!(f, field, "{body}");
                    assert!(e.to_string().contains(needle), "{e} / {needle}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let truncated = Job::parse(r#"{"version":1,"account":"111122223333","cluster":"#);
        assert!(
            matches!(truncated, Err(EventError::Syntax { .. })),
            "{truncated:?}"
        );
        assert!(Job::parse("[]").is_err());
    }

    #[test]
    fn cluster_names() {
        assert!(is_cluster_name("prod-payments_2"));
        assert!(is_cluster_name(&"a".repeat(100)));
        assert!(!is_cluster_name(&"a".repeat(101)));
        for bad in ["", "-a", "_a", "a b", "a/b", "a.b"] {
            assert!(!is_cluster_name(bad), "{bad}");
        }
    }

    #[test]
    fn dedup_keeps_the_most_significant_reason_in_first_order() {
        let j = |c: &str, r| Job::new("111122223333", "us-east-1", c, r);
        let out = dedup(vec![
            j("a", JobReason::Scan),
            j("b", JobReason::Drift),
            j("a", JobReason::ModeChange),
            j("b", JobReason::UpdateInProgress),
            j("a", JobReason::Drift),
            j("c", JobReason::Scan),
            Job::new("111122223333", "eu-west-1", "a", JobReason::Scan),
        ]);
        let got: Vec<(&str, &str, JobReason)> = out
            .iter()
            .map(|j| (j.region.as_str(), j.cluster.as_str(), j.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                ("us-east-1", "a", JobReason::ModeChange),
                ("us-east-1", "b", JobReason::Drift),
                ("us-east-1", "c", JobReason::Scan),
                ("eu-west-1", "a", JobReason::Scan),
            ]
        );
        assert!(JobReason::NewCluster > JobReason::ModeChange);
        assert!(JobReason::ModeChange > JobReason::Drift);
        assert!(JobReason::Drift > JobReason::UpdateInProgress);
        assert!(JobReason::UpdateInProgress > JobReason::Scan);
    }

    #[test]
    fn schedule_input_is_the_constant() {
        let ok = json!({"version": 1, "source": SCHEDULE_SOURCE, "kind": "fleet-scan"});
        assert_eq!(ScheduleInput::parse(&ok), Ok(ScheduleInput::default()));
        for (input, field) in [
            (
                json!({"version": 2, "source": SCHEDULE_SOURCE, "kind": "fleet-scan"}),
                "version",
            ),
            (json!({"version": 1, "kind": "fleet-scan"}), "source"),
            (
                json!({"version": 1, "source": SCHEDULE_SOURCE, "kind": "other"}),
                "kind",
            ),
            (
                json!({"version": 1, "source": SCHEDULE_SOURCE, "kind": "fleet-scan", "x": 1}),
                "x",
            ),
        ] {
            match ScheduleInput::parse(&input) {
                Err(EventError::Field { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{input}: {other:?}"),
            }
        }
        assert!(matches!(
            ScheduleInput::parse(&json!("x")),
            Err(EventError::Syntax { .. })
        ));
    }
}
