//! The benchmark's shaping proxy: the test suite's counting proxy run as a program in front
//! of a local emulator. It adds a delay to every call, keeps new images `pending` for a set
//! time, prints its URL on stdout, and when it stops writes the calls it forwarded, counted
//! by operation, as JSON.
//!
//! It stops on SIGTERM or SIGINT, after `--max-seconds`, and with `--stop-on-eof` also when
//! its standard input closes, so it ends with the process that started it.

#[path = "../tests/amirun/support/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use proxy::{Call, Proxy, ProxyOptions};
use tokio::signal::unix::{signal, SignalKind};

/// Forwards AWS calls to a local emulator, shaping and counting them for the benchmark.
#[derive(Debug, Parser)]
#[command(name = "shaping_proxy")]
struct Args {
    /// Emulator address to forward to, as 127.0.0.1:PORT; only loopback addresses are accepted
    #[arg(long, value_name = "ADDR")]
    upstream: SocketAddr,
    /// Delay added before forwarding each call, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// How long images made by CreateImage or CopyImage are reported as `pending`, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pending_ms: u64,
    /// File that receives the forwarded calls, counted by operation, as JSON when the proxy stops
    #[arg(long, value_name = "FILE")]
    counts: Option<PathBuf>,
    /// Also stop when standard input reaches end of file
    #[arg(long)]
    stop_on_eof: bool,
    /// Stop after this many seconds even without a signal
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    max_seconds: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.upstream.ip().is_loopback() {
        eprintln!(
            "shaping_proxy: --upstream {} is not a loopback address; pass the local emulator as 127.0.0.1:PORT",
            args.upstream
        );
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shaping_proxy: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let options = ProxyOptions {
        latency: Duration::from_millis(args.latency_ms),
        pending_for: Duration::from_millis(args.pending_ms),
        ..ProxyOptions::new(args.upstream)
    };
    let proxy = Proxy::start(options)?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", proxy.url())?;
    stdout.flush()?;

    let reason = wait_for_stop(args)?;
    let calls = proxy.calls();
    drop(proxy);
    eprintln!(
        "shaping_proxy: stopped ({reason}) after {} calls",
        calls.len()
    );
    if let Some(path) = &args.counts {
        write_counts(path, &calls)?;
    }
    Ok(())
}

/// Blocks until a signal, the time limit or, with `--stop-on-eof`, the end of standard
/// input, and returns which one it was.
fn wait_for_stop(args: &Args) -> std::io::Result<&'static str> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let eof_receiver = args.stop_on_eof.then(|| {
        let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = sender.send(());
        });
        receiver
    });
    let eof = async move {
        match eof_receiver {
            Some(receiver) => {
                let _ = receiver.await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let limit = Duration::from_secs(args.max_seconds);
    runtime.block_on(async move {
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let reason = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
            () = eof => "standard input closed",
            () = tokio::time::sleep(limit) => "time limit reached",
        };
        Ok(reason)
    })
}

/// Writes `{"total", "operations", "by_region", "calls"}`: the number of calls, the count
/// per operation, the count per region and operation, and every call in order. The file is
/// replaced in one step, so a reader never sees half of it.
fn write_counts(path: &Path, calls: &[Call]) -> std::io::Result<()> {
    let mut operations: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_region: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for call in calls {
        *operations.entry(&call.operation).or_default() += 1;
        *by_region
            .entry(&call.region)
            .or_default()
            .entry(&call.operation)
            .or_default() += 1;
    }
    let listed: Vec<serde_json::Value> = calls
        .iter()
        .map(|call| {
            serde_json::json!({
                "service": call.service,
                "operation": call.operation,
                "region": call.region,
            })
        })
        .collect();
    let document = serde_json::json!({
        "total": calls.len(),
        "operations": operations,
        "by_region": by_region,
        "calls": listed,
    });

    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(folder)?;
    serde_json::to_writer_pretty(&mut file, &document)?;
    file.write_all(b"\n")?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
