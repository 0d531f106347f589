//! The typed result of every data query: iFinD's `tables` parsed into columns per security.
//!
//! iFinD answers
//! `{"errorcode":0,"tables":[{"thscode":"300033.SZ","time":[...],"table":{"open":[...],"close":[...]}}]}`
//! where `time[i]` lines up with each indicator's `[i]`. [`Tables`] holds one [`SecurityTable`]
//! per entry: its code, its time column, and its named [`Column`]s, each either numbers
//! (`Vec<Option<Decimal>>`) or text (`Vec<Option<String>>`). [`SecurityTable::rows`] iterates
//! rows for users who want them.
//!
//! Numbers are [`rust_decimal::Decimal`]s: prices and money keep the value iFinD sent (`8.56`
//! stays `8.56`, never `8.559999999999999`). A JSON number is read by the shortest text that
//! round-trips its `f64` (what iFinD's own JSON writer printed); a number beyond a decimal's 28
//! digits keeps its spelling as text, like any other non-numeric value.
//!
//! ## Shapes tolerated (all seen in the wild)
//!
//! - a scalar where an array was expected (`"open": 12.5`, `"time": "2024-01-02"`) is one row;
//! - `"--"`, `""` and `null` are missing values;
//! - numbers as strings (`"12.50"`, kept with its two decimals) are numbers; a column turns to text as soon as one value is
//!   text that is not a number (its numbers then keep their original spelling). A string with a
//!   leading zero (`"000001"`) is text: it is an identifier, not a number;
//! - `time` inside `table` instead of beside it; no `time` at all (`basic_data_service`);
//! - `tables` as one object instead of a list (`get_trade_dates`); an `id` instead of `thscode`
//!   (`edb_service`); other scalars beside `table` are kept as [`SecurityTable::meta`].
//!
//! Columns of different lengths are a decode error naming the column. The decoder deserializes
//! straight into the columns (no intermediate `serde_json::Value`); see `benches/decode.rs`. The
//! visitors live in the `decode` submodule; this module holds the model.
//!
//! ```
//! use conn_ths::Tables;
//! use rust_decimal::Decimal;
//! let body = br#"{"errorcode":0,"tables":[{"thscode":"600519.SH",
//!   "time":["2024-01-02","2024-01-03"],
//!   "table":{"close":[8.56,"--"],"volume":["1200","1300"]}}]}"#;
//! let t = Tables::decode("cmd_history_quotation", body).unwrap();
//! let s = t.get("600519.SH").unwrap();
//! assert_eq!(s.numbers("close").unwrap(), &[Some(Decimal::new(856, 2)), None]);
//! assert_eq!(s.numbers("volume").unwrap(), &[Some(Decimal::from(1200)), Some(Decimal::from(1300))]);
//! let row = s.rows().nth(1).unwrap();
//! assert_eq!(row.time(), Some("2024-01-03"));
//! assert_eq!(row.number("volume"), Some(Decimal::from(1300)));
//! assert_eq!(s.rows().next().unwrap().number("close").unwrap().to_string(), "8.56");
//! ```

mod decode;

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde::de;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

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

/// A column's values. Serialized, numbers are decimal strings (`"8.56"`): exact, and read
/// back as numbers by [`Tables::decode`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ColumnData {
    /// Numbers; `None` for missing (`"--"`, `null`, `""`).
    Numbers(Vec<Option<Decimal>>),
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
    pub fn numbers(&self) -> Option<&[Option<Decimal>]> {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// A number, exactly as sent.
    Number(Decimal),
    /// Text.
    Text(&'a str),
    /// Missing (`"--"`, `null`, `""`).
    Missing,
}

impl<'a> Cell<'a> {
    /// The number, if this is one.
    pub fn as_decimal(self) -> Option<Decimal> {
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
    pub fn numbers(&self, name: &str) -> Option<&[Option<Decimal>]> {
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
    pub fn number(&self, column: &str) -> Option<Decimal> {
        self.get(column).and_then(Cell::as_decimal)
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
