//! The line editor's helper: completion of names and commands, a hint with the signature of
//! the function being typed, and continuation of entries with open brackets.

use std::borrow::Cow;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::balance;
use super::command::COMMANDS;
use crate::host::functions::FUNCTIONS;
use crate::host::registry::{find_doc, FnDoc};
use crate::host::stdlib::MODULES;

/// Shortest prefix for which a function-name hint appears, so that one typed letter does
/// not already fill the line.
const MIN_HINT_PREFIX: usize = 2;

/// Completion, hints and validation for one session.
#[derive(Helper)]
pub struct ReplHelper {
    variables: Vec<String>,
    functions: Vec<String>,
    files: FilenameCompleter,
}

impl ReplHelper {
    pub fn new() -> Self {
        Self {
            variables: Vec::new(),
            functions: Vec::new(),
            files: FilenameCompleter::new(),
        }
    }

    /// Sets the variables in scope and the functions defined in the session.
    pub fn set_names(&mut self, variables: Vec<String>, functions: Vec<String>) {
        self.variables = variables;
        self.functions = functions;
    }

    /// Host functions, `help`, session functions and variables that start with `prefix`.
    fn names(&self, prefix: &str) -> Vec<Pair> {
        let call = |name: &str| Pair {
            display: name.to_owned(),
            replacement: format!("{name}("),
        };
        let mut pairs: Vec<Pair> = FUNCTIONS
            .iter()
            .map(|doc| doc.name)
            .chain(std::iter::once("help"))
            .chain(self.functions.iter().map(String::as_str))
            .filter(|name| name.starts_with(prefix))
            .map(call)
            .collect();
        pairs.extend(
            self.variables
                .iter()
                .filter(|name| name.starts_with(prefix))
                .map(|name| Pair {
                    display: name.clone(),
                    replacement: name.clone(),
                }),
        );
        pairs.sort_by(|a, b| a.display.cmp(&b.display));
        pairs.dedup_by(|a, b| a.display == b.display);
        pairs
    }

    fn complete_command(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.len() - before.trim_start().len();
        let typed = &before[start..];
        if typed.starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        if let Some(argument) = typed.strip_prefix(":plan ") {
            let options = ["on", "off"]
                .iter()
                .filter(|option| option.starts_with(argument.trim_start()))
                .map(|option| plain(option))
                .collect();
            return Ok((pos - argument.trim_start().len(), options));
        }
        if typed.contains(char::is_whitespace) {
            return Ok((pos, Vec::new()));
        }
        let commands = COMMANDS
            .iter()
            .filter(|(name, _, _)| name.starts_with(typed))
            .map(|(name, _, _)| plain(name))
            .collect();
        Ok((start, commands))
    }
}

fn plain(text: &str) -> Pair {
    Pair {
        display: text.to_owned(),
        replacement: text.to_owned(),
    }
}

/// Start of the identifier that ends at the end of `text`.
fn word_start(text: &str) -> usize {
    text.char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(text.len(), |(index, _)| index)
}

/// Returns the partial module path after `import "` and its start, if the cursor is there.
fn import_path(before: &str) -> Option<(usize, &str)> {
    let quote = before.rfind('"')?;
    let partial = &before[quote + 1..];
    before[..quote]
        .trim_end()
        .ends_with("import")
        .then_some((quote + 1, partial))
}

/// True when the identifier at `start` follows `::` or `.`, naming a module member or a
/// property rather than a global.
fn is_member(before: &str, start: usize) -> bool {
    let prefix = &before[..start];
    prefix.ends_with("::") || prefix.ends_with('.')
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        if before.trim_start().starts_with(':') {
            return self.complete_command(line, pos, ctx);
        }
        if let Some((start, partial)) = import_path(before) {
            let modules = MODULES
                .iter()
                .filter(|(name, _)| name.starts_with(partial))
                .map(|(name, _)| Pair {
                    display: (*name).to_owned(),
                    replacement: format!("{name}\""),
                })
                .collect();
            return Ok((start, modules));
        }
        let start = word_start(before);
        if start == pos || is_member(before, start) {
            return Ok((pos, Vec::new()));
        }
        Ok((start, self.names(&before[start..])))
    }
}

/// A hint: the signature of a function, shown dimmed after the cursor.
pub struct SignatureHint {
    display: String,
    /// Text that the right arrow inserts: the rest of a function name and `(`, or nothing
    /// inside a call.
    completion: Option<String>,
}

impl Hint for SignatureHint {
    fn display(&self) -> &str {
        &self.display
    }

    fn completion(&self) -> Option<&str> {
        self.completion.as_deref()
    }
}

/// The hint while typing a function name that only one host function starts with.
fn name_hint(before: &str) -> Option<SignatureHint> {
    let start = word_start(before);
    let word = &before[start..];
    if word.len() < MIN_HINT_PREFIX || is_member(before, start) {
        return None;
    }
    let mut matches = FUNCTIONS.iter().filter(|doc| doc.name.starts_with(word));
    let doc: &FnDoc = matches.next()?;
    if matches.next().is_some() {
        return None;
    }
    let rest = &doc.name[word.len()..];
    Some(SignatureHint {
        display: format!("{rest}{}", &doc.signature[doc.name.len()..]),
        completion: Some(format!("{rest}(")),
    })
}

/// The hint inside the argument list of a host function call.
fn call_hint(before: &str) -> Option<SignatureHint> {
    let paren = *balance::scan(before).open_parens.last()?;
    let name_start = word_start(&before[..paren]);
    let doc = find_doc(FUNCTIONS, &before[name_start..paren])?;
    Some(SignatureHint {
        display: format!("   {}", doc.signature),
        completion: None,
    })
}

impl Hinter for ReplHelper {
    type Hint = SignatureHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<SignatureHint> {
        if pos < line.len() || line.trim_start().starts_with(':') {
            return None;
        }
        let before = &line[..pos];
        name_hint(before).or_else(|| call_hint(before))
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        false
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim_start().starts_with(':') || !balance::is_incomplete(input) {
            return Ok(ValidationResult::Valid(None));
        }
        Ok(ValidationResult::Incomplete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn displays(pairs: &[Pair]) -> Vec<&str> {
        pairs.iter().map(|p| p.display.as_str()).collect()
    }

    #[test]
    fn names_include_functions_and_variables() {
        let mut helper = ReplHelper::new();
        helper.set_names(vec!["shared_ids".into()], vec!["show_all".into()]);
        let pairs = helper.names("sh");
        assert_eq!(
            displays(&pairs),
            vec![
                "sha256",
                "share",
                "share_images",
                "shared_ids",
                "sharing_report",
                "show_all"
            ]
        );
        assert_eq!(pairs[1].replacement, "share(");
        assert_eq!(pairs[2].replacement, "share_images(");
        assert_eq!(pairs[3].replacement, "shared_ids");
    }

    #[test]
    fn word_start_finds_identifier() {
        assert_eq!(word_start("let x = describe_im"), 8);
        assert_eq!(word_start("f("), 2);
    }

    #[test]
    fn import_path_needs_the_keyword() {
        assert_eq!(import_path("import \"std/r"), Some((8, "std/r")));
        assert_eq!(import_path("print(\"std/r"), None);
    }

    #[test]
    fn name_hint_shows_the_rest_of_the_signature() {
        let hint = name_hint("describe_im").expect("no hint");
        assert_eq!(
            hint.display(),
            "age(image_id: String[, options: Map]) -> Map"
        );
        assert_eq!(hint.completion(), Some("age("));
        assert!(name_hint("s").is_none());
        assert!(name_hint("sha").is_none(), "sha256 and share both match");
    }

    #[test]
    fn call_hint_names_the_innermost_host_call() {
        let hint = call_hint("share(id, [caller_account(").expect("no hint");
        assert_eq!(hint.display(), "   caller_account() -> String");
        let hint = call_hint("share(id, [").expect("no hint");
        assert!(hint.display().contains("share(image_id: String"));
        assert!(call_hint("foo(").is_none());
    }
}
