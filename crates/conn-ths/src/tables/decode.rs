//! Deserialization straight into columns: serde visitors that push each value into its
//! column as it is read, so a 3 MB history never becomes a `serde_json::Value` tree. This
//! module reads the structure (entries, `table`, `tables`); `cells` reads the values.

mod cells;

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use self::cells::{fmt_num, ColBuilder, ColumnInto, ColumnVisitor, TimeInto};
use super::{Column, SecurityTable, Tables};

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
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn decode(s: &str) -> Tables {
        Tables::decode("test", s.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
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
        // Beyond 2^53, or past 12 decimals, the digits come from the spelling path.
        let t = decode(r#"{"tables":[{"table":{"p":[1e20, 0.000000000000123, 2.675]}}]}"#);
        let got: Vec<String> = t
            .first()
            .unwrap()
            .numbers("p")
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect();
        assert_eq!(got, ["100000000000000000000", "0.000000000000123", "2.675"]);
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
