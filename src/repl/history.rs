//! The REPL history file: `$XDG_STATE_HOME/amirun/history`, else
//! `~/.local/state/amirun/history`, as the XDG Base Directory specification places state.
//! Problems with it are warnings: the session works without history.

use std::ffi::OsString;
use std::path::PathBuf;

use rustyline::history::FileHistory;
use rustyline::{Editor, Helper};

/// The history file of an interactive session; `None` once it proved unusable.
pub struct HistoryFile {
    path: Option<PathBuf>,
}

impl HistoryFile {
    /// Loads the history into `editor`. A missing file is normal on the first start.
    pub fn open<H: Helper>(editor: &mut Editor<H, FileHistory>) -> Self {
        let Some(path) = history_path() else {
            tracing::warn!("neither XDG_STATE_HOME nor HOME is set; history is not kept");
            return Self { path: None };
        };
        if !path.exists() {
            tracing::info!(path = %path.display(), "no history yet; it starts with this session");
            return Self { path: Some(path) };
        }
        if let Err(error) = editor.load_history(&path) {
            tracing::warn!(path = %path.display(), %error, "cannot read the history; starting without it");
        }
        Self { path: Some(path) }
    }

    /// Adds an entry and appends it to the file at once, so a killed session keeps it.
    pub fn add<H: Helper>(&mut self, editor: &mut Editor<H, FileHistory>, entry: &str) {
        if let Err(error) = editor.add_history_entry(entry) {
            tracing::warn!(%error, "cannot add the entry to the history");
            return;
        }
        let Some(path) = &self.path else {
            return;
        };
        let saved = match path.parent() {
            Some(folder) => {
                std::fs::create_dir_all(folder).map_err(rustyline::error::ReadlineError::Io)
            }
            None => Ok(()),
        }
        .and_then(|()| editor.append_history(path));
        if let Err(error) = saved {
            tracing::warn!(path = %path.display(), %error, "cannot write the history; not trying again in this session");
            self.path = None;
        }
    }
}

/// Returns the history file, or `None` when neither `XDG_STATE_HOME` nor `HOME` names a folder.
pub fn history_path() -> Option<PathBuf> {
    path_from(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
}

/// Resolves the history file. A relative `XDG_STATE_HOME` is ignored, as the specification
/// requires.
fn path_from(state_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let state_home = state_home
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            home.filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".local").join("state"))
        })?;
    Some(state_home.join("amirun").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_home_wins() {
        let path = path_from(Some("/s".into()), Some("/h".into()));
        assert_eq!(path, Some(PathBuf::from("/s/amirun/history")));
    }

    #[test]
    fn home_is_the_fallback() {
        let path = path_from(None, Some("/h".into()));
        assert_eq!(path, Some(PathBuf::from("/h/.local/state/amirun/history")));
    }

    #[test]
    fn relative_state_home_is_ignored() {
        let path = path_from(Some("rel".into()), Some("/h".into()));
        assert_eq!(path, Some(PathBuf::from("/h/.local/state/amirun/history")));
    }

    #[test]
    fn no_folder_gives_no_history() {
        assert_eq!(path_from(None, Some("".into())), None);
        assert_eq!(path_from(None, None), None);
    }
}
