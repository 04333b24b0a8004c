//! The Rhai standard library embedded in the binary, imported as `import "std/<name>"`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use rhai::module_resolvers::FileModuleResolver;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

use super::context::LoadedSources;

/// Every stdlib module: name and source.
pub static MODULES: &[(&str, &str)] = &[
    ("std/rollout", include_str!("../../stdlib/rollout.rhai")),
    ("std/agreement", include_str!("../../stdlib/agreement.rhai")),
    ("std/prepare", include_str!("../../stdlib/prepare.rhai")),
];

pub fn module_source(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Resolves `std/...` to the embedded modules and other paths to files relative to the
/// runbook, recording each loaded source for the run's content hash.
pub struct Resolver {
    files: FileModuleResolver,
    cache: RefCell<HashMap<String, Shared<Module>>>,
    sources: Rc<RefCell<LoadedSources>>,
}

impl Resolver {
    pub fn new(base_dir: PathBuf, sources: Rc<RefCell<LoadedSources>>) -> Self {
        Self {
            files: FileModuleResolver::new_with_path(base_dir),
            cache: RefCell::new(HashMap::new()),
            sources,
        }
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        position: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(module) = self.cache.borrow().get(path) {
            return Ok(Shared::clone(module));
        }
        let module = if let Some(text) = module_source(path) {
            let mut ast = engine
                .compile(text)
                .map_err(|e| EvalAltResult::ErrorInModule(path.into(), e.into(), position))?;
            ast.set_source(path);
            let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
                .map_err(|e| EvalAltResult::ErrorInModule(path.into(), e, position))?;
            self.sources
                .borrow_mut()
                .files
                .push((path.to_owned(), text.to_owned()));
            Shared::new(module)
        } else {
            let module = self.files.resolve(engine, source, path, position)?;
            let file = self
                .files
                .get_file_path(path, source.map(std::path::Path::new));
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            self.sources
                .borrow_mut()
                .files
                .push((file.display().to_string(), text));
            module
        };
        self.cache
            .borrow_mut()
            .insert(path.to_owned(), Shared::clone(&module));
        Ok(module)
    }
}
