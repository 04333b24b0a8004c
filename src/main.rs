use std::process::ExitCode;

fn main() -> ExitCode {
    amirun::cli::main()
}
