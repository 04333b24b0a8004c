//! The read-evaluate-print loop: a line editor on a terminal, plain lines from a pipe.

use std::io::BufRead;

use rhai::Dynamic;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;

use super::balance;
use super::command::Command;
use super::format::{self, Style};
use super::help;
use super::helper::ReplHelper;
use super::history::HistoryFile;
use super::session::{EntryError, Session};
use crate::runbook::RunFailure;

/// Entries kept in the history file.
const HISTORY_SIZE: usize = 1000;

/// Whether the loop goes on after an entry.
enum Flow {
    Continue,
    Quit,
}

/// A session and how its results are printed.
pub struct Repl {
    session: Session,
    style: Style,
    failures: usize,
}

impl Repl {
    pub fn new(session: Session, style: Style) -> Self {
        Self {
            session,
            style,
            failures: 0,
        }
    }

    /// Reads entries from the terminal until Ctrl-D or `:quit`.
    pub fn run_interactive(mut self) -> Result<(), RunFailure> {
        let mut editor = editor().map_err(|error| {
            RunFailure::Failed(format!("cannot start the line editor: {error}"))
        })?;
        let mut history = HistoryFile::open(&mut editor);
        crate::outln!(
            "amirun {}: help() lists the functions, :help the commands, Ctrl-D ends the session.",
            env!("CARGO_PKG_VERSION")
        );
        loop {
            self.refresh_names(&mut editor);
            let prompt = if self.session.is_plan() {
                "amirun (plan)> "
            } else {
                "amirun> "
            };
            match editor.readline(prompt) {
                Ok(line) if line.trim().is_empty() => {}
                Ok(line) => {
                    history.add(&mut editor, &line);
                    if let Flow::Quit = self.handle(&line) {
                        return Ok(());
                    }
                }
                // Ctrl-C at the prompt clears the line.
                Err(ReadlineError::Interrupted) => {}
                Err(ReadlineError::Eof) => return Ok(()),
                Err(error) => {
                    return Err(RunFailure::Failed(format!(
                        "cannot read from the terminal: {error}"
                    )))
                }
            }
        }
    }

    /// Reads entries line by line, joining lines while brackets are open, until the end of
    /// the input. Fails if any entry failed.
    pub fn run_piped(mut self, input: impl BufRead) -> Result<(), RunFailure> {
        let mut entry = String::new();
        for line in input.lines() {
            let line = line.map_err(|error| {
                RunFailure::Failed(format!("cannot read standard input: {error}"))
            })?;
            if entry.is_empty() && line.trim().is_empty() {
                continue;
            }
            if !entry.is_empty() {
                entry.push('\n');
            }
            entry.push_str(&line);
            if entry.trim_start().starts_with(':') || !balance::is_incomplete(&entry) {
                let text = std::mem::take(&mut entry);
                if let Flow::Quit = self.handle(&text) {
                    return self.outcome();
                }
            }
        }
        if !entry.trim().is_empty() {
            self.handle(&entry);
        }
        self.outcome()
    }

    fn outcome(&self) -> Result<(), RunFailure> {
        match self.failures {
            0 => Ok(()),
            1 => Err(RunFailure::Failed("1 entry failed".into())),
            count => Err(RunFailure::Failed(format!("{count} entries failed"))),
        }
    }

    fn refresh_names(&self, editor: &mut Editor<ReplHelper, FileHistory>) {
        if let Some(helper) = editor.helper_mut() {
            let (variables, functions) = self.session.completion_names();
            helper.set_names(variables, functions);
        }
    }

    /// Runs one entry: a command, or Rhai code.
    fn handle(&mut self, text: &str) -> Flow {
        match Command::parse(text) {
            Some(Ok(command)) => self.run_command(command),
            Some(Err(error)) => {
                self.fail(&error.to_string());
                Flow::Continue
            }
            None => {
                let result = self.session.evaluate(text);
                self.show(result);
                Flow::Continue
            }
        }
    }

    fn run_command(&mut self, command: Command) -> Flow {
        match command {
            Command::Help => crate::outln!("{}", help::commands()),
            Command::Quit => return Flow::Quit,
            Command::Plan(on) => {
                self.session.set_plan(on);
                crate::outln!("{}", plan_status(on));
            }
            Command::PlanStatus => crate::outln!("{}", plan_status(self.session.is_plan())),
            Command::Load { path, params } => {
                let result = self.session.load(&path, &params);
                self.show(result);
            }
            Command::Output(style) => {
                self.style = style;
                match style {
                    Style::Json => crate::outln!("results are printed as JSON"),
                    Style::Text => crate::outln!("results are printed as text"),
                }
            }
        }
        Flow::Continue
    }

    /// Prints an entry's value or error, then the changes it recorded in plan mode.
    fn show(&mut self, result: Result<Dynamic, EntryError>) {
        let changes = self.session.take_changes();
        match result {
            Ok(value) => {
                if let Some(text) = format::render(&value, self.style) {
                    crate::outln!("{text}");
                }
            }
            Err(error) => self.fail(&error.to_string()),
        }
        if changes.is_empty() {
            return;
        }
        match self.style {
            Style::Text => crate::outln!("{}", format::render_changes(&changes)),
            Style::Json => {
                let plan = serde_json::json!({ "planned_changes": changes });
                crate::outln!("{}", format::pretty_json(&plan));
            }
        }
    }

    fn fail(&mut self, message: &str) {
        self.failures += 1;
        crate::errln!("error: {message}");
    }
}

fn plan_status(on: bool) -> &'static str {
    if on {
        "plan mode is on: changes are recorded and shown, not made"
    } else {
        "plan mode is off: changes are made"
    }
}

fn editor() -> rustyline::Result<Editor<ReplHelper, FileHistory>> {
    let config = Config::builder()
        .max_history_size(HISTORY_SIZE)?
        .history_ignore_dups(true)?
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(ReplHelper::new()));
    Ok(editor)
}
