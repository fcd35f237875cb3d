//! Whether a decoded request is one to carry out (docs/cluster-agent.md, "Signed requests"):
//! signed by the central worker's key over exactly this request (verified with the public key
//! the agent stack was given, no network call), bound to a cluster of this agent's region and
//! account, unexpired, not carried out before in this execution environment, and naming an EKS
//! endpoint of this region. Nothing is signed with the agent's credentials, and no connection
//! is made, before all of that holds.

use crate::env::AgentEnv;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use eks_auth_core::agent_auth::{self, AgentSelf, AuthError};
use eks_auth_core::agent_protocol::{AgentRequest, Failure, FailureReason, Outcome};
use eks_auth_core::eks_endpoint;
use std::time::{SystemTime, UNIX_EPOCH};

/// Checks `request` as received at `now` (Unix seconds); the refusal, as the protocol reports
/// it, when it is not to be carried out.
pub(crate) fn authenticate(
    env: &AgentEnv,
    request: &AgentRequest,
    now: u64,
) -> Result<(), Outcome> {
    check_signed(env, request, now).map_err(|e| refusal(env, e.reason(), e.to_string()))?;
    eks_endpoint::check(&request.cluster.endpoint, env.region.as_ref(), env.hosts)
        .map_err(|why| refusal(env, FailureReason::InvalidRequest, why))
}

/// The agent's clock, in Unix seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn check_signed(env: &AgentEnv, request: &AgentRequest, now: u64) -> Result<(), AuthError> {
    let auth = request.auth.as_ref().ok_or(AuthError::Unsigned)?;
    let (message, signature) = agent_auth::signed_bytes(request)?;
    let key = env
        .signing_public_key
        .as_deref()
        .ok_or(AuthError::NoPublicKey)?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key)
        .verify(&message, &signature)
        .map_err(|_| AuthError::BadSignature)?;
    agent_auth::check_binding(
        request,
        AgentSelf {
            region: env.region.as_ref(),
            account: env.account(),
        },
    )?;
    agent_auth::check_expiry(auth, now)?;
    env.recent
        .lock()
        .map_err(|_| AuthError::Busy)?
        .admit(&auth.request_id, auth.expires_at, now)
}

fn refusal(env: &AgentEnv, reason: FailureReason, message: String) -> Outcome {
    Outcome::Failed(Failure {
        agent_principal: env.principal.clone(),
        ..Failure::new(reason, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
    use base64::Engine as _;
    use eks_auth_core::agent_auth::{SIGNING_ALGORITHM, hex, signing_bytes};
    use eks_auth_core::agent_protocol::{
        AGENT_PROTOCOL_VERSION, AgentCluster, Operation, RequestAuth,
    };
    use std::collections::{BTreeMap, HashMap};

    const NOW: u64 = 1_800_000_000;
    const ARN: &str = "arn:aws:eks:eu-west-1:111122223333:cluster/prod";
    const ENDPOINT: &str =
        "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com";

    /// A key standing in for the worker's KMS key (KMS itself signs in the crates/aws tests).
    fn key() -> EcdsaKeyPair {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a key")
    }

    fn env_with(key: &EcdsaKeyPair, extra: &[(&str, &str)]) -> AgentEnv {
        let public = base64::engine::general_purpose::STANDARD
            .encode(key.public_key().as_der().expect("DER").as_ref());
        let mut vars: HashMap<String, String> = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIAAGENT"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            (
                "AGENT_ROLE_ARN",
                "arn:aws:iam::111122223333:role/eks-auth-migrator-agent-vpc-1",
            ),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        vars.insert("AGENT_SIGNING_PUBLIC_KEY".to_owned(), public);
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        AgentEnv::from_lookup(|k| vars.get(k).cloned()).expect("env")
    }

    fn request(endpoint: &str, arn: &str) -> AgentRequest {
        AgentRequest {
            version: AGENT_PROTOCOL_VERSION,
            cluster: AgentCluster {
                name: "prod".to_owned(),
                region: "eu-west-1".to_owned(),
                endpoint: endpoint.to_owned(),
                certificate_authority: "eA==".to_owned(),
                arn: Some(arn.to_owned()),
            },
            operation: Operation::WriteAwsAuth {
                resource_version: "7".to_owned(),
                current: BTreeMap::new(),
                data: BTreeMap::from([("mapRoles".to_owned(), "- rolearn: x\n".to_owned())]),
            },
            auth: None,
        }
    }

    fn sign(
        key: &EcdsaKeyPair,
        mut request: AgentRequest,
        id: &str,
        expires_at: u64,
    ) -> AgentRequest {
        let message = signing_bytes(&request, id, expires_at).expect("signable");
        let signature = key.sign(&SystemRandom::new(), &message).expect("signature");
        request.auth = Some(RequestAuth {
            key_id: "arn:aws:kms:eu-west-1:999999999999:key/k".to_owned(),
            algorithm: SIGNING_ALGORITHM.to_owned(),
            request_id: id.to_owned(),
            expires_at,
            signature: hex(signature.as_ref()),
        });
        request
    }

    /// The refusal's reason and message.
    fn refused(env: &AgentEnv, request: &AgentRequest, now: u64) -> (FailureReason, String) {
        match authenticate(env, request, now) {
            Err(Outcome::Failed(f)) => (f.reason, f.message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_request_the_worker_signed_is_carried_out_once() {
        let k = key();
        let env = env_with(&k, &[]);
        let signed = sign(&k, request(ENDPOINT, ARN), ID, NOW + 60);
        assert_eq!(authenticate(&env, &signed, NOW), Ok(()));
        let (reason, message) = refused(&env, &signed, NOW + 1);
        assert_eq!(reason, FailureReason::Unauthenticated);
        assert!(message.contains("already received"), "{message}");
    }

    #[test]
    fn unsigned_foreign_or_altered_requests_are_refused() {
        let k = key();
        let env = env_with(&k, &[]);
        let (reason, message) = refused(&env, &request(ENDPOINT, ARN), NOW);
        assert_eq!(reason, FailureReason::Unauthenticated);
        assert!(message.contains("not signed"), "{message}");
        // Signed by another key.
        let other = sign(&key(), request(ENDPOINT, ARN), ID, NOW + 60);
        let (reason, message) = refused(&env, &other, NOW);
        assert_eq!(reason, FailureReason::Unauthenticated);
        assert!(message.contains("does not verify"), "{message}");
        // Signed, then the data changed.
        let mut altered = sign(&k, request(ENDPOINT, ARN), ID, NOW + 60);
        if let Operation::WriteAwsAuth { data, .. } = &mut altered.operation {
            data.insert(
                "mapRoles".to_owned(),
                "- rolearn: intruder\n  groups: [system:masters]\n".to_owned(),
            );
        }
        assert_eq!(
            refused(&env, &altered, NOW).0,
            FailureReason::Unauthenticated
        );
        // An agent given no key carries out nothing.
        let mut keyless = env_with(&k, &[]);
        keyless.signing_public_key = None;
        let signed = sign(&k, request(ENDPOINT, ARN), ID, NOW + 60);
        let (reason, message) = refused(&keyless, &signed, NOW);
        assert_eq!(reason, FailureReason::Unauthenticated);
        assert!(message.contains("AGENT_SIGNING_PUBLIC_KEY"), "{message}");
    }

    #[test]
    fn expired_or_mismatched_requests_are_refused() {
        let k = key();
        let env = env_with(&k, &[]);
        let expired = sign(&k, request(ENDPOINT, ARN), ID, NOW - 1);
        let (reason, message) = refused(&env, &expired, NOW);
        assert_eq!(reason, FailureReason::Unauthenticated);
        assert!(message.contains("expired"), "{message}");
        let elsewhere = sign(
            &k,
            request(ENDPOINT, "arn:aws:eks:eu-west-1:444455556666:cluster/prod"),
            ID,
            NOW + 60,
        );
        let (reason, message) = refused(&env, &elsewhere, NOW);
        assert_eq!(reason, FailureReason::Unauthenticated);
        assert!(message.contains("account 444455556666"), "{message}");
    }

    #[test]
    fn only_eks_endpoints_of_the_agents_region_are_admitted_even_when_signed() {
        let k = key();
        let env = env_with(&k, &[]);
        for (i, endpoint) in [
            "https://127.0.0.1:8443",
            "https://attacker.example.com",
            "https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com",
            "http://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        ]
        .into_iter()
        .enumerate()
        {
            let id = format!("{ID}{i}");
            let signed = sign(&k, request(endpoint, ARN), &id, NOW + 60);
            let (reason, message) = refused(&env, &signed, NOW);
            assert_eq!(reason, FailureReason::InvalidRequest, "{endpoint}");
            assert!(message.contains("EKS cluster endpoint"), "{message}");
        }
        // The local stack's override admits loopback endpoints.
        let local = env_with(&k, &[("AGENT_ALLOW_LOOPBACK_ENDPOINTS", "true")]);
        let signed = sign(&k, request("https://127.0.0.1:8443", ARN), ID, NOW + 60);
        assert_eq!(authenticate(&local, &signed, NOW), Ok(()));
    }
}
