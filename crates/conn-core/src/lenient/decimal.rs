//! Exact decimals from platform JSON (behind the `decimal` feature): prices and money that
//! arrive as JSON numbers, as strings (`"12.50"`, `"1.58E12"`), or as a missing marker (`"--"`,
//! `""`, `null`). One set of rules for every crate: iFinD's tables and the ERP's [`Money`] read
//! numbers through these.
//!
//! [`Money`]: https://docs.rs/conn-erp/latest/conn_erp/struct.Money.html
//!
//! ```
//! use rust_decimal::Decimal;
//!
//! #[derive(serde::Deserialize)]
//! struct Quote {
//!     #[serde(deserialize_with = "conn_core::lenient::decimal")]
//!     close: Decimal,
//!     #[serde(default, deserialize_with = "conn_core::lenient::opt_decimal")]
//!     open: Option<Decimal>,
//! }
//! let q: Quote = serde_json::from_str(r#"{"close":"12.50","open":"--"}"#).unwrap();
//! assert_eq!((q.close.to_string(), q.open), ("12.50".to_owned(), None));
//! let q: Quote = serde_json::from_str(r#"{"close":8.56,"open":1e3}"#).unwrap();
//! assert_eq!((q.close.to_string(), q.open.map(|d| d.to_string())), ("8.56".into(), Some("1000".into())));
//! ```

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};

// The four text rules below run once per table cell, called from other crates: `#[inline]`
// lets them inline across the crate boundary, as they did when iFinD kept its own copies.

/// Text that stands for a missing value: empty (after trimming) or `--`, as iFinD and several
/// ERPs send for "no figure".
#[inline]
pub fn is_missing(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t == "--"
}

/// Any decimal spelling, trimmed: `"12.30"`, `"-5"`, `"1e3"`, `"007.5"`. The scale of the
/// spelling is kept (`"12.30"` prints as `12.30`). `None` for anything else, and beyond a
/// decimal's range.
///
/// ```
/// use conn_core::lenient::parse_decimal;
/// assert_eq!(parse_decimal(" 12.30 ").map(|d| d.to_string()).as_deref(), Some("12.30"));
/// assert_eq!(parse_decimal("1e3").map(|d| d.to_string()).as_deref(), Some("1000"));
/// assert_eq!(parse_decimal("12%"), None);
/// ```
#[inline]
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    Decimal::from_str(t)
        .ok()
        .or_else(|| Decimal::from_scientific(t).ok())
}

/// A string that is a *number* rather than an identifier: like [`parse_decimal`], but a
/// leading zero followed by a digit (`"000001"`, a security code or an account number) is not
/// a number, and neither is `inf` or `NaN`. This is the rule that decides whether a column of
/// strings holds figures.
///
/// ```
/// use conn_core::lenient::parse_number;
/// assert_eq!(parse_number("0.5").map(|d| d.to_string()).as_deref(), Some("0.5"));
/// assert_eq!(parse_number("000001"), None);
/// ```
#[inline]
pub fn parse_number(s: &str) -> Option<Decimal> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t).as_bytes();
    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
        return None;
    }
    if !digits
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
    {
        return None;
    }
    if t.bytes().any(|b| b == b'e' || b == b'E') {
        return Decimal::from_scientific(t).ok();
    }
    Decimal::from_str(t).ok()
}

/// A JSON float as the decimal its shortest round-trip spelling says: the `f64` nearest to
/// `8.56` gives 8.56, which is what the sender wrote. `None` when not finite or beyond a
/// decimal's range.
///
/// ```
/// use conn_core::lenient::decimal_of_f64;
/// assert_eq!(decimal_of_f64(0.1).map(|d| d.to_string()).as_deref(), Some("0.1"));
/// assert_eq!(decimal_of_f64(f64::NAN), None);
/// ```
#[inline]
pub fn decimal_of_f64(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    // Fast path (prices and money carry a few decimals): the smallest scale at which the value
    // round-trips is the spelling the sender wrote. Formatting every number as text first made
    // decoding an iFinD table twice as slow as building a `serde_json::Value`.
    let mut pow = 1.0_f64;
    for scale in 0..=12_u32 {
        let m = (v * pow).round();
        if m.abs() >= MAX_EXACT {
            break;
        }
        if m / pow == v {
            // `m` is integral and below 2^53, so the cast is exact.
            return Some(Decimal::new(m as i64, scale));
        }
        pow *= 10.0;
    }
    // `Display` for f64 never uses an exponent, so this is plain digits.
    Decimal::from_str(&v.to_string()).ok()
}

/// 2⁵³: below it every whole `f64` is exact, and converts to `i64` exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A decimal from a JSON number or a decimal string (serde `deserialize_with`). A missing
/// marker is an error here; use [`opt_decimal`] where a figure may be absent.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    match d.deserialize_any(DecimalVisitor)? {
        Some(v) => Ok(v),
        None => Err(de::Error::custom(
            "a decimal is required, found a missing value",
        )),
    }
}

/// Like [`decimal`], with `null`, `""` and `"--"` read as `None`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// Reads a number or a string; `Ok(None)` for a missing value.
struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal as a number or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        decimal_of_f64(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("not a decimal in range: {}", super::shown(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if is_missing(v) {
            return Ok(None);
        }
        match parse_decimal(v) {
            Some(d) => Ok(Some(d)),
            None => Err(E::custom(format!(
                "not a decimal: {}",
                super::shown(format!("{v:?}"))
            ))),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn number_rules() {
        assert_eq!(parse_number("12.50"), Some(dec("12.50")));
        assert_eq!(parse_number("12.50").unwrap().to_string(), "12.50");
        assert_eq!(parse_number("-0.5"), Some(dec("-0.5")));
        assert_eq!(parse_number("0"), Some(Decimal::ZERO));
        assert_eq!(parse_number("1e3"), Some(dec("1000")));
        assert_eq!(parse_number("1.58E12"), Some(dec("1580000000000")));
        assert_eq!(parse_number("000001"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("12%"), None);
        assert_eq!(parse_number("同花顺"), None);
    }

    #[test]
    fn decimal_rules() {
        assert_eq!(parse_decimal("007.5"), Some(dec("7.5")));
        assert_eq!(parse_decimal("  -5 "), Some(dec("-5")));
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("--"), None);
        assert_eq!(parse_decimal("1e400"), None);
        // Hostile exponents and lengths: refused, never a panic.
        for s in [
            "1e-4000000000",
            "1e99999999999999999999",
            "-1E+9223372036854775807",
            ".",
        ] {
            assert_eq!(parse_decimal(s), None, "{s}");
            assert_eq!(parse_number(s), None, "{s}");
        }
        assert_eq!(parse_number(&"9".repeat(100_000)), None);
        assert!(is_missing(" -- ") && is_missing("") && !is_missing("0"));
    }

    #[test]
    fn floats_keep_the_sent_digits() {
        for (v, want) in [
            (8.56, "8.56"),
            (0.1, "0.1"),
            (1304.0, "1304"),
            (1.58e12, "1580000000000"),
            (-0.0001, "-0.0001"),
            (12_345_678.987_6, "12345678.9876"),
            (2.675, "2.675"),
        ] {
            assert_eq!(decimal_of_f64(v).unwrap().to_string(), want, "{v}");
        }
        assert_eq!(decimal_of_f64(f64::INFINITY), None);
        assert_eq!(decimal_of_f64(1e300), None);
    }

    #[derive(Debug, serde::Deserialize)]
    struct Row {
        #[serde(deserialize_with = "decimal")]
        a: Decimal,
        #[serde(default, deserialize_with = "opt_decimal")]
        b: Option<Decimal>,
    }

    #[test]
    fn serde_helpers_take_numbers_strings_and_missing_markers() {
        let r: Row = serde_json::from_str(r#"{"a":"0.1","b":null}"#).unwrap();
        assert_eq!((r.a, r.b), (dec("0.1"), None));
        let r: Row = serde_json::from_str(r#"{"a":7,"b":"--"}"#).unwrap();
        assert_eq!((r.a, r.b), (dec("7"), None));
        let r: Row = serde_json::from_str(r#"{"a":-3.25,"b":" 2 "}"#).unwrap();
        assert_eq!((r.a, r.b), (dec("-3.25"), Some(dec("2"))));
        let r: Row = serde_json::from_str(r#"{"a":1}"#).unwrap();
        assert_eq!(r.b, None);

        let e = serde_json::from_str::<Row>(r#"{"a":"--"}"#).unwrap_err();
        assert!(e.to_string().contains("missing value"), "{e}");
        let e = serde_json::from_str::<Row>(r#"{"a":"12%"}"#).unwrap_err();
        assert!(e.to_string().contains("not a decimal: \"12%\""), "{e}");
        let e = serde_json::from_str::<Row>(r#"{"a":true}"#).unwrap_err();
        assert!(
            e.to_string().contains("a decimal as a number or a string"),
            "{e}"
        );
    }

    #[test]
    fn a_huge_string_is_refused_with_a_short_message() {
        let big = "9".repeat(100_000);
        let e = serde_json::from_str::<Row>(&format!(r#"{{"a":"{big}"}}"#)).unwrap_err();
        assert!(e.to_string().len() < 400, "{}", e.to_string().len());
    }
}
