//! Loading and checking partner data.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rhai::{Dynamic, EvalAltResult, Map};
use serde::Serialize;

use super::engine::{sandboxed_engine, SandboxLimits, DEADLINE_TOKEN};
use crate::host::display::render_rhai_error;
use crate::types::{AccountId, InputError, KmsKey, Region};

/// One partner entry after validation. Extra fields of the entry are kept.
#[derive(Debug, Clone, Serialize)]
pub struct Partner {
    pub name: String,
    pub account: AccountId,
    pub region: Region,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<KmsKey>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

pub struct LoadedPartners {
    pub partners: Vec<Partner>,
    pub source: String,
}

/// A reason a partner script could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("cannot read partner script {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("partner script {path} failed: {message}")]
    Script { path: PathBuf, message: String },
    #[error("partner script {path}, entry {entry}: {error}")]
    Entry {
        path: PathBuf,
        entry: String,
        error: InputError,
    },
    #[error("partner script {path}: {message}")]
    Shape { path: PathBuf, message: String },
}

/// Evaluates a partner script in the sandbox and checks every entry.
pub fn load_partners(path: &Path) -> Result<LoadedPartners, PartnerError> {
    load_partners_with(path, &SandboxLimits::default())
}

pub fn load_partners_with(
    path: &Path,
    limits: &SandboxLimits,
) -> Result<LoadedPartners, PartnerError> {
    let source = std::fs::read_to_string(path).map_err(|error| PartnerError::Read {
        path: path.to_owned(),
        error,
    })?;
    let value = evaluate(path, &source, limits)?;
    let partners = check_entries(path, value)?;
    Ok(LoadedPartners { partners, source })
}

fn evaluate(path: &Path, source: &str, limits: &SandboxLimits) -> Result<Dynamic, PartnerError> {
    let engine = sandboxed_engine(limits);
    let script_error = |error: Box<EvalAltResult>| PartnerError::Script {
        path: path.to_owned(),
        message: describe_limit(&error, limits, path, source),
    };
    let mut ast = engine.compile(source).map_err(|e| script_error(e.into()))?;
    ast.set_source(path.display().to_string());
    engine.eval_ast::<Dynamic>(&ast).map_err(script_error)
}

/// Names the limit a script reached, with the source line where it stopped.
fn describe_limit(
    error: &EvalAltResult,
    limits: &SandboxLimits,
    path: &Path,
    source: &str,
) -> String {
    let reason = match error {
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == DEADLINE_TOKEN => {
            format!(
                "exceeded the wall-clock deadline of {} ms",
                limits.deadline.as_millis()
            )
        }
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!("exceeded the limit of {} operations", limits.max_operations)
        }
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "exceeded the limit of {} nested function calls",
            limits.max_call_levels
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => format!("exceeded the limit on {what}"),
        EvalAltResult::ErrorTooManyVariables(_) => {
            format!("exceeded the limit of {} variables", limits.max_variables)
        }
        EvalAltResult::ErrorTooManyModules(_) => {
            "imports modules, which partner scripts may not do".to_owned()
        }
        EvalAltResult::ErrorParsing(rhai::ParseErrorType::ExprTooDeep, _) => {
            format!(
                "exceeded the limit of {} nested expressions",
                limits.max_expr_depth
            )
        }
        EvalAltResult::ErrorParsing(rhai::ParseErrorType::TooManyFunctions, _) => {
            format!("exceeded the limit of {} functions", limits.max_functions)
        }
        _ => String::new(),
    };
    let rendered = render_rhai_error(error, &path.display().to_string(), source);
    if reason.is_empty() {
        rendered
    } else {
        format!("{reason}\n{rendered}")
    }
}

fn check_entries(path: &Path, value: Dynamic) -> Result<Vec<Partner>, PartnerError> {
    let shape = |message: String| PartnerError::Shape {
        path: path.to_owned(),
        message,
    };
    let Some(entries) = value.clone().try_cast::<rhai::Array>() else {
        return Err(shape(format!(
            "the script must end with an array of partner maps, not {}",
            value.type_name()
        )));
    };
    if entries.is_empty() {
        return Err(shape("the script returned no partners".to_owned()));
    }
    let mut names = HashSet::new();
    let mut accounts = HashSet::new();
    let mut partners = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let label = entry
            .read_lock::<Map>()
            .and_then(|m| m.get("name").map(|n| format!("#{} ({n})", index + 1)))
            .unwrap_or_else(|| format!("#{}", index + 1));
        let entry_error = |error: InputError| PartnerError::Entry {
            path: path.to_owned(),
            entry: label.clone(),
            error,
        };
        let partner = check_entry(entry).map_err(entry_error)?;
        if !names.insert(partner.name.clone()) {
            return Err(entry_error(InputError::new(
                "name",
                &partner.name,
                "partner names must be unique; this one appears twice",
            )));
        }
        if !accounts.insert(partner.account.clone()) {
            return Err(entry_error(InputError::new(
                "account",
                partner.account.as_str(),
                "each account appears once; merge the duplicate entries",
            )));
        }
        partners.push(partner);
    }
    Ok(partners)
}

fn check_entry(entry: &Dynamic) -> Result<Partner, InputError> {
    let Some(map) = entry.read_lock::<Map>() else {
        return Err(InputError::new(
            "entry",
            entry.type_name(),
            "each partner is a map #{ name, account, region }",
        ));
    };
    let field = |name: &'static str| map.get(name).filter(|v| !v.is_unit());
    let text = |name: &'static str, value: &Dynamic| {
        value.clone().into_string().map_err(|found| {
            InputError::new(
                name,
                format!("{value} ({found})"),
                format!("`{name}` must be a string"),
            )
        })
    };

    let name = match field("name") {
        Some(value) => text("name", value)?,
        None => {
            return Err(InputError::new(
                "name",
                "(missing)",
                "each partner needs a `name` string",
            ))
        }
    };
    if name.trim().is_empty() {
        return Err(InputError::new(
            "name",
            name,
            "a partner name must not be empty",
        ));
    }
    let account = match field("account") {
        Some(value) if value.is_int() => {
            return Err(AccountId::integer_error(value.as_int().unwrap_or_default()))
        }
        Some(value) => AccountId::parse(&text("account", value)?)?,
        None => {
            return Err(InputError::new(
                "account",
                "(missing)",
                "each partner needs an `account`, a 12-digit string",
            ))
        }
    };
    let region = match field("region") {
        Some(value) => Region::parse(&text("region", value)?)?,
        None => {
            return Err(InputError::new(
                "region",
                "(missing)",
                "each partner needs a `region` such as \"ap-southeast-1\"",
            ))
        }
    };
    let kms_key = match field("kms_key") {
        Some(value) => Some(KmsKey::parse_arn(&text("kms_key", value)?)?),
        None => None,
    };
    if let Some(key) = &kms_key {
        if key.arn_region().is_some_and(|r| r != region.as_str()) {
            return Err(InputError::new(
                "kms_key",
                key.as_str(),
                format!("the key must be in the partner's region {region}, because a copy is encrypted in its destination region"),
            ));
        }
    }

    let mut extra = serde_json::Map::new();
    for (key, value) in map
        .iter()
        .filter(|(k, _)| !["name", "account", "region", "kms_key"].contains(&k.as_str()))
    {
        let json = rhai::serde::from_dynamic::<serde_json::Value>(value).map_err(|e| {
            InputError::new("field", key.to_string(), format!("cannot be stored: {e}"))
        })?;
        extra.insert(key.to_string(), json);
    }
    Ok(Partner {
        name,
        account,
        region,
        kms_key,
        extra,
    })
}
