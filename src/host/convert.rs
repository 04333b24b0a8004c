//! Converting script values into validated types, with errors that name the argument.

use rhai::{Array, Dynamic, Map};

use super::plan::ImageRef;
use super::{HostContext, HostError};
use crate::types::{
    AccountId, AmiName, ImageId, InputError, InstanceId, KmsKey, Region, ShareTarget, Tags,
};

/// Upper bound of any duration option: 30 days, far beyond the slowest copy.
const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;

/// Checked access to an `options` map: unknown keys are an error listing the known ones.
pub struct Options<'a> {
    function: &'static str,
    map: &'a Map,
}

impl<'a> Options<'a> {
    pub fn new(function: &'static str, map: &'a Map, known: &[&str]) -> Result<Self, HostError> {
        if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(InputError::new(
                "option",
                unknown.to_string(),
                format!("`{function}` accepts the options {}", known.join(", ")),
            )
            .into());
        }
        Ok(Self { function, map })
    }

    fn get(&self, key: &str) -> Option<&Dynamic> {
        self.map.get(key).filter(|value| !value.is_unit())
    }

    /// The option's value of any type, `None` when absent or `()`.
    pub fn value(&self, key: &str) -> Option<&Dynamic> {
        self.get(key)
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, HostError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => match value.clone().into_string() {
                Ok(text) => Ok(Some(text)),
                Err(kind) => Err(self.wrong_type(key, kind, "a string")),
            },
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, HostError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_bool()
                .map(Some)
                .map_err(|kind| self.wrong_type(key, kind, "true or false")),
        }
    }

    /// Reads a number of seconds, integer or decimal, greater than zero.
    pub fn seconds(&self, key: &str) -> Result<Option<f64>, HostError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let seconds = match (value.as_int(), value.as_float()) {
            (Ok(int), _) => int as f64,
            (_, Ok(float)) => float,
            _ => return Err(self.wrong_type(key, value.type_name(), "a number of seconds")),
        };
        if !(seconds > 0.0 && seconds <= MAX_SECONDS) {
            return Err(InputError::new(
                "option",
                format!("{key} = {seconds}"),
                format!(
                    "`{}` needs `{key}` above 0 and at most 2592000 seconds (30 days)",
                    self.function
                ),
            )
            .into());
        }
        Ok(Some(seconds))
    }

    pub fn region(&self) -> Result<Option<Region>, HostError> {
        Ok(self
            .string("region")?
            .map(|r| Region::parse(&r))
            .transpose()?)
    }

    pub fn kms_key(&self, key: &str) -> Result<Option<KmsKey>, HostError> {
        Ok(self.string(key)?.map(|k| KmsKey::parse(&k)).transpose()?)
    }

    pub fn tags(&self) -> Result<Tags, HostError> {
        let Some(value) = self.get("tags") else {
            return Ok(Tags::default());
        };
        let Some(map) = value.read_lock::<Map>() else {
            return Err(self.wrong_type(
                "tags",
                value.type_name(),
                "a map of tag names to strings",
            ));
        };
        let mut pairs = Vec::new();
        for (key, value) in map.iter() {
            let value = if value.is_string() {
                value.clone().into_string().unwrap_or_default()
            } else {
                value.to_string()
            };
            pairs.push((key.to_string(), value));
        }
        Ok(Tags::from_pairs(pairs)?)
    }

    fn wrong_type(&self, key: &str, found: &str, expected: &str) -> HostError {
        InputError::new(
            "option",
            format!("{key} ({found})"),
            format!("`{}` needs `{key}` to be {expected}", self.function),
        )
        .into()
    }
}

/// Converts a string argument, or returns an error naming the argument and the type found.
pub fn string_arg(function: &str, name: &str, value: &Dynamic) -> Result<String, HostError> {
    value.clone().into_string().map_err(|found| {
        InputError::new(
            "argument",
            format!("{name} ({found})"),
            format!("`{function}` needs `{name}` as a string"),
        )
        .into()
    })
}

pub fn instance_id(value: &str) -> Result<InstanceId, HostError> {
    Ok(InstanceId::parse(value)?)
}

pub fn ami_name(value: &str) -> Result<AmiName, HostError> {
    Ok(AmiName::parse(value)?)
}

/// Parses an image ID, or in plan mode also the placeholder of an image the plan would create.
pub fn image_ref(ctx: &HostContext, value: &str) -> Result<ImageRef, HostError> {
    if let Some(planned) = ctx.plan.borrow().find(value) {
        return Ok(ImageRef::Planned(planned.clone()));
    }
    Ok(ImageRef::Real(ImageId::parse(value)?))
}

/// A real image ID; placeholders are rejected because the call must reach AWS.
pub fn real_image(image: &ImageRef) -> Result<&ImageId, HostError> {
    match image {
        ImageRef::Real(id) => Ok(id),
        ImageRef::Planned(planned) => Err(HostError::failed(
            "PlannedImage",
            format!("{} exists only in the plan", planned.label),
        )),
    }
}

/// Share targets from a script array: account-ID strings, organization or OU ARNs, "all".
pub fn share_targets(value: &Dynamic) -> Result<Vec<ShareTarget>, HostError> {
    let items: Array = if value.is_array() {
        value.clone().into_array().unwrap_or_default()
    } else {
        vec![value.clone()]
    };
    if items.is_empty() {
        return Err(InputError::new(
            "share targets",
            "[]",
            "pass at least one account ID, organization ARN or OU ARN",
        )
        .into());
    }
    let mut targets = Vec::new();
    for item in &items {
        if let Ok(number) = item.as_int() {
            return Err(AccountId::integer_error(number).into());
        }
        let text = item.clone().into_string().map_err(|found| {
            InputError::new(
                "share target",
                found,
                "pass account IDs and ARNs as strings",
            )
        })?;
        let target = ShareTarget::parse(&text)?;
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    Ok(targets)
}

/// Image IDs from a string or an array of strings.
pub fn image_refs(
    ctx: &HostContext,
    function: &str,
    value: &Dynamic,
) -> Result<Vec<ImageRef>, HostError> {
    let items: Array = if value.is_array() {
        value.clone().into_array().unwrap_or_default()
    } else {
        vec![value.clone()]
    };
    items
        .iter()
        .map(|item| image_ref(ctx, &string_arg(function, "image_id", item)?))
        .collect()
}

/// Converts a serializable value into a script value.
pub fn to_dynamic<T: serde::Serialize>(value: &T) -> Result<Dynamic, HostError> {
    rhai::serde::to_dynamic(value)
        .map_err(|error| HostError::failed("ConversionError", error.to_string()))
}

/// Returns the map at `index` of a batch, or an error naming the function, the item and an
/// example of the expected shape.
pub fn batch_item(
    function: &str,
    index: usize,
    item: Dynamic,
    example: &str,
) -> Result<Map, HostError> {
    let type_name = item.type_name();
    item.try_cast::<Map>().ok_or_else(|| {
        HostError::Rejected(format!(
            "{function}: item {index} is {type_name}, not a map; pass maps such as {example}"
        ))
    })
}

/// Names the batch item in an error about its input, so that the caller can find it.
pub fn in_item(function: &str, index: usize, error: HostError) -> HostError {
    match error {
        HostError::Input(mut input) => {
            input.fix = format!("{} ({function} item {index})", input.fix);
            HostError::Input(input)
        }
        HostError::Rejected(message) => {
            HostError::Rejected(format!("{function}: item {index}: {message}"))
        }
        other => other,
    }
}
