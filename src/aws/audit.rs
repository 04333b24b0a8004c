//! The audit trail: one JSON line per AWS call under `<state dir>/audit/`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

/// The run identity repeated in every audit line.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRun {
    pub run_id: String,
    pub runbook: String,
    pub version: String,
    pub hash: String,
}

/// An append-only JSON Lines file. Lines recorded before the run is known (the preflight
/// pass of `run`) are kept in memory and written once [`AuditLog::start`] names the run. Each
/// line is synced before the call returns, so it survives a crash that follows it.
#[derive(Default)]
pub struct AuditLog {
    state: Mutex<AuditState>,
}

#[derive(Default)]
struct AuditState {
    target: Option<(AuditRun, File)>,
    pending: Vec<PendingLine>,
}

struct PendingLine {
    time: String,
    operation: String,
    region: String,
    parameters: serde_json::Value,
    outcome: String,
    request_id: Option<String>,
}

#[derive(Serialize)]
struct AuditLine<'a> {
    time: &'a str,
    #[serde(flatten)]
    run: &'a AuditRun,
    operation: &'a str,
    region: &'a str,
    parameters: &'a serde_json::Value,
    outcome: &'a str,
    request_id: Option<&'a str>,
}

impl AuditLog {
    /// Opens `<dir>/<run id>.jsonl` and writes the lines held so far.
    pub fn start(&self, dir: &Path, run: AuditRun) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.jsonl", run.run_id));
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let mut state = self.lock();
        state.target = Some((run, file));
        for line in std::mem::take(&mut state.pending) {
            write_line(&mut state, &line);
        }
        Ok(())
    }

    /// Records one call. `parameters` must hold no secret: callers pass identifiers only.
    pub fn record(
        &self,
        operation: &str,
        region: &str,
        parameters: &serde_json::Value,
        outcome: &str,
        request_id: Option<&str>,
    ) {
        let line = PendingLine {
            time: crate::clock::now_rfc3339(),
            operation: operation.to_owned(),
            region: region.to_owned(),
            parameters: parameters.clone(),
            outcome: outcome.to_owned(),
            request_id: request_id.map(str::to_owned),
        };
        let mut state = self.lock();
        if state.target.is_some() {
            write_line(&mut state, &line);
        } else {
            state.pending.push(line);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AuditState> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

fn write_line(state: &mut AuditState, line: &PendingLine) {
    let Some((run, file)) = state.target.as_mut() else {
        return;
    };
    let record = AuditLine {
        time: &line.time,
        run,
        operation: &line.operation,
        region: &line.region,
        parameters: &line.parameters,
        outcome: &line.outcome,
        request_id: line.request_id.as_deref(),
    };
    let Ok(mut text) = serde_json::to_string(&record) else {
        return;
    };
    text.push('\n');
    if let Err(error) = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_data())
    {
        tracing::error!(%error, operation = %line.operation, "failed to write the audit trail");
    }
}
