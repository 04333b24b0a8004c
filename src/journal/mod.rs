//! Durable run state: the journal of mutating steps, the state-directory lock, and file
//! writes that survive a crash.

mod durable;
mod lock;
mod store;

pub use durable::write_atomically;
pub use lock::StateLock;
pub use store::{Journal, JournalHeader, StepLookup};
