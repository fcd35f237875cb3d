//! The agent protocol's messages as the core encodes them conform to
//! docs/agent-protocol.schema.json, and the schema refuses what the decoder refuses.

use eks_auth_core::agent_auth::SIGNING_ALGORITHM;
use eks_auth_core::agent_protocol::{
    AGENT_PROTOCOL_VERSION, AgentCluster, AgentRequest, AgentResponse, ConfigMapData, Failure,
    FailureReason, Operation, Outcome, RequestAuth, decode_request,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const SCHEMA: &str = include_str!("../../../docs/agent-protocol.schema.json");

fn valid(instance: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn cluster() -> AgentCluster {
    AgentCluster {
        name: "prod".to_owned(),
        region: "eu-west-1".to_owned(),
        endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com".to_owned(),
        certificate_authority: "LS0tLS1CRUdJTg==".to_owned(),
        arn: Some("arn:aws:eks:eu-west-1:111122223333:cluster/prod".to_owned()),
    }
}

fn auth() -> RequestAuth {
    RequestAuth {
        key_id: "arn:aws:kms:eu-west-1:999999999999:key/0f1e2d3c".to_owned(),
        algorithm: SIGNING_ALGORITHM.to_owned(),
        request_id: "0123456789abcdef0123456789abcdef".to_owned(),
        expires_at: 1_800_000_060,
        signature: "3045022100ab".to_owned(),
    }
}

#[test]
fn every_request_and_response_conforms() {
    let data = BTreeMap::from([("mapRoles".to_owned(), "- rolearn: x".to_owned())]);
    for operation in [
        Operation::ReadAwsAuth {},
        Operation::WriteAwsAuth {
            resource_version: "7".to_owned(),
            current: data.clone(),
            data: BTreeMap::new(),
        },
        Operation::ListRbac {
            resource: "rolebindings".to_owned(),
            limit: 500,
            continue_token: Some("next".to_owned()),
        },
    ] {
        for auth in [Some(auth()), None] {
            let request = serde_json::to_value(AgentRequest {
                version: AGENT_PROTOCOL_VERSION,
                cluster: cluster(),
                operation: operation.clone(),
                auth,
            })
            .expect("json");
            assert_eq!(valid(&request), Vec::<String>::new(), "{request}");
        }
    }
    for outcome in [
        Outcome::AwsAuth { config_map: None },
        Outcome::AwsAuth {
            config_map: Some(ConfigMapData {
                data,
                resource_version: "7".to_owned(),
                metadata: Some(
                    serde_json::from_value(json!({
                        "labels": {"app.kubernetes.io/managed-by": "Helm"},
                        "annotations": {"meta.helm.sh/release-name": "aws-auth"},
                        "managedFields": [{"manager": "helm", "operation": "Update",
                            "apiVersion": "v1", "time": "2026-01-15T08:30:00Z",
                            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:mapRoles": {}}}}]
                    }))
                    .expect("metadata"),
                ),
            }),
        },
        Outcome::Written {
            resource_version: "8".to_owned(),
        },
        Outcome::RbacPage {
            items: vec![json!({"kind": "Role", "metadata": {"name": "r"}})],
            continue_token: None,
        },
        Outcome::Failed(Failure {
            code: Some(403),
            status_reason: Some("Forbidden".to_owned()),
            agent_principal: Some("arn:aws:iam::111122223333:role/a".to_owned()),
            supported_versions: vec![1],
            ..Failure::new(FailureReason::Denied, "forbidden")
        }),
        Outcome::Failed(Failure::new(
            FailureReason::Unauthenticated,
            "the request is not signed",
        )),
    ] {
        let response = serde_json::to_value(AgentResponse::new(outcome)).expect("json");
        assert_eq!(valid(&response), Vec::<String>::new(), "{response}");
    }
}

#[test]
fn the_schema_refuses_what_the_decoder_refuses() {
    let cluster = serde_json::to_value(cluster()).expect("json");
    for bad in [
        json!({"version": 1, "cluster": cluster, "operation": {"kind": "delete_aws_auth"}}),
        json!({"version": 1, "cluster": cluster, "operation": {"kind": "read_aws_auth"}, "token": "k8s-aws-v1.x"}),
        json!({"version": 1, "cluster": cluster, "operation": {"kind": "list_rbac", "resource": "secrets", "limit": 5}}),
        json!({"version": 1, "cluster": {"name": "prod", "region": "eu-west-1", "endpoint": "http://x", "certificate_authority": "x"}, "operation": {"kind": "read_aws_auth"}}),
        json!({"version": 1, "cluster": cluster, "operation": {"kind": "read_aws_auth"}, "auth": {"key_id": "k", "algorithm": "ECDSA_SHA_256", "request_id": "0123456789abcdef", "expires_at": 1, "signature": "00", "token": "x"}}),
        json!({"version": 1, "cluster": cluster, "operation": {"kind": "read_aws_auth"}, "auth": {"key_id": "k", "algorithm": "ECDSA_SHA_256", "request_id": "0123456789abcdef", "expires_at": 1}}),
        json!({"version": 1, "cluster": cluster, "operation": {"kind": "read_aws_auth"}, "auth": {"key_id": "k", "algorithm": "ECDSA_SHA_256", "request_id": "0123456789abcdef", "expires_at": -1, "signature": "00"}}),
    ] {
        assert!(decode_request(&bad).is_err(), "{bad}");
        assert!(!valid(&bad).is_empty(), "the schema accepts {bad}");
    }
}
