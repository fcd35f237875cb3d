//! Every ownership marker this build recognises, each checked against its owner's own source or
//! documentation (the references are repeated, with commits, in docs/owners.md). Anything not
//! listed here is reported as it is — an unknown field manager stays unknown — and never mapped
//! to an owner by guess.
//!
//! How the API server names a writer (k8s.io/apiserver `pkg/endpoints/handlers/create.go`,
//! `managerOrUserAgent` / `prefixFromUserAgent`): the request's `fieldManager` parameter, else
//! the User-Agent up to its first `/` (non-printable characters dropped, at most 128 bytes).
//! client-go's default User-Agent begins with the program's file name (`eksctl/…`).

use super::kind::AwsAuthOwnerKind;

/// A field manager name and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownManager {
    /// The manager's name, exactly as `managedFields` records it.
    pub manager: &'static str,
    /// `Some("Apply")` / `Some("Update")` when the meaning depends on the operation.
    pub operation: Option<&'static str>,
    /// Who it is.
    pub kind: AwsAuthOwnerKind,
}

const fn manager(
    manager: &'static str,
    operation: Option<&'static str>,
    kind: AwsAuthOwnerKind,
) -> KnownManager {
    KnownManager {
        manager,
        operation,
        kind,
    }
}

/// The field managers recognised, with their sources:
///
/// - `argocd-controller`: Argo CD's application controller, server-side and client-side apply
///   alike (argoproj/argo-cd `common/common.go` `ArgoCDSSAManager`, passed by
///   `controller/sync.go` as `WithServerSideApplyManager`; argoproj/gitops-engine
///   `pkg/utils/kube/resource_ops.go` sets it as the apply's `FieldManager` either way).
/// - `kustomize-controller`: Flux's kustomize-controller, server-side apply
///   (fluxcd/kustomize-controller `main.go` `controllerName`, the `ssa.Owner{Field: …}` of
///   `internal/controller/kustomization_controller.go`).
/// - `helm-controller`: Flux's helm-controller, through the Helm SDK
///   (fluxcd/helm-controller `main.go`: `kube.ManagedFieldsManager = controllerName`).
/// - `helm`: the Helm CLI since v3.7.0 (helm/helm `cmd/helm/helm.go`:
///   `kube.ManagedFieldsManager = "helm"`, commit aeb94798f).
/// - `Terraform`: hashicorp/terraform-provider-kubernetes' default `field_manager` of
///   `kubernetes_config_map_v1_data` (`kubernetes/provider.go` `defaultFieldManagerName`) and
///   `kubernetes_manifest` (`manifest/provider/plan.go`).
/// - `HashiCorp`: the same provider's `kubernetes_config_map(_v1)`, which creates and patches
///   without a field manager under the User-Agent `HashiCorp/1.0 Terraform/<version>`
///   (`kubernetes/provider.go`; `kubernetes/resource_kubernetes_config_map_v1.go`).
/// - `eksctl`: eksctl writes aws-auth with client-go `Create`/`Update` and no field manager
///   (eksctl-io/eksctl `pkg/authconfigmap/authconfigmap.go`), so the manager is client-go's
///   default User-Agent prefix, the program's name.
/// - `kubectl-client-side-apply` (`kubectl apply`), `kubectl-last-applied` (`kubectl apply
///   set-last-applied` / `edit-last-applied`), `kubectl` with operation `Apply` (`kubectl apply
///   --server-side`), and `kubectl-create`, `-edit`, `-patch`, `-replace`, `-annotate`,
///   `-label`, `-set` (kubernetes/kubectl `pkg/cmd/apply/apply.go` `FieldManagerClientSideApply`,
///   `fieldManagerServerSideApply`, `fieldManagerLastAppliedAnnotation`; each command's
///   `AddFieldManagerFlagVar` default). `kubectl` with operation `Update` is a kubectl that
///   predates named managers (the User-Agent prefix).
pub const MANAGERS: &[KnownManager] = &[
    manager("argocd-controller", None, AwsAuthOwnerKind::ArgoCd),
    manager(
        "kustomize-controller",
        None,
        AwsAuthOwnerKind::FluxKustomization,
    ),
    manager("helm-controller", None, AwsAuthOwnerKind::FluxHelmRelease),
    manager("helm", None, AwsAuthOwnerKind::Helm),
    manager("Terraform", None, AwsAuthOwnerKind::Terraform),
    manager("HashiCorp", None, AwsAuthOwnerKind::Terraform),
    manager("eksctl", None, AwsAuthOwnerKind::Eksctl),
    manager(
        "kubectl-client-side-apply",
        None,
        AwsAuthOwnerKind::KubectlClientSideApply,
    ),
    manager(
        "kubectl-last-applied",
        None,
        AwsAuthOwnerKind::KubectlClientSideApply,
    ),
    manager(
        "kubectl",
        Some("Apply"),
        AwsAuthOwnerKind::KubectlServerSideApply,
    ),
    manager("kubectl", Some("Update"), AwsAuthOwnerKind::Kubectl),
    manager("kubectl-create", None, AwsAuthOwnerKind::Kubectl),
    manager("kubectl-edit", None, AwsAuthOwnerKind::Kubectl),
    manager("kubectl-patch", None, AwsAuthOwnerKind::Kubectl),
    manager("kubectl-replace", None, AwsAuthOwnerKind::Kubectl),
    manager("kubectl-annotate", None, AwsAuthOwnerKind::Kubectl),
    manager("kubectl-label", None, AwsAuthOwnerKind::Kubectl),
    manager("kubectl-set", None, AwsAuthOwnerKind::Kubectl),
];

/// The migrator's own field manager (crates/kube's aws-auth write): its writes are not an
/// owner.
pub const MIGRATOR_MANAGER: &str = "eks-auth-migrator";

/// Argo CD's tracking annotation, `<application>:<group>/<kind>:<namespace>/<name>`, the
/// default tracking method (argoproj/argo-cd `common/common.go` `AnnotationKeyAppInstance`;
/// docs/user-guide/resource_tracking.md). An application in another namespace than Argo CD's is
/// written `<namespace>_<application>`. An annotation that names another object does not make
/// Argo CD manage this one (the same page, "Non self-referencing annotations").
pub const ARGOCD_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";

/// The tracking label Argo CD's documentation recommends instead of the default
/// `app.kubernetes.io/instance` (docs/user-guide/resource_tracking.md, "Use custom label";
/// docs/faq.md). `app.kubernetes.io/instance` itself is not a marker: Helm charts and operators
/// set it too (the same page says so).
pub const ARGOCD_INSTANCE_LABEL: &str = "argocd.argoproj.io/instance";

/// Flux kustomize-controller's owner labels (fluxcd/pkg `ssa/manager.go` `SetOwnerLabels`:
/// `<group>/name`, `<group>/namespace` with the group `kustomize.toolkit.fluxcd.io`).
pub const FLUX_KUSTOMIZE_NAME: &str = "kustomize.toolkit.fluxcd.io/name";
/// See [`FLUX_KUSTOMIZE_NAME`].
pub const FLUX_KUSTOMIZE_NAMESPACE: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Flux helm-controller's origin labels (fluxcd/helm-controller
/// `internal/postrender/common_renderer.go` `originLabels`, group `helm.toolkit.fluxcd.io`).
pub const FLUX_HELM_NAME: &str = "helm.toolkit.fluxcd.io/name";
/// See [`FLUX_HELM_NAME`].
pub const FLUX_HELM_NAMESPACE: &str = "helm.toolkit.fluxcd.io/namespace";

/// Helm's release annotations, set on every object a release installs or adopts (helm/helm
/// `pkg/action/validate.go` `helmReleaseNameAnnotation`, `helmReleaseNamespaceAnnotation`,
/// `setMetadataVisitor`).
pub const HELM_RELEASE_NAME: &str = "meta.helm.sh/release-name";
/// See [`HELM_RELEASE_NAME`].
pub const HELM_RELEASE_NAMESPACE: &str = "meta.helm.sh/release-namespace";
/// Helm's managed-by label (`app.kubernetes.io/managed-by: Helm`, the same file). Charts set it
/// from `.Release.Service` too, so a chart that Argo CD renders carries it without a Helm
/// release: alone it names Helm only when no GitOps controller is found.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] Helm sets.
pub const MANAGED_BY_HELM: &str = "Helm";

/// The labels terraform-aws-eks up to v17 put on the aws-auth it created
/// (terraform-aws-modules/terraform-aws-eks v17.24.0 `aws_auth.tf`, kubernetes_config_map
/// "aws_auth": `app.kubernetes.io/managed-by: Terraform`, `terraform.io/module:
/// terraform-aws-modules.eks.aws`).
pub const TERRAFORM_MODULE_LABEL: &str = "terraform.io/module";
/// The value of [`MANAGED_BY_LABEL`] terraform-aws-eks v17 sets.
pub const MANAGED_BY_TERRAFORM: &str = "Terraform";

/// kubectl's client-side apply annotation (k8s.io/api `core/v1` `LastAppliedConfigAnnotation`),
/// written by `kubectl apply`, `kubectl create --save-config` and any client-side applier built
/// on kubectl's library (Argo CD's client-side sync among them).
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The field manager `name` means, given the entry's operation.
pub fn manager_kind(name: &str, operation: &str) -> Option<AwsAuthOwnerKind> {
    MANAGERS
        .iter()
        .find(|m| m.manager == name && m.operation.is_none_or(|op| op == operation))
        .map(|m| m.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_means_server_side_apply_only_with_apply() {
        assert_eq!(
            manager_kind("kubectl", "Apply"),
            Some(AwsAuthOwnerKind::KubectlServerSideApply)
        );
        assert_eq!(
            manager_kind("kubectl", "Update"),
            Some(AwsAuthOwnerKind::Kubectl)
        );
        assert_eq!(
            manager_kind("argocd-controller", "Update"),
            Some(AwsAuthOwnerKind::ArgoCd)
        );
        // Names are compared exactly: managers are case-sensitive strings.
        assert_eq!(manager_kind("terraform", "Update"), None);
        assert_eq!(
            manager_kind("argocd-application-controller", "Update"),
            None
        );
    }
}
