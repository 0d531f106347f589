//! One value at a time: what counts as missing, what counts as a number (a decimal), and the
//! visitors that push cells into a column and times into the time column.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use crate::tables::ColumnData;

/// Text that counts as a missing value.
pub(super) fn is_missing(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t == "--"
}

/// A string that is a number (not an identifier such as `000001`), as a decimal that keeps its
/// spelling's scale (`"12.50"` is 12.50). Exponents (`1e3`, `1.58E12`) are accepted.
pub(super) fn numeric(s: &str) -> Option<Decimal> {
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
/// `8.56` prints as `8.56`, which is what the sender wrote. `None` beyond a decimal's range.
pub(super) fn float_decimal(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    // Fast path (prices and money carry a few decimals): the smallest scale at which the
    // value round-trips is the spelling the sender wrote. Formatting every number as text
    // first made decoding twice as slow as building a `serde_json::Value`.
    let mut pow = 1.0_f64;
    for scale in 0..=12_u32 {
        let m = (v * pow).round();
        if m.abs() >= MAX_EXACT {
            break;
        }
        if m / pow == v {
            return Some(Decimal::new(m as i64, scale));
        }
        pow *= 10.0;
    }
    // `Display` for f64 never uses an exponent, so this is plain digits.
    Decimal::from_str(&v.to_string()).ok()
}

/// 2⁵³: below it every whole `f64` is exact, and converts to `i64` exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A column under construction: numeric until a non-numeric text value arrives.
#[derive(Default)]
pub(super) struct ColBuilder {
    nums: Vec<Option<Decimal>>,
    /// The spelling of numbers that arrived as strings, to keep it if the column turns to text.
    spelled: Vec<(usize, String)>,
    text: Option<Vec<Option<String>>>,
}

impl ColBuilder {
    pub(super) fn len(&self) -> usize {
        match &self.text {
            Some(t) => t.len(),
            None => self.nums.len(),
        }
    }

    pub(super) fn push_missing(&mut self) {
        match &mut self.text {
            Some(t) => t.push(None),
            None => self.nums.push(None),
        }
    }

    pub(super) fn push_num(&mut self, v: Decimal) {
        match &mut self.text {
            Some(t) => t.push(Some(v.to_string())),
            None => self.nums.push(Some(v)),
        }
    }

    pub(super) fn push_float(&mut self, v: f64) {
        match float_decimal(v) {
            Some(d) => self.push_num(d),
            // Too large for a decimal (or not finite): keep the spelling as text.
            None => self.push_str(&fmt_num(v)),
        }
    }

    pub(super) fn push_str(&mut self, s: &str) {
        if is_missing(s) {
            return self.push_missing();
        }
        if let Some(t) = &mut self.text {
            t.push(Some(s.to_owned()));
            return;
        }
        match numeric(s) {
            Some(v) => {
                self.spelled.push((self.nums.len(), s.to_owned()));
                self.nums.push(Some(v));
            }
            None => {
                self.become_text();
                if let Some(t) = &mut self.text {
                    t.push(Some(s.to_owned()));
                }
            }
        }
    }

    pub(super) fn become_text(&mut self) {
        let mut spelled = std::mem::take(&mut self.spelled).into_iter().peekable();
        let text = self
            .nums
            .drain(..)
            .enumerate()
            .map(|(i, v)| {
                let v = v?;
                if spelled.peek().is_some_and(|(j, _)| *j == i) {
                    return spelled.next().map(|(_, s)| s);
                }
                Some(v.to_string())
            })
            .collect();
        self.text = Some(text);
    }

    pub(super) fn finish(self) -> ColumnData {
        match self.text {
            Some(t) => ColumnData::Text(t),
            None => ColumnData::Numbers(self.nums),
        }
    }
}

pub(super) fn fmt_num(v: f64) -> String {
    v.to_string()
}

/// Pushes one value into a column.
pub(super) struct CellInto<'b>(pub(super) &'b mut ColBuilder);

impl<'de> DeserializeSeed<'de> for CellInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(CellVisitor(self.0))
    }
}

pub(super) struct CellVisitor<'b>(pub(super) &'b mut ColBuilder);

macro_rules! scalar_visits {
    () => {
        fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<(), E> {
            self.0.push_str(if v { "true" } else { "false" });
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<(), E> {
            self.0.push_num(Decimal::from(v));
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
            self.0.push_num(Decimal::from(v));
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
            self.0.push_float(v);
            Ok(())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
            self.0.push_str(v);
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
            self.0.push_missing();
            Ok(())
        }
        fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
            self.0.push_missing();
            Ok(())
        }
    };
}

impl<'de> Visitor<'de> for CellVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string or null")
    }
    scalar_visits!();
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// Fills a column from an array, or from a scalar (one row).
pub(super) struct ColumnInto<'b>(pub(super) &'b mut ColBuilder);

impl<'de> DeserializeSeed<'de> for ColumnInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(ColumnVisitor(self.0))
    }
}

pub(super) struct ColumnVisitor<'b>(pub(super) &'b mut ColBuilder);

impl<'de> Visitor<'de> for ColumnVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of values or a single value")
    }
    scalar_visits!();
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.0.nums.reserve(n);
        }
        while seq.next_element_seed(CellInto(self.0))?.is_some() {}
        Ok(())
    }
}

/// The time column: an array of strings (numbers and null tolerated) or one string.
pub(super) struct TimeInto<'b>(pub(super) &'b mut Vec<String>);

impl<'de> DeserializeSeed<'de> for TimeInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(TimeVisitor(self.0))
    }
}

pub(super) struct TimeVisitor<'b>(pub(super) &'b mut Vec<String>);

impl<'de> Visitor<'de> for TimeVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of times or a single time")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
        self.0.push(v.to_owned());
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<(), E> {
        self.0.push(v.to_string());
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
        self.0.push(v.to_string());
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
        self.0.push(fmt_num(v));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.0.push(String::new());
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        self.0.push(String::new());
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.0.reserve(n);
        }
        while seq.next_element_seed(TimeElem(self.0))?.is_some() {}
        Ok(())
    }
}

pub(super) struct TimeElem<'b>(pub(super) &'b mut Vec<String>);

impl<'de> DeserializeSeed<'de> for TimeElem<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        struct V<'b>(&'b mut Vec<String>);
        impl<'de> Visitor<'de> for V<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
                TimeVisitor(self.0).visit_str(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<(), E> {
                TimeVisitor(self.0).visit_i64(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
                TimeVisitor(self.0).visit_u64(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
                TimeVisitor(self.0).visit_f64(v)
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
                TimeVisitor(self.0).visit_unit()
            }
        }
        d.deserialize_any(V(self.0))
    }
}
