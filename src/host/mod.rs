//! The Rhai host: the engine that runs runbooks and REPL entries, the host functions bound
//! to one [`HostContext`], plan mode, and error display.

mod context;
mod convert;
mod copy_slots;
pub mod display;
mod engine;
mod error;
pub mod functions;
mod interrupt;
pub mod limits;
mod plan;
mod progress;
pub mod reference;
pub mod registry;
pub mod stdlib;
pub(crate) mod steps;
mod throttle;

pub use context::{
    HostContext, HostSettings, LoadedSources, Mode, RunInfo, DEFAULT_MAX_COPIES_PER_REGION,
};
pub use engine::{runbook_engine, PrintTarget};
pub use error::{HostError, HostResult};
pub use interrupt::Interrupt;
pub use plan::{Plan, PlannedChange};
