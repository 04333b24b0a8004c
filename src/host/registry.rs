//! Host-function metadata: one table that feeds registration, the REPL help and `amirun doc`.

use rhai::{FuncRegistration, Module};

/// Documentation of one host function, as the REPL and the function reference show it.
#[derive(Debug, Clone, Copy)]
pub struct FnDoc {
    pub name: &'static str,
    /// The service group in the help, such as "EC2 images".
    pub group: &'static str,
    /// Full signature with optional arguments in brackets.
    pub signature: &'static str,
    /// Markdown, first line a one-sentence summary.
    pub doc: &'static str,
}

/// Registers host functions into a module with their parameter names and documentation.
pub struct Registrar<'a> {
    module: &'a mut Module,
    docs: &'static [FnDoc],
}

impl<'a> Registrar<'a> {
    pub fn new(module: &'a mut Module, docs: &'static [FnDoc]) -> Self {
        Self { module, docs }
    }

    /// Starts the registration of one overload with its documentation. `params` are
    /// `name: Type` strings, the last entry being the return type. Panics if `name` has no
    /// entry in the documentation table, which a test catches for every function.
    pub fn registration(&self, name: &'static str, params: &[&str]) -> FuncRegistration {
        let doc = self
            .docs
            .iter()
            .find(|doc| doc.name == name)
            .unwrap_or_else(|| panic!("host function `{name}` has no documentation entry"));
        let comments: Vec<String> = doc.doc.lines().map(|line| format!("/// {line}")).collect();
        FuncRegistration::new(name)
            .in_global_namespace()
            .with_volatility(true)
            .with_params_info(params)
            .with_comments(comments)
    }

    pub fn module(&mut self) -> &mut Module {
        self.module
    }
}

/// Registers one host-function overload with its documentation through a [`Registrar`].
macro_rules! register {
    ($registrar:expr, $name:literal, $params:expr, $func:expr $(,)?) => {{
        let registration = $registrar.registration($name, $params);
        registration.set_into_module($registrar.module(), $func);
    }};
}
pub(crate) use register;

pub fn find_doc(docs: &'static [FnDoc], name: &str) -> Option<&'static FnDoc> {
    docs.iter().find(|doc| doc.name == name)
}
