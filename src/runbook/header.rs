//! The versioned header of a runbook: `//!` lines at the top of the file.
//!
//! ```text
//! //! runbook: eduglobal
//! //! version: 2023.09.1
//! //! description: What the runbook does.
//! //! param source_instance (required): The instance to image.
//! //! param records_bucket = "my-bucket": Where records go.
//! //! param version: Optional, without default.
//! ```

use std::path::Path;

use serde::Serialize;

/// One declared parameter.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: String,
    pub description: String,
    pub default: Option<String>,
    pub required: bool,
}

/// A runbook's identity and parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub name: String,
    pub version: String,
    pub description: String,
    pub params: Vec<ParamSpec>,
    /// False when the file has no header; then any parameter is accepted.
    pub declared: bool,
}

pub const UNVERSIONED: &str = "unversioned";

impl Header {
    /// Parses the header. A file without one is named after the file, version `unversioned`.
    pub fn parse(path: &Path, source: &str) -> Result<Self, String> {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("runbook")
            .to_owned();
        let mut header = Header {
            name: stem,
            version: UNVERSIONED.to_owned(),
            description: String::new(),
            params: Vec::new(),
            declared: false,
        };
        for (index, line) in source.lines().enumerate() {
            let Some(text) = line.trim_start().strip_prefix("//!") else {
                if line.trim().is_empty() || line.trim_start().starts_with("//") {
                    continue;
                }
                break;
            };
            let text = text.trim();
            let at = |message: String| format!("{}:{}: {message}", path.display(), index + 1);
            if let Some(rest) = text.strip_prefix("param ") {
                header.params.push(parse_param(rest).map_err(at)?);
            } else if let Some((key, value)) = text.split_once(':') {
                let value = value.trim().to_owned();
                match key.trim() {
                    "runbook" => header.name = value,
                    "version" => header.version = value,
                    "description" => header.description = value,
                    _ => {}
                }
                header.declared = true;
            }
        }
        let name_ok = !header.name.is_empty()
            && !header.name.starts_with('.')
            && header
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !name_ok {
            return Err(format!(
                "{}: runbook name `{}` is invalid; use letters, digits, `.`, `_` and `-` (the name also names the journal file)",
                path.display(),
                header.name
            ));
        }
        if header.declared && header.version.is_empty() {
            return Err(format!(
                "{}: the header's `version:` line is empty",
                path.display()
            ));
        }
        Ok(header)
    }

    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Parses `name (required): description`, `name = "default": description` or
/// `name: description`.
fn parse_param(text: &str) -> Result<ParamSpec, String> {
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let name = text[..name_end].to_owned();
    if name.is_empty() {
        return Err(format!("parameter line `param {text}` has no name"));
    }
    let mut rest = text[name_end..].trim_start();
    let mut required = false;
    let mut default = None;
    if let Some(after) = rest.strip_prefix("(required)") {
        required = true;
        rest = after.trim_start();
    } else if let Some(after) = rest.strip_prefix('=') {
        let after = after.trim_start();
        let Some(quoted) = after.strip_prefix('"') else {
            return Err(format!(
                "the default of parameter `{name}` must be in double quotes"
            ));
        };
        let Some(close) = quoted.find('"') else {
            return Err(format!(
                "the default of parameter `{name}` has no closing quote"
            ));
        };
        default = Some(quoted[..close].to_owned());
        rest = quoted[close + 1..].trim_start();
    }
    let description = rest.strip_prefix(':').unwrap_or(rest).trim().to_owned();
    Ok(ParamSpec {
        name,
        description,
        default,
        required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_params() {
        let source = "//! runbook: demo\n//! version: 1.2\n//! description: Demo.\n//! param a (required): First.\n//! param b = \"x y\": Second.\n//! param c: Third.\nlet x = 1;\n";
        let header = Header::parse(Path::new("demo.rhai"), source).unwrap();
        assert_eq!(header.label(), "demo@1.2");
        assert_eq!(header.params.len(), 3);
        assert!(header.params[0].required);
        assert_eq!(header.params[1].default.as_deref(), Some("x y"));
        assert_eq!(header.params[2].default, None);
    }

    #[test]
    fn file_without_header_is_unversioned() {
        let header = Header::parse(Path::new("dir/adhoc.rhai"), "let x = 1;").unwrap();
        assert_eq!(header.label(), "adhoc@unversioned");
        assert!(!header.declared);
    }
}
