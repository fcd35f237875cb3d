//! Kubernetes RBAC as the suggestion engine needs it: the objects of a cluster
//! ([`Rbac`], from a `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A
//! -o yaml` dump or the live API), ClusterRole aggregation resolved like the controller does it
//! ([`aggregate`]), permissions as exactly comparable sets (`grant`), the EKS access policies'
//! rules ([`policies`]) and Kubernetes' bootstrap ClusterRoles ([`bootstrap`]), both kept as data
//! with their sources. Pure: no I/O.

pub mod aggregate;
pub mod bootstrap;
pub(crate) mod grant;
pub mod model;
mod objects;
pub mod parse;
pub mod policies;
mod validation;
#[cfg(test)]
mod validation_cases;

pub use grant::Difference;
pub use model::{
    Binding, BindingKind, ClusterRole, LabelSelector, PolicyRule, Rbac, Role, RoleKind, Subject,
    SubjectKind, Unreadable,
};
pub use parse::RbacError;
