//! Reading script files with a size bound, so that a huge or endless file (such as
//! `/dev/zero`) fails at once instead of filling memory or stalling the compiler.

use std::io::Read;
use std::path::Path;

/// Largest runbook or module file amirun reads.
pub const MAX_RUNBOOK_BYTES: u64 = 1024 * 1024;
/// Largest partner script: partner data is small, and compiling time grows with size before
/// the sandbox's deadline applies.
pub const MAX_PARTNER_SCRIPT_BYTES: u64 = 256 * 1024;

/// Reads a UTF-8 script of at most `limit` bytes.
pub fn read_script(path: &Path, limit: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the file is larger than the limit of {limit} bytes"),
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not valid UTF-8",
        )
    })
}
