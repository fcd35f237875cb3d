//! Crash points for tests. A failpoint names a place in the engine (`before:CreateAccessEntry`,
//! `after:UpdateClusterConfig`, …); when it is armed the engine stops right there, as a crashed
//! process would: no audit completion, no state save, no lease release.
//!
//! Armed by [`arm`] (in-process tests) or by the `EAM_FAILPOINTS` environment variable (a
//! comma-separated list, for tests that run the CLI). Release builds compile all of this out:
//! [`hit`] is a constant `false` and [`arm`] does not exist.

#[cfg(debug_assertions)]
mod armed {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    static ARMED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

    fn armed() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
        ARMED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Arms failpoint `name` in this process (debug builds only).
    pub fn arm(name: &str) {
        armed().insert(name.to_owned());
    }

    /// Disarms every failpoint armed with [`arm`].
    pub fn disarm_all() {
        armed().clear();
    }

    /// Whether failpoint `name` is armed.
    pub(crate) fn hit(name: &str) -> bool {
        armed().contains(name)
            || std::env::var("EAM_FAILPOINTS").is_ok_and(|v| v.split(',').any(|p| p.trim() == name))
    }
}

#[cfg(debug_assertions)]
pub(crate) use armed::hit;
#[cfg(debug_assertions)]
pub use armed::{arm, disarm_all};

/// Release builds: no failpoint is ever armed.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn hit(_name: &str) -> bool {
    false
}
