//! A deliberately tiny TOML reader: just enough to list the `key = value`
//! entries of one table of a `Cargo.toml`.
//!
//! xtask stays dependency-free, and the two things it reads (`[package] name`
//! and the keys of `[features]`) do not justify a TOML parser. The reader
//! understands table headers, comments, basic and literal strings and values
//! spread over several lines (multi-line arrays); it does not understand
//! inline-table sections (`package = { ... }`) or multi-line strings, which
//! Cargo manifests do not use for these two tables.

/// One `key = value` entry of a table; `value` is the raw text after `=`,
/// with comments removed and continuation lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
}

/// Returns the entries of table `[name]` in source order, or `None` if the
/// table does not appear in `src`.
pub fn table(src: &str, name: &str) -> Option<Vec<Entry>> {
    let mut current: Option<String> = None;
    let mut found = false;
    let mut entries: Vec<Entry> = Vec::new();
    // Bracket depth of a value still open from a previous line.
    let mut depth: i32 = 0;

    for line in src.lines() {
        let code = strip_comment(line);
        if depth > 0 {
            // Continuation of a multi-line value: attach it to the last entry.
            depth += bracket_delta(code);
            if current.as_deref() == Some(name) {
                if let Some(last) = entries.last_mut() {
                    last.value.push('\n');
                    last.value.push_str(code.trim());
                }
            }
            continue;
        }
        let trimmed = code.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('[') {
            let header = trimmed.trim_start_matches('[').trim_end_matches(']').trim();
            if header == name {
                found = true;
            }
            current = Some(header.to_owned());
            continue;
        }
        let Some((key, value)) = split_key_value(trimmed) else {
            continue;
        };
        depth = bracket_delta(value).max(0);
        if current.as_deref() == Some(name) {
            entries.push(Entry {
                key: unquote(key.trim()).to_owned(),
                value: value.trim().to_owned(),
            });
        }
    }
    found.then_some(entries)
}

/// Reads the value of a basic or literal string (`"x"` or `'x'`), as used for
/// `name = "conn-core"`; returns `None` for anything else.
pub fn string_value(value: &str) -> Option<&str> {
    let value = value.trim();
    for quote in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(quote) {
            return rest.find(quote).map(|end| &rest[..end]);
        }
    }
    None
}

/// Splits `key = value` at the first `=` outside a quoted key.
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '=') => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Removes a `#` comment, ignoring `#` inside strings.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some('"'), '\\') => escaped = true,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Net change in `[`/`{` nesting over `code` (comment already removed),
/// ignoring brackets inside strings.
fn bracket_delta(code: &str) -> i32 {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut delta = 0;
    for c in code.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some('"'), '\\') => escaped = true,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '[' | '{') => delta += 1,
            (None, ']' | '}') => delta -= 1,
            _ => {}
        }
    }
    delta
}

/// Strips one pair of surrounding quotes from a key (`"x-y"` → `x-y`).
fn unquote(key: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = key
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[package]
name = "connectors" # the umbrella
version.workspace = true

[features]
default = ["full"]
full = [
    "douyin", # Douyin Open Platform
    "ths",
    "weird]#name",
]
douyin = ["dep:conn-douyin"]
"ths" = ['dep:conn-ths']
fake = ["conn-douyin?/fake"]

[dependencies]
conn-core = { workspace = true, features = ["x"] }
"#;

    fn keys(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn reads_feature_keys_across_multiline_arrays() {
        let features = table(MANIFEST, "features").expect("features table");
        assert_eq!(
            keys(&features),
            ["default", "full", "douyin", "ths", "fake"]
        );
        assert!(features[1].value.contains("\"ths\""));
    }

    #[test]
    fn reads_package_name() {
        let package = table(MANIFEST, "package").expect("package table");
        let name = package.iter().find(|e| e.key == "name").expect("name");
        assert_eq!(string_value(&name.value), Some("connectors"));
        assert_eq!(keys(&package), ["name", "version.workspace"]);
    }

    #[test]
    fn absent_table_is_none_and_empty_table_is_some() {
        assert_eq!(table(MANIFEST, "badges"), None);
        assert_eq!(table("[features]\n\n[lib]\n", "features"), Some(Vec::new()));
    }

    #[test]
    fn dependencies_do_not_leak_into_features() {
        let deps = table(MANIFEST, "dependencies").expect("dependencies table");
        assert_eq!(keys(&deps), ["conn-core"]);
    }
}
