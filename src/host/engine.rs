//! The runbook engine: host functions, the embedded stdlib, limits and output routing.

use std::rc::Rc;

use rhai::{Engine, Map};

use super::error::ScriptView;
use super::functions::host_module;
use super::stdlib::Resolver;
use super::{HostContext, HostError};

// Limits of runbooks: far above what a rollout needs and above the partner sandbox's, but a
// runaway loop or recursion still ends with an error rather than hanging or overflowing the
// stack. The engine thread's stack is sized for the call and expression depths.

/// Operations per runbook run (each pass, plan and execute, counts on its own).
pub const RUNBOOK_MAX_OPERATIONS: u64 = 50_000_000;
/// Nested function calls, recursion included.
pub const RUNBOOK_MAX_CALL_LEVELS: usize = 96;
/// Nested expressions at the top level and inside function bodies.
pub const RUNBOOK_MAX_EXPR_DEPTHS: (usize, usize) = (256, 128);
/// Bytes of one string.
pub const RUNBOOK_MAX_STRING_SIZE: usize = 16 * 1024 * 1024;
/// Elements of an array, nested arrays counted in.
pub const RUNBOOK_MAX_ARRAY_SIZE: usize = 1_000_000;
/// Entries of a map, nested maps counted in.
pub const RUNBOOK_MAX_MAP_SIZE: usize = 100_000;

/// The destination of `print` output: stdout normally, stderr when stdout carries JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintTarget {
    Stdout,
    Stderr,
}

/// Builds the engine that runs runbooks and REPL entries, bound to `ctx`.
pub fn runbook_engine(ctx: &Rc<HostContext>, print: PrintTarget) -> Engine {
    let mut engine = Engine::new();
    engine.register_global_module(host_module(ctx).into());
    register_error_type(&mut engine);

    let resolver = Resolver::new(ctx.base_dir.borrow().clone(), Rc::clone(&ctx.sources));
    engine.set_module_resolver(resolver);
    engine
        .set_max_operations(RUNBOOK_MAX_OPERATIONS)
        .set_max_call_levels(RUNBOOK_MAX_CALL_LEVELS)
        .set_max_expr_depths(RUNBOOK_MAX_EXPR_DEPTHS.0, RUNBOOK_MAX_EXPR_DEPTHS.1)
        .set_max_string_size(RUNBOOK_MAX_STRING_SIZE)
        .set_max_array_size(RUNBOOK_MAX_ARRAY_SIZE)
        .set_max_map_size(RUNBOOK_MAX_MAP_SIZE);
    engine.disable_symbol("eval");

    // Output of a plan pass would repeat or precede the real run's, so it only goes to the log.
    let printer = Rc::clone(ctx);
    engine.on_print(move |text| match (printer.is_plan(), print) {
        (true, _) => tracing::info!(target: "amirun::plan", "print: {text}"),
        (false, PrintTarget::Stdout) => crate::outln!("{text}"),
        (false, PrintTarget::Stderr) => crate::errln!("{text}"),
    });
    engine.on_debug(|text, source, position| tracing::debug!(source = source.unwrap_or(""), %position, "{text}"));
    engine
}

/// Lets scripts inspect a caught host error: `e.code`, `e.message`, `e.operation`, `e.kind`.
fn register_error_type(engine: &mut Engine) {
    engine
        .register_type_with_name::<HostError>("AmirunError")
        .register_get("code", |e: &mut HostError| e.code())
        .register_get("message", |e: &mut HostError| e.to_string())
        .register_get("operation", |e: &mut HostError| e.operation().to_owned())
        .register_get("kind", |e: &mut HostError| {
            match e {
                HostError::Input(_) => "input",
                HostError::Rejected(_) => "rejected",
                HostError::Aws(_) => "aws",
                HostError::Failed { .. } => "failed",
                HostError::Cancelled => "cancelled",
            }
            .to_owned()
        })
        .register_fn("to_string", |e: &mut HostError| ScriptView(e).to_string())
        .register_fn("to_debug", |e: &mut HostError| ScriptView(e).to_string())
        .register_fn("to_map", |e: &mut HostError| {
            let mut map = Map::new();
            map.insert("code".into(), e.code().into());
            map.insert("message".into(), e.to_string().into());
            map
        });
}
