//! S3 bucket names and object keys.

use std::fmt;

use super::InputError;

/// Prefixes and suffixes that S3's naming rules for general-purpose buckets reserve.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

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
        if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| value.starts_with(*p)) {
            return invalid(&format!("the prefix `{prefix}` is reserved by S3"));
        }
        if let Some(suffix) = RESERVED_SUFFIXES.iter().find(|s| value.ends_with(*s)) {
            return invalid(&format!("the suffix `{suffix}` is reserved by S3"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_name_rules() {
        for good in [
            "mylearning-compliance-records",
            "abc",
            "a.b-c",
            &"a".repeat(63),
        ] {
            assert!(BucketName::parse(good).is_ok(), "{good}");
        }
        let cases = [
            ("ab", "a bucket name has 3 to 63 characters"),
            (
                "My-Bucket",
                "a bucket name has only lowercase letters, digits, `-` and `.`",
            ),
            (
                "my_bucket",
                "a bucket name has only lowercase letters, digits, `-` and `.`",
            ),
            (
                "-bucket",
                "a bucket name starts and ends with a letter or digit",
            ),
            (
                "bucket.",
                "a bucket name starts and ends with a letter or digit",
            ),
            ("my..bucket", "a bucket name has no two adjacent periods"),
            (
                "192.168.5.4",
                "a bucket name must not look like an IP address",
            ),
            ("xn--bucket", "the prefix `xn--` is reserved by S3"),
            ("sthree-bucket", "the prefix `sthree-` is reserved by S3"),
            ("bucket-s3alias", "the suffix `-s3alias` is reserved by S3"),
            ("bucket--ol-s3", "the suffix `--ol-s3` is reserved by S3"),
        ];
        for (name, fix) in cases {
            assert_eq!(
                BucketName::parse(name).unwrap_err().to_string(),
                format!("invalid S3 bucket name `{name}`: {fix}"),
            );
        }
        assert!(BucketName::parse(&"a".repeat(64)).is_err());
    }

    #[test]
    fn object_key_rules() {
        assert!(ObjectKey::parse("agreements/2023/EG-0001.json").is_ok());
        assert!(ObjectKey::parse(&"k".repeat(1024)).is_ok());
        assert_eq!(
            ObjectKey::parse("").unwrap_err().to_string(),
            "invalid S3 object key ``: an object key has 1 to 1024 bytes"
        );
        assert!(ObjectKey::parse(&"k".repeat(1025)).is_err());
        // 342 three-byte characters are 1026 bytes, though only 342 characters.
        assert!(ObjectKey::parse(&"€".repeat(342)).is_err());
        assert_eq!(
            ObjectKey::parse("a\nb").unwrap_err().to_string(),
            "invalid S3 object key `a\\nb`: an object key must not contain control characters"
        );
    }
}
