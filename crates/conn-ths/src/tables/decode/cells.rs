//! One value at a time: the visitors that push cells into a column and times into the time
//! column. What counts as missing and as a number is `conn_core::lenient`'s rule, shared with
//! every crate that reads figures.

use std::fmt;

use conn_core::lenient::{decimal_of_f64, is_missing, parse_number};
use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use crate::tables::ColumnData;

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
        match decimal_of_f64(v) {
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
        match parse_number(s) {
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
