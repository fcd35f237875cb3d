//! The differential test: eks-auth-core's aws-auth reader against the independent reference
//! (tests/authenticator, written from aws-iam-authenticator's behaviour) over every ConfigMap
//! the repository holds, the aws-auth values written inline in eks-auth-core's tests, and
//! generated ones. Any caller the two answer differently for fails the test, naming the
//! ConfigMap, the caller, both answers and the rows.

mod compare;
mod corpus;
mod generated;
mod inline;
