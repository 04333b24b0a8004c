//! Runbooks: the versioned header, parameters, and running a runbook on its own thread.

mod header;
mod params;
mod runner;

pub use header::{Header, ParamSpec};
pub use params::resolve_params;
pub use runner::{
    check_syntax, Outcome, RunFailure, RunMode, RunRequest, Runner, ENGINE_STACK_BYTES,
};
