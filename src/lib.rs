//! amirun: scripted, resumable distribution of machine images to partner AWS accounts.
//!
//! Runbooks written in Rhai call host functions that wrap the AWS SDK. Partner data comes
//! from sandboxed scripts. Every change goes through a journal, so a stopped run resumes.

/// Prints a line to stdout, ignoring a closed pipe (`amirun ... | head`) rather than
/// panicking as `println!` does.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints a line to stderr, ignoring a closed pipe.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod aws;
pub mod cli;
pub mod clock;
pub mod host;
pub mod journal;
pub mod repl;
pub mod runbook;
pub mod sandbox;
pub mod script_file;
pub mod types;
