//! `--owner`: the owner names of `eks_auth_core::report::owner_selector` as a clap value enum, so
//! the help lists them and a wrong name is refused with the list.

use clap::ValueEnum;
use clap::builder::PossibleValue;
use eks_auth_core::report::owner_selector::OwnerSelector;
use std::sync::LazyLock;

/// One `--owner` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerArg(pub OwnerSelector);

/// Every value, in the core's order.
static ALL: LazyLock<Vec<OwnerArg>> =
    LazyLock::new(|| OwnerSelector::all().into_iter().map(OwnerArg).collect());

impl ValueEnum for OwnerArg {
    fn value_variants<'a>() -> &'a [Self] {
        &ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_owner_name_parses_and_others_are_refused() {
        for arg in OwnerArg::value_variants() {
            assert_eq!(OwnerArg::from_str(arg.0.name(), false), Ok(*arg));
        }
        assert!(OwnerArg::from_str("unknown", false).is_ok());
        assert!(OwnerArg::from_str("none", false).is_ok());
        assert!(OwnerArg::from_str("argocd", false).is_err());
    }
}
