//! Pinned agents (docs/networking.md, "Pinned agents"): the configuration names each VPC's
//! in-VPC agent by its function ARN and the code digest it must have, and the worker trusts an
//! agent's answers only when lambda:GetFunction shows that digest and the role the agent stack
//! gives it. A function that someone stood up under the agent's name, or whose code or role
//! changed since it was pinned, is not used: the cluster is blocked with a finding that says
//! what was found and what to pin.
//!
//! Pure: the adapter calls GetFunction ([`FoundAgent`]); [`check`] decides.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What `network.agents` says of one VPC's agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AgentRef {
    /// A function name or ARN alone: the worker finds what it is, and blocks the cluster with
    /// what to pin.
    Named(String),
    /// A function and what it must be.
    Pinned(AgentPin),
}

/// An agent pinned: the function, its code digest and, when it is not the one
/// infra/cluster-agent.yaml gives it, its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPin {
    /// The function's ARN (or name, in the cluster's account and region); a qualified ARN
    /// (`…:function:NAME:7`) pins a published version, whose code cannot change.
    pub function: String,
    /// Its `CodeSha256` (base64 of the SHA-256 of the deployment zip, as Lambda reports it).
    pub code_sha256: String,
    /// Its execution role's ARN; absent: the role infra/cluster-agent.yaml creates, named as
    /// the function, in the function's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl AgentRef {
    /// The function's name or ARN.
    pub fn function(&self) -> &str {
        match self {
            AgentRef::Named(function) => function,
            AgentRef::Pinned(pin) => &pin.function,
        }
    }

    /// The pin, when there is one.
    pub fn pin(&self) -> Option<&AgentPin> {
        match self {
            AgentRef::Named(_) => None,
            AgentRef::Pinned(pin) => Some(pin),
        }
    }
}

/// Deserializes `network.agents`: VPC ID → a function name or ARN, or a pin; an error names
/// the VPC's entry.
///
/// # Errors
///
/// A value that is neither a string nor a pin object (unknown fields refused).
pub fn deserialize_agents<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, AgentRef>, D::Error> {
    let raw = BTreeMap::<String, Value>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(vpc, value)| {
            let agent = match value {
                Value::String(function) => Ok(AgentRef::Named(function)),
                Value::Object(_) => serde_json::from_value(value).map(AgentRef::Pinned).map_err(|e| {
                    format!("agents.{vpc}: {e} (a pin is {{\"function\": ARN, \"code_sha256\": DIGEST, \"role\": ARN (optional)}})")
                }),
                other => Err(format!(
                    "agents.{vpc} is {}; an agent is its function's ARN and code digest, {{\"function\": ARN, \"code_sha256\": DIGEST}}",
                    crate::value_kind::kind_of(&other)
                )),
            };
            agent.map(|a| (vpc, a)).map_err(serde::de::Error::custom)
        })
        .collect()
}

/// Checks a pin's fields; the error names the field.
///
/// # Errors
///
/// `(field, message)` for a digest that is not base64 of 32 bytes or a role that is not an
/// IAM role ARN.
pub fn validate_pin(pin: &AgentPin) -> Result<(), (&'static str, String)> {
    if !is_code_sha256(&pin.code_sha256) {
        return Err((
            "code_sha256",
            format!(
                "`{}` is not a CodeSha256 (base64 of a SHA-256, 44 characters: `openssl dgst -sha256 -binary cluster-agent.zip | base64`, or aws lambda get-function --query Configuration.CodeSha256)",
                pin.code_sha256
            ),
        ));
    }
    if let Some(role) = &pin.role
        && !is_role_arn(role)
    {
        return Err((
            "role",
            format!("`{role}` is not an IAM role ARN (arn:aws:iam::111122223333:role/NAME)"),
        ));
    }
    Ok(())
}

/// Base64 (standard alphabet, padded) of 32 bytes.
fn is_code_sha256(s: &str) -> bool {
    s.len() == 44
        && s.ends_with('=')
        && s[..43]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn is_role_arn(s: &str) -> bool {
    match s.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            !partition.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource
                    .strip_prefix("role/")
                    .is_some_and(|n| !n.is_empty())
        }
        _ => false,
    }
}

/// What lambda:GetFunction says of an agent function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAgent {
    /// `Configuration.FunctionArn`.
    pub function_arn: String,
    /// `Configuration.CodeSha256`.
    pub code_sha256: String,
    /// `Configuration.Role`.
    pub role: String,
}

/// What the worker expects of an agent: its pin, or how the route came by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// `network.agents` pins it.
    Pinned(AgentPin),
    /// `network.agents` names it without a pin.
    Named,
    /// Found by its conventional name (`network.discover_agents`): trusted with the role the
    /// agent stack gives it, whatever its code (weaker; documented so).
    Discovered,
}

/// The role infra/cluster-agent.yaml gives the function `function_arn`: named as the
/// function, in its account (`arn:<partition>:iam::<account>:role/<function name>`).
pub fn conventional_role(function_arn: &str) -> Option<String> {
    match function_arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "lambda", _, account, "function", name, ..] => {
            Some(format!("arn:{partition}:iam::{account}:role/{name}"))
        }
        _ => None,
    }
}

/// Whether the worker may trust `found`, the agent of `vpc`, as `expected` says.
///
/// # Errors
///
/// The finding that blocks the cluster: what was found (the function's ARN, CodeSha256 and
/// role), what was expected, and what to pin.
pub fn check(vpc: &str, expected: &Expected, found: &FoundAgent) -> Result<(), String> {
    let conventional = conventional_role(&found.function_arn);
    let role_ok = |wanted: Option<&str>| Some(found.role.as_str()) == wanted;
    match expected {
        Expected::Discovered if role_ok(conventional.as_deref()) => Ok(()),
        Expected::Discovered => Err(format!(
            "the in-VPC agent {} found by its name (network.discover_agents) runs as {}, not as the role infra/cluster-agent.yaml gives it ({}): nothing it answers is trusted. Pin the agent you deployed: {}",
            found.function_arn,
            found.role,
            conventional.as_deref().unwrap_or("unknown"),
            pin_snippet(vpc, found)
        )),
        Expected::Named => Err(format!(
            "the in-VPC agent {} is not pinned (network.agents.{vpc} names it without its code digest), so nothing it answers is trusted. It has CodeSha256 {} and role {}: if that is the agent release you deployed (the CodeSha256 of its zip is `openssl dgst -sha256 -binary cluster-agent.zip | base64`), pin it: {}",
            found.function_arn,
            found.code_sha256,
            found.role,
            pin_snippet(vpc, found)
        )),
        Expected::Pinned(pin) => {
            let wanted_role = pin.role.clone().or(conventional);
            let mut differences = Vec::new();
            if found.code_sha256 != pin.code_sha256 {
                differences.push(format!(
                    "CodeSha256 {}, not the pinned {}",
                    found.code_sha256, pin.code_sha256
                ));
            }
            if !role_ok(wanted_role.as_deref()) {
                differences.push(format!(
                    "role {}, not {}",
                    found.role,
                    wanted_role.as_deref().unwrap_or("the pinned role")
                ));
            }
            if differences.is_empty() {
                return Ok(());
            }
            Err(format!(
                "the in-VPC agent {} has {} (network.agents.{vpc}): its code or configuration is not what was pinned, so nothing it answers is trusted. If you deployed this agent yourself, pin it: {}; otherwise find out who changed it (CloudTrail: CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration on it)",
                found.function_arn,
                differences.join(" and "),
                pin_snippet(vpc, found)
            ))
        }
    }
}

/// The `network.agents` entry that pins `found` for `vpc`, as JSON.
fn pin_snippet(vpc: &str, found: &FoundAgent) -> String {
    let mut pin = serde_json::json!({
        "function": found.function_arn,
        "code_sha256": found.code_sha256,
    });
    if conventional_role(&found.function_arn).as_deref() != Some(found.role.as_str()) {
        pin["role"] = Value::String(found.role.clone());
    }
    format!("\"network\": {{\"agents\": {{\"{vpc}\": {pin}}}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:lambda:eu-west-1:111122223333:function:eks-auth-migrator-agent-vpc-1";
    const ROLE: &str = "arn:aws:iam::111122223333:role/eks-auth-migrator-agent-vpc-1";
    const CODE: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const OTHER_CODE: &str = "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=";

    fn found(code: &str, role: &str) -> FoundAgent {
        FoundAgent {
            function_arn: ARN.to_owned(),
            code_sha256: code.to_owned(),
            role: role.to_owned(),
        }
    }

    fn pin(role: Option<&str>) -> AgentPin {
        AgentPin {
            function: ARN.to_owned(),
            code_sha256: CODE.to_owned(),
            role: role.map(str::to_owned),
        }
    }

    #[test]
    fn a_pinned_agent_is_trusted_only_with_its_digest_and_role() {
        let p = pin(None);
        assert_eq!(
            check("vpc-1", &Expected::Pinned(p.clone()), &found(CODE, ROLE)),
            Ok(())
        );
        let forged = check(
            "vpc-1",
            &Expected::Pinned(p.clone()),
            &found(OTHER_CODE, ROLE),
        )
        .expect_err("another digest");
        for needle in [
            ARN,
            &format!("CodeSha256 {OTHER_CODE}, not the pinned {CODE}"),
            "nothing it answers is trusted",
            "UpdateFunctionCode",
            &format!(
                "\"network\": {{\"agents\": {{\"vpc-1\": {{\"code_sha256\":\"{OTHER_CODE}\",\"function\":\"{ARN}\"}}}}}}"
            ),
        ] {
            assert!(forged.contains(needle), "{needle}: {forged}");
        }
        let other_role = "arn:aws:iam::111122223333:role/admin";
        let swapped = check(
            "vpc-1",
            &Expected::Pinned(p.clone()),
            &found(CODE, other_role),
        )
        .expect_err("role");
        assert!(
            swapped.contains(&format!("role {other_role}, not {ROLE}")),
            "{swapped}"
        );
        assert!(
            swapped.contains(&format!("\"role\":\"{other_role}\"")),
            "{swapped}"
        );
        // A pinned role other than the conventional one.
        let custom = pin(Some(other_role));
        assert_eq!(
            check(
                "vpc-1",
                &Expected::Pinned(custom.clone()),
                &found(CODE, other_role)
            ),
            Ok(())
        );
        assert!(
            check(
                "vpc-1",
                &Expected::Pinned(custom.clone()),
                &found(CODE, ROLE)
            )
            .is_err()
        );
    }

    #[test]
    fn a_named_agent_is_never_trusted_and_the_finding_says_what_to_pin() {
        let finding = check("vpc-1", &Expected::Named, &found(CODE, ROLE)).expect_err("unpinned");
        for needle in [
            "is not pinned",
            "network.agents.vpc-1",
            &format!("CodeSha256 {CODE}"),
            ROLE,
            "openssl dgst -sha256 -binary cluster-agent.zip | base64",
        ] {
            assert!(finding.contains(needle), "{needle}: {finding}");
        }
    }

    #[test]
    fn a_discovered_agent_is_trusted_with_the_stacks_role_whatever_its_code() {
        assert_eq!(
            check("vpc-1", &Expected::Discovered, &found(OTHER_CODE, ROLE)),
            Ok(())
        );
        let finding = check(
            "vpc-1",
            &Expected::Discovered,
            &found(CODE, "arn:aws:iam::111122223333:role/admin"),
        )
        .expect_err("another role");
        assert!(finding.contains("network.discover_agents"), "{finding}");
        assert_eq!(
            conventional_role("arn:aws-cn:lambda:cn-north-1:111122223333:function:f:3").as_deref(),
            Some("arn:aws-cn:iam::111122223333:role/f")
        );
    }

    #[test]
    fn agents_are_names_or_pins_and_a_bad_entry_names_its_vpc() {
        let parse = |v: Value| deserialize_agents(v).map_err(|e| e.to_string());
        let agents = parse(serde_json::json!({
            "vpc-1": "eks-auth-migrator-agent-vpc-1",
            "vpc-2": {"function": ARN, "code_sha256": CODE},
        }))
        .expect("valid");
        assert_eq!(agents["vpc-1"].pin(), None);
        assert_eq!(agents["vpc-2"].pin(), Some(&pin(None)));
        assert_eq!(agents["vpc-2"].function(), ARN);
        let e = parse(serde_json::json!({"vpc-3": {"function": ARN}})).expect_err("no digest");
        assert!(
            e.contains("agents.vpc-3") && e.contains("code_sha256"),
            "{e}"
        );
        let e =
            parse(serde_json::json!({"vpc-3": {"function": ARN, "code_sha256": CODE, "sha": 1}}))
                .expect_err("unknown field");
        assert!(e.contains("unknown field `sha`"), "{e}");
        let e = parse(serde_json::json!({"vpc-3": 7})).expect_err("a number");
        assert!(e.contains("agents.vpc-3 is a number"), "{e}");
        // Round trip: a name stays a string, a pin an object.
        let text = serde_json::to_value(&agents).expect("json");
        assert_eq!(text["vpc-1"], "eks-auth-migrator-agent-vpc-1");
        assert_eq!(text["vpc-2"]["code_sha256"], CODE);
    }

    #[test]
    fn pins_are_validated_field_by_field() {
        assert_eq!(validate_pin(&pin(None)), Ok(()));
        assert_eq!(validate_pin(&pin(Some(ROLE))), Ok(()));
        let bad_code = AgentPin {
            code_sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .to_owned(),
            ..pin(None)
        };
        assert_eq!(validate_pin(&bad_code).map_err(|e| e.0), Err("code_sha256"));
        assert_eq!(
            validate_pin(&pin(Some("arn:aws:iam::111122223333:user/u"))).map_err(|e| e.0),
            Err("role")
        );
    }
}
