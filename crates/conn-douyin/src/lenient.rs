//! Serde helpers for Douyin's numbers, which may arrive as JSON numbers or as strings
//! (`"error_code":"0"`, `"expires_in":"86400"`), and booleans that may arrive as `0`/`1`.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// An integer from a JSON number (integral float accepted) or a numeric string.
pub(crate) fn value_as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_u64()
                .and_then(|u| i64::try_from(u).ok())
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        }),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

fn value_as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Null => None,
        other => match other.as_str().map(str::trim) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => value_as_i64(other).map(|i| i != 0),
        },
    }
}

/// `i64` from a number or a numeric string.
pub(crate) fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    value_as_i64(&v).ok_or_else(|| de::Error::custom(format!("expected an integer, got {v}")))
}

/// `Option<i64>`: absent, null or empty string → `None`.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => value_as_i64(&v)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {v}"))),
    }
}

/// `u64` from a number or a numeric string (negative → error).
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match opt_i64(d)? {
        None => Ok(None),
        Some(i) => u64::try_from(i)
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a non-negative integer, got {i}"))),
    }
}

/// `bool` from `true/false`, `0/1` or their string forms; absent or null → `false`.
pub(crate) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(v) => value_as_bool(&v)
            .ok_or_else(|| de::Error::custom(format!("expected a boolean, got {v}"))),
    }
}

/// A string from a string or a number (ids sometimes arrive as numbers); null → empty.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(other) => Err(de::Error::custom(format!("expected a string, got {other}"))),
    }
}

/// An optional string from a string or a number; null or empty → `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = string(d)?;
    Ok(if s.is_empty() { None } else { Some(s) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(deserialize_with = "i64")]
        a: i64,
        #[serde(default, deserialize_with = "opt_i64")]
        b: Option<i64>,
        #[serde(default, deserialize_with = "bool")]
        c: bool,
        #[serde(default, deserialize_with = "string")]
        d: String,
        #[serde(default, deserialize_with = "opt_u64")]
        e: Option<u64>,
    }

    #[test]
    fn numbers_as_strings_and_bools_as_ints() {
        let t: T = serde_json::from_str(r#"{"a":"86400","b":"","c":1,"d":123,"e":"7"}"#).unwrap();
        assert_eq!(
            (t.a, t.b, t.c, t.d.as_str(), t.e),
            (86400, None, true, "123", Some(7))
        );
        let t: T = serde_json::from_str(r#"{"a":12.0,"b":3,"c":"false"}"#).unwrap();
        assert_eq!((t.a, t.b, t.c, t.e), (12, Some(3), false, None));
        assert!(serde_json::from_str::<T>(r#"{"a":"x"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a":1,"e":-1}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a":1.5}"#).is_err());
    }
}
