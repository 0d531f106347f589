//! The caller-chosen operation key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// Most bytes an operation key may hold: long enough for `campaign/yyyy-mm-dd/slot/variant`
/// names, short enough to be a file name component and a Redis key without surprises.
pub const MAX_KEY_LEN: usize = 128;

/// A caller-chosen name for one logical create ("publish this video for campaign 42"), the
/// same on every retry, every restart and every replica that may run the job.
///
/// Rules (checked by [`OperationKey::new`], each failure a [`ValidationError`] on field
/// `operation_key` naming the rule): 1 to [`MAX_KEY_LEN`] bytes; ASCII letters, digits and
/// `- _ . : / @` only (no spaces, no control characters, nothing that needs quoting in a path,
/// a URL or a shell); it must start with a letter or a digit.
///
/// ```
/// use conn_core::journal::OperationKey;
///
/// let key = OperationKey::new("campaign-42/video-1").unwrap();
/// assert_eq!(key.as_str(), "campaign-42/video-1");
///
/// let err = OperationKey::new("two words").unwrap_err();
/// assert_eq!(err.field, "operation_key");
/// assert!(err.rule.contains("letters, digits"));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OperationKey(String);

impl OperationKey {
    /// Validates `key`.
    pub fn new(key: impl Into<String>) -> Result<Self, ValidationError> {
        let key = key.into();
        let rule = |r: String| Err(ValidationError::new("operation_key", r));
        if key.is_empty() {
            return rule("required (1 to 128 characters)".into());
        }
        if key.len() > MAX_KEY_LEN {
            return rule(format!(
                "at most {MAX_KEY_LEN} characters (got {})",
                key.len()
            ));
        }
        if let Some((i, c)) = key
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "-_.:/@".contains(*c)))
        {
            return rule(format!(
                "ASCII letters, digits and - _ . : / @ only (character {c:?} at byte {i})"
            ));
        }
        if !key.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return rule("must start with a letter or a digit".into());
        }
        Ok(Self(key))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OperationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OperationKey({:?})", self.0)
    }
}

impl TryFrom<String> for OperationKey {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<OperationKey> for String {
    fn from(k: OperationKey) -> Self {
        k.0
    }
}

impl std::str::FromStr for OperationKey {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_rule_is_named() {
        let rule = |k: &str| OperationKey::new(k).unwrap_err().rule;
        assert!(rule("").starts_with("required"));
        assert!(rule(&"a".repeat(129)).contains("at most 128"));
        assert!(rule("a b").contains("' '"));
        assert!(
            rule("a\u{0}b").contains(r"'\0' at byte 1"),
            "{}",
            rule("a\u{0}b")
        );
        assert!(rule("日本").contains("only"));
        assert!(rule("a\nb").contains(r"'\n'"));
        assert!(rule("../etc").contains("start with"));
        assert!(rule("/abs").contains("start with"));
        assert!(OperationKey::new("a".repeat(128)).is_ok());
        assert!(OperationKey::new("Camp_1:v@2.x/y-z").is_ok());
    }

    #[test]
    fn serde_validates() {
        let k: OperationKey = serde_json::from_str("\"ok-1\"").unwrap();
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"ok-1\"");
        assert!(serde_json::from_str::<OperationKey>("\"bad key\"").is_err());
    }
}
