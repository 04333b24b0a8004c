//! The journal of one run: each mutating step, its arguments and its result.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::write_atomically;

/// What identifies a run and decides whether a journal may be resumed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalHeader {
    pub runbook: String,
    pub version: String,
    /// sha256 over the runbook and every module and partner script it loaded.
    pub hash: String,
    pub params: BTreeMap<String, String>,
    pub run_id: String,
    pub started: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StepStatus {
    Started,
    Done,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Step {
    operation: String,
    arguments: serde_json::Value,
    status: StepStatus,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    result: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalFile {
    header: JournalHeader,
    finished: bool,
    steps: BTreeMap<String, Step>,
}

/// The journal's record of a step about to run.
#[derive(Debug, Clone)]
pub enum StepLookup {
    /// Never attempted.
    New,
    /// Attempted before, with no recorded result: AWS may or may not have done it.
    Interrupted,
    /// Done, with this result.
    Done(serde_json::Value),
}

/// The journal file of one run, rewritten atomically after each change.
pub struct Journal {
    path: PathBuf,
    file: JournalFile,
    occurrences: HashMap<String, usize>,
}

impl Journal {
    pub fn path_for(state_dir: &Path, runbook: &str, params: &BTreeMap<String, String>) -> PathBuf {
        let params_text = serde_json::to_string(params).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(params_text.as_bytes()));
        state_dir
            .join("runs")
            .join(format!("{runbook}-{}.json", &digest[..12]))
    }

    /// Reads an existing journal, or `None` when there is none.
    pub fn load(path: &Path) -> anyhow::Result<Option<Journal>> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let file: JournalFile = serde_json::from_slice(&text).map_err(|error| {
            anyhow::anyhow!(
                "the journal {} is damaged ({error}); move it away and pass --restart",
                path.display()
            )
        })?;
        Ok(Some(Self {
            path: path.to_owned(),
            file,
            occurrences: HashMap::new(),
        }))
    }

    pub fn create(path: &Path, header: JournalHeader) -> anyhow::Result<Journal> {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        let journal = Self {
            path: path.to_owned(),
            file: JournalFile {
                header,
                finished: false,
                steps: BTreeMap::new(),
            },
            occurrences: HashMap::new(),
        };
        journal.save()?;
        Ok(journal)
    }

    pub fn header(&self) -> &JournalHeader {
        &self.file.header
    }

    pub fn is_finished(&self) -> bool {
        self.file.finished
    }

    pub fn step_count(&self) -> usize {
        self.file.steps.len()
    }

    /// Names the next occurrence of a step. The same operation with the same arguments
    /// twice in one run gets two keys, so both are replayed.
    pub fn next_key(&mut self, operation: &str, arguments: &serde_json::Value) -> String {
        let digest = hex::encode(Sha256::digest(format!("{operation}{arguments}").as_bytes()));
        let base = format!("{operation}-{}", &digest[..16]);
        let count = self.occurrences.entry(base.clone()).or_insert(0);
        *count += 1;
        format!("{base}-{count}")
    }

    pub fn lookup(&self, key: &str) -> StepLookup {
        match self.file.steps.get(key) {
            None => StepLookup::New,
            Some(step) => match step.status {
                StepStatus::Started => StepLookup::Interrupted,
                StepStatus::Done => StepLookup::Done(step.result.clone()),
            },
        }
    }

    /// Records, durably, that steps are about to call AWS: one write for all of them.
    pub fn start(&mut self, steps: &[(&str, &str, &serde_json::Value)]) -> std::io::Result<()> {
        for (key, operation, arguments) in steps {
            let step = Step {
                operation: (*operation).to_owned(),
                arguments: (*arguments).clone(),
                status: StepStatus::Started,
                result: serde_json::Value::Null,
            };
            self.file.steps.insert((*key).to_owned(), step);
        }
        self.save()
    }

    /// Records the results of steps: one write for all of them.
    pub fn complete(&mut self, results: Vec<(&str, serde_json::Value)>) -> std::io::Result<()> {
        for (key, result) in results {
            if let Some(step) = self.file.steps.get_mut(key) {
                step.status = StepStatus::Done;
                step.result = result;
            }
        }
        self.save()
    }

    pub fn finish(&mut self) -> std::io::Result<()> {
        self.file.finished = true;
        self.save()
    }

    fn save(&self) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(&self.file).map_err(std::io::Error::other)?;
        write_atomically(&self.path, &text)
    }
}
