//! Serde helpers for platforms whose numbers may arrive as JSON numbers or as strings
//! (`"error_code":"0"`, `"expires_in":"86400"`, `"errorcode":"-1302"`), and whose booleans may
//! arrive as `0`/`1`. Visitor-based: no intermediate `serde_json::Value` is built.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Envelope {
//!     #[serde(deserialize_with = "conn_core::lenient::i64")]
//!     error_code: i64,
//!     #[serde(default, deserialize_with = "conn_core::lenient::opt_u64")]
//!     expires_in: Option<u64>,
//!     #[serde(default, deserialize_with = "conn_core::lenient::bool")]
//!     has_more: bool,
//! }
//! let e: Envelope = serde_json::from_str(r#"{"error_code":"0","expires_in":"86400","has_more":1}"#).unwrap();
//! assert_eq!((e.error_code, e.expires_in, e.has_more), (0, Some(86400), true));
//! ```

use std::fmt;
use std::time::Duration;

#[cfg(feature = "decimal")]
mod decimal;
#[cfg(feature = "decimal")]
#[cfg_attr(docsrs, doc(cfg(feature = "decimal")))]
pub use decimal::{decimal, decimal_of_f64, is_missing, opt_decimal, parse_decimal, parse_number};

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

// ---- the strict fast path -------------------------------------------------------------------
//
// Almost every answer carries plain JSON numbers, strings and booleans where the platform
// documents them. Reading each lenient field through `deserialize_any` and a scalar enum costs
// on every field of every item, so `from_slice` first decodes with every helper below in strict
// mode (the field's plain serde type, which serde_json reads directly), and only when that
// fails decodes again leniently. Strict mode accepts a subset of what lenient mode accepts and
// yields the same value for it, so the result never depends on which pass produced it.

std::thread_local! {
    static STRICT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn is_strict() -> bool {
    STRICT.with(std::cell::Cell::get)
}

/// Runs `f` (a synchronous decode) with this module's helpers in strict mode: each reads only
/// its plain serde type (`i64` a JSON integer, `string` a JSON string, `bool` a JSON boolean…)
/// and fails otherwise. Restored on return and on unwind.
pub fn strict<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STRICT.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(STRICT.with(|s| s.replace(true)));
    f()
}

/// Decodes JSON into `T`: strictly first (plain serde for every lenient field), and leniently
/// only when the strict pass fails. The lenient pass's error is the one returned.
///
/// ```
/// #[derive(Debug, PartialEq, serde::Deserialize)]
/// struct Item {
///     #[serde(deserialize_with = "conn_core::lenient::i64")]
///     plays: i64,
///     #[serde(default, deserialize_with = "conn_core::lenient::string")]
///     id: String,
/// }
/// let fast: Item = conn_core::lenient::from_slice(br#"{"plays":12,"id":"a"}"#).unwrap();
/// let slow: Item = conn_core::lenient::from_slice(br#"{"plays":"12","id":7}"#).unwrap();
/// assert_eq!((fast.plays, slow.plays, slow.id.as_str()), (12, 12, "7"));
/// assert!(conn_core::lenient::from_slice::<Item>(br#"{"plays":"x"}"#).is_err());
/// ```
pub fn from_slice<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match strict(|| serde_json::from_slice(body)) {
        Ok(v) => Ok(v),
        Err(_) => serde_json::from_slice(body),
    }
}

/// What a lenient scalar turned out to be.
enum Scalar {
    Int(i64),
    Bool(bool),
    Text(String),
    Null,
    /// A number or string that is not an integer (`1.5`, `"abc"`), kept for the message.
    Other(String),
}

fn int_of_f64(v: f64) -> Option<i64> {
    // Integral floats within the exactly-representable range only.
    (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

fn int_of_str(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>()
        .ok()
        .or_else(|| t.parse::<f64>().ok().and_then(int_of_f64))
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a numeric string, a boolean or null")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or_else(|_| Scalar::Other(v.to_string()), Scalar::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(int_of_f64(v).map_or_else(|| Scalar::Other(v.to_string()), Scalar::Int))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

fn as_int(s: &Scalar) -> Option<i64> {
    match s {
        Scalar::Int(i) => Some(*i),
        Scalar::Text(t) => int_of_str(t),
        _ => None,
    }
}

fn describe(s: &Scalar) -> String {
    match s {
        Scalar::Int(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Text(t) => shown(format!("{t:?}")),
        Scalar::Null => "null".into(),
        Scalar::Other(o) => o.clone(),
    }
}

/// `i64` from a number (integral float accepted) or a numeric string.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    if is_strict() {
        return <i64 as Deserialize>::deserialize(d);
    }
    let s = scalar(d)?;
    as_int(&s)
        .ok_or_else(|| de::Error::custom(format!("expected an integer, got {}", describe(&s))))
}

/// `Option<i64>`: absent (with `#[serde(default)]`), null or an empty string → `None`; anything
/// else must be an integer.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    if is_strict() {
        return Option::<i64>::deserialize(d);
    }
    match scalar(d)? {
        Scalar::Null => Ok(None),
        Scalar::Text(t) if t.trim().is_empty() => Ok(None),
        s => as_int(&s)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {}", describe(&s)))),
    }
}

/// `Option<u64>` like [`opt_i64`]; negative → error.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match opt_i64(d)? {
        None => Ok(None),
        Some(i) => u64::try_from(i)
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a non-negative integer, got {i}"))),
    }
}

/// `bool` from `true/false`, `0/1` or their string forms; null → `false` (use with
/// `#[serde(default)]` for absent fields).
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    if is_strict() {
        return <bool as Deserialize>::deserialize(d);
    }
    let s = scalar(d)?;
    match &s {
        Scalar::Bool(b) => Ok(*b),
        Scalar::Null => Ok(false),
        Scalar::Text(t) if t.trim() == "true" => Ok(true),
        Scalar::Text(t) if t.trim() == "false" => Ok(false),
        other => as_int(other)
            .map(|i| i != 0)
            .ok_or_else(|| de::Error::custom(format!("expected a boolean, got {}", describe(&s)))),
    }
}

/// A string from a string, a number or a boolean (ids sometimes arrive as numbers); null → empty.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    if is_strict() {
        return String::deserialize(d);
    }
    Ok(match scalar(d)? {
        Scalar::Text(t) => t,
        Scalar::Null => String::new(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Other(o) => o,
    })
}

/// An optional string like [`string`]; null or empty → `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    if is_strict() {
        return Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()));
    }
    let s = string(d)?;
    Ok(if s.is_empty() { None } else { Some(s) })
}

/// An integer that may arrive as a number or a numeric string, where anything unreadable is
/// simply absent (`None`) rather than an error: for error-code fields of envelopes, where a
/// strange value must not hide the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LooseI64(pub Option<i64>);

impl<'de> Deserialize<'de> for LooseI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if is_strict() {
            return Option::<i64>::deserialize(d).map(LooseI64);
        }
        Ok(LooseI64(as_int(&scalar(d)?)))
    }
}

/// True when `body` holds at least one of `quoted_keys` (each with its quotes, e.g.
/// `b"\"error_code\""`) used as an object key, and every such key, wherever it sits, has the
/// value `0` or `"0"`.
///
/// A fast path for envelope decoders: "every error code in this response is zero" means there
/// is no platform error, and the body need not be parsed twice. It is sound for JSON: inside a
/// string a quote is always escaped, so a match followed by `:` is a key; anything it cannot
/// read as zero makes it answer `false`, and the decoder then parses the body in full.
///
/// Decoders that run on every response keep a [`CodeScan`](crate::code_scan::CodeScan)
/// instead: it builds its searcher once and scans for all keys in one pass.
///
/// ```
/// use conn_core::lenient::codes_all_zero;
/// let keys: &[&[u8]] = &[b"\"error_code\""];
/// assert!(codes_all_zero(br#"{"data":{"error_code":0,"list":[]},"extra":{"error_code":"0"}}"#, keys));
/// assert!(!codes_all_zero(br#"{"data":{"error_code":0},"extra":{"error_code":2190008}}"#, keys));
/// assert!(!codes_all_zero(br#"{"data":{}}"#, keys)); // no code at all: parse to be sure
/// ```
pub fn codes_all_zero(body: &[u8], quoted_keys: &[&[u8]]) -> bool {
    // A decoder on the hot path keeps a `CodeScan`; this builds one per call.
    crate::code_scan::CodeScan::from_quoted(quoted_keys).all_zero(body)
}

/// The longest duration read from the wire: ten years. Longer values (`1e25`, `i64::MAX`
/// seconds) are **clamped** to it; negative, NaN, infinite and non-numeric values are a typed
/// [`DurationError`] (a decode error when read through serde).
pub const MAX_WIRE_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Why a wire value is not a duration. The message quotes at most 32 characters of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number at all.
    #[error("expected a number of seconds, got {0}")]
    NotANumber(String),
    /// Below zero.
    #[error("expected a non-negative number of seconds, got {0}")]
    Negative(String),
    /// NaN or infinite.
    #[error("expected a finite number of seconds, got {0}")]
    NotFinite(String),
}

/// A value as an error message shows it: cut after 32 characters, so a megabyte of junk in one
/// field stays a one-line message.
fn shown(v: impl fmt::Display) -> String {
    let s = v.to_string();
    match s.char_indices().nth(32) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// Seconds as a float → a duration of at most `max` (clamped); never panics.
///
/// ```
/// use conn_core::lenient::{seconds_f64, DurationError};
/// use std::time::Duration;
/// let max = Duration::from_secs(100);
/// assert_eq!(seconds_f64(1.5, max), Ok(Duration::from_millis(1500)));
/// assert_eq!(seconds_f64(1e25, max), Ok(max));
/// assert!(matches!(seconds_f64(f64::NAN, max), Err(DurationError::NotFinite(_))));
/// assert!(matches!(seconds_f64(-1.0, max), Err(DurationError::Negative(_))));
/// ```
pub fn seconds_f64(secs: f64, max: Duration) -> Result<Duration, DurationError> {
    if !secs.is_finite() {
        return Err(DurationError::NotFinite(shown(secs)));
    }
    if secs < 0.0 {
        return Err(DurationError::Negative(shown(secs)));
    }
    if secs >= max.as_secs_f64() {
        return Ok(max);
    }
    // Finite, non-negative and below `max`: within Duration's range.
    Ok(Duration::try_from_secs_f64(secs).map_or(max, |d| d.min(max)))
}

/// Whole seconds (signed) → a duration of at most `max` (clamped); negative is an error.
pub fn seconds_i64(secs: i64, max: Duration) -> Result<Duration, DurationError> {
    u64::try_from(secs)
        .map(|s| seconds_u64(s, max))
        .map_err(|_| DurationError::Negative(shown(secs)))
}

/// Whole seconds → a duration of at most `max` (clamped).
pub fn seconds_u64(secs: u64, max: Duration) -> Duration {
    Duration::from_secs(secs).min(max)
}

/// Text holding seconds (`"7200"`, `" 1.5 "`, `"1e25"`) → a duration of at most `max`.
///
/// ```
/// use conn_core::lenient::parse_seconds;
/// use std::time::Duration;
/// let max = Duration::from_secs(3600);
/// assert_eq!(parse_seconds(" 7200 ", max), Ok(max));
/// assert_eq!(parse_seconds("9223372036854775807", max), Ok(max));
/// assert_eq!(parse_seconds("0.25", max), Ok(Duration::from_millis(250)));
/// assert!(parse_seconds("NaN", max).is_err() && parse_seconds("-5", max).is_err() && parse_seconds("soon", max).is_err());
/// ```
pub fn parse_seconds(text: &str, max: Duration) -> Result<Duration, DurationError> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return seconds_i64(i, max);
    }
    if let Ok(u) = t.parse::<u64>() {
        return Ok(seconds_u64(u, max));
    }
    match t.parse::<f64>() {
        Ok(f) => seconds_f64(f, max),
        Err(_) => Err(DurationError::NotANumber(shown(format!("{t:?}")))),
    }
}

struct SecondsVisitor;

impl<'de> Visitor<'de> for SecondsVisitor {
    type Value = Option<Duration>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds (number or numeric string) or null")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        seconds_i64(v, MAX_WIRE_DURATION)
            .map(Some)
            .map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(seconds_u64(v, MAX_WIRE_DURATION)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        seconds_f64(v, MAX_WIRE_DURATION)
            .map(Some)
            .map_err(E::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        parse_seconds(v, MAX_WIRE_DURATION)
            .map(Some)
            .map_err(E::custom)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(SecondsVisitor)
    }
}

/// An optional lifetime in seconds (number, float or numeric string; `null`/`""` → `None`),
/// clamped to [`MAX_WIRE_DURATION`]; negative, NaN or non-numeric is a decode error.
///
/// ```
/// use std::time::Duration;
/// #[derive(serde::Deserialize)]
/// struct Tok { #[serde(default, deserialize_with = "conn_core::lenient::opt_seconds")] expires_in: Option<Duration> }
/// let t: Tok = serde_json::from_str(r#"{"expires_in":9223372036854775807}"#).unwrap();
/// assert_eq!(t.expires_in, Some(conn_core::lenient::MAX_WIRE_DURATION));
/// let t: Tok = serde_json::from_str(r#"{"expires_in":"7200"}"#).unwrap();
/// assert_eq!(t.expires_in, Some(Duration::from_secs(7200)));
/// assert!(serde_json::from_str::<Tok>(r#"{"expires_in":-1}"#).is_err());
/// ```
pub fn opt_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    d.deserialize_any(SecondsVisitor)
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
        #[serde(default)]
        f: LooseI64,
    }

    #[test]
    fn numbers_as_strings_and_bools_as_ints() {
        let t: T = serde_json::from_str(
            r#"{"a":" 42 ","b":"","c":"1","d":12345678901234,"e":"7","f":"-1302"}"#,
        )
        .unwrap();
        assert_eq!(t.a, 42);
        assert_eq!(t.b, None);
        assert!(t.c);
        assert_eq!(t.d, "12345678901234");
        assert_eq!(t.e, Some(7));
        assert_eq!(t.f, LooseI64(Some(-1302)));
        let t: T = serde_json::from_str(r#"{"a":3.0,"b":null,"c":false,"f":"x"}"#).unwrap();
        assert_eq!(
            (t.a, t.b, t.c, t.d.as_str(), t.f),
            (3, None, false, "", LooseI64(None))
        );
    }

    #[test]
    fn bad_values_name_what_was_expected() {
        let e = serde_json::from_str::<T>(r#"{"a":"abc"}"#).unwrap_err();
        assert!(
            e.to_string().contains("expected an integer, got \"abc\""),
            "{e}"
        );
        let e = serde_json::from_str::<T>(r#"{"a":1,"e":-3}"#).unwrap_err();
        assert!(e.to_string().contains("non-negative"), "{e}");
        let e = serde_json::from_str::<T>(r#"{"a":1.5}"#).unwrap_err();
        assert!(e.to_string().contains("1.5"), "{e}");
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct All {
        #[serde(default, deserialize_with = "i64")]
        a: i64,
        #[serde(default, deserialize_with = "opt_i64")]
        b: Option<i64>,
        #[serde(default, deserialize_with = "bool")]
        c: bool,
        #[serde(default, deserialize_with = "string")]
        d: String,
        #[serde(default, deserialize_with = "opt_u64")]
        e: Option<u64>,
        #[serde(default, deserialize_with = "opt_string")]
        g: Option<String>,
        #[serde(default)]
        f: LooseI64,
    }

    #[test]
    fn the_strict_pass_never_changes_a_result() {
        // Every helper against values strict mode takes, values only lenient mode takes, and
        // values neither takes: `from_slice` must equal a lenient-only decode in every case.
        let values = [
            "0",
            "-1",
            "42",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "-9223372036854775808",
            "3.0",
            "1.5",
            "-0.0",
            "1e3",
            "true",
            "false",
            "null",
            "\"\"",
            "\" 7 \"",
            "\"abc\"",
            "\"true\"",
            "\"1\"",
            "[]",
            "{}",
            "\"-1302\"",
        ];
        let mut strict_hits = 0;
        for field in ["a", "b", "c", "d", "e", "g", "f"] {
            for v in values {
                let body = format!(r#"{{"{field}":{v}}}"#);
                let lenient_only = serde_json::from_slice::<All>(body.as_bytes());
                let both = from_slice::<All>(body.as_bytes());
                match (&lenient_only, &both) {
                    (Ok(x), Ok(y)) => assert_eq!(x, y, "{body}"),
                    (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string(), "{body}"),
                    _ => panic!("{body}: {lenient_only:?} vs {both:?}"),
                }
                let strict_only = strict(|| serde_json::from_slice::<All>(body.as_bytes()));
                if let Ok(s) = strict_only {
                    strict_hits += 1;
                    assert_eq!(Some(&s), lenient_only.as_ref().ok(), "{body}");
                }
            }
        }
        assert!(strict_hits > 10, "the fast path takes the plain values");
        assert!(!is_strict(), "strict mode ends with the call");
    }

    #[test]
    fn strict_mode_is_restored_after_a_panic() {
        let r = std::panic::catch_unwind(|| strict(|| panic!("decoder bug")));
        assert!(r.is_err());
        assert!(!is_strict());
        assert_eq!(
            from_slice::<All>(br#"{"a":"5"}"#).unwrap().a,
            5,
            "lenient fallback still works"
        );
    }

    #[test]
    fn code_scan_is_conservative() {
        let keys: &[&[u8]] = &[b"\"error_code\"", b"\"sub_error_code\""];
        let ok = br#"{"data":{"error_code" : 0 ,"description":""},"extra":{"error_code":0,"sub_error_code":"0","logid":"x"}}"#;
        assert!(codes_all_zero(ok, keys));
        // A non-zero code anywhere, a sub code, a float, null: parse in full.
        for body in [
            &br#"{"data":{"error_code":0},"extra":{"error_code":0,"sub_error_code":1}}"#[..],
            br#"{"data":{"error_code":0.0}}"#,
            br#"{"data":{"error_code":null}}"#,
            br#"{"data":{"error_code":01}}"#,
            br#"{"data":{"error_code":"0x"}}"#,
        ] {
            assert!(
                !codes_all_zero(body, keys),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // The key's text inside a string is not a key.
        assert!(codes_all_zero(
            br#"{"title":"say \"error_code\":1","name":"error_code","data":{"error_code":0}}"#,
            keys
        ));
    }
}
