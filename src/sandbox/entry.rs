//! Checking the entries a partner script returns.

use std::collections::HashSet;

use rhai::{Dynamic, Map};
use serde::Serialize;

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

/// An invalid entry: its label (`#2 (EduGlobal Malaysia)`), the field and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("entry {entry}, field `{field}`: {error}")]
pub struct EntryError {
    pub entry: String,
    pub field: String,
    pub error: InputError,
}

/// The reason a script's value is not a usable list of partners.
#[derive(Debug)]
pub enum EntriesError {
    Shape(String),
    Entry(EntryError),
}

const FIELDS: [&str; 4] = ["name", "account", "region", "kms_key"];

/// Checks every entry of the script's value, and that names and accounts are unique.
pub fn check_entries(value: Dynamic) -> Result<Vec<Partner>, EntriesError> {
    let Some(entries) = value.clone().try_cast::<rhai::Array>() else {
        return Err(EntriesError::Shape(format!(
            "the script must end with an array of partner maps, not {}",
            value.type_name()
        )));
    };
    if entries.is_empty() {
        return Err(EntriesError::Shape(
            "the script returned no partners".to_owned(),
        ));
    }
    let mut names = HashSet::new();
    let mut accounts = HashSet::new();
    let mut partners = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let label = entry_label(index, entry);
        let entry_error = |field: &str, error: InputError| {
            EntriesError::Entry(EntryError {
                entry: label.clone(),
                field: field.to_owned(),
                error,
            })
        };
        let partner = check_entry(entry).map_err(|(field, error)| entry_error(&field, error))?;
        if !names.insert(partner.name.clone()) {
            return Err(entry_error(
                "name",
                InputError::new(
                    "name",
                    &partner.name,
                    "partner names must be unique; this one appears twice",
                ),
            ));
        }
        if !accounts.insert(partner.account.clone()) {
            return Err(entry_error(
                "account",
                InputError::new(
                    "account ID",
                    partner.account.as_str(),
                    "each account appears once; merge the duplicate entries",
                ),
            ));
        }
        partners.push(partner);
    }
    Ok(partners)
}

/// `#2`, or `#2 (EduGlobal Malaysia)` when the entry has a name.
fn entry_label(index: usize, entry: &Dynamic) -> String {
    entry
        .read_lock::<Map>()
        .and_then(|m| m.get("name").map(|n| format!("#{} ({n})", index + 1)))
        .unwrap_or_else(|| format!("#{}", index + 1))
}

type FieldError = (String, InputError);

fn check_entry(entry: &Dynamic) -> Result<Partner, FieldError> {
    let Some(map) = entry.read_lock::<Map>() else {
        return Err((
            "entry".to_owned(),
            InputError::new(
                "entry",
                entry.type_name(),
                "each partner is a map #{ name, account, region }",
            ),
        ));
    };
    let field = |name: &'static str| map.get(name).filter(|v| !v.is_unit());

    let name = match field("name") {
        Some(value) => text("name", value).map_err(at("name"))?,
        None => return Err(missing("name", "each partner needs a `name` string")),
    };
    if name.trim().is_empty() {
        return Err(at("name")(InputError::new(
            "name",
            name,
            "a partner name must not be empty",
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(at("name")(InputError::new(
            "name",
            name.escape_debug().to_string(),
            "a partner name must not contain control characters such as newlines or escapes",
        )));
    }
    let account = match field("account") {
        Some(value) => account(value).map_err(at("account"))?,
        None => {
            return Err(missing(
                "account",
                "each partner needs an `account`, a 12-digit string",
            ))
        }
    };
    let region = match field("region") {
        Some(value) => text("region", value)
            .and_then(|r| Region::parse(&r))
            .map_err(at("region"))?,
        None => {
            return Err(missing(
                "region",
                "each partner needs a `region` such as \"ap-southeast-1\"",
            ))
        }
    };
    let kms_key = match field("kms_key") {
        Some(value) => Some(kms_key(value, &region).map_err(at("kms_key"))?),
        None => None,
    };
    let extra = extra_fields(&map)?;
    Ok(Partner {
        name,
        account,
        region,
        kms_key,
        extra,
    })
}

/// Tags an error with the field it is about.
fn at(field: &'static str) -> impl Fn(InputError) -> FieldError {
    move |error| (field.to_owned(), error)
}

fn missing(field: &'static str, fix: &str) -> FieldError {
    (field.to_owned(), InputError::new(field, "(missing)", fix))
}

fn text(name: &'static str, value: &Dynamic) -> Result<String, InputError> {
    value.clone().into_string().map_err(|found| {
        InputError::new(
            name,
            format!("{value} ({found})"),
            format!("`{name}` must be a string"),
        )
    })
}

/// Parses the `account` field. A number gets the "pass account IDs as strings" error.
fn account(value: &Dynamic) -> Result<AccountId, InputError> {
    if let Ok(number) = value.as_int() {
        return Err(AccountId::integer_error(number));
    }
    AccountId::parse(&text("account", value)?)
}

/// Parses the `kms_key` field: a key ARN in the partner's region, because a copy is
/// encrypted in its destination region.
fn kms_key(value: &Dynamic, region: &Region) -> Result<KmsKey, InputError> {
    let key = KmsKey::parse_arn(&text("kms_key", value)?)?;
    if key.arn_region().is_some_and(|r| r != region.as_str()) {
        return Err(InputError::new(
            "kms_key",
            key.as_str(),
            format!("the key must be in the partner's region {region}, because a copy is encrypted in its destination region"),
        ));
    }
    Ok(key)
}

/// Converts every field besides the known ones to JSON, so that runbooks and records can
/// use them.
fn extra_fields(map: &Map) -> Result<serde_json::Map<String, serde_json::Value>, FieldError> {
    let mut extra = serde_json::Map::new();
    for (key, value) in map.iter().filter(|(k, _)| !FIELDS.contains(&k.as_str())) {
        let json = rhai::serde::from_dynamic::<serde_json::Value>(value).map_err(|e| {
            (
                key.to_string(),
                InputError::new(
                    "field",
                    format!("{key} ({})", value.type_name()),
                    format!("the value cannot be stored as data: {e}"),
                ),
            )
        })?;
        extra.insert(key.to_string(), json);
    }
    Ok(extra)
}
