//! Bearer-token checks one by one, through `eks_sim::token::verify` (each refusal is a 401 on
//! the wire; here the reason is visible).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use eks_sim::model::Credential;
use eks_sim::token::{TokenError, verify};

use crate::helpers::*;

/// A second signer, so that a token's answer can be told from another's.
const OTHER: (&str, &str) = ("AKIATOKENOTHERSIGNER", "other-signer-secret");

fn credential(key: (&str, &str), arn: String) -> (String, Credential) {
    (
        key.0.to_owned(),
        Credential {
            access_key_id: key.0.to_owned(),
            secret_access_key: key.1.to_owned(),
            account: ACCOUNT.to_owned(),
            arn,
            sts_resolved: false,
        },
    )
}

fn credentials() -> BTreeMap<String, Credential> {
    BTreeMap::from([
        credential(
            ADMIN,
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice"),
        ),
        credential(OTHER, format!("arn:aws:iam::{ACCOUNT}:user/bob")),
    ])
}

fn check(token: &str) -> Result<String, TokenError> {
    verify(token, "legacy", &credentials(), SystemTime::now()).map(|c| c.arn.clone())
}

/// A token and the refusal it must get.
type Case = (String, fn(&TokenError) -> bool);

const REGIONAL: &str = "sts.us-east-1.amazonaws.com";

#[test]
fn a_good_token_names_its_signer_on_regional_and_global_hosts() {
    let now = SystemTime::now();
    let alice = format!("arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice");
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    for (host, expires) in [(REGIONAL, 60), ("sts.amazonaws.com", 60), (REGIONAL, 900)] {
        assert_eq!(
            check(&wrap(&presign("legacy", ADMIN, now, host, expires))),
            Ok(alice.clone()),
            "{host}, {expires} s"
        );
        assert_eq!(
            check(&wrap(&presign("legacy", OTHER, now, host, expires))),
            Ok(bob.clone()),
            "{host}, {expires} s"
        );
    }
}

#[test]
fn each_check_refuses_its_case() {
    let now = SystemTime::now();
    let good = presign("legacy", ADMIN, now, REGIONAL, 60);
    let cases: Vec<Case> = vec![
        (good.clone(), |e| matches!(e, TokenError::Prefix)),
        (format!("k8s-aws-v1.{}", "%%%"), |e| {
            matches!(e, TokenError::Encoding(_))
        }),
        (wrap(&good.replacen("https://", "http://", 1)), |e| {
            matches!(e, TokenError::Url(_))
        }),
        (
            wrap(&presign("legacy", ADMIN, now, "sts.example.com", 60)),
            |e| matches!(e, TokenError::Url(_)),
        ),
        (wrap(&good.replacen(".com/?", ".com/x?", 1)), |e| {
            matches!(e, TokenError::Url(_))
        }),
        (wrap(&format!("{good}&Extra=1")), |e| {
            matches!(e, TokenError::Parameter(_))
        }),
        (wrap(&format!("{good}&Action=GetCallerIdentity")), |e| {
            matches!(e, TokenError::Parameter(_))
        }),
        (
            wrap(&good.replacen("Action=GetCallerIdentity", "Action=AssumeRole", 1)),
            |e| matches!(e, TokenError::Parameter(_)),
        ),
        (wrap(&presign("legacy", ADMIN, now, REGIONAL, 901)), |e| {
            matches!(e, TokenError::Parameter(_))
        }),
        (
            wrap(&presign(
                "legacy",
                ADMIN,
                now - Duration::from_secs(901),
                REGIONAL,
                60,
            )),
            |e| matches!(e, TokenError::Expired),
        ),
        (
            wrap(&presign(
                "legacy",
                ("AKIAUNKNOWN00000001", "x"),
                now,
                REGIONAL,
                60,
            )),
            |e| matches!(e, TokenError::UnknownAccessKey(_)),
        ),
        (
            wrap(&presign("legacy", (ADMIN.0, "wrong"), now, REGIONAL, 60)),
            |e| matches!(e, TokenError::Signature),
        ),
        (
            wrap(&presign("other-cluster", ADMIN, now, REGIONAL, 60)),
            |e| matches!(e, TokenError::Signature),
        ),
    ];
    for (token, expected) in cases {
        match check(&token) {
            Ok(arn) => panic!("accepted {token} as {arn}"),
            Err(e) => assert!(expected(&e), "{token}: {e:?}"),
        }
    }
}
