//! Resource tags.

use std::collections::BTreeMap;

use super::InputError;

/// EC2 tags checked against AWS's limits: at most 50 per resource, keys of at most 128
/// characters and values of at most 256, and no `aws:` prefix, which AWS reserves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(BTreeMap<String, String>);

pub const MAX_TAGS: usize = 50;

impl Tags {
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, InputError> {
        let mut tags = BTreeMap::new();
        for (key, value) in pairs {
            check_tag(&key, &value)?;
            tags.insert(key, value);
        }
        if tags.len() > MAX_TAGS {
            return Err(InputError::new(
                "tag set",
                format!("{} tags", tags.len()),
                format!("a resource takes at most {MAX_TAGS} tags"),
            ));
        }
        Ok(Self(tags))
    }

    /// Adds a tag that amirun itself sets, such as `amirun:run-id`, checking the limits again.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), InputError> {
        check_tag(key, value)?;
        self.0.insert(key.to_owned(), value.to_owned());
        if self.0.len() > MAX_TAGS {
            return Err(InputError::new(
                "tag set",
                format!("{} tags", self.0.len()),
                format!("a resource takes at most {MAX_TAGS} tags, amirun's own tags included"),
            ));
        }
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn check_tag(key: &str, value: &str) -> Result<(), InputError> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(InputError::new(
            "tag key",
            key,
            "a tag key has 1 to 128 characters",
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(InputError::new(
            "tag key",
            key,
            "the `aws:` prefix is reserved by AWS",
        ));
    }
    if value.chars().count() > 256 {
        return Err(InputError::new(
            "tag value",
            value,
            format!("the value of tag `{key}` has more than 256 characters; store long lists elsewhere, such as in the agreement record"),
        ));
    }
    Ok(())
}
