//! The function reference, generated from the [`FUNCTIONS`] table and the stdlib's `///`
//! comments: grouped listings for the REPL help, Markdown for `amirun doc`, and Rhai
//! definition files for editors.

use std::fmt::Write;
use std::path::Path;

use rhai::{Engine, FnAccess};

use super::functions::FUNCTIONS;
use super::registry::FnDoc;
use super::stdlib::MODULES;

/// Host functions grouped by service, groups and functions in table order.
pub fn groups() -> Vec<(&'static str, Vec<&'static FnDoc>)> {
    let mut groups: Vec<(&'static str, Vec<&'static FnDoc>)> = Vec::new();
    for doc in FUNCTIONS {
        match groups.iter_mut().find(|(group, _)| *group == doc.group) {
            Some((_, docs)) => docs.push(doc),
            None => groups.push((doc.group, vec![doc])),
        }
    }
    groups
}

/// Returns the first line of a function's documentation.
pub fn summary(doc: &FnDoc) -> &'static str {
    doc.doc.lines().next().unwrap_or("").trim()
}

/// A public function of a stdlib module, with its `///` documentation.
#[derive(Debug, Clone)]
pub struct ModuleFn {
    pub name: String,
    pub params: Vec<String>,
    pub doc: String,
}

impl ModuleFn {
    /// Returns the call form, such as `by_region(partners)`.
    pub fn signature(&self) -> String {
        format!("{}({})", self.name, self.params.join(", "))
    }
}

/// Lists the public functions of a stdlib module, or returns `None` if no module has that name.
pub fn module_functions(module: &str) -> Option<Vec<ModuleFn>> {
    let (_, source) = MODULES.iter().find(|(name, _)| *name == module)?;
    // Only parsed here, so no expression-depth limit applies. The modules are compiled into
    // the binary and checked by tests, so a parse error only loses their entries.
    let mut parser = Engine::new_raw();
    parser.set_max_expr_depths(0, 0);
    let ast = parser.compile(source).ok()?;
    let functions = ast
        .iter_functions()
        // Closures compile to functions named `anon$...`; they are not part of the module's API.
        .filter(|f| f.access != FnAccess::Private && !f.name.starts_with("anon$"))
        .map(|f| ModuleFn {
            name: f.name.to_owned(),
            params: f.params.iter().map(|p| (*p).to_owned()).collect(),
            doc: f
                .comments
                .iter()
                .flat_map(|c| c.lines())
                .map(|line| line.trim_start_matches("///").trim())
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect();
    Some(functions)
}

/// Renders the whole reference as Markdown: host functions by group, then the stdlib
/// modules.
pub fn markdown() -> String {
    let mut text = String::from(
        "# amirun function reference\n\n\
         Host functions that runbooks and `amirun repl` call, grouped by service. \
         Optional arguments are in brackets; `options` is a map such as `#{region: \"ap-south-1\"}`.\n",
    );
    for (group, docs) in groups() {
        let _ = write!(text, "\n## {group}\n");
        for doc in docs {
            let _ = write!(
                text,
                "\n### `{}`\n\n```rhai\n{}\n```\n\n{}\n",
                doc.name,
                doc.signature,
                paragraphs(doc.doc)
            );
        }
    }
    text.push_str(
        "\n## Stdlib modules\n\nImport them with `import \"std/rollout\" as rollout;`.\n",
    );
    for (module, _) in MODULES {
        let _ = write!(text, "\n### `{module}`\n");
        for function in module_functions(module).unwrap_or_default() {
            let _ = write!(text, "\n#### `{}`\n", function.signature());
            // Stdlib comments wrap one paragraph over several lines, which Markdown joins.
            if !function.doc.is_empty() {
                let _ = write!(text, "\n{}\n", function.doc);
            }
        }
    }
    text
}

/// Makes each documentation line a paragraph of its own.
fn paragraphs(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Writes Rhai definition files (`*.d.rhai`) for the engine's functions into `dir`: the host
/// functions with their documentation, and Rhai's built-in functions and operators.
pub fn write_definitions(engine: &Engine, dir: &Path) -> std::io::Result<Vec<String>> {
    let definitions = engine.definitions().include_standard_packages(true);
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, content) in definitions.iter_files() {
        std::fs::write(dir.join(&name), content)?;
        written.push(name);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;
    use std::rc::Rc;

    use super::*;
    use crate::host::functions::host_module;
    use crate::host::{HostContext, HostSettings};

    fn host_engine() -> Engine {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("failed to build a runtime");
        let ctx = Rc::new(HostContext::new(
            runtime.handle().clone(),
            HostSettings::default(),
            PathBuf::new(),
        ));
        let mut engine = Engine::new_raw();
        engine.register_global_module(host_module(&ctx).into());
        engine
    }

    /// Name and doc comments of every function the host module registers.
    fn registered() -> Vec<(String, Vec<String>)> {
        let json = host_engine()
            .gen_fn_metadata_to_json(false)
            .expect("metadata is not JSON");
        let metadata: serde_json::Value = serde_json::from_str(&json).expect("invalid JSON");
        metadata["functions"]
            .as_array()
            .expect("no functions in the metadata")
            .iter()
            .map(|f| {
                let name = f["name"].as_str().unwrap_or_default().to_owned();
                let comments = f["docComments"]
                    .as_array()
                    .map(|c| {
                        c.iter()
                            .filter_map(|line| line.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (name, comments)
            })
            .collect()
    }

    #[test]
    fn every_registered_function_is_documented() {
        let registered = registered();
        assert!(!registered.is_empty(), "the host module registered nothing");
        for (name, comments) in &registered {
            let doc = FUNCTIONS.iter().find(|doc| doc.name == name);
            assert!(doc.is_some(), "`{name}` has no FUNCTIONS entry");
            let text: String = comments
                .iter()
                .map(|line| line.trim_start_matches("///").trim())
                .collect();
            assert!(
                !text.is_empty(),
                "`{name}` is registered without documentation"
            );
        }
    }

    #[test]
    fn every_documented_function_is_registered() {
        let registered: BTreeSet<String> = registered().into_iter().map(|(n, _)| n).collect();
        for doc in FUNCTIONS {
            assert!(
                registered.contains(doc.name),
                "`{}` is documented but not registered",
                doc.name
            );
        }
    }

    #[test]
    fn every_table_entry_is_complete() {
        for doc in FUNCTIONS {
            assert!(!doc.group.trim().is_empty(), "`{}` has no group", doc.name);
            assert!(!summary(doc).is_empty(), "`{}` has no summary", doc.name);
            assert!(
                doc.signature.starts_with(&format!("{}(", doc.name)),
                "signature of `{}` does not start with its name: {}",
                doc.name,
                doc.signature
            );
        }
    }

    #[test]
    fn groups_keep_table_order() {
        let names: Vec<&str> = groups()
            .iter()
            .flat_map(|(_, docs)| docs.iter().map(|d| d.name))
            .collect();
        let mut expected: Vec<&str> = Vec::new();
        for (group, _) in groups() {
            expected.extend(
                FUNCTIONS
                    .iter()
                    .filter(|d| d.group == group)
                    .map(|d| d.name),
            );
        }
        assert_eq!(names, expected);
        assert_eq!(names.len(), FUNCTIONS.len());
    }

    #[test]
    fn markdown_lists_every_function_and_module() {
        let text = markdown();
        for doc in FUNCTIONS {
            assert!(
                text.contains(&format!("### `{}`", doc.name)),
                "{}",
                doc.name
            );
        }
        for (module, _) in MODULES {
            assert!(text.contains(&format!("### `{module}`")), "{module}");
        }
        assert!(text.contains("#### `by_region(partners)`"));
    }

    #[test]
    fn stdlib_functions_carry_their_comments() {
        let functions = module_functions("std/rollout").expect("std/rollout missing");
        let by_region = functions
            .iter()
            .find(|f| f.name == "by_region")
            .expect("by_region missing");
        assert!(by_region.doc.starts_with("Groups partners by region"));
        assert!(module_functions("std/none").is_none());
    }

    #[test]
    fn markdown_keeps_stdlib_paragraphs_whole() {
        let text = markdown();
        assert!(
            text.contains("the partners' `kms_key` (all\npartners of a region"),
            "a wrapped stdlib comment was split into paragraphs"
        );
    }
}
