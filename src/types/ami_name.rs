//! AMI names.

use std::fmt;

use super::InputError;

const ALLOWED_PUNCTUATION: &str = "()[]./-'@_ ";

/// An AMI name as EC2 accepts it: 3 to 128 characters of letters, digits, space and
/// `( ) [ ] . / - ' @ _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AmiName(String);

impl AmiName {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        let length = value.chars().count();
        if !(3..=128).contains(&length) {
            return Err(InputError::new(
                "AMI name",
                value,
                format!("an AMI name has 3 to 128 characters, this one has {length}"),
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !ALLOWED_PUNCTUATION.contains(*c))
        {
            return Err(InputError::new(
                "AMI name",
                value,
                format!(
                    "character `{bad}` is not allowed; use letters, digits, space and ( ) [ ] . / - ' @ _"
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AmiName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ami_name_rules() {
        assert!(AmiName::parse("ab").is_err());
        assert!(AmiName::parse(&"a".repeat(130)).is_err());
        assert!(AmiName::parse("Centos 7 + Stuff").is_err());
        assert!(AmiName::parse("MyLearning/Platform v2023.09 (x86_64) [eu]@team_'a'").is_ok());
        assert!(AmiName::parse(&"a".repeat(128)).is_ok());
    }
}
