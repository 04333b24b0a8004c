//! S3 bucket names and object keys.

use std::fmt;

use super::InputError;

/// A bucket name following S3's general-purpose naming rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct BucketName(String);

impl BucketName {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        let invalid = |why: &str| Err(InputError::new("S3 bucket name", value, why.to_owned()));
        if !(3..=63).contains(&value.len()) {
            return invalid("a bucket name has 3 to 63 characters");
        }
        let allowed =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
        if !value.bytes().all(allowed) {
            return invalid("a bucket name has only lowercase letters, digits, `-` and `.`");
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(value.as_bytes()[0]) || !edge_ok(value.as_bytes()[value.len() - 1]) {
            return invalid("a bucket name starts and ends with a letter or digit");
        }
        if value.contains("..") {
            return invalid("a bucket name has no two adjacent periods");
        }
        if value.split('.').count() == 4 && value.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return invalid("a bucket name must not look like an IP address");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S3 object key: 1 to 1024 bytes of UTF-8 without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        if value.is_empty() || value.len() > 1024 {
            return Err(InputError::new(
                "S3 object key",
                value,
                "an object key has 1 to 1024 bytes",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(InputError::new(
                "S3 object key",
                value.escape_debug().to_string(),
                "an object key must not contain control characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
