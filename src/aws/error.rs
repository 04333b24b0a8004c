//! AWS failures kept as data: operation, region, AWS error code, message and request ID.

use std::fmt;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// A failed AWS call.
#[derive(Debug, Clone, thiserror::Error)]
pub struct AwsError {
    /// The API operation, such as `CopyImage`.
    pub operation: &'static str,
    pub region: String,
    /// The AWS error code, such as `InvalidAMIID.NotFound`; `None` when no reply arrived.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// The HTTP status of the reply, when one arrived.
    pub status: Option<u16>,
    /// True when the request may have reached AWS but its reply was lost (timeout, dropped
    /// connection), so the change may or may not have been made.
    pub reply_lost: bool,
}

impl AwsError {
    pub fn from_sdk<E>(
        operation: &'static str,
        region: &str,
        error: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let request_id = error.request_id().map(str::to_owned);
        let status = match &error {
            SdkError::ServiceError(context) => Some(context.raw().status().as_u16()),
            SdkError::ResponseError(context) => Some(context.raw().status().as_u16()),
            _ => None,
        };
        let reply_lost = matches!(
            error,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_)
        );
        let code = error.code().map(str::to_owned);
        let message = match error.message() {
            Some(message) if !message.is_empty() => message.to_owned(),
            _ => describe_without_message(&error),
        };
        Self {
            operation,
            region: region.to_owned(),
            code,
            message,
            request_id,
            status,
            reply_lost,
        }
    }

    /// Builds an error that amirun raises about an AWS resource when no call failed.
    pub fn local(
        operation: &'static str,
        region: &str,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            operation,
            region: region.to_owned(),
            code: Some(code.to_owned()),
            message: message.into(),
            request_id: None,
            status: None,
            reply_lost: false,
        }
    }

    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// The code scripts see: the AWS error code; else `HTTP<status>` for a reply without one
    /// (an unparsable error page); else `NoReply` when no reply arrived.
    pub fn script_code(&self) -> String {
        match (&self.code, self.status) {
            (Some(code), _) => code.clone(),
            (None, Some(status)) => format!("HTTP{status}"),
            (None, None) => "NoReply".to_owned(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code().ends_with(".NotFound") || self.code().ends_with("NotFound")
    }
}

fn describe_without_message<E, R>(error: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: fmt::Debug,
{
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {} failed", self.operation, self.region)?;
        if let Some(code) = &self.code {
            write!(f, " with {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request ID {id})")?;
        }
        Ok(())
    }
}
