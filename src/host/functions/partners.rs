//! load_partners: the bridge from a runbook to the partner-script sandbox.

use std::rc::Rc;

use rhai::Array;

use super::super::convert::to_dynamic;
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use crate::sandbox;

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "load_partners",
        &["path: &str", "Array"],
        move |path: &str| load_partners(&c, path).map_err(HostError::into_rhai)
    );
}

fn load_partners(ctx: &HostContext, path: &str) -> Result<Array, HostError> {
    let full = ctx.base_dir.borrow().join(path);
    let loaded =
        sandbox::load_partners(&full).map_err(|error| HostError::Rejected(error.to_string()))?;
    ctx.sources
        .borrow_mut()
        .files
        .push((full.display().to_string(), loaded.source.clone()));
    loaded.partners.iter().map(to_dynamic).collect()
}
