//! Platform codes as an envelope configures them, and the serde form of "one pointer or many".

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::pointer::Pointer;

/// A platform code in an envelope's lists: a number or a text, as the platform sends it.
///
/// Codes compare as text and ignore ASCII case, so `0`, `"0"` match, and `"OK"` matches `ok`
/// (platforms send both forms). A fake writing a code sends it in its configured form.
///
/// ```
/// use conn_core::envelope::Code;
/// assert!(Code::from(40001).matches("40001"));
/// assert!(Code::from("Success").matches("success"));
/// assert_eq!(Code::from(7).to_json(), serde_json::json!(7));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Code(CodeValue);

#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
enum CodeValue {
    Number(serde_json::Number),
    Text(String),
}

impl Code {
    /// The code's text (`40001`, `ok`).
    pub fn text(&self) -> String {
        match &self.0 {
            CodeValue::Number(n) => n.to_string(),
            CodeValue::Text(s) => s.clone(),
        }
    }

    /// True when `code` (a code read from a body, as text) is this code.
    pub fn matches(&self, code: &str) -> bool {
        match &self.0 {
            CodeValue::Number(n) => {
                // Every answer is checked against the success codes: compare the number's text
                // without allocating it.
                let mut buf = NumberText::default();
                match fmt::Write::write_fmt(&mut buf, format_args!("{n}")) {
                    Ok(()) => buf.as_bytes() == code.as_bytes(),
                    Err(_) => n.to_string() == code,
                }
            }
            CodeValue::Text(s) => s.eq_ignore_ascii_case(code),
        }
    }

    /// The code as a JSON value, in the form it was configured (what a fake sends).
    pub fn to_json(&self) -> Value {
        match &self.0 {
            CodeValue::Number(n) => Value::Number(n.clone()),
            CodeValue::Text(s) => Value::String(s.clone()),
        }
    }

    /// True when `code` is in `list`.
    pub fn listed(list: &[Code], code: &str) -> bool {
        list.iter().any(|c| c.matches(code))
    }
}

/// A number's text on the stack (a JSON number is at most a few dozen characters; longer
/// ones make `write_str` fail and the caller falls back to allocating).
struct NumberText {
    buf: [u8; 48],
    len: usize,
}

impl Default for NumberText {
    fn default() -> Self {
        Self {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl NumberText {
    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            CodeValue::Number(n) => write!(f, "{n}"),
            CodeValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<&str> for Code {
    fn from(s: &str) -> Self {
        Self(CodeValue::Text(s.to_owned()))
    }
}

impl From<String> for Code {
    fn from(s: String) -> Self {
        Self(CodeValue::Text(s))
    }
}

macro_rules! code_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Code {
            fn from(n: $t) -> Self {
                Self(CodeValue::Number(n.into()))
            }
        }
    )*};
}
code_from_int!(i32, i64, u32, u64);

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => Ok(Self(CodeValue::Number(n))),
            Value::String(s) => Ok(Self(CodeValue::Text(s))),
            other => Err(de::Error::custom(format!(
                "a code is a number or a string, not a {}",
                crate::pointer::type_name(&other)
            ))),
        }
    }
}

/// Serde for a list of pointers written as one pointer (`"/code"`), a list (`["code",
/// "/data/code"]`) or nothing (`null`, absent: an empty list). A one-element list is written
/// back as the single pointer, so a profile round-trips in the shape people write.
pub(super) mod pointers {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[Pointer], s: S) -> Result<S::Ok, S::Error> {
        match v {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Pointer>, D::Error> {
        struct OneOrMany;
        impl<'de> Visitor<'de> for OneOrMany {
            type Value = Vec<Pointer>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON pointer, a list of them, or null")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(vec![Pointer::new(s)])
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<Pointer>()? {
                    out.push(p);
                }
                Ok(out)
            }
        }
        d.deserialize_any(OneOrMany)
    }
}

/// Serde for a list of codes written as one code (`0`), a list (`[0, "ok"]`) or nothing.
pub(super) mod codes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[Code], s: S) -> Result<S::Ok, S::Error> {
        match v {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Code>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .into_iter()
                .map(|v| Code::deserialize(v).map_err(de::Error::custom))
                .collect(),
            one => Code::deserialize(one)
                .map(|c| vec![c])
                .map_err(de::Error::custom),
        }
    }
}
