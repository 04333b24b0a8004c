//! Script errors rendered for people: `file:line:col`, the source line and a caret, with the
//! chain of calls that led there.

use rhai::{EvalAltResult, Position};

use super::HostError;

/// A deep recursion would print one frame per call; past `MAX_FRAMES`, only the innermost
/// and outermost calls are shown.
const MAX_FRAMES: usize = 8;
const INNER_FRAMES: usize = 5;
const OUTER_FRAMES: usize = MAX_FRAMES - INNER_FRAMES;

struct Frame {
    source: String,
    position: Position,
    call: String,
}

/// Renders an error raised in one script whose text is `text`.
pub fn render_rhai_error(error: &EvalAltResult, name: &str, text: &str) -> String {
    render_with_sources(error, name, &|source| {
        (source == name).then(|| text.to_owned())
    })
}

/// Renders an error; `lookup` returns the text of a source by name (runbook path, `std/...`).
pub fn render_with_sources(
    error: &EvalAltResult,
    main_source: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut frames = Vec::new();
    let (innermost, source) = unwind(error, main_source, &mut frames);
    let mut output = message_of(innermost);
    push_location(&mut output, &source, innermost.position(), lookup);
    let count = frames.len();
    for (index, frame) in frames.iter().rev().enumerate() {
        if count > MAX_FRAMES && index == INNER_FRAMES {
            let hidden = count - MAX_FRAMES;
            output.push_str(&format!("\n  ... {hidden} more calls ..."));
        }
        if count > MAX_FRAMES && (INNER_FRAMES..count - OUTER_FRAMES).contains(&index) {
            continue;
        }
        output.push_str(&format!("\n  called from {}", frame.call));
        push_location(&mut output, &frame.source, frame.position, lookup);
    }
    output
}

/// Walks function-call and module wrappers to the error that started it all, returning it
/// with the name of the source it occurred in.
fn unwind<'a>(
    error: &'a EvalAltResult,
    current: &str,
    frames: &mut Vec<Frame>,
) -> (&'a EvalAltResult, String) {
    match error {
        EvalAltResult::ErrorInFunctionCall(name, source, inner, position) => {
            frames.push(Frame {
                source: current.to_owned(),
                position: *position,
                call: format!("`{name}`"),
            });
            let next = if source.is_empty() {
                current
            } else {
                source.as_str()
            };
            unwind(inner, next, frames)
        }
        EvalAltResult::ErrorInModule(path, inner, position) => {
            frames.push(Frame {
                source: current.to_owned(),
                position: *position,
                call: format!("import \"{path}\""),
            });
            unwind(inner, path, frames)
        }
        other => (other, current.to_owned()),
    }
}

fn message_of(error: &EvalAltResult) -> String {
    if let Some(host) = HostError::find(error) {
        return match host {
            HostError::Aws(aws) => format!("{aws}"),
            other => other.to_string(),
        };
    }
    let text = match error {
        EvalAltResult::ErrorRuntime(value, _) => format!("runtime error: {value}"),
        // Rhai's "Stack overflow" reads like a crash; this is its call-depth limit.
        EvalAltResult::ErrorStackOverflow(_) => "function calls nested too deeply".to_owned(),
        _ => error.to_string(),
    };
    // Rhai appends the position, which the location line below shows better.
    match text.rfind(" (line ") {
        Some(index) if text.ends_with(')') => text[..index].to_owned(),
        _ => text,
    }
}

fn push_location(
    output: &mut String,
    source: &str,
    position: Position,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    let (Some(line), column) = (position.line(), position.position()) else {
        output.push_str(&format!("\n  --> {source}"));
        return;
    };
    let column = column.unwrap_or(1);
    output.push_str(&format!("\n  --> {source}:{line}:{column}"));
    let Some(text) = lookup(source) else {
        return;
    };
    let Some(code) = text.lines().nth(line - 1) else {
        return;
    };
    let gutter = " ".repeat(line.to_string().len());
    output.push_str(&format!(
        "\n {gutter} |\n {line} | {code}\n {gutter} | {}^",
        " ".repeat(column.saturating_sub(1))
    ));
}
