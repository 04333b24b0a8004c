//! amirun: scripted, resumable distribution of machine images to partner AWS accounts.
//!
//! Runbooks written in Rhai call host functions that wrap the AWS SDK; partner data comes
//! from sandboxed scripts; every change goes through a journal so a stopped run resumes.

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
