//! Owner detection: aws-auth's metadata → [`AwsAuthOwnership`], the cluster's tags →
//! [`ClusterOwnership`]. Pure functions over plain data; only the markers of
//! [`super::known`] are recognised.
//!
//! # Guarantees
//! - A field manager this build does not know is reported as [`AwsAuthOwnerKind::UnknownManager`]
//!   with its name, never mapped to an owner.
//! - Only managers that own aws-auth's rows count (a manager of labels alone does not); the
//!   migrator's own manager never counts.
//! - Owners come out in a fixed order, the one that decides first (the order of
//!   [`AwsAuthOwnerKind`] and [`ClusterOwnerKind`]), each with every marker that named it.

use super::acceptance::OwnerTag;
use super::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use super::known::{self, manager_kind};
use super::marker::Marker;
use super::metadata::ObjectMetadata;
use super::ownership::{
    AwsAuthOwner, AwsAuthOwnership, ClusterOwner, ClusterOwnership, MetadataSeen,
};
use std::collections::BTreeMap;

/// aws-auth's owners from its metadata. `seen` says where the metadata came from (it is kept in
/// the result); `None` metadata finds nobody.
pub fn aws_auth_owners(metadata: Option<&ObjectMetadata>, seen: MetadataSeen) -> AwsAuthOwnership {
    let mut found = Found::default();
    if let Some(meta) = metadata {
        from_managers(meta, &mut found);
        from_argo_cd(meta, &mut found);
        from_flux(meta, &mut found);
        from_helm(meta, &mut found);
        from_terraform_labels(meta, &mut found);
        from_last_applied(meta, &mut found);
    }
    let mut owners = found.0;
    owners.sort_by_key(|o| o.kind);
    AwsAuthOwnership {
        metadata: seen,
        owners,
    }
}

/// The owners found so far: at most one per kind, one per name for unknown managers.
#[derive(Default)]
struct Found(Vec<AwsAuthOwner>);

impl Found {
    fn has(&self, kind: AwsAuthOwnerKind) -> bool {
        self.0.iter().any(|o| o.kind == kind)
    }

    /// Adds `marker` to the owner of `kind` (for unknown managers: of that name), creating it;
    /// a name or namespace it did not have yet is taken from this marker.
    fn add(
        &mut self,
        kind: AwsAuthOwnerKind,
        name: Option<&str>,
        namespace: Option<&str>,
        marker: Marker,
    ) {
        let same = |o: &AwsAuthOwner| {
            o.kind == kind
                && (kind != AwsAuthOwnerKind::UnknownManager || o.name.as_deref() == name)
        };
        match self.0.iter_mut().find(|o| same(o)) {
            Some(owner) => {
                if owner.name.is_none() {
                    owner.name = name.map(str::to_owned);
                }
                if owner.namespace.is_none() {
                    owner.namespace = namespace.map(str::to_owned);
                }
                if !owner.evidence.contains(&marker) {
                    owner.evidence.push(marker);
                }
            }
            None => self.0.push(AwsAuthOwner {
                kind,
                name: name.map(str::to_owned),
                namespace: namespace.map(str::to_owned),
                evidence: vec![marker],
            }),
        }
    }

    /// Adds `marker` to the first owner of `kinds` that exists; false when none does.
    fn attach(&mut self, kinds: &[AwsAuthOwnerKind], marker: &Marker) -> bool {
        for kind in kinds {
            if let Some(owner) = self.0.iter_mut().find(|o| o.kind == *kind) {
                if !owner.evidence.contains(marker) {
                    owner.evidence.push(marker.clone());
                }
                return true;
            }
        }
        false
    }
}

/// Every managedFields entry that owns the rows, the migrator's own excepted.
fn from_managers(meta: &ObjectMetadata, found: &mut Found) {
    for entry in meta.managed_fields.iter().flatten() {
        if entry.manager == known::MIGRATOR_MANAGER || !entry.owns_rows() {
            continue;
        }
        let kind = manager_kind(&entry.manager, &entry.operation)
            .unwrap_or(AwsAuthOwnerKind::UnknownManager);
        let name = (kind == AwsAuthOwnerKind::UnknownManager).then_some(entry.manager.as_str());
        found.add(
            kind,
            name,
            None,
            Marker::ManagedFields {
                manager: entry.manager.clone(),
                operation: entry.operation.clone(),
                time: entry.time.clone(),
            },
        );
    }
}

/// Argo CD's tracking annotation (when it names this object) and its recommended instance label.
fn from_argo_cd(meta: &ObjectMetadata, found: &mut Found) {
    if let Some(id) = meta.annotations.get(known::ARGOCD_TRACKING_ID)
        && let Some((namespace, app)) = tracking_id_application(id)
    {
        found.add(
            AwsAuthOwnerKind::ArgoCd,
            Some(app),
            namespace,
            Marker::annotation(known::ARGOCD_TRACKING_ID, id),
        );
    }
    if let Some(value) = meta.labels.get(known::ARGOCD_INSTANCE_LABEL) {
        let (namespace, app) = application_name(value);
        found.add(
            AwsAuthOwnerKind::ArgoCd,
            Some(app),
            namespace,
            label(known::ARGOCD_INSTANCE_LABEL, value),
        );
    }
}

/// An Application's tracking name: `<namespace>_<application>` for an Application outside Argo
/// CD's own namespace, else the application alone (Kubernetes names cannot hold `_`).
fn application_name(value: &str) -> (Option<&str>, &str) {
    match value.split_once('_') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, value),
    }
}

/// The Application (and its namespace, for `<namespace>_<app>`) of a tracking id that names
/// kube-system/aws-auth (`<app>:/ConfigMap:kube-system/aws-auth`); `None` for one that names
/// another object or is malformed.
fn tracking_id_application(id: &str) -> Option<(Option<&str>, &str)> {
    let (app, target) = id.split_once(':')?;
    let (group_kind, namespaced_name) = target.split_once(':')?;
    let names_aws_auth = matches!(group_kind, "/ConfigMap" | "ConfigMap")
        && namespaced_name == "kube-system/aws-auth";
    if app.is_empty() || !names_aws_auth {
        return None;
    }
    Some(application_name(app))
}

/// Flux's owner labels: kustomize-controller's and helm-controller's.
fn from_flux(meta: &ObjectMetadata, found: &mut Found) {
    for (kind, name_key, namespace_key) in [
        (
            AwsAuthOwnerKind::FluxKustomization,
            known::FLUX_KUSTOMIZE_NAME,
            known::FLUX_KUSTOMIZE_NAMESPACE,
        ),
        (
            AwsAuthOwnerKind::FluxHelmRelease,
            known::FLUX_HELM_NAME,
            known::FLUX_HELM_NAMESPACE,
        ),
    ] {
        let Some(name) = meta.labels.get(name_key) else {
            continue;
        };
        let namespace = meta.labels.get(namespace_key);
        found.add(
            kind,
            Some(name),
            namespace.map(String::as_str),
            label(name_key, name),
        );
        if let Some(ns) = namespace {
            found.add(kind, None, None, label(namespace_key, ns));
        }
    }
}

/// Helm's release annotations and managed-by label. A Flux HelmRelease is a Helm release run
/// by helm-controller: its Helm markers are evidence of the HelmRelease, not a second owner.
fn from_helm(meta: &ObjectMetadata, found: &mut Found) {
    let helm_or_flux = [AwsAuthOwnerKind::FluxHelmRelease, AwsAuthOwnerKind::Helm];
    if let Some(release) = meta.annotations.get(known::HELM_RELEASE_NAME) {
        let namespace = meta.annotations.get(known::HELM_RELEASE_NAMESPACE);
        let mut markers = vec![Marker::annotation(known::HELM_RELEASE_NAME, release)];
        markers.extend(namespace.map(|ns| Marker::annotation(known::HELM_RELEASE_NAMESPACE, ns)));
        for marker in markers {
            if !found.attach(&helm_or_flux, &marker) {
                found.add(
                    AwsAuthOwnerKind::Helm,
                    Some(release),
                    namespace.map(String::as_str),
                    marker,
                );
            }
        }
        if let Some(helm) = found
            .0
            .iter_mut()
            .find(|o| o.kind == AwsAuthOwnerKind::Helm)
        {
            helm.name.get_or_insert_with(|| release.clone());
            if helm.namespace.is_none() {
                helm.namespace = namespace.cloned();
            }
        }
    }
    if meta.labels.get(known::MANAGED_BY_LABEL).map(String::as_str) == Some(known::MANAGED_BY_HELM)
    {
        let marker = label(known::MANAGED_BY_LABEL, known::MANAGED_BY_HELM);
        let gitops =
            found.has(AwsAuthOwnerKind::ArgoCd) || found.has(AwsAuthOwnerKind::FluxKustomization);
        if !found.attach(&helm_or_flux, &marker) && !gitops {
            found.add(AwsAuthOwnerKind::Helm, None, None, marker);
        }
    }
}

/// The labels terraform-aws-eks v17 put on aws-auth.
fn from_terraform_labels(meta: &ObjectMetadata, found: &mut Found) {
    if let Some(module) = meta.labels.get(known::TERRAFORM_MODULE_LABEL) {
        found.add(
            AwsAuthOwnerKind::Terraform,
            None,
            None,
            label(known::TERRAFORM_MODULE_LABEL, module),
        );
    }
    if meta.labels.get(known::MANAGED_BY_LABEL).map(String::as_str)
        == Some(known::MANAGED_BY_TERRAFORM)
    {
        found.add(
            AwsAuthOwnerKind::Terraform,
            None,
            None,
            label(known::MANAGED_BY_LABEL, known::MANAGED_BY_TERRAFORM),
        );
    }
}

/// kubectl's last-applied annotation: evidence of the client-side applier the field managers
/// name; when they are not known (a file without managedFields), `kubectl apply` itself —
/// unless Argo CD, whose client-side sync writes it too, is found.
fn from_last_applied(meta: &ObjectMetadata, found: &mut Found) {
    let Some(value) = meta.annotations.get(known::LAST_APPLIED) else {
        return;
    };
    let marker = Marker::annotation(known::LAST_APPLIED, value);
    if found.attach(&[AwsAuthOwnerKind::KubectlClientSideApply], &marker) {
        return;
    }
    if meta.managed_fields.is_none() && !found.has(AwsAuthOwnerKind::ArgoCd) {
        found.add(AwsAuthOwnerKind::KubectlClientSideApply, None, None, marker);
    }
}

fn label(key: &str, value: &str) -> Marker {
    Marker::Label {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// CloudFormation's stack-name tag, on every resource of a stack that takes tags (AWS
/// CloudFormation User Guide, "CloudFormation resource tagging": `aws:cloudformation:stack-name`).
pub const CLOUDFORMATION_STACK_TAG: &str = "aws:cloudformation:stack-name";
/// eksctl's cluster-name tags, set on every stack it creates and propagated by CloudFormation to
/// the cluster (eksctl-io/eksctl `pkg/apis/eksctl.io/v1alpha5/types.go` `ClusterNameTag`,
/// `OldClusterNameTag`; `pkg/cfn/manager/api.go` `NewStackCollection`).
pub const EKSCTL_CLUSTER_TAGS: [&str; 2] = [
    "alpha.eksctl.io/cluster-name",
    "eksctl.cluster.k8s.io/v1alpha1/cluster-name",
];
/// terraform-aws-modules/eks's tag on `aws_eks_cluster.this`, set from v20.0.0 (commit
/// 6b40bdbb) until v21.12.0 dropped it for a provider user-agent (commit 391b11e0): clusters of
/// v19 and earlier, or applied by v21.12.0 or later, do not carry it.
pub const TERRAFORM_AWS_EKS_TAG: (&str, &str) = ("terraform-aws-modules", "eks");

/// The cluster's owners from its tags (DescribeCluster) and the configuration's ownership tags.
pub fn cluster_owners(
    tags: &BTreeMap<String, String>,
    configured: &[OwnerTag],
) -> ClusterOwnership {
    let mut owners = Vec::new();
    let eksctl: Vec<Marker> = EKSCTL_CLUSTER_TAGS
        .iter()
        .filter_map(|key| tags.get(*key).map(|value| tag(key, value)))
        .collect();
    let stack = tags.get(CLOUDFORMATION_STACK_TAG);
    if let Some(Marker::Tag { value: name, .. }) = eksctl.first() {
        let mut evidence = eksctl.clone();
        evidence.extend(stack.map(|s| tag(CLOUDFORMATION_STACK_TAG, s)));
        owners.push(ClusterOwner {
            kind: ClusterOwnerKind::Eksctl,
            name: Some(name.clone()),
            evidence,
        });
    }
    if let Some(value) = tags.get(TERRAFORM_AWS_EKS_TAG.0)
        && value == TERRAFORM_AWS_EKS_TAG.1
    {
        owners.push(ClusterOwner {
            kind: ClusterOwnerKind::TerraformAwsEks,
            name: None,
            evidence: vec![tag(TERRAFORM_AWS_EKS_TAG.0, value)],
        });
    }
    if let (Some(stack), true) = (stack, eksctl.is_empty()) {
        owners.push(ClusterOwner {
            kind: ClusterOwnerKind::CloudFormation,
            name: Some(stack.clone()),
            evidence: vec![tag(CLOUDFORMATION_STACK_TAG, stack)],
        });
    }
    let matched: Vec<Marker> = configured
        .iter()
        .filter_map(|want| {
            let value = tags.get(&want.key)?;
            let fits = want
                .value
                .as_ref()
                .is_none_or(|v| v.eq_ignore_ascii_case(value));
            fits.then(|| tag(&want.key, value))
        })
        .collect();
    if let Some(Marker::Tag { value, .. }) = matched.first() {
        owners.push(ClusterOwner {
            kind: ClusterOwnerKind::ConfiguredTag,
            name: Some(value.clone()),
            evidence: matched,
        });
    }
    ClusterOwnership { owners }
}

fn tag(key: &str, value: &str) -> Marker {
    Marker::Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}
