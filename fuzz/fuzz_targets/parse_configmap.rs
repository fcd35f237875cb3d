//! Fuzz the whole offline pipeline: any bytes as a ConfigMap document and as a data key value
//! must parse (or fail cleanly), plan and render without panicking.
#![no_main]

use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::render::{Format, RenderOptions, render};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let policy = MigrationPolicy::default();
    if let Ok(auth) = AwsAuth::parse_configmap(text) {
        let plan = eks_auth_core::plan(&auth, None, &policy);
        for format in [Format::Json, Format::AwsCli, Format::Terraform, Format::Cloudformation] {
            let _ = render(&plan, format, RenderOptions::default());
        }
    }
    for key in ["mapRoles", "mapUsers", "mapAccounts"] {
        let auth = AwsAuth::parse_data(&BTreeMap::from([(key.to_owned(), text.to_owned())]));
        let _ = eks_auth_core::plan(&auth, None, &policy);
    }
});
