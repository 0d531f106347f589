//! The journal file's format: one JSON document, replaced atomically on every change.
//!
//! ```text
//! {"format":"connectors-journal","version":1,"entries":[{Entry}, …]}
//! ```
//! JSON rather than the store's sealed records: an entry holds no secret (keys, account ids,
//! digests, created ids), and an operator reading it during an incident is the point.

use conn_core::journal::{Entry, JournalError, OperationKey};
use serde_json::{json, Value};

/// The `format` marker.
pub const FORMAT: &str = "connectors-journal";
/// The format version this crate writes and reads.
pub const VERSION: u64 = 1;

/// The entries of a journal file, oldest first.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Doc {
    /// Entries.
    pub entries: Vec<Entry>,
}

impl Doc {
    /// Parses a journal file; damage is [`JournalError::Corrupt`], another program's file or
    /// a newer version [`JournalError::Foreign`].
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Self, JournalError> {
        let corrupt = |detail: String| JournalError::Corrupt {
            path: path.to_owned(),
            detail,
        };
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
        let Some(obj) = v.as_object() else {
            return Err(JournalError::Foreign {
                path: path.to_owned(),
                found: "a JSON value that is not an object".into(),
            });
        };
        match obj.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(JournalError::Foreign {
                    path: path.to_owned(),
                    found: format!("format {:?}", other.chars().take(40).collect::<String>()),
                })
            }
            None => {
                return Err(JournalError::Foreign {
                    path: path.to_owned(),
                    found: "no `format` marker".into(),
                })
            }
        }
        match obj.get("version").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(n) => {
                return Err(JournalError::Foreign {
                    path: path.to_owned(),
                    found: format!("format version {n} (this build reads {VERSION})"),
                })
            }
            None => return Err(corrupt("`version` missing or not a number".into())),
        }
        let entries = obj
            .get("entries")
            .ok_or_else(|| corrupt("`entries` missing".into()))?;
        let entries: Vec<Entry> =
            entries_of(entries).map_err(|(i, e)| corrupt(format!("entries[{i}]: {e}")))?;
        let mut seen = std::collections::HashSet::new();
        for (i, e) in entries.iter().enumerate() {
            if !seen.insert(e.key.clone()) {
                return Err(corrupt(format!(
                    "entries[{i}]: key `{}` appears twice",
                    e.key
                )));
            }
        }
        Ok(Self { entries })
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&json!({
            "format": FORMAT,
            "version": VERSION,
            "entries": self.entries,
        }))
        .unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The entry for `key`.
    pub fn get(&self, key: &OperationKey) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.key == key)
    }

    /// Replaces the entry for `e.key` (keeping its place) or appends it.
    pub fn put(&mut self, e: Entry) {
        match self.entries.iter_mut().find(|x| x.key == e.key) {
            Some(slot) => *slot = e,
            None => self.entries.push(e),
        }
    }
}

/// Decodes each entry on its own so the error names the one that is damaged.
fn entries_of(v: &Value) -> Result<Vec<Entry>, (usize, String)> {
    let Some(a) = v.as_array() else {
        return Err((0, "`entries` is not an array".into()));
    };
    a.iter()
        .enumerate()
        .map(|(i, x)| serde_json::from_value::<Entry>(x.clone()).map_err(|e| (i, e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(k: &str) -> Entry {
        Entry::new(
            OperationKey::new(k).unwrap(),
            "douyin",
            "publish_video",
            "_000a",
            "d".into(),
        )
    }

    #[test]
    fn round_trip_and_put() {
        let mut d = Doc::default();
        d.put(entry("a"));
        d.put(entry("b"));
        let mut a2 = entry("a");
        a2.attempts = 3;
        d.put(a2.clone());
        let back = Doc::parse("j", &d.to_bytes()).unwrap();
        assert_eq!(back.entries.len(), 2);
        assert_eq!(back.get(&a2.key), Some(&a2));
    }

    #[test]
    fn damage_and_foreign_files_are_named() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not JSON"),
            (b"{\"format\":\"connectors-journal\",\"version\":1,\"entries\":[{\"key\":\"bad key\"}]}", "entries[0]"),
            (b"{\"format\":\"connectors-journal\",\"version\":1}", "`entries` missing"),
            (b"{\"format\":\"connectors-journal\"}", "`version`"),
            (b"{\"format\":\"connectors-journal\",\"version\":1,\"entries\":[{\"key\":\"k\"", "not JSON"),
        ];
        for (bytes, want) in cases {
            let e = Doc::parse("j", bytes).unwrap_err();
            assert!(matches!(e, JournalError::Corrupt { .. }), "{e}");
            assert!(e.to_string().contains(want), "{e} / {want}");
        }
        for (bytes, want) in [
            (&b"[1,2]"[..], "not an object"),
            (
                b"{\"format\":\"other\",\"version\":1,\"entries\":[]}",
                "\"other\"",
            ),
            (b"{\"version\":1}", "no `format`"),
            (
                b"{\"format\":\"connectors-journal\",\"version\":2,\"entries\":[]}",
                "version 2",
            ),
        ] {
            let e = Doc::parse("j", bytes).unwrap_err();
            assert!(matches!(e, JournalError::Foreign { .. }), "{e}");
            assert!(e.to_string().contains(want), "{e} / {want}");
        }
        let mut d = Doc::default();
        d.entries.push(entry("a"));
        d.entries.push(entry("a"));
        let e = Doc::parse("j", &d.to_bytes()).unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");
    }
}
