//! Results for people: maps and arrays as aligned tables, or JSON; and planned changes.

use rhai::Dynamic;
use serde_json::Value;

use crate::host::PlannedChange;

/// Format of printed results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Aligned tables for maps and arrays, quoted strings, plain numbers.
    Text,
    /// Pretty-printed JSON.
    Json,
}

/// Indentation of a nested table under its key.
const INDENT: usize = 2;

/// Converts a script value to JSON. Values that JSON cannot hold, such as function pointers
/// or a caught error, become their display text.
pub fn to_json(value: &Dynamic) -> Value {
    rhai::serde::from_dynamic(value).unwrap_or_else(|_| Value::String(value.to_string()))
}

/// Renders a result, or returns `None` for `()`, which prints nothing.
pub fn render(value: &Dynamic, style: Style) -> Option<String> {
    if value.is_unit() {
        return None;
    }
    let json = to_json(value);
    Some(match style {
        Style::Json => pretty_json(&json),
        Style::Text => render_text(&json),
    })
}

pub fn pretty_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Renders a value as text: a table for a non-empty map or array, else a scalar.
pub fn render_text(value: &Value) -> String {
    let mut lines = Vec::new();
    match value {
        Value::String(text) => return quoted(text),
        Value::Object(map) if !map.is_empty() => map_table(map, 0, &mut lines),
        Value::Array(items) if !items.is_empty() => array_table(items, 0, &mut lines),
        other => return cell(other),
    }
    lines.join("\n")
}

fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// Renders one line per key. A nested map or array of maps follows its key as an indented
/// table.
fn map_table(map: &serde_json::Map<String, Value>, indent: usize, lines: &mut Vec<String>) {
    let width = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    let pad = " ".repeat(indent);
    for (key, value) in map {
        if is_block(value) {
            lines.push(format!("{pad}{key}"));
            nested(value, indent + INDENT, lines);
        } else {
            lines.push(
                format!("{pad}{key:<width$}  {}", cell(value))
                    .trim_end()
                    .to_owned(),
            );
        }
    }
}

fn nested(value: &Value, indent: usize, lines: &mut Vec<String>) {
    match value {
        Value::Object(map) => map_table(map, indent, lines),
        Value::Array(items) => array_table(items, indent, lines),
        other => lines.push(format!("{}{}", " ".repeat(indent), cell(other))),
    }
}

/// Renders an array of maps as a table with one column per key, and any other array as one
/// row per element with its index.
fn array_table(items: &[Value], indent: usize, lines: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    if items.iter().all(Value::is_object) {
        let rows: Vec<&serde_json::Map<String, Value>> =
            items.iter().filter_map(Value::as_object).collect();
        record_table(&rows, &pad, lines);
        return;
    }
    let width = (items.len() - 1).to_string().len();
    for (index, item) in items.iter().enumerate() {
        lines.push(format!("{pad}{index:>width$}  {}", cell(item)));
    }
}

fn record_table(rows: &[&serde_json::Map<String, Value>], pad: &str, lines: &mut Vec<String>) {
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|column| row.get(*column).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain(std::iter::once(column.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    for row in std::iter::once(&header)
        .chain(std::iter::once(&rule))
        .chain(cells.iter())
    {
        lines.push(format!("{pad}{}", aligned(row, &widths)));
    }
}

fn aligned(row: &[String], widths: &[usize]) -> String {
    let padded: Vec<String> = row
        .iter()
        .zip(widths)
        .map(|(text, width)| format!("{text:<width$}"))
        .collect();
    padded.join("  ").trim_end().to_owned()
}

/// True for values shown as a nested table: non-empty maps and arrays that hold maps or
/// arrays.
fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => items.iter().any(|i| i.is_object() || i.is_array()),
        _ => false,
    }
}

/// Renders a value inside a table on one line: strings unquoted, `()` for a unit value, arrays of
/// scalars separated by commas, maps of scalars as `key=value` pairs.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "()".to_owned(),
        Value::String(text) => text.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(items) if items.is_empty() => "[]".to_owned(),
        Value::Object(map) if map.is_empty() => "#{}".to_owned(),
        Value::Array(items) if !is_block(value) => {
            items.iter().map(cell).collect::<Vec<_>>().join(", ")
        }
        Value::Object(map) if map.values().all(|v| !v.is_object() && !v.is_array()) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Renders the changes an entry recorded in plan mode.
pub fn render_changes(changes: &[PlannedChange]) -> String {
    let mut lines = vec![format!(
        "plan: {} change(s) recorded, none made",
        changes.len()
    )];
    for (index, change) in changes.iter().enumerate() {
        lines.push(format!(
            "{:>3}. {} in {}: {}",
            index + 1,
            change.operation,
            change.region,
            change.resource
        ));
        if !change.detail.is_empty() {
            lines.push(format!("     {}", change.detail));
        }
        if !change.diff.is_empty() {
            lines.extend(change.diff.iter().map(|line| format!("       {line}")));
        } else if !change.targets.is_empty() {
            lines.push(format!("     targets: {}", change.targets.join(", ")));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unit_prints_nothing() {
        assert_eq!(render(&Dynamic::UNIT, Style::Text), None);
        assert_eq!(render(&Dynamic::UNIT, Style::Json), None);
    }

    #[test]
    fn top_level_string_is_quoted() {
        assert_eq!(render_text(&json!("ami-1")), "\"ami-1\"");
    }

    #[test]
    fn map_keys_are_aligned() {
        let text = render_text(&json!({"a": 1, "long_key": "x", "tags": {"Name": "n"}}));
        assert_eq!(text, "a         1\nlong_key  x\ntags\n  Name  n");
    }

    #[test]
    fn array_of_maps_is_a_column_table() {
        let text = render_text(&json!([
            {"name": "a", "region": "ap-south-1"},
            {"name": "bb", "account": "1"}
        ]));
        assert_eq!(
            text,
            "name  region      account\n\
             ----  ----------  -------\n\
             a     ap-south-1\n\
             bb                1"
        );
    }

    #[test]
    fn array_of_scalars_has_an_index_column() {
        assert_eq!(render_text(&json!(["x", 2])), "0  x\n1  2");
    }

    #[test]
    fn scalars_inside_tables_stay_on_one_line() {
        let text = render_text(&json!({"ids": ["a", "b"], "none": null, "empty": []}));
        assert_eq!(text, "ids    a, b\nnone   ()\nempty  []");
    }

    #[test]
    fn json_style_is_pretty() {
        let value = rhai::serde::to_dynamic(json!({"a": [1]})).unwrap();
        assert_eq!(
            render(&value, Style::Json).unwrap(),
            "{\n  \"a\": [\n    1\n  ]\n}"
        );
    }
}
