//! Wall-clock formatting through the SDK's own date type, so amirun needs no date crate.

use std::time::SystemTime;

use aws_smithy_types::date_time::{DateTime, Format};

/// Returns the current UTC time as RFC 3339, for example `2026-12-04T19:54:26Z`.
pub fn now_rfc3339() -> String {
    format_rfc3339(DateTime::from(SystemTime::now()))
}

pub fn format_rfc3339(time: DateTime) -> String {
    time.fmt(Format::DateTime)
        .unwrap_or_else(|_| time.secs().to_string())
}

/// Today's UTC date as `YYYY.MM.DD`, the default version label of a runbook.
pub fn today_label() -> String {
    now_rfc3339()[..10].replace('-', ".")
}
