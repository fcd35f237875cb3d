//! Asking a run to stop at its next safe point (SIGINT / SIGTERM in the CLI).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A request to stop, shared between whoever asks (a signal handler) and the engine, which
/// checks it before every step and between the writes of a step. The write in flight is never
/// cut off: it completes and its audit record is completed, so nothing is left half-done.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A request not yet made.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks runs using this interrupt to stop.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
