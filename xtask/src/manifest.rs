//! Reading `Cargo.toml` files with the `toml` crate: the few facts xtask needs (a package's
//! name, a crate's feature names, the workspace's `rust-version`).

use std::path::Path;

use toml::{Table, Value};

/// A manifest, parsed.
pub fn read(path: &Path) -> Result<Table, String> {
    let src = std::fs::read_to_string(path)
        .map_err(|e| format!("could not read {}: {e}", path.display()))?;
    parse(&src).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses manifest text.
pub fn parse(src: &str) -> Result<Table, String> {
    src.parse::<Table>()
        .map_err(|e| format!("not valid TOML: {e}"))
}

fn get<'a>(t: &'a Table, path: &[&str]) -> Option<&'a Value> {
    let (last, tables) = path.split_last()?;
    let mut cur = t;
    for key in tables {
        cur = cur.get(*key)?.as_table()?;
    }
    cur.get(*last)
}

/// `[package] name`.
pub fn package_name(t: &Table) -> Option<&str> {
    get(t, &["package", "name"])?.as_str()
}

/// The keys of `[features]` (sorted), or `None` without such a table.
pub fn feature_names(t: &Table) -> Option<Vec<String>> {
    Some(get(t, &["features"])?.as_table()?.keys().cloned().collect())
}

/// `[workspace.package] rust-version`.
pub fn workspace_rust_version(t: &Table) -> Option<&str> {
    get(t, &["workspace", "package", "rust-version"])?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_xtask_needs() {
        let t = parse(
            r#"
            [package]
            name = "connectors" # trailing comment
            [features]
            default = ["full"]
            full = [
                "douyin", # multi-line arrays
                "ths",
            ]
            douyin = ["dep:conn-douyin"]
            "#,
        )
        .unwrap();
        assert_eq!(package_name(&t), Some("connectors"));
        assert_eq!(feature_names(&t).unwrap(), ["default", "douyin", "full"]);
        let ws = parse("[workspace.package]\nrust-version = \"1.89\"\n").unwrap();
        assert_eq!(workspace_rust_version(&ws), Some("1.89"));
        assert_eq!(package_name(&ws), None);
        assert!(feature_names(&ws).is_none());
        assert!(parse("[package\nname = 1").is_err());
    }
}
