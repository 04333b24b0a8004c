//! The sandbox for partner scripts: code from another organisation that may compute a
//! mapping and nothing else.

mod engine;
mod partners;

pub use engine::{sandboxed_engine, SandboxLimits};
pub use partners::{load_partners, LoadedPartners, Partner, PartnerError};
