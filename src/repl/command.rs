//! REPL commands: lines that start with `:`, parsed into [`Command`] before anything runs.

use std::path::PathBuf;

use super::format::Style;

/// A parsed REPL command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `:help`: the commands and how to get function help.
    Help,
    /// `:quit`: end the session.
    Quit,
    /// `:plan on|off`: record changes instead of making them, or make them again.
    Plan(bool),
    /// `:plan`: show whether plan mode is on.
    PlanStatus,
    /// `:load FILE [NAME=VALUE ...]`: run a runbook file into the session.
    Load {
        path: PathBuf,
        params: Vec<(String, String)>,
    },
    /// `:json` or `:text`: how results are printed.
    Output(Style),
}

/// Name, usage and description of every command, for `:help` and completion.
pub static COMMANDS: &[(&str, &str, &str)] = &[
    (
        ":help",
        ":help",
        "show these commands; help() lists the functions",
    ),
    (
        ":plan",
        ":plan on|off",
        "record changes and show them instead of making them, or make them again",
    ),
    (
        ":load",
        ":load FILE [NAME=VALUE ...]",
        "run a runbook file into the session, with its parameters",
    ),
    (":json", ":json", "print results as JSON"),
    (
        ":text",
        ":text",
        "print results as aligned tables (the default)",
    ),
    (":quit", ":quit", "end the session (Ctrl-D does the same)"),
];

/// A command line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command `{0}`; type :help for the list")]
    Unknown(String),
    #[error("`{command}` expects {usage}")]
    Usage {
        command: &'static str,
        usage: &'static str,
    },
    #[error("invalid parameter `{0}` for :load: pass NAME=VALUE")]
    Param(String),
}

impl Command {
    /// Parses a line that starts with `:`; returns `None` for any other line.
    pub fn parse(line: &str) -> Option<Result<Command, CommandError>> {
        let line = line.trim();
        if !line.starts_with(':') {
            return None;
        }
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or(":");
        let rest: Vec<&str> = words.collect();
        Some(parse_words(name, &rest))
    }
}

fn parse_words(name: &str, rest: &[&str]) -> Result<Command, CommandError> {
    let no_arguments = |command| match rest {
        [] => Ok(command),
        _ => Err(usage(name)),
    };
    match name {
        ":help" | ":h" | ":?" => no_arguments(Command::Help),
        ":quit" | ":q" | ":exit" => no_arguments(Command::Quit),
        ":json" => no_arguments(Command::Output(Style::Json)),
        ":text" => no_arguments(Command::Output(Style::Text)),
        ":plan" => match rest {
            [] => Ok(Command::PlanStatus),
            ["on"] => Ok(Command::Plan(true)),
            ["off"] => Ok(Command::Plan(false)),
            _ => Err(usage(":plan")),
        },
        ":load" => parse_load(rest),
        other => Err(CommandError::Unknown(other.to_owned())),
    }
}

fn parse_load(rest: &[&str]) -> Result<Command, CommandError> {
    let Some((path, pairs)) = rest.split_first() else {
        return Err(usage(":load"));
    };
    let params = pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
            _ => Err(CommandError::Param((*pair).to_owned())),
        })
        .collect::<Result<_, _>>()?;
    Ok(Command::Load {
        path: PathBuf::from(path),
        params,
    })
}

fn usage(name: &str) -> CommandError {
    let (command, usage) = COMMANDS
        .iter()
        .find(|(command, _, _)| *command == name)
        .map(|(command, usage, _)| (*command, *usage))
        .unwrap_or((":help", ":help"));
    CommandError::Usage { command, usage }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_entries_are_not_commands() {
        assert_eq!(Command::parse("1 + 1"), None);
        assert_eq!(Command::parse("help()"), None);
    }

    #[test]
    fn plan_switch_parses() {
        assert_eq!(Command::parse(":plan on"), Some(Ok(Command::Plan(true))));
        assert_eq!(
            Command::parse(" :plan off "),
            Some(Ok(Command::Plan(false)))
        );
        assert_eq!(Command::parse(":plan"), Some(Ok(Command::PlanStatus)));
    }

    #[test]
    fn plan_with_bad_argument_shows_usage() {
        let error = Command::parse(":plan maybe").unwrap().unwrap_err();
        assert_eq!(error.to_string(), "`:plan` expects :plan on|off");
    }

    #[test]
    fn load_takes_path_and_params() {
        let parsed = Command::parse(":load runbooks/x.rhai source_instance=i-1 a=")
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed,
            Command::Load {
                path: PathBuf::from("runbooks/x.rhai"),
                params: vec![
                    ("source_instance".into(), "i-1".into()),
                    ("a".into(), String::new())
                ],
            }
        );
    }

    #[test]
    fn load_rejects_param_without_name() {
        let error = Command::parse(":load x.rhai =v").unwrap().unwrap_err();
        assert_eq!(error, CommandError::Param("=v".into()));
    }

    #[test]
    fn unknown_command_names_itself() {
        let error = Command::parse(":frobnicate").unwrap().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown command `:frobnicate`; type :help for the list"
        );
    }
}
