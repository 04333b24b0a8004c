//! Checking `--param NAME=VALUE` against a runbook's header.

use std::collections::BTreeMap;

use super::Header;

/// Applies defaults and rejects unknown or missing required parameters. Values stay strings;
/// the runbook and the host functions validate their meaning.
pub fn resolve_params(
    header: &Header,
    given: &[(String, String)],
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for (name, value) in given {
        if header.declared && !header.params.iter().any(|p| &p.name == name) {
            let known: Vec<&str> = header.params.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "unknown parameter `{name}` for runbook {}; it accepts: {}",
                header.label(),
                if known.is_empty() {
                    "no parameters".to_owned()
                } else {
                    known.join(", ")
                }
            ));
        }
        if values.insert(name.clone(), value.clone()).is_some() {
            return Err(format!("parameter `{name}` is given twice"));
        }
    }
    for spec in &header.params {
        if values.contains_key(&spec.name) {
            continue;
        }
        if spec.required {
            return Err(format!(
                "missing required parameter `{}` for runbook {} ({}); pass --param {}=VALUE",
                spec.name,
                header.label(),
                spec.description,
                spec.name
            ));
        }
        if let Some(default) = &spec.default {
            values.insert(spec.name.clone(), default.clone());
        }
    }
    Ok(values)
}
