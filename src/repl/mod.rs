//! The interactive REPL and `amirun eval`: the runbook host functions and stdlib, for
//! ad-hoc work between rollouts.
//!
//! The engine and the line editor run on a dedicated thread with a large stack, which
//! blocks on SDK futures through `HostContext::block_on`. The tokio runtime that drives those
//! futures and listens for Ctrl-C belongs to the caller, so no runtime worker ever blocks.

mod balance;
mod command;
mod format;
mod help;
mod helper;
mod history;
mod main_loop;
mod session;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::rc::Rc;

pub use format::Style;
pub use main_loop::Repl;
pub use session::{EntryError, Session};

use crate::host::Interrupt;
use crate::host::{HostContext, HostSettings, PrintTarget};
use crate::runbook::{RunFailure, ENGINE_STACK_BYTES};

/// Settings of a REPL or `eval` session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub settings: HostSettings,
    /// Folder of the audit trail of the session's AWS calls, under `<state_dir>/audit/`.
    pub state_dir: PathBuf,
    /// Format of results at the start.
    pub style: Style,
}

/// Runs the REPL: a line editor when stdin is a terminal, else one entry after another from
/// stdin. Ctrl-D or the end of the input ends it.
pub fn repl(runtime: tokio::runtime::Handle, options: SessionOptions) -> Result<(), RunFailure> {
    let interactive = std::io::stdin().is_terminal();
    on_engine_thread(move || {
        let session = open_session(&runtime, &options, interactive, PrintTarget::Stdout)?;
        let repl = Repl::new(session, options.style);
        if interactive {
            repl.run_interactive()
        } else {
            repl.run_piped(std::io::stdin().lock())
        }
    })
}

/// Evaluates one expression and prints its value as JSON (`null` for `()`). A syntax error
/// is an input failure (exit status 2), any other error a failure (exit status 1).
pub fn eval(
    runtime: tokio::runtime::Handle,
    options: SessionOptions,
    expression: String,
) -> Result<(), RunFailure> {
    on_engine_thread(move || {
        // `print` goes to stderr so that stdout holds only the JSON value.
        let mut session = open_session(&runtime, &options, false, PrintTarget::Stderr)?;
        match session.evaluate(&expression) {
            Ok(value) => {
                crate::outln!("{}", format::pretty_json(&format::to_json(&value)));
                Ok(())
            }
            Err(error @ (EntryError::Syntax(_) | EntryError::Input(_))) => {
                Err(RunFailure::Input(error.to_string()))
            }
            Err(error) => Err(RunFailure::Failed(error.to_string())),
        }
    })
}

fn open_session(
    runtime: &tokio::runtime::Handle,
    options: &SessionOptions,
    interactive: bool,
    print: PrintTarget,
) -> Result<Session, RunFailure> {
    let ctx = Rc::new(HostContext::new(
        runtime.clone(),
        options.settings.clone(),
        PathBuf::new(),
    ));
    let interrupt = Interrupt::new(ctx.cancel_handle(), interactive);
    interrupt.listen(runtime).map_err(|error| {
        RunFailure::Failed(format!("cannot install the Ctrl-C handler: {error}"))
    })?;
    Ok(Session::new(ctx, interrupt, &options.state_dir, print))
}

/// Runs `work` on a thread of its own with the engine's stack size and waits for it.
fn on_engine_thread(
    work: impl FnOnce() -> Result<(), RunFailure> + Send + 'static,
) -> Result<(), RunFailure> {
    let thread = std::thread::Builder::new()
        .name("amirun-repl".into())
        .stack_size(ENGINE_STACK_BYTES)
        .spawn(work)
        .map_err(|error| {
            RunFailure::Failed(format!("failed to start the engine thread: {error}"))
        })?;
    thread
        .join()
        .unwrap_or_else(|_| Err(RunFailure::Failed("the engine thread panicked".into())))
}
