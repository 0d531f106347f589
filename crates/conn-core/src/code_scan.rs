//! One pass over a response body that answers "does every error code in it read zero?", the
//! fast path of envelope decoders: almost every answer is a success, and proving it without
//! parsing lets the body be parsed once, by the typed decode.
//!
//! A [`CodeScan`] is built once per decoder (its searcher is kept), then each body is scanned
//! once for all keys together: the longest text every key contains (`error_code"` for
//! `"error_code"` and `"sub_error_code"`, `err` once `"err_no"` and `"errno"` join them) is
//! searched, and each hit is matched against the keys it could belong to.
//!
//! ```
//! use conn_core::code_scan::CodeScan;
//! let scan = CodeScan::new(&["error_code", "sub_error_code"]);
//! assert!(scan.all_zero(br#"{"data":{"error_code":0},"extra":{"error_code":"0","sub_error_code":0}}"#));
//! assert!(!scan.all_zero(br#"{"data":{"error_code":0},"extra":{"sub_error_code":7}}"#));
//! assert!(!scan.all_zero(br#"{"data":{}}"#)); // no code at all: parse to be sure
//! ```

use std::fmt;

use memchr::memmem::Finder;

/// A prepared scan for a set of error-code keys; see the [module docs](self).
pub struct CodeScan {
    /// The keys with their quotes (`"error_code"`), longest first, each with every offset at
    /// which the anchor occurs in it.
    keys: Vec<(Vec<u8>, Vec<usize>)>,
    /// Searches the anchor: the longest text every key contains.
    finder: Finder<'static>,
    anchor_len: usize,
}

impl fmt::Debug for CodeScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect();
        f.debug_struct("CodeScan").field("keys", &keys).finish()
    }
}

impl CodeScan {
    /// A scan for these key names (without quotes).
    pub fn new(names: &[&str]) -> Self {
        Self::from_quoted(
            &names
                .iter()
                .map(|n| format!("\"{n}\"").into_bytes())
                .collect::<Vec<_>>(),
        )
    }

    /// A scan for keys given with their quotes (`b"\"error_code\""`).
    pub fn from_quoted<K: AsRef<[u8]>>(quoted: &[K]) -> Self {
        let mut keys: Vec<Vec<u8>> = quoted.iter().map(|k| k.as_ref().to_vec()).collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let anchor = common_substring(&keys);
        let keys = keys
            .into_iter()
            .map(|k| {
                let offsets = if anchor.is_empty() {
                    Vec::new()
                } else {
                    (0..=k.len() - anchor.len())
                        .filter(|&i| k[i..].starts_with(&anchor))
                        .collect()
                };
                (k, offsets)
            })
            .collect();
        Self {
            finder: Finder::new(&anchor).into_owned(),
            anchor_len: anchor.len(),
            keys,
        }
    }

    /// True when `body` holds at least one of the keys used as an object key, and every such
    /// key, wherever it sits, has the value `0` or `"0"`.
    ///
    /// Sound for JSON: inside a string a quote is always escaped, so a match followed by `:` is
    /// a key; anything it cannot read as zero makes it answer `false`, and the decoder then
    /// parses the body in full.
    pub fn all_zero(&self, body: &[u8]) -> bool {
        if self.keys.is_empty() || self.anchor_len == 0 {
            return false;
        }
        let mut found = false;
        let mut from = 0;
        // Step one byte past each hit rather than past the whole anchor, so an anchor that
        // overlaps itself cannot hide a key.
        while let Some(hit) = body.get(from..).and_then(|rest| self.finder.find(rest)) {
            let at = from + hit;
            from = at + 1;
            for (key, offsets) in &self.keys {
                for &off in offsets {
                    let Some(start) = at.checked_sub(off) else {
                        continue;
                    };
                    if !body[start..].starts_with(key) {
                        // Part of some other word (`"my_error_code"`, `"errors"`).
                        continue;
                    }
                    match value_is_zero(&body[start + key.len()..]) {
                        // The same text as a string value, not a key.
                        None => {}
                        Some(true) => found = true,
                        Some(false) => return false,
                    }
                }
            }
        }
        found
    }
}

/// The longest byte string every key contains (empty when they share nothing).
fn common_substring(keys: &[Vec<u8>]) -> Vec<u8> {
    let Some(shortest) = keys.iter().min_by_key(|k| k.len()) else {
        return Vec::new();
    };
    for len in (1..=shortest.len()).rev() {
        for start in 0..=shortest.len() - len {
            let cand = &shortest[start..start + len];
            if keys.iter().all(|k| k.windows(len).any(|w| w == cand)) {
                return cand.to_vec();
            }
        }
    }
    Vec::new()
}

/// After a key: `None` when no `:` follows (not a key), else whether the value reads zero.
fn value_is_zero(after_key: &[u8]) -> Option<bool> {
    let rest = skip_ws(after_key).strip_prefix(b":")?;
    let rest = skip_ws(rest);
    let after = rest
        .strip_prefix(b"\"0\"")
        .or_else(|| rest.strip_prefix(b"0"));
    Some(matches!(
        after.map(|a| a.first()),
        Some(None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
    ))
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
        .count();
    &b[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn douyin() -> CodeScan {
        CodeScan::new(&["error_code", "sub_error_code"])
    }

    #[test]
    fn the_text_every_key_shares_is_searched_once_for_all_keys() {
        let s = douyin();
        assert_eq!(s.anchor_len, "error_code\"".len());
        let s = CodeScan::new(&["errorcode", "code"]);
        assert_eq!(s.anchor_len, "code\"".len());
        // Douyin's official SDK keys share no ending but all contain `err`.
        let s = CodeScan::new(&[
            "error_code",
            "sub_error_code",
            "err_no",
            "errcode",
            "errno",
            "error",
        ]);
        assert_eq!(s.anchor_len, "err".len());
        assert!(s.all_zero(br#"{"data":{"error_code":0},"extra":{"sub_error_code":0},"err_no":0}"#));
        assert!(!s.all_zero(br#"{"data":{"error_code":0},"err_no":2100004}"#));
        assert!(!s.all_zero(br#"{"data":{"error_code":0},"errno":"7"}"#));
        assert!(
            s.all_zero(br#"{"errors":[1],"terrno":5,"error":0}"#),
            "only whole keys count"
        );
        let s = CodeScan::new(&["status", "errno"]);
        assert_eq!(s.anchor_len, 1, "only the quotes are shared");
        assert!(s.all_zero(br#"{"status":0,"errno":"0"}"#));
        assert!(!s.all_zero(br#"{"status":0,"errno":5}"#));
        assert!(!CodeScan::new(&[]).all_zero(br#"{"error_code":0}"#));
    }

    #[test]
    fn a_longer_key_ending_in_a_shorter_one_is_told_apart() {
        let s = CodeScan::new(&["code", "error_code"]);
        // `"error_code"` ends in `code"` but is not `"code"`; its own value decides.
        assert!(s.all_zero(br#"{"error_code":0,"code":"0"}"#));
        assert!(!s.all_zero(br#"{"error_code":3,"code":0}"#));
        // A key that merely ends like one of ours is not ours.
        assert!(douyin().all_zero(br#"{"my_error_code":9,"error_code":0}"#));
    }

    #[test]
    fn agrees_with_the_per_key_scan_on_hostile_bodies() {
        let s = douyin();
        let ok = br#"{"data":{"error_code" : 0 ,"description":""},"extra":{"error_code":0,"sub_error_code":"0","logid":"x"}}"#;
        assert!(s.all_zero(ok));
        for body in [
            &br#"{"data":{"error_code":0},"extra":{"error_code":0,"sub_error_code":1}}"#[..],
            br#"{"data":{"error_code":0.0}}"#,
            br#"{"data":{"error_code":null}}"#,
            br#"{"data":{"error_code":01}}"#,
            br#"{"data":{"error_code":"0x"}}"#,
            br#"{"data":{"error_code":-0}}"#,
            br#"{"data":{"error_code":"#,
            b"",
        ] {
            assert!(!s.all_zero(body), "{}", String::from_utf8_lossy(body));
        }
        // The key's text inside a string is not a key; at the very end of a body, no panic.
        assert!(s.all_zero(
            br#"{"title":"say \"error_code\":1","name":"error_code","data":{"error_code":0}}"#
        ));
        assert!(!s.all_zero(br#""error_code""#));
        assert!(
            s.all_zero(br#"{"error_code":0"#),
            "a cut body is the decoder's to refuse"
        );
    }
}
