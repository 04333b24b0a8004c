//! The text of `help()`, `help("name")` and `:help`, generated from the function table.

use crate::host::reference::{groups, module_functions, summary};
use crate::host::registry::find_doc;
use crate::host::{functions::FUNCTIONS, stdlib::MODULES};

use super::command::COMMANDS;

/// `help()`: every host function by group with its summary, then the stdlib modules.
pub fn overview() -> String {
    let width = FUNCTIONS.iter().map(|d| d.name.len()).max().unwrap_or(0);
    let mut lines = vec!["Host functions (help(\"name\") shows one in full):".to_owned()];
    for (group, docs) in groups() {
        lines.push(String::new());
        lines.push(format!("{group}:"));
        for doc in docs {
            lines.push(format!("  {:width$}  {}", doc.name, summary(doc)));
        }
    }
    let modules: Vec<&str> = MODULES.iter().map(|(name, _)| *name).collect();
    lines.push(String::new());
    lines.push(format!(
        "Stdlib modules: {} (import \"std/rollout\" as r; help(\"std/rollout\") lists one)",
        modules.join(", ")
    ));
    lines.push("REPL commands: :help lists them".to_owned());
    lines.join("\n")
}

/// `help("name")`: a host function's signature and documentation, or a stdlib module's
/// functions. `None` when nothing has that name.
pub fn topic(name: &str) -> Option<String> {
    if let Some(doc) = find_doc(FUNCTIONS, name) {
        let body: Vec<String> = doc.doc.lines().map(|l| format!("  {}", l.trim())).collect();
        return Some(format!(
            "{}\n  ({})\n\n{}",
            doc.signature,
            doc.group,
            body.join("\n")
        ));
    }
    let functions = module_functions(name)?;
    let mut lines = vec![format!(
        "{name}: import \"{name}\" as alias; call alias::function(...)"
    )];
    for function in functions {
        lines.push(String::new());
        lines.push(format!("  {}", function.signature()));
        lines.extend(function.doc.lines().map(|l| format!("    {l}")));
    }
    Some(lines.join("\n"))
}

/// Returns the error text for `help("name")` when nothing has that name.
pub fn unknown_topic(name: &str) -> String {
    let close: Vec<&str> = FUNCTIONS
        .iter()
        .map(|d| d.name)
        .filter(|candidate| candidate.contains(name) || name.contains(candidate))
        .collect();
    match close.as_slice() {
        [] => format!("no host function or stdlib module is named `{name}`; help() lists them"),
        _ => format!(
            "no host function or stdlib module is named `{name}`; did you mean {}?",
            close.join(", ")
        ),
    }
}

/// `:help`: the REPL commands and keys.
pub fn commands() -> String {
    let width = COMMANDS.iter().map(|(_, u, _)| u.len()).max().unwrap_or(0);
    let mut lines = vec!["Commands:".to_owned()];
    for (_, usage, description) in COMMANDS {
        lines.push(format!("  {usage:width$}  {description}"));
    }
    lines.push(String::new());
    lines.push(
        "help() lists the host functions; help(\"share\") shows one. Tab completes names, \
         Ctrl-C cancels a running call, Ctrl-D ends the session."
            .to_owned(),
    );
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overview_names_every_group_and_function() {
        let text = overview();
        for doc in FUNCTIONS {
            assert!(text.contains(doc.name), "{} missing", doc.name);
            assert!(
                text.contains(&format!("{}:", doc.group)),
                "{} missing",
                doc.group
            );
        }
    }

    #[test]
    fn topic_shows_signature_and_documentation() {
        let text = topic("share").expect("share has no help");
        assert!(text.starts_with("share(image_id: String, targets: Array[, options: Map]) -> Map"));
        assert!(text.contains("Shares an image with accounts"));
    }

    #[test]
    fn topic_lists_module_functions() {
        let text = topic("std/rollout").expect("std/rollout has no help");
        assert!(text.contains("by_region(partners)"));
    }

    #[test]
    fn unknown_topic_suggests_close_names() {
        assert_eq!(
            unknown_topic("copy"),
            "no host function or stdlib module is named `copy`; did you mean copy_image, copy_images?"
        );
        assert_eq!(
            unknown_topic("zzz"),
            "no host function or stdlib module is named `zzz`; help() lists them"
        );
    }
}
