//! The error for a value that failed validation, raised before any AWS call.

/// A rejected input value: what it was meant to be, the value, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{value}`: {fix}")]
pub struct InputError {
    /// The kind of value, such as "account ID" or "region".
    pub what: &'static str,
    /// The rejected value, as the caller wrote it.
    pub value: String,
    /// The shape of a valid value, or the action to take instead.
    pub fix: String,
}

impl InputError {
    pub fn new(what: &'static str, value: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            what,
            value: value.into(),
            fix: fix.into(),
        }
    }
}
