//! One run per state directory at a time.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

/// An exclusive lock on `<state dir>/lock`, released when dropped or when the process dies.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

impl StateLock {
    pub fn acquire(state_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(state_dir).map_err(|error| {
            anyhow::anyhow!(
                "cannot create the state directory {}: {error}; pass another --state-dir",
                state_dir.display()
            )
        })?;
        let path = state_dir.join("lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        match file.try_lock_exclusive() {
            Ok(true) => {}
            Ok(false) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                anyhow::bail!(
                    "another amirun run holds the state directory {} ({}); wait for it to finish, or pass another --state-dir",
                    state_dir.display(),
                    holder.trim()
                );
            }
            Err(error) => return Err(error.into()),
        }
        file.set_len(0)?;
        writeln!(file, "pid {}", std::process::id())?;
        Ok(Self { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
