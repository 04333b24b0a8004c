//! Crash-safe file replacement.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to a temporary file beside `path`, syncs it, renames it over `path` and
/// syncs the folder, so a reader sees either the old file or the new one, never a torn one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    if let Ok(folder) = std::fs::File::open(dir) {
        // Some file systems cannot sync a folder; the rename itself has happened.
        let _ = folder.sync_all();
    }
    Ok(())
}
