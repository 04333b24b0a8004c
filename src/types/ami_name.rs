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
    fn ami_name_length() {
        assert_eq!(
            AmiName::parse("ab").unwrap_err().to_string(),
            "invalid AMI name `ab`: an AMI name has 3 to 128 characters, this one has 2"
        );
        let long = "a".repeat(130);
        assert_eq!(
            AmiName::parse(&long).unwrap_err().to_string(),
            format!(
                "invalid AMI name `{long}`: an AMI name has 3 to 128 characters, this one has 130"
            )
        );
        assert!(AmiName::parse(&"a".repeat(129)).is_err());
        assert!(AmiName::parse(&"a".repeat(128)).is_ok());
        assert!(AmiName::parse("abc").is_ok());
    }

    #[test]
    fn ami_name_characters() {
        assert_eq!(
            AmiName::parse("Centos 7 + Stuff").unwrap_err().to_string(),
            "invalid AMI name `Centos 7 + Stuff`: character `+` is not allowed; use letters, digits, space and ( ) [ ] . / - ' @ _"
        );
        for bad in ["name:1", "a,b,c", "tab\there", "émile", "50%", "a#b"] {
            assert!(AmiName::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "MyLearning/Platform v2023.09 (x86_64) [eu]@team_'a'",
            "MyLearning-Platform-v2023.09.1",
            "a/b/c",
        ] {
            assert!(AmiName::parse(good).is_ok(), "{good}");
        }
    }
}
