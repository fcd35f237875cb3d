//! Owner detection over real-shaped aws-auth ConfigMaps (tests/fixtures/owners/, each with the
//! source of its shape in its header) and over cluster tags, and what the planner makes of it:
//! the prune blocker, its per-cluster acceptance, and the "owner unknown" note of a file without
//! metadata.

use eks_auth_core::aws_auth::AwsAuth;
use eks_auth_core::finding::{FindingCode, Severity};
use eks_auth_core::owner::acceptance::{Acceptance, OwnerTag};
use eks_auth_core::owner::detect::{aws_auth_owners, cluster_owners};
use eks_auth_core::owner::kind::{AwsAuthOwnerKind as A, ClusterOwnerKind as C};
use eks_auth_core::owner::ownership::{AwsAuthOwnership, MetadataSeen};
use eks_auth_core::plan_with_owners;
use eks_auth_core::policy::MigrationPolicy;
use std::collections::BTreeMap;

fn fixture(name: &str) -> AwsAuth {
    let path = format!(
        "{}/tests/fixtures/owners/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    AwsAuth::parse_configmap(&text).expect("fixture parses")
}

fn detect(name: &str) -> AwsAuthOwnership {
    let auth = fixture(name);
    let metadata = auth.metadata.as_ref();
    aws_auth_owners(metadata, MetadataSeen::of_file(metadata))
}

/// An owner as the table compares it: (kind, name, namespace).
type Owner<'a> = (A, Option<&'a str>, Option<&'a str>);

/// (kind, name, namespace) of each owner, in order.
fn owners(found: &AwsAuthOwnership) -> Vec<Owner<'_>> {
    found
        .owners
        .iter()
        .map(|o| (o.kind, o.name.as_deref(), o.namespace.as_deref()))
        .collect()
}

#[test]
fn each_owner_is_detected_from_its_own_markers() {
    let cases: &[(&str, MetadataSeen, &[Owner<'_>])] = &[
        (
            "argocd-ssa-helm-chart",
            MetadataSeen::File,
            &[(A::ArgoCd, Some("platform-aws-auth"), None)],
        ),
        (
            "argocd-client-side-label",
            MetadataSeen::File,
            &[(A::ArgoCd, Some("aws-auth"), Some("platform"))],
        ),
        (
            "argocd-tracking-other-object",
            MetadataSeen::File,
            &[(A::Kubectl, None, None)],
        ),
        (
            "flux-kustomization",
            MetadataSeen::File,
            &[(
                A::FluxKustomization,
                Some("infrastructure"),
                Some("flux-system"),
            )],
        ),
        (
            "flux-helmrelease",
            MetadataSeen::File,
            &[(A::FluxHelmRelease, Some("aws-auth"), Some("flux-system"))],
        ),
        (
            "helm",
            MetadataSeen::File,
            &[(A::Helm, Some("aws-auth"), Some("kube-system"))],
        ),
        (
            "terraform-config-map",
            MetadataSeen::File,
            &[(A::Terraform, None, None)],
        ),
        (
            "terraform-config-map-v1-data",
            MetadataSeen::File,
            &[
                (A::Terraform, None, None),
                (A::UnknownManager, Some("some-node-group-writer"), None),
            ],
        ),
        ("eksctl", MetadataSeen::File, &[(A::Eksctl, None, None)]),
        (
            "kubectl-client-side-apply",
            MetadataSeen::File,
            &[(A::KubectlClientSideApply, None, None)],
        ),
        (
            "kubectl-server-side-apply",
            MetadataSeen::File,
            &[
                (A::KubectlServerSideApply, None, None),
                (A::Kubectl, None, None),
            ],
        ),
        (
            "kubectl-get-without-managed-fields",
            MetadataSeen::FileWithoutManagedFields,
            &[(A::KubectlClientSideApply, None, None)],
        ),
    ];
    for (name, seen, expected) in cases {
        let found = detect(name);
        assert_eq!(found.metadata, *seen, "{name}");
        assert_eq!(owners(&found), *expected, "{name}: {found:#?}");
        for owner in &found.owners {
            assert!(
                !owner.evidence.is_empty(),
                "{name}: {owner:?} has no evidence"
            );
        }
    }
}

#[test]
fn the_issue_case_names_every_marker_of_argo_cd() {
    let found = detect("argocd-ssa-helm-chart");
    let evidence: Vec<String> = found.owners[0]
        .evidence
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        evidence,
        [
            "managedFields manager `argocd-controller` (Apply)",
            "annotation `argocd.argoproj.io/tracking-id: platform-aws-auth:/ConfigMap:kube-system/aws-auth`",
        ]
    );
}

#[test]
fn a_file_without_metadata_says_the_owner_is_unknown() {
    let auth =
        AwsAuth::parse_configmap("data:\n  mapRoles: |\n    - rolearn: arn:aws:iam::111122223333:role/a\n      username: a\n      groups: [team]\n")
            .expect("parses");
    assert_eq!(auth.metadata, None);
    let plan = plan_with_owners(
        &auth,
        None,
        &MigrationPolicy::default(),
        &Acceptance::default(),
    );
    assert_eq!(plan.owners.aws_auth.metadata, MetadataSeen::None);
    assert!(plan.owners.aws_auth.owners.is_empty());
    let note = plan
        .findings
        .iter()
        .find(|f| f.code == FindingCode::OwnerUnknown)
        .expect("owner unknown finding");
    assert_eq!(note.severity, Severity::Info);
    assert!(
        note.message.starts_with("owner unknown: no metadata"),
        "{}",
        note.message
    );
}

#[test]
fn an_owner_that_undoes_a_prune_blocks_until_accepted() {
    let auth = fixture("argocd-ssa-helm-chart");
    let blocked = plan_with_owners(
        &auth,
        None,
        &MigrationPolicy::default(),
        &Acceptance::default(),
    );
    let blocker = blocked
        .findings
        .iter()
        .find(|f| f.code == FindingCode::AwsAuthOwner)
        .expect("owner finding");
    assert_eq!(blocker.severity, Severity::Blocker);
    assert!(
        blocker.message.contains("remove the migrated rows"),
        "{}",
        blocker.message
    );
    assert!(
        blocker.message.contains("\"aws_auth\": [\"argo_cd\"]"),
        "{}",
        blocker.message
    );
    assert!(blocked.summary.blockers > 0);

    let accepted = plan_with_owners(
        &auth,
        None,
        &MigrationPolicy::default(),
        &Acceptance {
            aws_auth: vec![A::ArgoCd],
            cluster: Vec::new(),
        },
    );
    let info = accepted
        .findings
        .iter()
        .find(|f| f.code == FindingCode::AwsAuthOwner)
        .expect("owner finding");
    assert_eq!(info.severity, Severity::Info);
    assert_eq!(accepted.summary.blockers, blocked.summary.blockers - 1);

    let other = plan_with_owners(
        &auth,
        None,
        &MigrationPolicy::default(),
        &Acceptance {
            aws_auth: vec![A::FluxKustomization],
            cluster: Vec::new(),
        },
    );
    assert_eq!(
        other.summary.blockers, blocked.summary.blockers,
        "another owner's acceptance does not count"
    );
}

#[test]
fn kubectl_and_unknown_managers_do_not_block() {
    for name in ["kubectl-client-side-apply", "kubectl-server-side-apply"] {
        let plan = plan_with_owners(
            &fixture(name),
            None,
            &MigrationPolicy::default(),
            &Acceptance::default(),
        );
        assert!(
            plan.findings
                .iter()
                .filter(|f| f.code == FindingCode::AwsAuthOwner)
                .all(|f| f.severity != Severity::Blocker),
            "{name}: {:#?}",
            plan.findings
        );
    }
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn the_cluster_owner_comes_from_its_tags() {
    let kinds = |t: &[(&str, &str)], configured: &[OwnerTag]| {
        cluster_owners(&tags(t), configured)
            .owners
            .iter()
            .map(|o| (o.kind, o.name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kinds(
            &[
                ("alpha.eksctl.io/cluster-name", "prod"),
                ("eksctl.cluster.k8s.io/v1alpha1/cluster-name", "prod"),
                ("aws:cloudformation:stack-name", "eksctl-prod-cluster"),
            ],
            &[]
        ),
        [(C::Eksctl, Some("prod".to_owned()))],
        "eksctl's stacks are eksctl's, not a second owner"
    );
    assert_eq!(
        kinds(&[("aws:cloudformation:stack-name", "platform-eks")], &[]),
        [(C::CloudFormation, Some("platform-eks".to_owned()))]
    );
    assert_eq!(
        kinds(&[("terraform-aws-modules", "eks")], &[]),
        [(C::TerraformAwsEks, None)]
    );
    let managed_by = [OwnerTag {
        key: "ManagedBy".to_owned(),
        value: Some("terraform".to_owned()),
    }];
    assert_eq!(
        kinds(&[("ManagedBy", "Terraform")], &managed_by),
        [(C::ConfiguredTag, Some("Terraform".to_owned()))]
    );
    assert_eq!(kinds(&[("ManagedBy", "console")], &managed_by), []);
    assert_eq!(
        kinds(&[("ManagedBy", "Terraform"), ("team", "a")], &[]),
        [],
        "an unconfigured tag names nobody"
    );
    assert_eq!(kinds(&[("terraform-aws-modules", "vpc")], &[]), []);
}

/// Editing aws-auth's annotations and labels cannot hide its owner: with the Argo CD tracking
/// annotation removed and the managed-by label rewritten to claim the migrator manages it, the
/// managedFields entry the API server keeps for `argocd-controller` still names Argo CD, so it is
/// detected and the prune still blocks finalize; accepting another owner (Helm, which the label
/// named before the edit) does not lift it. (Detection reads every marker; an edit that also rewrote managedFields is
/// undone by Argo CD's next sync, which applies as `argocd-controller` again.)
#[test]
fn forged_labels_and_annotations_cannot_hide_an_owner() {
    let path = format!(
        "{}/tests/fixtures/owners/argocd-ssa-helm-chart.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let original = std::fs::read_to_string(&path).expect("fixture exists");
    let forged = original
        .replace(
            "  annotations:\n    argocd.argoproj.io/tracking-id: platform-aws-auth:/ConfigMap:kube-system/aws-auth\n",
            "",
        )
        .replace(
            "app.kubernetes.io/managed-by: Helm",
            "app.kubernetes.io/managed-by: eks-auth-migrator",
        );
    assert!(
        !forged.contains("argocd.argoproj.io/tracking-id: platform"),
        "the annotation is gone"
    );
    assert!(
        forged.contains("managed-by: eks-auth-migrator"),
        "the label is forged"
    );
    assert!(
        forged.contains("manager: argocd-controller"),
        "managedFields are the API server's"
    );
    let auth = AwsAuth::parse_configmap(&forged).expect("forged ConfigMap parses");
    let metadata = auth.metadata.as_ref();
    let found = aws_auth_owners(metadata, MetadataSeen::Live);
    assert_eq!(
        found.primary().map(|o| o.kind),
        Some(A::ArgoCd),
        "{found:#?}"
    );
    let plan = plan_with_owners(
        &auth,
        None,
        &MigrationPolicy::default(),
        &Acceptance::default(),
    );
    assert!(
        plan.findings
            .iter()
            .any(|f| f.code == FindingCode::AwsAuthOwner && f.severity == Severity::Blocker),
        "{:#?}",
        plan.findings
    );
    // Accepting another owner does not accept Argo CD.
    let wrong = Acceptance {
        aws_auth: vec![A::Helm],
        ..Acceptance::default()
    };
    let plan = plan_with_owners(&auth, None, &MigrationPolicy::default(), &wrong);
    assert!(
        plan.findings
            .iter()
            .any(|f| f.code == FindingCode::AwsAuthOwner && f.severity == Severity::Blocker)
    );
}
