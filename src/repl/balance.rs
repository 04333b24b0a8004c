//! Whether an entry is complete: brackets, template strings and block comments closed.
//!
//! The scanner handles just enough Rhai lexing to skip brackets inside strings, character
//! literals and comments. A closing bracket that does not match is left for the compiler to
//! report, so such an entry counts as complete.

/// An open construct: a bracket, a back-tick string, or `${` inside a back-tick string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Bracket(char),
    Template,
    Interpolation,
}

/// The result of scanning an entry.
#[derive(Debug, Default)]
pub struct Scan {
    /// Byte offsets of the `(` still open at the end, innermost last.
    pub open_parens: Vec<usize>,
    /// True when the text ends inside a bracket, template string, block comment or a string
    /// continued with a trailing backslash.
    pub incomplete: bool,
}

/// Returns true when `text` needs more lines before it can be compiled.
pub fn is_incomplete(text: &str) -> bool {
    scan(text).incomplete
}

/// Scans `text` for open brackets, skipping strings and comments.
pub fn scan(text: &str) -> Scan {
    let mut stack: Vec<(Open, usize)> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut mismatched = false;

    while let Some((index, c)) = chars.next() {
        if matches!(stack.last(), Some((Open::Template, _))) {
            match c {
                '`' => {
                    stack.pop();
                }
                '$' if chars.peek().map(|(_, next)| *next) == Some('{') => {
                    chars.next();
                    stack.push((Open::Interpolation, index));
                }
                _ => {}
            }
            continue;
        }
        match c {
            '(' | '[' | '{' => stack.push((Open::Bracket(c), index)),
            ')' | ']' | '}' => {
                let expected = match c {
                    ')' => Open::Bracket('('),
                    ']' => Open::Bracket('['),
                    _ => Open::Bracket('{'),
                };
                match stack.last() {
                    Some((Open::Interpolation, _)) if c == '}' => {
                        stack.pop();
                    }
                    Some((open, _)) if *open == expected => {
                        stack.pop();
                    }
                    _ => mismatched = true,
                }
            }
            '`' => stack.push((Open::Template, index)),
            '"' | '\'' => {
                let quoted = skip_quoted(&mut chars, c);
                if quoted == Quoted::Continued {
                    return ended_inside(&stack, mismatched);
                }
            }
            '/' => match chars.peek().map(|(_, next)| *next) {
                Some('/') => skip_line(&mut chars),
                Some('*') => {
                    chars.next();
                    if !skip_block_comment(&mut chars) {
                        return ended_inside(&stack, mismatched);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    Scan {
        open_parens: open_parens(&stack),
        incomplete: !mismatched && !stack.is_empty(),
    }
}

/// Builds the scan of a text that ends inside a literal or comment continued on the next line.
fn ended_inside(stack: &[(Open, usize)], mismatched: bool) -> Scan {
    Scan {
        open_parens: open_parens(stack),
        incomplete: !mismatched,
    }
}

fn open_parens(stack: &[(Open, usize)]) -> Vec<usize> {
    stack
        .iter()
        .filter(|(open, _)| *open == Open::Bracket('('))
        .map(|(_, index)| *index)
        .collect()
}

#[derive(Debug, PartialEq, Eq)]
enum Quoted {
    Closed,
    /// The text ended inside the literal right after a backslash: Rhai continues such a
    /// string on the next line.
    Continued,
    /// The text or line ended inside the literal: a syntax error for the compiler.
    Unterminated,
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn skip_quoted(chars: &mut Chars, quote: char) -> Quoted {
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                None => return Quoted::Continued,
                Some((_, '\n')) if chars.peek().is_none() => return Quoted::Continued,
                Some(_) => {}
            },
            '\n' => return Quoted::Unterminated,
            c if c == quote => return Quoted::Closed,
            _ => {}
        }
    }
    Quoted::Unterminated
}

fn skip_line(chars: &mut Chars) {
    for (_, c) in chars.by_ref() {
        if c == '\n' {
            return;
        }
    }
}

/// Skips a block comment, which Rhai lets nest. Returns false if the text ends inside it.
fn skip_block_comment(chars: &mut Chars) -> bool {
    let mut depth = 1;
    while let Some((_, c)) = chars.next() {
        let next = chars.peek().map(|(_, next)| *next);
        match (c, next) {
            ('*', Some('/')) => {
                chars.next();
                depth -= 1;
                if depth == 0 {
                    return true;
                }
            }
            ('/', Some('*')) => {
                chars.next();
                depth += 1;
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_entries_are_complete() {
        for text in [
            "1 + 2",
            "let x = [1, 2];",
            "#{a: 1, b: [2]}",
            "f(\"(\")",
            "'('",
            "// (",
            "/* ( */ 1",
            "`a ${x} b`",
            "`${#{a: 1}.a}`",
            "",
        ] {
            assert!(!is_incomplete(text), "{text:?} counted as incomplete");
        }
    }

    #[test]
    fn open_constructs_are_incomplete() {
        for text in [
            "fn f() {",
            "let x = [1,\n2",
            "#{a: 1,",
            "share(id, [",
            "`multi\nline",
            "`a ${ f(",
            "/* open",
            "/* a /* nested */ still open",
            "\"continued \\",
        ] {
            assert!(is_incomplete(text), "{text:?} counted as complete");
        }
    }

    #[test]
    fn mismatched_brackets_are_left_to_the_compiler() {
        assert!(!is_incomplete("f(]"));
        assert!(!is_incomplete(")"));
        assert!(!is_incomplete("\"unterminated"));
    }

    #[test]
    fn open_parens_lists_innermost_last() {
        let scan = scan("share(a, f(b");
        assert_eq!(scan.open_parens, vec![5, 10]);
    }
}
