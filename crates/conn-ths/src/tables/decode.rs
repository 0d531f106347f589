//! Deserialization straight into columns: serde visitors that push each value into its
//! column as it is read, so a 3 MB history never becomes a `serde_json::Value` tree.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{Column, ColumnData, SecurityTable, Tables};

/// Text that counts as a missing value.
fn is_missing(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t == "--"
}

/// A string that is a number (not an identifier such as `000001`), as a decimal that keeps its
/// spelling's scale (`"12.50"` is 12.50). Exponents (`1e3`, `1.58E12`) are accepted.
fn numeric(s: &str) -> Option<Decimal> {
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
fn float_decimal(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    // `Display` for f64 never uses an exponent, so this is plain digits.
    Decimal::from_str(&v.to_string()).ok()
}

/// A column under construction: numeric until a non-numeric text value arrives.
#[derive(Default)]
struct ColBuilder {
    nums: Vec<Option<Decimal>>,
    /// The spelling of numbers that arrived as strings, to keep it if the column turns to text.
    spelled: Vec<(usize, String)>,
    text: Option<Vec<Option<String>>>,
}

impl ColBuilder {
    fn len(&self) -> usize {
        match &self.text {
            Some(t) => t.len(),
            None => self.nums.len(),
        }
    }

    fn push_missing(&mut self) {
        match &mut self.text {
            Some(t) => t.push(None),
            None => self.nums.push(None),
        }
    }

    fn push_num(&mut self, v: Decimal) {
        match &mut self.text {
            Some(t) => t.push(Some(v.to_string())),
            None => self.nums.push(Some(v)),
        }
    }

    fn push_float(&mut self, v: f64) {
        match float_decimal(v) {
            Some(d) => self.push_num(d),
            // Too large for a decimal (or not finite): keep the spelling as text.
            None => self.push_str(&fmt_num(v)),
        }
    }

    fn push_str(&mut self, s: &str) {
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

    fn become_text(&mut self) {
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

    fn finish(self) -> ColumnData {
        match self.text {
            Some(t) => ColumnData::Text(t),
            None => ColumnData::Numbers(self.nums),
        }
    }
}

fn fmt_num(v: f64) -> String {
    v.to_string()
}

/// Pushes one value into a column.
struct CellInto<'b>(&'b mut ColBuilder);

impl<'de> DeserializeSeed<'de> for CellInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(CellVisitor(self.0))
    }
}

struct CellVisitor<'b>(&'b mut ColBuilder);

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
struct ColumnInto<'b>(&'b mut ColBuilder);

impl<'de> DeserializeSeed<'de> for ColumnInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(ColumnVisitor(self.0))
    }
}

struct ColumnVisitor<'b>(&'b mut ColBuilder);

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
struct TimeInto<'b>(&'b mut Vec<String>);

impl<'de> DeserializeSeed<'de> for TimeInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(TimeVisitor(self.0))
    }
}

struct TimeVisitor<'b>(&'b mut Vec<String>);

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

struct TimeElem<'b>(&'b mut Vec<String>);

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

/// The columns of one table entry, in arrival order.
#[derive(Default)]
struct EntryBuilder {
    code: Option<String>,
    time: Option<Vec<String>>,
    columns: Vec<(String, ColBuilder)>,
    meta: Vec<(String, String)>,
}

impl EntryBuilder {
    fn column(&mut self, name: String) -> &mut ColBuilder {
        // Duplicate names append to the first column of that name, which then fails the length
        // check by name rather than silently shadowing one column with another.
        let pos = match self.columns.iter().position(|(n, _)| *n == name) {
            Some(p) => p,
            None => {
                self.columns.push((name, ColBuilder::default()));
                self.columns.len() - 1
            }
        };
        &mut self.columns[pos].1
    }

    fn time_mut(&mut self) -> &mut Vec<String> {
        self.time.get_or_insert_with(Vec::new)
    }

    fn finish<E: de::Error>(self) -> std::result::Result<SecurityTable, E> {
        let (reference, n) = match (&self.time, self.columns.first()) {
            (Some(t), _) => ("`time`".to_owned(), t.len()),
            (None, Some((name, c))) => (format!("column `{name}`"), c.len()),
            (None, None) => (String::new(), 0),
        };
        for (name, c) in &self.columns {
            if c.len() != n {
                return Err(E::custom(format!(
                    "column `{name}` has {} values but {reference} has {n}{}",
                    c.len(),
                    self.code
                        .as_deref()
                        .map(|c| format!(" (security {c})"))
                        .unwrap_or_default()
                )));
            }
        }
        Ok(SecurityTable {
            code: self.code,
            time: self.time,
            columns: self
                .columns
                .into_iter()
                .map(|(name, b)| Column {
                    name,
                    data: b.finish(),
                })
                .collect(),
            meta: self.meta,
        })
    }
}

impl<'de> Deserialize<'de> for SecurityTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = SecurityTable;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table entry object")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut m: A,
    ) -> std::result::Result<SecurityTable, A::Error> {
        let mut b = EntryBuilder::default();
        while let Some(key) = m.next_key::<String>()? {
            match key.as_str() {
                "thscode" | "id" if b.code.is_none() => b.code = m.next_value::<Ident>()?.0,
                // A second `time` (beside and inside `table`) repeats the first: keep one.
                "time" if b.time.is_some() => {
                    m.next_value::<IgnoredAny>()?;
                }
                "time" => m.next_value_seed(TimeInto(b.time_mut()))?,
                "table" => m.next_value_seed(TableInto(&mut b))?,
                _ => m.next_value_seed(ExtraInto { b: &mut b, key })?,
            }
        }
        b.finish()
    }
}

/// The `table` object: columns, and possibly `time`.
struct TableInto<'b>(&'b mut EntryBuilder);

impl<'de> DeserializeSeed<'de> for TableInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        struct V<'b>(&'b mut EntryBuilder);
        impl<'de> Visitor<'de> for V<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of columns")
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
                Ok(())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<(), A::Error> {
                while let Some(key) = m.next_key::<String>()? {
                    if key == "time" && self.0.time.is_some() {
                        m.next_value::<IgnoredAny>()?;
                    } else if key == "time" {
                        m.next_value_seed(TimeInto(self.0.time_mut()))?;
                    } else {
                        m.next_value_seed(ColumnInto(self.0.column(key)))?;
                    }
                }
                Ok(())
            }
        }
        d.deserialize_any(V(self.0))
    }
}

/// A key beside `table`: an array is a column, a scalar is metadata, an object is ignored.
struct ExtraInto<'b> {
    b: &'b mut EntryBuilder,
    key: String,
}

impl<'de> DeserializeSeed<'de> for ExtraInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ExtraInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<(), E> {
        self.b.meta.push((self.key, v.to_string()));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<(), E> {
        self.b.meta.push((self.key, v.to_string()));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
        self.b.meta.push((self.key, v.to_string()));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
        self.b.meta.push((self.key, fmt_num(v)));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
        self.b.meta.push((self.key, v.to_owned()));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<(), A::Error> {
        ColumnVisitor(self.b.column(self.key)).visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<(), A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// A code: a string, a number, or the first string of an array.
struct Ident(Option<String>);

impl<'de> Deserialize<'de> for Ident {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ident;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a security code")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Ident, E> {
                Ok(Ident((!v.is_empty()).then(|| v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Ident, E> {
                Ok(Ident(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Ident, E> {
                Ok(Ident(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Ident, E> {
                Ok(Ident(None))
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<Ident, E> {
                Ok(Ident(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> std::result::Result<Ident, A::Error> {
                let first = s.next_element::<Ident>()?.and_then(|i| i.0);
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Ident(first))
            }
        }
        d.deserialize_any(V)
    }
}

/// A number that may arrive as a string.
struct LooseF64(Option<f64>);

impl<'de> Deserialize<'de> for LooseF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LooseF64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<LooseF64, E> {
                Ok(LooseF64(Some(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<LooseF64, E> {
                Ok(LooseF64(Some(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<LooseF64, E> {
                Ok(LooseF64(Some(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<LooseF64, E> {
                Ok(LooseF64(v.trim().parse().ok()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<LooseF64, E> {
                Ok(LooseF64(None))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<LooseF64, E> {
                Ok(LooseF64(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> std::result::Result<LooseF64, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LooseF64(None))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<LooseF64, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LooseF64(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `tables`: a list of entries, one entry object, or null.
struct TableList(Vec<SecurityTable>);

impl<'de> Deserialize<'de> for TableList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TableList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of tables")
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<TableList, E> {
                Ok(TableList(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<TableList, E> {
                Ok(TableList(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> std::result::Result<TableList, A::Error> {
                let mut v = Vec::with_capacity(s.size_hint().unwrap_or(0));
                while let Some(t) = s.next_element::<SecurityTable>()? {
                    v.push(t);
                }
                Ok(TableList(v))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                m: A,
            ) -> std::result::Result<TableList, A::Error> {
                Ok(TableList(vec![EntryVisitor.visit_map(m)?]))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Tables {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tables;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an iFinD response object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Tables, A::Error> {
                let mut out = Tables::default();
                while let Some(key) = m.next_key::<TopKey>()? {
                    match key {
                        TopKey::Tables => out.tables = m.next_value::<TableList>()?.0,
                        TopKey::Perf => out.perf = m.next_value::<LooseF64>()?.0,
                        TopKey::DataVol => out.data_vol = m.next_value::<LooseF64>()?.0,
                        TopKey::Other => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

enum TopKey {
    Tables,
    Perf,
    DataVol,
    Other,
}

impl<'de> Deserialize<'de> for TopKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TopKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<TopKey, E> {
                Ok(match v {
                    "tables" => TopKey::Tables,
                    "perf" => TopKey::Perf,
                    "dataVol" => TopKey::DataVol,
                    _ => TopKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Tables {
        Tables::decode("test", s.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn numeric_rules() {
        assert_eq!(numeric("12.50"), Some(dec("12.50")));
        assert_eq!(numeric("12.50").unwrap().to_string(), "12.50");
        assert_eq!(numeric("-0.5"), Some(dec("-0.5")));
        assert_eq!(numeric("0"), Some(Decimal::ZERO));
        assert_eq!(numeric("1e3"), Some(dec("1000")));
        assert_eq!(numeric("1.58E12"), Some(dec("1580000000000")));
        assert_eq!(numeric("000001"), None);
        assert_eq!(numeric("inf"), None);
        assert_eq!(numeric("NaN"), None);
        assert_eq!(numeric("12%"), None);
        assert_eq!(numeric("同花顺"), None);
    }

    #[test]
    fn floats_keep_the_sent_digits() {
        let t = decode(
            r#"{"tables":[{"table":{"p":[8.56, 0.1, 1304.0, 1.58e12, -0.0001, 12345678.9876]}}]}"#,
        );
        let got: Vec<String> = t
            .first()
            .unwrap()
            .numbers("p")
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect();
        assert_eq!(
            got,
            [
                "8.56",
                "0.1",
                "1304",
                "1580000000000",
                "-0.0001",
                "12345678.9876"
            ]
        );
    }

    #[test]
    fn out_of_range_numbers_are_text_not_errors() {
        let t = decode(r#"{"tables":[{"table":{"big":[1e40, 2], "ok":[1, 2]}}]}"#);
        let s = t.first().unwrap();
        assert_eq!(s.text("big").unwrap()[1].as_deref(), Some("2"));
        assert!(s.text("big").unwrap()[0]
            .as_deref()
            .unwrap()
            .starts_with("1000000000"));
        assert_eq!(s.numbers("ok").unwrap(), &[Some(dec("1")), Some(dec("2"))]);
    }

    #[test]
    fn column_turns_to_text_keeping_spelling() {
        let t = decode(r#"{"tables":[{"table":{"c":["1.50", 2, "--", "abc"]}}]}"#);
        let s = t.first().unwrap();
        assert_eq!(
            s.text("c").unwrap(),
            &[
                Some("1.50".to_owned()),
                Some("2".to_owned()),
                None,
                Some("abc".to_owned())
            ]
        );
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn serialize_round_trips() {
        let t = decode(
            r#"{"tables":[{"thscode":"600519.SH","time":["2024-01-02"],"table":{"open":[1.5],"name":["x"]}}],"perf":3}"#,
        );
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(decode(&s), t);
    }
}
