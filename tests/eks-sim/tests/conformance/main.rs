//! Conformance of the EKS simulator, driven through the real AWS SDK (aws-sdk-eks), a real
//! Kubernetes client (kube) and, when the venv has them, boto3, the aws CLI and moto. One test
//! per documented rule.

mod access_entries;
mod admin;
mod clusters;
mod faults;
mod features;
mod helpers;
mod kube_api;
mod modes;
mod network;
mod oracle;
mod policies;
mod rbac;
mod token;
mod tools;
