//! The typed result of every data query: iFinD's `tables` parsed into columns per security.
//!
//! iFinD answers
//! `{"errorcode":0,"tables":[{"thscode":"300033.SZ","time":[...],"table":{"open":[...],"close":[...]}}]}`
//! where `time[i]` lines up with each indicator's `[i]`. [`Tables`] holds one [`SecurityTable`]
//! per entry: its code, its time column, and its named [`Column`]s, each either numbers
//! (`Vec<Option<f64>>`) or text (`Vec<Option<String>>`). [`SecurityTable::rows`] iterates rows
//! for users who want them.
//!
//! ## Shapes tolerated (all seen in the wild)
//!
//! - a scalar where an array was expected (`"open": 12.5`, `"time": "2024-01-02"`) is one row;
//! - `"--"`, `""` and `null` are missing values;
//! - numbers as strings (`"12.50"`) are numbers; a column turns to text as soon as one value is
//!   text that is not a number (its numbers then keep their original spelling). A string with a
//!   leading zero (`"000001"`) is text: it is an identifier, not a number;
//! - `time` inside `table` instead of beside it; no `time` at all (`basic_data_service`);
//! - `tables` as one object instead of a list (`get_trade_dates`); an `id` instead of `thscode`
//!   (`edb_service`); other scalars beside `table` are kept as [`SecurityTable::meta`].
//!
//! Columns of different lengths are a decode error naming the column. The decoder deserializes
//! straight into the columns (no intermediate `serde_json::Value`); see `benches/decode.rs`.
//!
//! ```
//! use conn_ths::Tables;
//! let body = br#"{"errorcode":0,"tables":[{"thscode":"600519.SH",
//!   "time":["2024-01-02","2024-01-03"],
//!   "table":{"close":[1685.0,"--"],"volume":["1200","1300"]}}]}"#;
//! let t = Tables::decode("cmd_history_quotation", body).unwrap();
//! let s = t.get("600519.SH").unwrap();
//! assert_eq!(s.numbers("close").unwrap(), &[Some(1685.0), None]);
//! assert_eq!(s.numbers("volume").unwrap(), &[Some(1200.0), Some(1300.0)]);
//! let row = s.rows().nth(1).unwrap();
//! assert_eq!(row.time(), Some("2024-01-03"));
//! assert_eq!(row.number("volume"), Some(1300.0));
//! ```

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::{Error, Result};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::params::{parse_date, parse_datetime};
use crate::PLATFORM;

/// The `tables` of a response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tables {
    tables: Vec<SecurityTable>,
    perf: Option<f64>,
    data_vol: Option<f64>,
}

impl Tables {
    /// Decodes a response body. On failure the error is a [`Error::Decode`] carrying the JSON
    /// path (`tables[2].table.close[7]`) and a bounded excerpt of the body.
    pub fn decode(operation: &'static str, body: &[u8]) -> Result<Self> {
        // The fast path carries no path tracking; a failure is decoded again to say where.
        match serde_json::from_slice::<Tables>(body) {
            Ok(t) => Ok(t),
            Err(_) => conn_core::error::decode_json::<Tables>(PLATFORM, operation, body),
        }
    }

    /// Builds a result from tables (for tests and fakes).
    pub fn from_tables(tables: Vec<SecurityTable>) -> Self {
        Self {
            tables,
            perf: None,
            data_vol: None,
        }
    }

    /// The tables, in response order.
    pub fn tables(&self) -> &[SecurityTable] {
        &self.tables
    }

    /// Iterates the tables.
    pub fn iter(&self) -> std::slice::Iter<'_, SecurityTable> {
        self.tables.iter()
    }

    /// The table of one security (by `thscode`), if present.
    pub fn get(&self, code: &str) -> Option<&SecurityTable> {
        self.tables.iter().find(|t| t.code() == Some(code))
    }

    /// The first table (queries that return one table: `smart_stock_picking`, `data_pool`).
    pub fn first(&self) -> Option<&SecurityTable> {
        self.tables.first()
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// True when there is no table.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Server time spent (`perf`), when reported.
    pub fn perf(&self) -> Option<f64> {
        self.perf
    }

    /// Data volume (`dataVol`), when reported.
    pub fn data_vol(&self) -> Option<f64> {
        self.data_vol
    }

    /// The tables, owned.
    pub fn into_tables(self) -> Vec<SecurityTable> {
        self.tables
    }
}

impl<'a> IntoIterator for &'a Tables {
    type Item = &'a SecurityTable;
    type IntoIter = std::slice::Iter<'a, SecurityTable>;
    fn into_iter(self) -> Self::IntoIter {
        self.tables.iter()
    }
}

/// One entry of `tables`: a security's time column and named columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecurityTable {
    code: Option<String>,
    time: Option<Vec<String>>,
    columns: Vec<Column>,
    meta: Vec<(String, String)>,
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    name: String,
    data: ColumnData,
}

/// A column's values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ColumnData {
    /// Numbers; `None` for missing (`"--"`, `null`, `""`).
    Numbers(Vec<Option<f64>>),
    /// Text; `None` for missing.
    Text(Vec<Option<String>>),
}

impl ColumnData {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Numbers(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `row`.
    pub fn cell(&self, row: usize) -> Option<Cell<'_>> {
        match self {
            ColumnData::Numbers(v) => v.get(row).map(|x| x.map_or(Cell::Missing, Cell::Number)),
            ColumnData::Text(v) => v
                .get(row)
                .map(|x| x.as_deref().map_or(Cell::Missing, Cell::Text)),
        }
    }
}

impl Column {
    /// Builds a column (for tests and fakes).
    pub fn new(name: impl Into<String>, data: ColumnData) -> Self {
        Self {
            name: name.into(),
            data,
        }
    }

    /// The indicator name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The values.
    pub fn data(&self) -> &ColumnData {
        &self.data
    }

    /// The numbers, when this is a numeric column.
    pub fn numbers(&self) -> Option<&[Option<f64>]> {
        match &self.data {
            ColumnData::Numbers(v) => Some(v),
            ColumnData::Text(_) => None,
        }
    }

    /// The text, when this is a text column.
    pub fn text(&self) -> Option<&[Option<String>]> {
        match &self.data {
            ColumnData::Text(v) => Some(v),
            ColumnData::Numbers(_) => None,
        }
    }
}

/// One value of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// A number.
    Number(f64),
    /// Text.
    Text(&'a str),
    /// Missing (`"--"`, `null`, `""`).
    Missing,
}

impl<'a> Cell<'a> {
    /// The number, if this is one.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Cell::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl SecurityTable {
    /// Builds a table (for tests and fakes); lengths are not checked here.
    pub fn new(code: Option<String>, time: Option<Vec<String>>, columns: Vec<Column>) -> Self {
        Self {
            code,
            time,
            columns,
            meta: Vec::new(),
        }
    }

    /// The security (`thscode`, or `id` for EDB series).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The time column, when the response has one.
    pub fn times(&self) -> Option<&[String]> {
        self.time.as_deref()
    }

    /// The time column parsed as dates (`None` where a value is not a date).
    pub fn dates(&self) -> Vec<Option<NaiveDate>> {
        self.times()
            .unwrap_or_default()
            .iter()
            .map(|s| parse_date(s))
            .collect()
    }

    /// The time column parsed as date-times (`None` where a value is not one).
    pub fn datetimes(&self) -> Vec<Option<NaiveDateTime>> {
        self.times()
            .unwrap_or_default()
            .iter()
            .map(|s| parse_datetime(s))
            .collect()
    }

    /// The columns, in response order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Column names, in response order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(Column::name)
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A numeric column's values by name (`None` when absent or text).
    pub fn numbers(&self, name: &str) -> Option<&[Option<f64>]> {
        self.column(name).and_then(Column::numbers)
    }

    /// A text column's values by name (`None` when absent or numeric).
    pub fn text(&self, name: &str) -> Option<&[Option<String>]> {
        self.column(name).and_then(Column::text)
    }

    /// Scalars that came beside `table` (other than the code and time), as text.
    pub fn meta(&self) -> &[(String, String)] {
        &self.meta
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.time {
            Some(t) => t.len(),
            None => self.columns.first().map_or(0, |c| c.data.len()),
        }
    }

    /// True when there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows.
    pub fn rows(&self) -> Rows<'_> {
        Rows {
            table: self,
            next: 0,
            end: self.len(),
        }
    }
}

/// Iterator over a table's rows.
#[derive(Debug, Clone)]
pub struct Rows<'a> {
    table: &'a SecurityTable,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Rows<'a> {
    type Item = Row<'a>;
    fn next(&mut self) -> Option<Row<'a>> {
        if self.next >= self.end {
            return None;
        }
        let r = Row {
            table: self.table,
            index: self.next,
        };
        self.next += 1;
        Some(r)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Rows<'_> {}

/// One row of a table.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    table: &'a SecurityTable,
    index: usize,
}

impl<'a> Row<'a> {
    /// The row number.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The security.
    pub fn code(&self) -> Option<&'a str> {
        self.table.code()
    }

    /// The time of this row, when the table has a time column.
    pub fn time(&self) -> Option<&'a str> {
        self.table
            .time
            .as_ref()
            .and_then(|t| t.get(self.index))
            .map(String::as_str)
    }

    /// A value by column name (`None` when there is no such column).
    pub fn get(&self, column: &str) -> Option<Cell<'a>> {
        self.table
            .column(column)
            .and_then(|c| c.data.cell(self.index))
    }

    /// A number by column name (`None` when absent, missing or text).
    pub fn number(&self, column: &str) -> Option<f64> {
        self.get(column).and_then(Cell::as_f64)
    }

    /// Text by column name (`None` when absent, missing or numeric).
    pub fn text(&self, column: &str) -> Option<&'a str> {
        self.get(column).and_then(Cell::as_str)
    }

    /// Every value of the row with its column name.
    pub fn cells(&self) -> impl Iterator<Item = (&'a str, Cell<'a>)> + 'a {
        let i = self.index;
        self.table
            .columns
            .iter()
            .map(move |c| (c.name.as_str(), c.data.cell(i).unwrap_or(Cell::Missing)))
    }
}

// ---------------------------------------------------------------------------------------------
// Serialization back into iFinD's shape (for CLI output and fakes).

impl Serialize for Tables {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("tables", &self.tables)?;
        if let Some(p) = self.perf {
            m.serialize_entry("perf", &p)?;
        }
        if let Some(v) = self.data_vol {
            m.serialize_entry("dataVol", &v)?;
        }
        m.end()
    }
}

impl Serialize for SecurityTable {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        struct Cols<'a>(&'a [Column]);
        impl Serialize for Cols<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for c in self.0 {
                    m.serialize_entry(&c.name, &c.data)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(None)?;
        if let Some(c) = &self.code {
            m.serialize_entry("thscode", c)?;
        }
        if let Some(t) = &self.time {
            m.serialize_entry("time", t)?;
        }
        for (k, v) in &self.meta {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("table", &Cols(&self.columns))?;
        m.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialization straight into columns.

/// Text that counts as a missing value.
fn is_missing(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t == "--"
}

/// A string that is a number (not an identifier such as `000001`).
fn numeric(s: &str) -> Option<f64> {
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
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A column under construction: numeric until a non-numeric text value arrives.
#[derive(Default)]
struct ColBuilder {
    nums: Vec<Option<f64>>,
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

    fn push_num(&mut self, v: f64) {
        match &mut self.text {
            Some(t) => t.push(Some(fmt_num(v))),
            None => self.nums.push(Some(v)),
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
                Some(fmt_num(v))
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
            self.0.push_num(v as f64);
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
            self.0.push_num(v as f64);
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
            self.0.push_num(v);
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

/// Builds a decode error for a response that parsed but did not hold what an operation needs.
pub(crate) fn shape_error(operation: &'static str, path: &str, msg: &str, body: &[u8]) -> Error {
    Error::from(conn_core::error::DecodeError {
        platform: PLATFORM.into(),
        operation: operation.into(),
        path: path.to_owned(),
        excerpt: conn_core::error::excerpt(body),
        source: <serde_json::Error as de::Error>::custom(msg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Tables {
        Tables::decode("test", s.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn numeric_rules() {
        assert_eq!(numeric("12.50"), Some(12.5));
        assert_eq!(numeric("-0.5"), Some(-0.5));
        assert_eq!(numeric("0"), Some(0.0));
        assert_eq!(numeric("1e3"), Some(1000.0));
        assert_eq!(numeric("000001"), None);
        assert_eq!(numeric("inf"), None);
        assert_eq!(numeric("NaN"), None);
        assert_eq!(numeric("12%"), None);
        assert_eq!(numeric("同花顺"), None);
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
