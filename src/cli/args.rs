//! Command-line arguments, parsed by clap, before any validation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Scripted, resumable AMI distribution to partner AWS accounts.
#[derive(Debug, Parser)]
#[command(name = "amirun", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS region for calls without an explicit region (default: AWS_REGION or the profile's)
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Named AWS profile (default: AWS_PROFILE or "default")
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Endpoint URL for every AWS service, such as a local emulator (default: AWS_ENDPOINT_URL)
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// More log output on stderr: -v for info, -vv for debug, -vvv for trace (RUST_LOG overrides)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Format of results on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a runbook, journaling each change so that a stopped run can be resumed
    Run(RunArgs),
    /// Show the changes a runbook would make, without making any
    Plan(PlanArgs),
    /// Check a runbook and the partner scripts it loads, without any AWS call
    Check(CheckArgs),
    /// Start an interactive session with the host functions and stdlib of runbooks
    Repl(SessionArgs),
    /// Evaluate one expression with the host functions and print its value as JSON
    Eval(EvalArgs),
    /// Print the function reference as Markdown, or write Rhai definition files
    Doc(DocArgs),
    /// Print a runbook's name, version, description and parameters
    Describe(DescribeArgs),
    /// Report who can launch, copy and decrypt images, and flag inconsistencies
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ParamArgs {
    /// A runbook parameter, NAME=VALUE (repeatable)
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Runbook file
    pub runbook: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Folder for the journal, the lock and the audit trail
    #[arg(long, default_value = ".amirun", env = "AMIRUN_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Start a new run even though an unfinished or finished journal exists for this runbook
    #[arg(long)]
    pub restart: bool,
    /// Allow sharing images publicly (the target "all")
    #[arg(long)]
    pub allow_public: bool,
    /// Interval between status polls, in seconds, for the first 30 s of a wait; it backs off after that
    #[arg(long, value_name = "SECONDS", env = "AMIRUN_POLL_INTERVAL")]
    pub poll_interval: Option<f64>,
    /// Most copies running at once into one destination region
    #[arg(long, value_name = "N", env = "AMIRUN_MAX_COPIES_PER_REGION", default_value_t = crate::host::DEFAULT_MAX_COPIES_PER_REGION)]
    pub max_copies_per_region: usize,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Runbook file
    pub runbook: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Allow sharing images publicly (the target "all") in the plan
    #[arg(long)]
    pub allow_public: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Runbook file
    pub runbook: PathBuf,
    #[command(flatten)]
    pub params: ParamArgs,
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// Folder for the audit trail of the session's AWS calls
    #[arg(long, default_value = ".amirun", env = "AMIRUN_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Allow sharing images publicly (the target "all")
    #[arg(long)]
    pub allow_public: bool,
    /// Interval between status polls, in seconds, for the first 30 s of a wait; it backs off after that
    #[arg(long, value_name = "SECONDS", env = "AMIRUN_POLL_INTERVAL")]
    pub poll_interval: Option<f64>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Rhai code, such as 'describe_image("ami-0123456789abcdef0")'
    pub expression: String,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct DocArgs {
    /// Write Rhai definition files (*.d.rhai) for editor completion into this folder,
    /// instead of printing the Markdown reference
    #[arg(long, value_name = "DIR")]
    pub definitions: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// Runbook file
    pub runbook: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Images to report on: `ami-...` (in the default region) or `region:ami-...`
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Partner script whose accounts are expected; other accounts are flagged
    #[arg(long, value_name = "SCRIPT")]
    pub partners: Option<PathBuf>,
}
