//! Permissions as sets, compared exactly.
//!
//! A grant is a set of *atoms*: (namespace scope, verb, API group, resource, object name), each
//! coordinate either one value or a wildcard (`*` verbs / groups / resources, `*/sub`
//! resources, every object name, every namespace or a `prefix-*` of them), plus non-resource
//! URL atoms (verb, URL or `prefix*`) that only cluster-wide bindings grant. A rule is the
//! union of the atoms of its verbs × groups × resources × names; a request is allowed when one
//! atom matches it, exactly as Kubernetes' RBAC authoriser decides.
//!
//! Every coordinate ranges over an infinite set of strings, so a union of atoms covers an atom
//! only when a single atom of the union does (pick, in each wildcard coordinate, a value none of
//! the atoms names). Hence:
//! - `A ⊆ B` ⟺ every atom of A is covered by one atom of B, and one atom covers another exactly
//!   when, coordinate by coordinate, it is the same value or a wildcard over it — a handful of
//!   hash look-ups per atom;
//! - after removing every atom another atom of the same grant covers, two grants are equal as
//!   sets exactly when they are equal as data ([`Grant`]'s `==`).
//!
//! The atoms of one namespace scope form a [`Part`]; parts are interned by content in an
//! [`Expander`], so the same role bound in a hundred namespaces is one part, and set differences
//! between parts are computed once per pair.
//!
//! [`Part`]: atoms::Part

mod atoms;
mod difference;
mod expander;
mod set;
mod symbols;

pub(crate) use atoms::{Ns, RuleAtoms};
pub use difference::Difference;
pub(crate) use expander::Expander;
pub(crate) use set::{Grant, GrantBuilder, Remainder};

#[cfg(test)]
mod kubernetes_cases;
#[cfg(test)]
mod tests;
