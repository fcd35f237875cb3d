//! The RBAC API (read-only: get and list of the four kinds, aggregation applied, pages) through
//! kube-rs, and the permission oracle (`Sim::may`, `GET /_sim/can-i`).

use eks_sim::Sim;
use eks_sim::model::ClusterKey;
use eks_sim::rbac::Request;
use eks_sim::seed::Seed;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::Api;
use kube::api::ListParams;

use crate::helpers::*;

/// One CONFIG_MAP cluster: `admin` is system:masters, `viewer` is in `readers` (view), and a
/// CRD's role aggregates into `edit`, which `deployers` have in `payments`.
fn seed() -> Seed {
    let text = format!(
        r#"
accounts:
  - id: "{ACCOUNT}"
    credentials:
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice" }}
      - {{ access_key_id: {}, secret_access_key: {}, arn: "arn:aws:sts::{ACCOUNT}:assumed-role/viewer/bob" }}
    iam: ["arn:aws:iam::{ACCOUNT}:role/admin", "arn:aws:iam::{ACCOUNT}:role/viewer", "arn:aws:iam::{ACCOUNT}:role/deployer"]
    clusters:
      - name: rbac
        region: {REGION}
        rbac: [{{ subject_kind: Group, subject: readers, role: view }}]
        rbac_objects:
          - apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {{ name: widgets-edit, labels: {{ rbac.authorization.k8s.io/aggregate-to-edit: "true" }} }}
            rules: [{{ apiGroups: [example.com], resources: [widgets], verbs: [create, get] }}]
          - apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {{ name: deployers, namespace: payments }}
            roleRef: {{ apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }}
            subjects: [{{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: deployers }}]
          - apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {{ name: reader, namespace: payments }}
            rules: [{{ apiGroups: [""], resources: [configmaps], verbs: [get] }}]
        aws_auth:
          mapRoles: |
            - rolearn: arn:aws:iam::{ACCOUNT}:role/admin
              username: admin
              groups: [system:masters]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/viewer
              username: viewer
              groups: [readers]
            - rolearn: arn:aws:iam::{ACCOUNT}:role/deployer
              username: deployer:{{{{SessionName}}}}
              groups: [deployers]
"#,
        ADMIN.0, ADMIN.1, VIEWER.0, VIEWER.1,
    );
    Seed::parse(&text).unwrap_or_else(|e| panic!("seed: {e:?}\n{text}"))
}

fn key() -> ClusterKey {
    ClusterKey {
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        name: "rbac".to_owned(),
    }
}

#[tokio::test]
async fn rbac_objects_list_and_get_with_aggregation_applied() -> TestResult {
    let sim = Sim::start(seed()).await?;
    let eks = eks(&sim).await;
    let client = kube_as(&eks, "rbac", ADMIN).await;
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let edit = roles.get("edit").await?;
    let rules = edit.rules.unwrap_or_default();
    assert!(
        rules
            .iter()
            .any(|r| r.resources.as_deref() == Some(&["widgets".to_owned()][..])),
        "edit aggregates the CRD role: {rules:?}"
    );
    assert!(
        rules
            .iter()
            .any(|r| r.resources.as_deref() == Some(&["pods/eviction".to_owned()][..])),
        "edit aggregates system:aggregate-to-edit"
    );
    let all = roles.list(&ListParams::default()).await?;
    assert_eq!(all.items.len(), 32, "31 bootstrap roles and the CRD's");
    // Pages of 10 add up to the same list.
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(10);
    loop {
        let page = roles.list(&params).await?;
        names.extend(page.items.into_iter().filter_map(|r| r.metadata.name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(names.len(), 32);
    let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
    assert!(
        crbs.list(&ListParams::default())
            .await?
            .items
            .iter()
            .any(|b| b.role_ref.name == "view")
    );
    let rbs: Api<RoleBinding> = Api::namespaced(client.clone(), "payments");
    assert_eq!(rbs.get("deployers").await?.role_ref.name, "edit");
    let every_role: Api<Role> = Api::all(client.clone());
    assert_eq!(
        every_role.list(&ListParams::default()).await?.items.len(),
        1
    );
    assert_eq!(kube_code(roles.get("no-such-role").await), 404);
    // `view` cannot read RBAC objects.
    let viewer: Api<ClusterRole> = Api::all(kube_as(&eks, "rbac", VIEWER).await);
    assert_eq!(kube_code(viewer.list(&ListParams::default()).await), 403);
    Ok(())
}

#[tokio::test]
async fn the_permission_oracle_follows_aws_auth_policies_and_rbac() -> TestResult {
    let sim = Sim::start(seed()).await?;
    let session = |role: &str| format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s1");
    let req = |verb: &str, group: &str, resource: &str, ns: &str| Request {
        verb: verb.to_owned(),
        api_group: group.to_owned(),
        resource: resource.to_owned(),
        namespace: Some(ns.to_owned()),
        ..Request::default()
    };
    let may = |role: &str, r: &Request| sim.may(&key(), &session(role), r);
    assert!(may(
        "deployer",
        &req("create", "", "pods/eviction", "payments")
    )?);
    assert!(may(
        "deployer",
        &req("create", "example.com", "widgets", "payments")
    )?);
    assert!(!may(
        "deployer",
        &req("create", "", "pods/eviction", "orders")
    )?);
    assert!(may(
        "viewer",
        &req("list", "apps", "deployments", "orders")
    )?);
    assert!(!may("viewer", &req("get", "", "secrets", "orders"))?);
    assert!(may("admin", &req("delete", "", "nodes", "x"))?);
    assert!(!may("stranger", &req("get", "", "pods", "x"))?);
    // The same question over the admin API.
    let url = format!(
        "{}/can-i?cluster={}&principal={}&verb=create&resource=pods/eviction&namespace=payments",
        sim.admin_url(),
        key().arn(),
        session("deployer")
    );
    let body: serde_json::Value = serde_json::from_str(&http("GET", &url, "").await?)?;
    assert_eq!(body["allowed"], true);
    Ok(())
}
