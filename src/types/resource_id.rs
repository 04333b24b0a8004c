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
    (8..=17).contains(&suffix.len())
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_id_shapes() {
        assert!(ImageId::parse("ami-0123456789abcdef0").is_ok());
        assert!(ImageId::parse("ami-12345678").is_ok());
        assert!(ImageId::parse("ami-XYZ").is_err());
        assert!(ImageId::parse("i-0123456789abcdef0").is_err());
        assert!(InstanceId::parse("i-0123456789abcdef0").is_ok());
        assert!(SnapshotId::parse("snap-0123456789abcdef0").is_ok());
    }
}
