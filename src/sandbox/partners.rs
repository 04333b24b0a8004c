//! Loading a partner script: evaluating it in the sandbox on a thread of its own, then
//! checking its entries.

use std::path::{Path, PathBuf};

use rhai::{Dynamic, Engine, EvalAltResult, ParseErrorType};

use super::engine::{sandboxed_engine, SandboxLimits, DEADLINE_TOKEN, MEMORY_TOKEN};
use super::entry::{check_entries, EntriesError, EntryError, Partner};
use crate::host::display::render_rhai_error;
use crate::host::limits::{describe_limit, innermost};

/// Stack of the thread that evaluates a partner script. The deepest recursion the default
/// limits allow used between 4 and 6 MiB in a debug build (rhai 1.27, measured with
/// `ulimit -s`), so this leaves a wide margin whatever stack the caller has left.
const SANDBOX_STACK_BYTES: usize = 64 * 1024 * 1024;

/// The partners of one script, with the script's text for the run's content hash.
pub struct LoadedPartners {
    pub partners: Vec<Partner>,
    pub source: String,
}

/// A reason a partner script could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("cannot read partner script {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("partner script {path} failed: {message}")]
    Script { path: PathBuf, message: String },
    #[error("partner script {path}, {error}")]
    Entry {
        path: PathBuf,
        error: Box<EntryError>,
    },
    #[error("partner script {path}: {message}")]
    Shape { path: PathBuf, message: String },
}

/// Evaluates a partner script in the sandbox and checks every entry.
pub fn load_partners(path: &Path) -> Result<LoadedPartners, PartnerError> {
    load_partners_with(path, &SandboxLimits::default())
}

/// [`load_partners`] with other limits.
pub fn load_partners_with(
    path: &Path,
    limits: &SandboxLimits,
) -> Result<LoadedPartners, PartnerError> {
    let source =
        crate::script_file::read_script(path, crate::script_file::MAX_PARTNER_SCRIPT_BYTES)
            .map_err(|error| PartnerError::Read {
                path: path.to_owned(),
                error,
            })?;
    let partners = on_sandbox_thread(path, &source, limits)?;
    Ok(LoadedPartners { partners, source })
}

/// Runs the script on a fresh thread with a known stack, so that how deep the caller
/// already is (a runbook's recursion, the main thread's size) cannot matter.
fn on_sandbox_thread(
    path: &Path,
    source: &str,
    limits: &SandboxLimits,
) -> Result<Vec<Partner>, PartnerError> {
    let script_error = |message: String| PartnerError::Script {
        path: path.to_owned(),
        message,
    };
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("amirun-sandbox".into())
            .stack_size(SANDBOX_STACK_BYTES)
            .spawn_scoped(scope, || evaluate_and_check(path, source, limits))
            .map_err(|error| script_error(format!("cannot start the sandbox thread: {error}")))?;
        thread
            .join()
            .unwrap_or_else(|_| Err(script_error("the sandbox thread panicked".to_owned())))
    })
}

fn evaluate_and_check(
    path: &Path,
    source: &str,
    limits: &SandboxLimits,
) -> Result<Vec<Partner>, PartnerError> {
    let engine = sandboxed_engine(limits);
    let value = evaluate(&engine, path, source).map_err(|error| PartnerError::Script {
        path: path.to_owned(),
        message: describe_failure(&error, &engine, limits, path, source),
    })?;
    check_entries(value).map_err(|error| match error {
        EntriesError::Shape(message) => PartnerError::Shape {
            path: path.to_owned(),
            message,
        },
        EntriesError::Entry(error) => PartnerError::Entry {
            path: path.to_owned(),
            error: Box::new(error),
        },
    })
}

fn evaluate(engine: &Engine, path: &Path, source: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    let mut ast = engine.compile(source)?;
    ast.set_source(path.display().to_string());
    engine.eval_ast::<Dynamic>(&ast)
}

/// Renders the error: the limit or rule it broke, then the source line where it stopped.
fn describe_failure(
    error: &EvalAltResult,
    engine: &Engine,
    limits: &SandboxLimits,
    path: &Path,
    source: &str,
) -> String {
    let reason = match innermost(error) {
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == DEADLINE_TOKEN => {
            Some(format!(
                "exceeded the wall-clock deadline of {} ms",
                limits.deadline.as_millis()
            ))
        }
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == MEMORY_TOKEN => {
            Some(format!(
                "exceeded the memory limit of {} MiB; partner data needs far less, so look for values copied in a loop",
                limits.max_memory_growth / (1024 * 1024)
            ))
        }
        EvalAltResult::ErrorParsing(ParseErrorType::Reserved(word), _) if word == "import" => Some(
            "partner scripts cannot import modules; define the helpers in the script itself"
                .to_owned(),
        ),
        _ => describe_limit(error, engine),
    };
    let rendered = render_rhai_error(error, &path.display().to_string(), source);
    match reason {
        Some(reason) => format!("{reason}\n{rendered}"),
        None => rendered,
    }
}
