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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn error(list: Vec<(String, String)>) -> String {
        Tags::from_pairs(list).unwrap_err().to_string()
    }

    #[test]
    fn tag_key_rules() {
        let long = "k".repeat(129);
        assert_eq!(
            error(pairs(&[(&long, "v")])),
            format!("invalid tag key `{long}`: a tag key has 1 to 128 characters")
        );
        assert_eq!(
            error(pairs(&[("", "v")])),
            "invalid tag key ``: a tag key has 1 to 128 characters"
        );
        for reserved in ["aws:cloudformation:stack", "AWS:owner"] {
            assert_eq!(
                error(pairs(&[(reserved, "v")])),
                format!("invalid tag key `{reserved}`: the `aws:` prefix is reserved by AWS")
            );
        }
        assert!(Tags::from_pairs(pairs(&[(&"k".repeat(128), "v"), ("awsome", "v")])).is_ok());
    }

    #[test]
    fn tag_value_rules() {
        let long = "v".repeat(257);
        assert_eq!(
            error(pairs(&[("Partners", &long)])),
            format!("invalid tag value `{long}`: the value of tag `Partners` has more than 256 characters; store long lists elsewhere, such as in the agreement record")
        );
        assert!(Tags::from_pairs(pairs(&[("Partners", &"v".repeat(256)), ("Empty", "")])).is_ok());
    }

    #[test]
    fn tag_count_rules() {
        let fifty: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
        let mut tags = Tags::from_pairs(fifty.clone()).expect("50 tags are allowed");
        assert_eq!(
            tags.insert("amirun:step", "abc").unwrap_err().to_string(),
            "invalid tag set `51 tags`: a resource takes at most 50 tags, amirun's own tags included"
        );
        let mut fifty_one = fifty;
        fifty_one.push(("k50".into(), "v".into()));
        assert_eq!(
            error(fifty_one),
            "invalid tag set `51 tags`: a resource takes at most 50 tags"
        );
    }
}
