//! `{{SessionNameRaw}}` usernames reach every output format exactly as written (EKS expands the
//! template at authentication; `@` must survive, so nothing may rewrite it).

use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::plan::Action;
use eks_auth_core::policy::MigrationPolicy;
use eks_auth_core::render::{Format, RenderOptions, render};

const CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: aws-auth, namespace: kube-system}
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/dev
      username: "dev:{{SessionNameRaw}}"
      groups: [dev]
"#;

#[test]
fn every_format_carries_the_username_as_written() {
    let auth = AwsAuth::parse_configmap(CONFIGMAP).expect("parses");
    let plan = eks_auth_core::plan(&auth, None, &MigrationPolicy::default());
    assert_eq!(plan.entries[0].action, Action::Create);
    for format in [
        Format::Table,
        Format::Json,
        Format::AwsCli,
        Format::Terraform,
        Format::Cloudformation,
    ] {
        let text = render(&plan, format, RenderOptions::default());
        assert!(
            text.contains("dev:{{SessionNameRaw}}"),
            "{format:?} lost the username:\n{text}"
        );
    }
}
