//! The error a host function raises into a script, kept typed so that scripts can branch on
//! it (`e.code`) and the CLI can choose the exit status.

use std::fmt;

use rhai::{Dynamic, EvalAltResult, Position};

use crate::aws::AwsError;
use crate::types::InputError;

/// A host-function failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    /// A bad argument, found before any AWS call.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A request that amirun rejects on principle, such as sharing with the owner itself.
    #[error("{0}")]
    Rejected(String),
    /// A failed AWS call.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A failure found by amirun while working, such as an image turning `failed`.
    #[error("{message}")]
    Failed { code: &'static str, message: String },
    /// The operator pressed Ctrl-C during the call.
    #[error("cancelled by the operator")]
    Cancelled,
}

impl HostError {
    pub fn failed(code: &'static str, message: impl Into<String>) -> Self {
        Self::Failed {
            code,
            message: message.into(),
        }
    }

    /// Returns the code scripts see as `e.code`: the AWS error code, or amirun's own.
    pub fn code(&self) -> String {
        match self {
            Self::Input(_) => "InvalidInput".to_owned(),
            Self::Rejected(_) => "Rejected".to_owned(),
            Self::Aws(error) => error.script_code(),
            Self::Failed { code, .. } => (*code).to_owned(),
            Self::Cancelled => "Cancelled".to_owned(),
        }
    }

    /// True for errors about the caller's input rather than about the world.
    pub fn is_input(&self) -> bool {
        matches!(self, Self::Input(_) | Self::Rejected(_))
    }

    pub fn operation(&self) -> &str {
        match self {
            Self::Aws(error) => error.operation,
            _ => "",
        }
    }

    pub fn into_rhai(self) -> Box<EvalAltResult> {
        EvalAltResult::ErrorRuntime(Dynamic::from(self), Position::NONE).into()
    }

    /// Finds a host error inside a Rhai error, looking through function-call wrappers.
    pub fn find(error: &EvalAltResult) -> Option<HostError> {
        match error {
            EvalAltResult::ErrorRuntime(value, _) => value.clone().try_cast::<HostError>(),
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
            | EvalAltResult::ErrorInModule(_, inner, _) => Self::find(inner),
            _ => None,
        }
    }
}

/// Display used when a script prints the error (`print(e)`).
pub struct ScriptView<'a>(pub &'a HostError);

impl fmt::Display for ScriptView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.0.code())
    }
}

pub type HostResult<T> = Result<T, Box<EvalAltResult>>;

impl From<HostError> for Box<EvalAltResult> {
    fn from(error: HostError) -> Self {
        error.into_rhai()
    }
}
