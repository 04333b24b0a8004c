//! The sandbox for partner scripts: code from another organisation that may compute a
//! mapping and nothing else.

mod engine;
mod entry;
mod partners;

pub use engine::{sandboxed_engine, SandboxLimits};
pub use entry::{EntryError, Partner};
pub use partners::{load_partners, load_partners_with, LoadedPartners, PartnerError};

#[cfg(test)]
mod tests;
