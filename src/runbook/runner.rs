//! Running a runbook: a preflight pass in plan mode that checks every input without making
//! a change, then the real pass through the journal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Scope, AST};
use sha2::{Digest, Sha256};

use super::{resolve_params, Header};
use crate::aws::AuditRun;
use crate::host::display::render_with_sources;
use crate::host::limits::describe_limit;
use crate::host::{
    runbook_engine, stdlib, HostContext, HostError, HostSettings, Interrupt, Mode, PlannedChange,
    PrintTarget, RunInfo,
};
use crate::journal::{Journal, JournalHeader, StateLock};

/// Stack of the engine thread: deep enough for the runbook call-depth limit in debug builds.
pub const ENGINE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The action to take with a runbook.
#[derive(Debug, Clone)]
pub enum RunMode {
    /// Make the changes, journaled under `state_dir`.
    Run { state_dir: PathBuf, restart: bool },
    /// Record the changes without making them.
    Plan,
}

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub path: PathBuf,
    pub params: Vec<(String, String)>,
    pub settings: HostSettings,
    pub mode: RunMode,
    pub print: PrintTarget,
}

/// A finished run or plan.
#[derive(Debug)]
pub struct Outcome {
    pub header: Header,
    pub value: serde_json::Value,
    pub changes: Vec<PlannedChange>,
    pub run_id: Option<String>,
}

/// The reason a run stopped, rendered for people, with its exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    /// Bad usage or input found before any change (exit status 2).
    #[error("{0}")]
    Input(String),
    /// The runbook failed while working (exit status 1).
    #[error("{0}")]
    Failed(String),
}

impl RunFailure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input(_) => 2,
            Self::Failed(_) => 1,
        }
    }
}

pub struct Runner;

impl Runner {
    /// Runs the request on a thread of its own, blocking on SDK futures from there.
    pub fn execute(
        runtime: tokio::runtime::Handle,
        request: RunRequest,
    ) -> Result<Outcome, RunFailure> {
        let thread = std::thread::Builder::new()
            .name("amirun-engine".into())
            .stack_size(ENGINE_STACK_BYTES)
            .spawn(move || run_on_engine_thread(runtime, request))
            .map_err(|error| {
                RunFailure::Failed(format!("failed to start the engine thread: {error}"))
            })?;
        thread
            .join()
            .unwrap_or_else(|_| Err(RunFailure::Failed("the engine thread panicked".into())))
    }
}

struct Loaded {
    header: Header,
    source: String,
    params: BTreeMap<String, String>,
    source_name: String,
}

fn load(request: &RunRequest) -> Result<Loaded, RunFailure> {
    let source =
        crate::script_file::read_script(&request.path, crate::script_file::MAX_RUNBOOK_BYTES)
            .map_err(|error| {
                RunFailure::Input(format!(
                    "cannot read runbook {}: {error}",
                    request.path.display()
                ))
            })?;
    let header = Header::parse(&request.path, &source).map_err(RunFailure::Input)?;
    if !header.declared {
        tracing::warn!(runbook = %request.path.display(), "runbook has no header; running it as {}", header.label());
    }
    let params = resolve_params(&header, &request.params).map_err(RunFailure::Input)?;
    Ok(Loaded {
        header,
        source,
        params,
        source_name: request.path.display().to_string(),
    })
}

fn run_on_engine_thread(
    runtime: tokio::runtime::Handle,
    request: RunRequest,
) -> Result<Outcome, RunFailure> {
    let loaded = load(&request)?;
    let base_dir = request
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let ctx = Rc::new(HostContext::new(
        runtime.clone(),
        request.settings.clone(),
        base_dir,
    ));
    let engine = runbook_engine(&ctx, request.print);
    let ast = compile(&engine, &loaded)?;

    // Preflight: the whole runbook in plan mode. Every argument is validated and every
    // partner script loaded before the first change.
    ctx.mode.set(Mode::Plan);
    let preflight_run = RunInfo {
        runbook: loaded.header.name.clone(),
        version: loaded.header.version.clone(),
        hash: "(computed when the run starts)".into(),
        run_id: "(assigned when the run starts)".into(),
        started: crate::clock::now_rfc3339(),
    };
    // Host functions see a run in the preflight too, so that amirun's own run tags count
    // against the tag limits there and not only once changes are being made.
    *ctx.run.borrow_mut() = Some(preflight_run.clone());
    let planned = evaluate(&engine, &ast, &loaded, &preflight_run, &ctx)
        .map_err(|error| preflight_failure(&error, &loaded, &engine))?;
    ctx.run_deferred().map_err(|error| match error {
        HostError::Input(_) | HostError::Rejected(_) => RunFailure::Input(error.to_string()),
        other => RunFailure::Failed(other.to_string()),
    })?;
    let changes = std::mem::take(&mut ctx.plan.borrow_mut().changes);

    let (state_dir, restart) = match &request.mode {
        RunMode::Plan => {
            return Ok(Outcome {
                header: loaded.header,
                value: planned,
                changes,
                run_id: None,
            });
        }
        RunMode::Run { state_dir, restart } => (state_dir.clone(), *restart),
    };

    let hash = content_hash(&loaded, &ctx);
    let _lock =
        StateLock::acquire(&state_dir).map_err(|error| RunFailure::Input(format!("{error:#}")))?;
    let journal = open_journal(&state_dir, &loaded, &hash, restart)?;
    let run = RunInfo {
        runbook: journal.header().runbook.clone(),
        version: journal.header().version.clone(),
        hash: hash.clone(),
        run_id: journal.header().run_id.clone(),
        started: journal.header().started.clone(),
    };
    if let Some(aws) = ctx.loaded_aws() {
        let audit_run = AuditRun {
            run_id: run.run_id.clone(),
            runbook: run.runbook.clone(),
            version: run.version.clone(),
            hash,
        };
        if let Err(error) = aws.audit().start(&state_dir.join("audit"), audit_run) {
            return Err(RunFailure::Failed(format!(
                "cannot write the audit trail under {}: {error}",
                state_dir.display()
            )));
        }
    }
    tracing::info!(run_id = %run.run_id, runbook = %loaded.header.label(), "starting run");
    *ctx.journal.borrow_mut() = Some(journal);
    *ctx.run.borrow_mut() = Some(run.clone());
    ctx.mode.set(Mode::Execute);
    *ctx.plan.borrow_mut() = Default::default();

    // Ctrl-C stops the run at its current AWS call or wait, so that the journal shows where
    // it stopped and the same command resumes it.
    let interrupt = Interrupt::new(ctx.cancel_handle(), false);
    if let Err(error) = interrupt.listen(&runtime) {
        tracing::warn!(%error, "cannot watch for Ctrl-C; it ends the run at once");
    }
    interrupt.begin();
    let value = evaluate(&engine, &ast, &loaded, &run, &ctx)
        .map_err(|error| run_failure(&error, &loaded, &engine, &ctx, &run))?;
    if let Some(journal) = ctx.journal.borrow_mut().as_mut() {
        journal.finish().map_err(|error| {
            RunFailure::Failed(format!(
                "the run succeeded but its journal could not be closed: {error}"
            ))
        })?;
    }
    Ok(Outcome {
        header: loaded.header,
        value,
        changes,
        run_id: Some(run.run_id),
    })
}

fn compile(engine: &Engine, loaded: &Loaded) -> Result<AST, RunFailure> {
    let mut ast = engine
        .compile(&loaded.source)
        .map_err(|error| RunFailure::Input(render(&error.into(), loaded, engine)))?;
    ast.set_source(loaded.source_name.clone());
    Ok(ast)
}

/// Checks every stdlib module and the runbook's syntax without running anything.
pub fn check_syntax(engine: &Engine, path: &Path, source: &str) -> Result<(), String> {
    for (name, text) in stdlib::MODULES {
        engine
            .compile(text)
            .map_err(|error| format!("{name}: {error}"))?;
    }
    engine.compile(source).map(|_| ()).map_err(|error| {
        let error: Box<EvalAltResult> = error.into();
        let rendered =
            crate::host::display::render_rhai_error(&error, &path.display().to_string(), source);
        match describe_limit(&error, engine) {
            Some(limit) => format!("the runbook {limit}\n{rendered}"),
            None => rendered,
        }
    })
}

fn evaluate(
    engine: &Engine,
    ast: &AST,
    loaded: &Loaded,
    run: &RunInfo,
    ctx: &HostContext,
) -> Result<serde_json::Value, Box<EvalAltResult>> {
    let mut scope = Scope::new();
    let params: Map = loaded
        .params
        .iter()
        .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
        .collect();
    scope.push_constant("params", params);
    let run_map = rhai::serde::to_dynamic(run)?;
    scope.push_constant("run", run_map);
    let value: Dynamic = engine.eval_ast_with_scope(&mut scope, ast)?;
    let _ = ctx;
    Ok(rhai::serde::from_dynamic(&value).unwrap_or(serde_json::Value::Null))
}

/// sha256 over the runbook and every module and partner script it loaded, in name order.
fn content_hash(loaded: &Loaded, ctx: &HostContext) -> String {
    let mut files: BTreeMap<String, String> = ctx.sources.borrow().files.iter().cloned().collect();
    files.insert(loaded.source_name.clone(), loaded.source.clone());
    let mut hasher = Sha256::new();
    for (name, text) in &files {
        let file_name = Path::new(name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name);
        hasher.update(file_name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

fn open_journal(
    state_dir: &Path,
    loaded: &Loaded,
    hash: &str,
    restart: bool,
) -> Result<Journal, RunFailure> {
    let failed = |error: anyhow::Error| RunFailure::Failed(format!("{error:#}"));
    let path = Journal::path_for(state_dir, &loaded.header.name, &loaded.params);
    if let Some(existing) = Journal::load(&path).map_err(failed)? {
        let previous = existing.header().clone();
        let same_content = previous.hash == hash && previous.version == loaded.header.version;
        if !existing.is_finished() && !restart {
            if !same_content {
                return Err(RunFailure::Input(format!(
                    "runbook {} or a script it loads changed since run {} (started {}, version {}, hash {}) stopped unfinished; \
                     finish it with the runbook it started with, or pass --restart to start a new run that adopts what the old one made",
                    loaded.header.label(),
                    previous.run_id,
                    previous.started,
                    previous.version,
                    &previous.hash[..12.min(previous.hash.len())]
                )));
            }
            crate::errln!(
                "resuming run {} (started {}, {} steps recorded)",
                previous.run_id,
                previous.started,
                existing.step_count()
            );
            return Ok(existing);
        }
        if existing.is_finished() && same_content && !restart {
            crate::errln!("run {} already finished; replaying its recorded results (pass --restart to run again)", previous.run_id);
            return Ok(existing);
        }
    }
    let started = crate::clock::now_rfc3339();
    let params_text = serde_json::to_string(&loaded.params).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(
        format!("{}|{hash}|{params_text}|{started}", loaded.header.name).as_bytes(),
    ));
    let header = JournalHeader {
        runbook: loaded.header.name.clone(),
        version: loaded.header.version.clone(),
        hash: hash.to_owned(),
        params: loaded.params.clone(),
        run_id: digest[..12].to_owned(),
        started,
    };
    Journal::create(&path, header).map_err(failed)
}

/// Renders the error: the limit it reached, if any, then its location in the runbook or
/// module.
fn render(error: &EvalAltResult, loaded: &Loaded, engine: &Engine) -> String {
    let main = loaded.source_name.clone();
    let text = loaded.source.clone();
    let rendered = render_with_sources(error, &loaded.source_name, &move |name| {
        if name == main {
            return Some(text.clone());
        }
        if let Some(module) = stdlib::module_source(name) {
            return Some(module.to_owned());
        }
        std::fs::read_to_string(name).ok()
    });
    match describe_limit(error, engine) {
        Some(limit) => format!("the runbook {limit}\n{rendered}"),
        None => rendered,
    }
}

/// In the preflight nothing has changed, so anything but a failed AWS read is an input error.
fn preflight_failure(error: &EvalAltResult, loaded: &Loaded, engine: &Engine) -> RunFailure {
    let message = render(error, loaded, engine);
    match HostError::find(error) {
        Some(HostError::Aws(_) | HostError::Failed { .. } | HostError::Cancelled) => {
            RunFailure::Failed(message)
        }
        _ => RunFailure::Input(message),
    }
}

fn run_failure(
    error: &EvalAltResult,
    loaded: &Loaded,
    engine: &Engine,
    ctx: &HostContext,
    run: &RunInfo,
) -> RunFailure {
    let message = format!(
        "{}\nrun {} stopped; run the same command again to resume it",
        render(error, loaded, engine),
        run.run_id
    );
    let input = HostError::find(error).is_some_and(|e| e.is_input());
    if input && ctx.mutations() == 0 {
        RunFailure::Input(message)
    } else {
        RunFailure::Failed(message)
    }
}
