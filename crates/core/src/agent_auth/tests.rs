use super::*;
use crate::agent_protocol::FailureReason;
use std::collections::BTreeMap;

const ARN: &str = "arn:aws:eks:eu-west-1:111122223333:cluster/prod";
const ID: &str = "0123456789abcdef0123456789abcdef";

fn request(operation: Operation) -> AgentRequest {
    AgentRequest {
        version: AGENT_PROTOCOL_VERSION,
        cluster: AgentCluster {
            name: "prod".to_owned(),
            region: "eu-west-1".to_owned(),
            endpoint: "https://0123ABCD.gr7.eu-west-1.eks.amazonaws.com".to_owned(),
            certificate_authority: "LS0tLS1CRUdJTg==".to_owned(),
            arn: Some(ARN.to_owned()),
        },
        operation,
        auth: None,
    }
}

fn write() -> Operation {
    Operation::WriteAwsAuth {
        resource_version: "7".to_owned(),
        current: BTreeMap::from([("mapRoles".to_owned(), "- rolearn: a".to_owned())]),
        data: BTreeMap::from([("mapRoles".to_owned(), "[]".to_owned())]),
    }
}

fn signed(request: &AgentRequest) -> AgentRequest {
    AgentRequest {
        auth: Some(RequestAuth {
            key_id: "arn:aws:kms:eu-west-1:999999999999:key/k".to_owned(),
            algorithm: SIGNING_ALGORITHM.to_owned(),
            request_id: ID.to_owned(),
            expires_at: 1_000_060,
            signature: "30440220".to_owned(),
        }),
        ..request.clone()
    }
}

#[test]
fn the_signed_bytes_are_the_documented_lines() {
    let bytes = signing_bytes(&request(Operation::ReadAwsAuth {}), ID, 1_000_060).expect("bytes");
    let text = String::from_utf8(bytes).expect("text");
    let digest = payload_digest(
        &request(Operation::ReadAwsAuth {}).cluster,
        &Operation::ReadAwsAuth {},
    );
    assert_eq!(
        text,
        format!(
            "eks-auth-migrator agent request\nversion:1\ncluster-arn:{ARN}\noperation:read_aws_auth\npayload-sha256:{digest}\nexpires-at:1000060\nrequest-id:{ID}\n"
        )
    );
    // The payload digest is the SHA-256 of the documented canonical JSON (docs/cluster-agent.md).
    let canonical = r#"{"cluster":{"arn":"arn:aws:eks:eu-west-1:111122223333:cluster/prod","certificate_authority":"LS0tLS1CRUdJTg==","endpoint":"https://0123ABCD.gr7.eu-west-1.eks.amazonaws.com","name":"prod","region":"eu-west-1"},"operation":{"kind":"read_aws_auth"}}"#;
    assert_eq!(digest, hex(&Sha256::digest(canonical.as_bytes())));
}

#[test]
fn canonical_json_sorts_every_objects_keys_and_escapes_like_serde_json() {
    let value = serde_json::json!({"b": [{"z": 1, "a": "x\n\"y\"\u{1}é"}], "a": null, "C": true});
    assert_eq!(
        canonical_json(&value),
        r#"{"C":true,"a":null,"b":[{"a":"x\n\"y\"\u0001é","z":1}]}"#
    );
}

#[test]
fn anything_changed_in_a_request_changes_what_is_signed() {
    let base = request(write());
    let bytes = |r: &AgentRequest| signing_bytes(r, ID, 1_000_060).expect("bytes");
    let original = bytes(&base);
    let mut variants = Vec::new();
    for change in [
        |r: &mut AgentRequest| r.cluster.endpoint = "https://127.0.0.1:6443".to_owned(),
        |r: &mut AgentRequest| r.cluster.certificate_authority = "eA==".to_owned(),
        |r: &mut AgentRequest| r.cluster.name = "other".to_owned(),
        |r: &mut AgentRequest| r.cluster.region = "eu-west-2".to_owned(),
        |r: &mut AgentRequest| {
            r.cluster.arn = Some("arn:aws:eks:eu-west-1:444455556666:cluster/prod".to_owned())
        },
        |r: &mut AgentRequest| r.operation = Operation::ReadAwsAuth {},
        |r: &mut AgentRequest| {
            if let Operation::WriteAwsAuth { data, .. } = &mut r.operation {
                data.insert("mapUsers".to_owned(), "[]".to_owned());
            }
        },
        |r: &mut AgentRequest| {
            if let Operation::WriteAwsAuth {
                resource_version, ..
            } = &mut r.operation
            {
                *resource_version = "8".to_owned();
            }
        },
    ] {
        let mut changed = base.clone();
        change(&mut changed);
        variants.push(bytes(&changed));
    }
    variants.push(signing_bytes(&base, "ffffffffffffffffffffffffffffffff", 1_000_060).expect("id"));
    variants.push(signing_bytes(&base, ID, 1_000_061).expect("expiry"));
    for v in &variants {
        assert_ne!(v, &original);
    }
    // The auth block itself is not signed (it carries the signature).
    assert_eq!(bytes(&signed(&base)), original);
}

#[test]
fn an_unsigned_or_malformed_signature_is_refused_before_any_check() {
    let base = request(Operation::ReadAwsAuth {});
    assert_eq!(signed_bytes(&base), Err(AuthError::Unsigned));
    let mut other = signed(&base);
    if let Some(a) = other.auth.as_mut() {
        a.algorithm = "RSASSA_PSS_SHA_256".to_owned();
    }
    assert!(matches!(
        signed_bytes(&other),
        Err(AuthError::Malformed {
            field: "algorithm",
            ..
        })
    ));
    for bad in ["zz", "+1", "123"] {
        let mut r = signed(&base);
        if let Some(a) = r.auth.as_mut() {
            a.signature = bad.to_owned();
        }
        assert!(
            matches!(
                signed_bytes(&r),
                Err(AuthError::Malformed {
                    field: "signature",
                    ..
                })
            ),
            "{bad}"
        );
    }
    let mut no_arn = signed(&base);
    no_arn.cluster.arn = None;
    assert_eq!(signed_bytes(&no_arn), Err(AuthError::NoClusterArn));
    let mut short_id = signed(&base);
    if let Some(a) = short_id.auth.as_mut() {
        a.request_id = "1".to_owned();
    }
    assert!(matches!(
        signed_bytes(&short_id),
        Err(AuthError::Malformed {
            field: "request_id",
            ..
        })
    ));
    let (bytes, signature) = signed_bytes(&signed(&base)).expect("signed");
    assert_eq!(signature, vec![0x30, 0x44, 0x02, 0x20]);
    assert_eq!(bytes, signing_bytes(&base, ID, 1_000_060).expect("bytes"));
}

#[test]
fn a_request_is_carried_out_only_until_it_expires_and_never_signed_for_long() {
    let auth = signed(&request(Operation::ReadAwsAuth {}))
        .auth
        .expect("auth");
    assert_eq!(check_expiry(&auth, 1_000_000), Ok(()));
    assert_eq!(check_expiry(&auth, 1_000_060), Ok(()));
    assert_eq!(
        check_expiry(&auth, 1_000_061),
        Err(AuthError::Expired {
            expires_at: 1_000_060,
            now: 1_000_061
        })
    );
    assert_eq!(
        check_expiry(&auth, 1_000_060 - MAX_LIFETIME_SECONDS - 1),
        Err(AuthError::TooLong {
            expires_at: 1_000_060,
            now: 1_000_060 - MAX_LIFETIME_SECONDS - 1
        })
    );
}

#[test]
fn the_signed_arn_must_be_the_requests_cluster_and_the_agents() {
    let me = AgentSelf {
        region: "eu-west-1",
        account: Some("111122223333"),
    };
    let base = request(Operation::ReadAwsAuth {});
    assert_eq!(check_binding(&base, me), Ok(()));
    assert_eq!(
        check_binding(
            &base,
            AgentSelf {
                account: None,
                ..me
            }
        ),
        Ok(())
    );
    let refused = |arn: &str, name: &str, region: &str, me: AgentSelf<'_>| {
        let mut r = base.clone();
        r.cluster.arn = Some(arn.to_owned());
        r.cluster.name = name.to_owned();
        r.cluster.region = region.to_owned();
        match check_binding(&r, me) {
            Err(AuthError::Mismatch { why, .. }) => why,
            other => panic!("{arn}: {other:?}"),
        }
    };
    assert!(refused(ARN, "other", "eu-west-1", me).contains("names cluster `prod`"));
    assert!(refused(ARN, "prod", "eu-west-2", me).contains("not eu-west-2"));
    let other_region = "arn:aws:eks:us-east-1:111122223333:cluster/prod";
    assert!(refused(other_region, "prod", "us-east-1", me).contains("this agent serves eu-west-1"));
    let other_account = "arn:aws:eks:eu-west-1:444455556666:cluster/prod";
    assert!(
        refused(other_account, "prod", "eu-west-1", me)
            .contains("this agent is in account 111122223333")
    );
    let china = "arn:aws-cn:eks:eu-west-1:111122223333:cluster/prod";
    assert!(refused(china, "prod", "eu-west-1", me).contains("partition aws-cn"));
    for garbage in [
        "arn:aws:iam::111122223333:role/prod",
        "arn:aws:eks:eu-west-1:1111:cluster/prod",
        "prod",
    ] {
        assert!(refused(garbage, "prod", "eu-west-1", me).contains("is not an EKS cluster ARN"));
    }
    let mut no_arn = base.clone();
    no_arn.cluster.arn = None;
    assert_eq!(check_binding(&no_arn, me), Err(AuthError::NoClusterArn));
}

#[test]
fn a_request_id_is_admitted_once_until_it_expires() {
    let mut recent = RecentRequests::new();
    assert_eq!(recent.admit(ID, 100, 50), Ok(()));
    assert_eq!(
        recent.admit(ID, 100, 60),
        Err(AuthError::Replayed {
            request_id: ID.to_owned()
        })
    );
    assert_eq!(
        recent.admit(ID, 100, 100),
        Err(AuthError::Replayed {
            request_id: ID.to_owned()
        })
    );
    // After its expiry the expiry check refuses it; the set need not remember it.
    assert_eq!(recent.admit(ID, 200, 101), Ok(()));
    assert_eq!(recent.len(), 1);
}

#[test]
fn a_full_memory_refuses_new_requests_and_never_forgets_an_unexpired_one() {
    let mut recent = RecentRequests::new();
    for i in 0..RECENT_REQUESTS_LIMIT {
        let expires_at = if i < 10 { 10 } else { 1_000 };
        recent
            .admit(&format!("request-{i:012}"), expires_at, 0)
            .expect("admitted");
    }
    assert_eq!(
        recent.admit("request-new-000000", 1_000, 5),
        Err(AuthError::Busy)
    );
    assert_eq!(
        recent.admit("request-000000000011", 1_000, 5),
        Err(AuthError::Replayed {
            request_id: "request-000000000011".to_owned()
        })
    );
    // Once the first ten expire, room is made by forgetting exactly those.
    assert_eq!(recent.admit("request-new-000000", 1_000, 11), Ok(()));
    assert_eq!(recent.len(), RECENT_REQUESTS_LIMIT - 9);
    assert!(matches!(
        recent.admit("request-000000000500", 1_000, 11),
        Err(AuthError::Replayed { .. })
    ));
}

#[test]
fn every_refusal_is_unauthenticated_but_a_malformed_field() {
    for e in [
        AuthError::Unsigned,
        AuthError::NoClusterArn,
        AuthError::BadSignature,
        AuthError::Expired {
            expires_at: 1,
            now: 2,
        },
        AuthError::TooLong {
            expires_at: 1_000,
            now: 2,
        },
        AuthError::Replayed {
            request_id: ID.to_owned(),
        },
        AuthError::Busy,
        mismatch(ARN, "x"),
    ] {
        assert_eq!(e.reason(), FailureReason::Unauthenticated, "{e}");
    }
    let malformed = AuthError::Malformed {
        field: "signature",
        why: "is not hex".to_owned(),
    };
    assert_eq!(malformed.reason(), FailureReason::InvalidRequest);
}

#[test]
fn hex_round_trips() {
    assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    assert_eq!(unhex("00AB10"), Some(vec![0, 0xab, 0x10]));
    assert_eq!(unhex("0g"), None);
}
