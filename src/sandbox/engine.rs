//! One function that configures the sandboxed engine.

use std::time::{Duration, Instant};

use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, BasicStringPackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{Dynamic, Engine};

/// Limits of a partner script. A script that reaches one fails with an error naming it.
#[derive(Debug, Clone)]
pub struct SandboxLimits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    pub max_variables: usize,
    pub max_functions: usize,
    pub deadline: Duration,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        Self {
            max_operations: 1_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 64 * 1024,
            max_array_size: 10_000,
            max_map_size: 1_000,
            max_variables: 256,
            max_functions: 64,
            deadline: Duration::from_secs(2),
        }
    }
}

/// The message the deadline check raises, matched to name the limit in errors.
pub const DEADLINE_TOKEN: &str = "amirun-sandbox-deadline";

/// Builds an engine with only pure packages (no file, network, time or AWS functions), `eval`
/// disabled, no module imports, and every limit set.
pub fn sandboxed_engine(limits: &SandboxLimits) -> Engine {
    let mut engine = Engine::new_raw();
    for package in [
        LogicPackage::new().as_shared_module(),
        BasicStringPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
    ] {
        engine.register_global_module(package);
    }
    engine.register_global_module(rhai::packages::ArithmeticPackage::new().as_shared_module());
    engine.disable_symbol("eval");
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());

    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_variables(limits.max_variables)
        .set_max_functions(limits.max_functions);

    let deadline = Instant::now() + limits.deadline;
    engine.on_progress(move |_| (Instant::now() > deadline).then(|| Dynamic::from(DEADLINE_TOKEN)));
    engine.on_print(|text| tracing::info!(target: "partner_script", "{text}"));
    engine.on_debug(|text, _, _| tracing::debug!(target: "partner_script", "{text}"));
    engine
}
