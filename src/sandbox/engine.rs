//! One function that configures the sandboxed engine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage, BasicMathPackage,
    BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Dynamic, Engine};

/// Limits of a partner script. A script that reaches one fails with an error naming it.
#[derive(Debug, Clone)]
pub struct SandboxLimits {
    /// Operations (statements, expressions, loop iterations, calls) per script.
    pub max_operations: u64,
    /// Nested function calls, recursion included.
    pub max_call_levels: usize,
    /// Nested expressions at the script's top level.
    pub max_expr_depth: usize,
    /// Nested expressions inside a function body.
    pub max_function_expr_depth: usize,
    /// Bytes of one string.
    pub max_string_size: usize,
    /// Elements of an array, nested arrays counted in.
    pub max_array_size: usize,
    /// Entries of a map, nested maps counted in. Rhai does not check this or the array limit
    /// when an array is assigned into a map by index (`m[k] = array`), so
    /// `max_memory_growth` bounds what a script builds that way.
    pub max_map_size: usize,
    /// Variables alive at one time.
    pub max_variables: usize,
    /// Functions a script defines.
    pub max_functions: usize,
    /// Wall-clock time from the start of compilation to the script's result.
    pub deadline: Duration,
    /// Bytes by which the process's resident memory may grow while the script runs, checked
    /// about once a millisecond. NOTE: read from /proc, so only Linux enforces it.
    pub max_memory_growth: u64,
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
            max_memory_growth: 256 * 1024 * 1024,
        }
    }
}

/// The message the deadline check raises, matched to name the limit in errors.
pub const DEADLINE_TOKEN: &str = "amirun-sandbox-deadline";
/// The message the memory check raises, matched to name the limit in errors.
pub const MEMORY_TOKEN: &str = "amirun-sandbox-memory";

/// Builds an engine with only pure packages (no file, network, time or AWS functions), with
/// `eval` and `import` disabled and every limit set. The deadline starts when the engine is
/// built.
pub fn sandboxed_engine(limits: &SandboxLimits) -> Engine {
    let mut engine = Engine::new_raw();
    for package in [
        ArithmeticPackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicIteratorPackage::new().as_shared_module(),
        BasicStringPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
    ] {
        engine.register_global_module(package);
    }
    engine.disable_symbol("eval");
    // Rejected when the script is compiled, before any of it runs; the resolver is a backstop.
    engine.disable_symbol("import");
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

    let started = Instant::now();
    let deadline = limits.deadline;
    let memory_limit = limits.max_memory_growth;
    let baseline = resident_bytes();
    let last_check_ms = AtomicU64::new(0);
    engine.on_progress(move |_| {
        let elapsed = started.elapsed();
        if elapsed > deadline {
            return Some(Dynamic::from(DEADLINE_TOKEN));
        }
        // One operation can copy a large value, so memory is checked by time rather than by
        // operation count: at most once a millisecond, which keeps the reads of /proc cheap.
        let baseline = baseline?;
        let now_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        if now_ms <= last_check_ms.load(Ordering::Relaxed) {
            return None;
        }
        last_check_ms.store(now_ms, Ordering::Relaxed);
        let grown = resident_bytes()?.saturating_sub(baseline);
        (grown > memory_limit).then(|| Dynamic::from(MEMORY_TOKEN))
    });
    engine.on_print(|text| tracing::info!(target: "partner_script", "{text}"));
    engine.on_debug(|text, _, _| tracing::debug!(target: "partner_script", "{text}"));
    engine
}

/// Resident memory of this process in bytes, from /proc/self/status; `None` where the system
/// does not report it that way.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kibibytes: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kibibytes * 1024)
}
