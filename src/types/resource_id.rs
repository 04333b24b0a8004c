//! EC2 resource IDs checked by their prefix and hexadecimal suffix.

use std::fmt;

use super::InputError;

macro_rules! resource_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        #[doc = concat!("An EC2 ", $what, " ID (`", $prefix, "` and 8 or 17 hexadecimal digits).")]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, InputError> {
                if has_id_shape(value, $prefix) {
                    return Ok(Self(value.to_owned()));
                }
                Err(InputError::new(
                    concat!($what, " ID"),
                    value,
                    concat!("expected `", $prefix, "` followed by 8 or 17 lowercase hexadecimal digits"),
                ))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

resource_id!(ImageId, "ami-", "image");
resource_id!(InstanceId, "i-", "instance");
resource_id!(SnapshotId, "snap-", "snapshot");

fn has_id_shape(value: &str, prefix: &str) -> bool {
    let Some(suffix) = value.strip_prefix(prefix) else {
        return false;
    };
    // Older resources have 8 digits, newer ones 17; nothing in between exists.
    matches!(suffix.len(), 8 | 17)
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_by_shape() {
        assert!(ImageId::parse("ami-0123456789abcdef0").is_ok());
        assert!(ImageId::parse("ami-12345678").is_ok());
        assert!(InstanceId::parse("i-0123456789abcdef0").is_ok());
        assert!(InstanceId::parse("i-1234abcd").is_ok());
        assert!(SnapshotId::parse("snap-0123456789abcdef0").is_ok());
        for bad in [
            "ami-XYZ",
            "ami-0123456789ABCDEF0",
            "ami-123456789",
            "ami-0123456789abcdef01",
            "i-0123456789abcdef0",
            "ami-",
            " ami-12345678",
            "ami-1234567g",
        ] {
            assert!(ImageId::parse(bad).is_err(), "{bad}");
        }
        assert!(InstanceId::parse("ami-0123456789abcdef0").is_err());
        assert!(SnapshotId::parse("snap-0123").is_err());
    }

    #[test]
    fn resource_id_error_names_value() {
        let error = ImageId::parse("ami-xyz").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid image ID `ami-xyz`: expected `ami-` followed by 8 or 17 lowercase hexadecimal digits"
        );
        let error = InstanceId::parse("i-123").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid instance ID `i-123`: expected `i-` followed by 8 or 17 lowercase hexadecimal digits"
        );
    }
}
