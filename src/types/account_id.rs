//! AWS account IDs.

use std::fmt;

use super::InputError;

/// A 12-digit AWS account ID. Leading zeros are significant, so it is kept as a string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Self(value.to_owned()));
        }
        Err(InputError::new(
            "account ID",
            value,
            "an account ID is a string of exactly 12 digits, without dashes or spaces",
        ))
    }

    /// Returns the error for an account ID written as a number, which loses its leading zeros.
    pub fn integer_error(value: i64) -> InputError {
        InputError::new(
            "account ID",
            value.to_string(),
            "pass account IDs as strings (\"012345678901\"), because a number loses its leading zeros",
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_is_twelve_digits() {
        assert_eq!(
            AccountId::parse("012345678901").unwrap().as_str(),
            "012345678901"
        );
        let fix = "an account ID is a string of exactly 12 digits, without dashes or spaces";
        for bad in [
            "12345678901",
            "1234567890123",
            "1234-5678-9012",
            "1234 5678 9012",
            " 123456789012",
            "12345678901a",
            "",
        ] {
            assert_eq!(
                AccountId::parse(bad).unwrap_err().to_string(),
                format!("invalid account ID `{bad}`: {fix}"),
            );
        }
    }

    #[test]
    fn integer_account_id_error() {
        assert_eq!(
            AccountId::integer_error(12345678901).to_string(),
            "invalid account ID `12345678901`: pass account IDs as strings (\"012345678901\"), because a number loses its leading zeros"
        );
    }
}
