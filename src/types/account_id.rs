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

    /// The error for an account ID written as a number, which loses its leading zeros.
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
