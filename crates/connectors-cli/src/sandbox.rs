//! The sandbox of `connectors sandbox` and `connectors demo`: the fakes come from
//! [`connectors::sandbox`]; this module adds what only a shell needs.

pub use connectors::sandbox::{Sandbox, Seed};

/// `NAME=value` as a POSIX shell `export` line, quoted when needed.
pub fn export_line(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        format!("export {name}={value}")
    } else {
        format!("export {name}='{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_quote_what_a_shell_would_split() {
        assert_eq!(
            export_line("A", "http://127.0.0.1:80/x"),
            "export A=http://127.0.0.1:80/x"
        );
        assert_eq!(export_line("A", "a b"), "export A='a b'");
        assert_eq!(export_line("A", "it's"), r"export A='it'\''s'");
        assert_eq!(export_line("A", ""), "export A=''");
    }
}
