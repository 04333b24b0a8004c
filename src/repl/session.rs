//! One REPL session on the engine thread: the engine, the scope that keeps variables
//! between entries, the functions and imports of earlier entries, plan mode and the audit
//! trail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Module, Scope, Stmt, AST};
use sha2::{Digest, Sha256};

use super::help;
use crate::aws::AuditRun;
use crate::host::display::render_with_sources;
use crate::host::Interrupt;
use crate::host::{
    runbook_engine, stdlib, HostContext, HostError, Mode, Plan, PlannedChange, PrintTarget, RunInfo,
};
use crate::runbook::{resolve_params, Header};

/// Reason an entry produced no value. Each variant contains the text shown to the operator.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EntryError {
    /// The entry did not compile.
    #[error("{0}")]
    Syntax(String),
    /// The entry failed while running, for example on an AWS error.
    #[error("{0}")]
    Runtime(String),
    /// Ctrl-C stopped the entry.
    #[error("cancelled by Ctrl-C")]
    Cancelled,
    /// A `:load` file could not be read, or its header or parameters are invalid.
    #[error("{0}")]
    Input(String),
}

/// The engine and everything that entries share.
pub struct Session {
    ctx: Rc<HostContext>,
    engine: Engine,
    scope: Scope<'static>,
    /// Script functions defined by earlier entries, kept for later ones.
    functions: AST,
    /// Top-level `import` statements of earlier entries. Rhai drops imported modules when
    /// an evaluation ends, so each entry runs them again; the resolver's cache makes that
    /// cheap and keeps module state.
    imports: Vec<Stmt>,
    /// Text of every entry and loaded file by source name, for error display.
    sources: HashMap<String, String>,
    entry_count: usize,
    /// Source name of the entry or file that last defined each script function. Rhai reports
    /// errors inside such a function under the source of the entry that called it.
    defined_in: HashMap<String, String>,
    interrupt: Arc<Interrupt>,
    session_id: String,
    audit_dir: PathBuf,
    audit_started: bool,
}

impl Session {
    /// Builds the session's engine: the runbook engine with `help`, Ctrl-C stopping script
    /// loops as well as AWS calls, and `print` on `print` even in plan mode.
    pub fn new(
        ctx: Rc<HostContext>,
        interrupt: Arc<Interrupt>,
        state_dir: &Path,
        print: PrintTarget,
    ) -> Self {
        let mut engine = runbook_engine(&ctx, print);
        engine.on_print(move |text| match print {
            PrintTarget::Stdout => crate::outln!("{text}"),
            PrintTarget::Stderr => crate::errln!("{text}"),
        });
        let flag = Arc::clone(&interrupt);
        engine.on_progress(move |_| flag.is_cancelled().then(|| Dynamic::from("cancelled")));
        register_help(&mut engine);
        Self {
            ctx,
            engine,
            scope: Scope::new(),
            functions: AST::empty(),
            imports: Vec::new(),
            sources: HashMap::new(),
            entry_count: 0,
            defined_in: HashMap::new(),
            interrupt,
            session_id: session_id(),
            audit_dir: state_dir.join("audit"),
            audit_started: false,
        }
    }

    /// Evaluates one entry in the session scope.
    pub fn evaluate(&mut self, text: &str) -> Result<Dynamic, EntryError> {
        self.entry_count += 1;
        let name = format!("entry {}", self.entry_count);
        self.sources.insert(name.clone(), text.to_owned());
        self.run_source(&name, text)
    }

    /// Runs a runbook file into the session. Its header's parameters become the `params`
    /// constant, as in `amirun run`; its variables and functions stay in the session.
    pub fn load(&mut self, path: &Path, given: &[(String, String)]) -> Result<Dynamic, EntryError> {
        let text = crate::script_file::read_script(path, crate::script_file::MAX_RUNBOOK_BYTES)
            .map_err(|error| {
                EntryError::Input(format!("cannot read runbook {}: {error}", path.display()))
            })?;
        let header = Header::parse(path, &text).map_err(EntryError::Input)?;
        let params = resolve_params(&header, given).map_err(EntryError::Input)?;
        let params: Map = params
            .into_iter()
            .map(|(name, value)| (name.into(), Dynamic::from(value)))
            .collect();
        let run = RunInfo {
            runbook: header.name.clone(),
            version: header.version.clone(),
            hash: "(REPL session)".into(),
            run_id: self.session_id.clone(),
            started: crate::clock::now_rfc3339(),
        };
        let run = rhai::serde::to_dynamic(&run)
            .map_err(|error| EntryError::Input(format!("cannot build `run`: {error}")))?;
        self.scope.push_constant("params", params);
        self.scope.push_constant("run", run);

        let name = path.display().to_string();
        self.sources.insert(name.clone(), text.clone());
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let previous = self.ctx.base_dir.replace(folder);
        let result = self.run_source(&name, &text);
        *self.ctx.base_dir.borrow_mut() = previous;
        result
    }

    fn run_source(&mut self, name: &str, text: &str) -> Result<Dynamic, EntryError> {
        let mut ast = self
            .engine
            .compile(text)
            .map_err(|error| EntryError::Syntax(self.render(error.into(), name)))?;
        ast.set_source(name);
        self.functions = self.functions.merge(&ast.clone_functions_only());
        for function in ast.iter_functions() {
            self.defined_in
                .insert(function.name.to_owned(), name.to_owned());
        }
        let imports: Vec<Stmt> = ast
            .statements()
            .iter()
            .filter(|stmt| matches!(stmt, Stmt::Import(..)))
            .cloned()
            .collect();
        let program = AST::new(self.imports.iter().cloned(), Module::new())
            .merge(&self.functions)
            .merge(&ast);

        self.interrupt.begin();
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &program);
        let cancelled = self.interrupt.is_cancelled();
        self.interrupt.end();
        self.start_audit();

        match result {
            Ok(value) => {
                self.imports.extend(imports);
                // Plan mode queues the checks that need AWS reads, as a run's preflight does.
                self.interrupt.begin();
                let checked = self.ctx.run_deferred();
                self.interrupt.end();
                match checked {
                    Ok(()) => Ok(value),
                    Err(HostError::Cancelled) => Err(EntryError::Cancelled),
                    Err(error) => Err(EntryError::Runtime(format!(
                        "plan check failed: {error}\ncode: {}",
                        error.code()
                    ))),
                }
            }
            Err(_) if cancelled => Err(EntryError::Cancelled),
            Err(error) => Err(EntryError::Runtime(self.render(error, name))),
        }
    }

    /// Renders the error with its location and source line, and the code of a host error.
    fn render(&self, mut error: Box<EvalAltResult>, name: &str) -> String {
        attribute_calls(&mut error, name, &self.defined_in);
        let lookup = |source: &str| {
            self.sources
                .get(source)
                .cloned()
                .or_else(|| stdlib::module_source(source).map(str::to_owned))
                .or_else(|| std::fs::read_to_string(source).ok())
        };
        let mut text = render_with_sources(&error, name, &lookup);
        if let Some(host) = HostError::find(&error) {
            text.push_str(&format!("\n  code: {}", host.code()));
        }
        text
    }

    /// Starts the audit trail once an entry has loaded the AWS configuration, so a session
    /// without AWS calls writes no file. Lines of calls made so far are written then.
    fn start_audit(&mut self) {
        if self.audit_started {
            return;
        }
        let Some(aws) = self.ctx.loaded_aws() else {
            return;
        };
        self.audit_started = true;
        let run = AuditRun {
            run_id: self.session_id.clone(),
            runbook: "repl".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            hash: String::new(),
        };
        match aws.audit().start(&self.audit_dir, run) {
            Ok(()) => {
                tracing::info!(dir = %self.audit_dir.display(), session = %self.session_id, "writing the audit trail")
            }
            Err(error) => {
                tracing::warn!(dir = %self.audit_dir.display(), %error, "cannot write the audit trail; AWS calls of this session are not audited")
            }
        }
    }

    pub fn is_plan(&self) -> bool {
        self.ctx.is_plan()
    }

    /// Switches plan mode. Leaving it drops the placeholders of planned images.
    pub fn set_plan(&self, on: bool) {
        self.ctx
            .mode
            .set(if on { Mode::Plan } else { Mode::Execute });
        if !on {
            *self.ctx.plan.borrow_mut() = Plan::default();
        }
    }

    /// Takes the changes recorded in plan mode since the last call.
    pub fn take_changes(&self) -> Vec<PlannedChange> {
        std::mem::take(&mut self.ctx.plan.borrow_mut().changes)
    }

    /// Names that completion offers besides the host functions: variables in scope and
    /// functions defined in the session.
    pub fn completion_names(&self) -> (Vec<String>, Vec<String>) {
        let mut variables: Vec<String> = self
            .scope
            .iter_raw()
            .map(|(name, _, _)| name.to_owned())
            .collect();
        variables.sort();
        variables.dedup();
        let mut functions: Vec<String> = self
            .functions
            .iter_functions()
            .map(|f| f.name.to_owned())
            .collect();
        functions.sort();
        functions.dedup();
        (variables, functions)
    }
}

/// Gives each call of a session function the source of the entry that defined it, so the
/// error shows that entry's line. Calls inside modules already carry the module's name.
fn attribute_calls(error: &mut EvalAltResult, current: &str, defined_in: &HashMap<String, String>) {
    if let EvalAltResult::ErrorInFunctionCall(function, source, inner, _) = error {
        if source == current {
            if let Some(entry) = defined_in.get(function.as_str()) {
                source.clone_from(entry);
            }
        }
        attribute_calls(inner, current, defined_in);
    }
}

/// `help()` and `help("name")`, which exist only in the REPL.
fn register_help(engine: &mut Engine) {
    engine.register_fn("help", || crate::outln!("{}", help::overview()));
    engine.register_fn("help", |name: &str| -> Result<(), Box<EvalAltResult>> {
        match help::topic(name) {
            Some(text) => {
                crate::outln!("{text}");
                Ok(())
            }
            None => Err(help::unknown_topic(name).into()),
        }
    });
}

/// Derives the ID of the session's audit file: `repl-` and 12 hex digits.
fn session_id() -> String {
    let seed = format!("{}|{}", crate::clock::now_rfc3339(), std::process::id());
    let digest = hex::encode(Sha256::digest(seed.as_bytes()));
    format!("repl-{}", &digest[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostSettings;

    /// A session without AWS access: the entries below call no AWS function.
    fn session(runtime: &tokio::runtime::Runtime) -> Session {
        let ctx = Rc::new(HostContext::new(
            runtime.handle().clone(),
            HostSettings::default(),
            PathBuf::new(),
        ));
        let interrupt = Interrupt::new(ctx.cancel_handle(), true);
        Session::new(ctx, interrupt, Path::new("unused"), PrintTarget::Stderr)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("failed to build a runtime")
    }

    fn run(session: &mut Session, text: &str) {
        if let Err(error) = session.evaluate(text) {
            panic!("{text}: {error}");
        }
    }

    fn int(session: &mut Session, text: &str) -> i64 {
        session
            .evaluate(text)
            .unwrap_or_else(|error| panic!("{text}: {error}"))
            .as_int()
            .unwrap_or_else(|found| panic!("{text} returned {found}"))
    }

    #[test]
    fn variables_persist_between_entries() {
        let runtime = runtime();
        let mut session = session(&runtime);
        run(&mut session, "let x = 40;");
        assert_eq!(int(&mut session, "x + 2"), 42);
    }

    #[test]
    fn functions_persist_and_can_be_redefined() {
        let runtime = runtime();
        let mut session = session(&runtime);
        run(&mut session, "fn twice(n) { n * 2 }");
        assert_eq!(int(&mut session, "twice(21)"), 42);
        run(&mut session, "fn twice(n) { n * 3 }");
        assert_eq!(int(&mut session, "twice(21)"), 63);
    }

    #[test]
    fn imports_persist_between_entries() {
        let runtime = runtime();
        let mut session = session(&runtime);
        run(&mut session, "import \"std/rollout\" as r;");
        let keys = session.evaluate("r::parse_keys(\"a=b\")").unwrap();
        assert_eq!(keys.to_string(), "#{\"a\": \"b\"}");
    }

    #[test]
    fn failed_import_is_not_kept() {
        let runtime = runtime();
        let mut session = session(&runtime);
        assert!(session.evaluate("import \"std/none\" as n;").is_err());
        assert_eq!(int(&mut session, "1 + 1"), 2);
    }

    #[test]
    fn syntax_error_names_the_entry() {
        let runtime = runtime();
        let mut session = session(&runtime);
        run(&mut session, "1");
        let error = session.evaluate("let = 3").unwrap_err();
        assert!(matches!(error, EntryError::Syntax(_)), "{error:?}");
        assert!(error.to_string().contains("--> entry 2:1:5"), "{error}");
    }

    #[test]
    fn error_in_earlier_function_shows_its_entry() {
        let runtime = runtime();
        let mut session = session(&runtime);
        run(&mut session, "fn broken() {\n  throw \"boom\";\n}");
        let error = session.evaluate("broken()").unwrap_err().to_string();
        assert!(error.contains("--> entry 1:2:3"), "{error}");
        assert!(error.contains("throw \"boom\";"), "{error}");
        assert!(error.contains("called from `broken`"), "{error}");
    }

    #[test]
    fn host_input_error_carries_its_code() {
        let runtime = runtime();
        let mut session = session(&runtime);
        let error = session
            .evaluate("describe_image(\"not-an-image\")")
            .unwrap_err();
        assert!(error.to_string().contains("code: InvalidInput"), "{error}");
    }

    #[test]
    fn unknown_help_topic_is_an_error() {
        let runtime = runtime();
        let mut session = session(&runtime);
        let error = session.evaluate("help(\"shar\")").unwrap_err().to_string();
        assert!(
            error.contains("did you mean share, share_images, unshare, sharing_report?"),
            "{error}"
        );
    }

    #[test]
    fn plan_mode_switches_and_clears() {
        let runtime = runtime();
        let session = session(&runtime);
        session.set_plan(true);
        assert!(session.is_plan());
        session.set_plan(false);
        assert!(!session.is_plan());
        assert!(session.take_changes().is_empty());
    }

    #[test]
    fn completion_names_list_variables_and_functions() {
        let runtime = runtime();
        let mut session = session(&runtime);
        run(&mut session, "let b = 1; let a = 2; fn f() {}");
        let (variables, functions) = session.completion_names();
        assert_eq!(variables, vec!["a", "b"]);
        assert_eq!(functions, vec!["f"]);
    }
}
