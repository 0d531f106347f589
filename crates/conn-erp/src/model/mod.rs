//! Typed models: [`Money`], [`Period`], [`Order`], [`NewOrder`], [`CreatedOrder`],
//! [`FinancialData`].
//!
//! Amounts are [`rust_decimal::Decimal`], never floats. On input an amount may be a JSON string
//! (`"12.30"`) or a JSON number (`12.3`); a number is read through its shortest decimal text, so
//! `0.1` is exactly one tenth. On output amounts are written as strings, so no digit is lost to
//! a float on either side.
//!
//! ERPs name their fields differently (ERPNext `name`/`grand_total`, 聚水潭 `o_id`/`pay_amount`),
//! so orders are read through [`OrderFields`]: for each typed field, the candidate keys in order,
//! the first present wins. The whole object stays available as `raw`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use conn_core::error::{excerpt, DecodeError};
use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::PLATFORM;

/// A money amount: an exact decimal.
///
/// ```
/// use conn_erp::Money;
/// let a: Money = serde_json::from_str("\"0.1\"").unwrap();
/// let b: Money = serde_json::from_str("0.2").unwrap();
/// assert_eq!((a + b).to_string(), "0.3");
/// assert_eq!(serde_json::to_string(&(a + b)).unwrap(), "\"0.3\"");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps a decimal.
    pub fn new(amount: Decimal) -> Self {
        Self(amount)
    }

    /// Parses a decimal string (`"12.30"`, `"-5"`, `"1e3"`); a bad one is a validation error
    /// naming `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        parse_decimal(s.trim())
            .map(Self)
            .ok_or_else(|| Error::validation(field, format!("not a decimal amount: {s:?}")))
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// True when below zero.
    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    if s.is_empty() {
        return None;
    }
    Decimal::from_str(s)
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Money {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse("amount", s)
    }
}

impl From<Decimal> for Money {
    fn from(d: Decimal) -> Self {
        Self(d)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + *b)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(DecimalVisitor).map(Money)
    }
}

fn ser_decimal<S: Serializer>(d: &Decimal, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn de_decimal<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// Reads a decimal from a JSON string or number.
struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount as a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Decimal, E> {
        parse_decimal(v.trim()).ok_or_else(|| E::custom(format!("not a decimal amount: {v:?}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("not a finite amount"));
        }
        // Rust prints the shortest text that reads back as the same f64, which is the text the
        // JSON carried for any amount with up to 15 significant digits: 0.1 stays one tenth.
        parse_decimal(&v.to_string()).ok_or_else(|| E::custom(format!("amount out of range: {v}")))
    }
}

/// A reporting period: a date range (inclusive) or a calendar month. Always `start ≤ end`.
///
/// ```
/// use conn_erp::Period;
/// let p: Period = "2024-02".parse().unwrap();
/// assert_eq!(p.end().to_string(), "2024-02-29");
/// let err = "2024-03-01..2024-02-01".parse::<Period>().unwrap_err();
/// assert!(err.to_string().contains("period.start"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
    month: Option<(i32, u32)>,
}

impl Period {
    /// An inclusive date range; `start > end` is a validation error naming `period.start`.
    pub fn range(start: NaiveDate, end: NaiveDate) -> Result<Self> {
        if start > end {
            return Err(Error::validation(
                "period.start",
                format!("must be on or before period.end ({start} is after {end})"),
            ));
        }
        Ok(Self {
            start,
            end,
            month: None,
        })
    }

    /// A calendar month; the month must be 1–12 (`period.month`), the year 1900–9999
    /// (`period.year`).
    pub fn month(year: i32, month: u32) -> Result<Self> {
        if !(1900..=9999).contains(&year) {
            return Err(Error::validation(
                "period.year",
                format!("must be between 1900 and 9999 (got {year})"),
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(Error::validation(
                "period.month",
                format!("must be between 1 and 12 (got {month})"),
            ));
        }
        let start = NaiveDate::from_ymd_opt(year, month, 1)
            .ok_or_else(|| Error::validation("period.month", "not a valid month"))?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        let end = next
            .and_then(|d| d.pred_opt())
            .ok_or_else(|| Error::validation("period.month", "not a valid month"))?;
        Ok(Self {
            start,
            end,
            month: Some((year, month)),
        })
    }

    /// First day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Last day (inclusive).
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// `(year, month)` when built as a month.
    pub fn as_month(&self) -> Option<(i32, u32)> {
        self.month
    }

    /// True when `date` falls in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.month {
            Some((y, m)) => write!(f, "{y:04}-{m:02}"),
            None => write!(f, "{}..{}", self.start, self.end),
        }
    }
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::validation(field, format!("expected a date as YYYY-MM-DD, got {s:?}")))
}

impl FromStr for Period {
    type Err = Error;

    /// `YYYY-MM` (a month), or `YYYY-MM-DD..YYYY-MM-DD` (`/` also separates).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..").or_else(|| s.split_once('/')) {
            return Self::range(parse_date("period.start", a)?, parse_date("period.end", b)?);
        }
        let bad = || {
            Error::validation(
                "period",
                format!("expected YYYY-MM or YYYY-MM-DD..YYYY-MM-DD, got {s:?}"),
            )
        };
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return Err(bad());
        }
        let year = y.parse::<i32>().map_err(|_| bad())?;
        let month = m.parse::<u32>().map_err(|_| bad())?;
        Self::month(year, month)
    }
}

impl From<NaiveDate> for Period {
    /// A single day.
    fn from(d: NaiveDate) -> Self {
        Self {
            start: d,
            end: d,
            month: None,
        }
    }
}

/// Which keys of an ERP's order object hold the typed fields: for each, the candidates in
/// order, the first present wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFields {
    /// Order id: `id`, `order_id`, `name` (ERPNext), `o_id` (聚水潭), `so_id`.
    pub id: Vec<String>,
    /// Status: `status`, `docstatus`.
    pub status: Vec<String>,
    /// Customer: `customer`, `customer_name`, `shop_buyer_id`.
    pub customer: Vec<String>,
    /// Currency: `currency`.
    pub currency: Vec<String>,
    /// Total: `total_amount`, `grand_total` (ERPNext), `pay_amount` (聚水潭), `amount`, `total`.
    pub total_amount: Vec<String>,
    /// Creation time/date: `created_at`, `creation`, `transaction_date`, `order_date`, `created`.
    pub created_at: Vec<String>,
    /// Lines: `items`, `order_items`.
    pub items: Vec<String>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for OrderFields {
    fn default() -> Self {
        Self {
            id: strings(&["id", "order_id", "name", "o_id", "so_id"]),
            status: strings(&["status", "docstatus"]),
            customer: strings(&["customer", "customer_name", "shop_buyer_id"]),
            currency: strings(&["currency"]),
            total_amount: strings(&[
                "total_amount",
                "grand_total",
                "pay_amount",
                "amount",
                "total",
            ]),
            created_at: strings(&[
                "created_at",
                "creation",
                "transaction_date",
                "order_date",
                "created",
            ]),
            items: strings(&["items", "order_items"]),
        }
    }
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderItem {
    /// SKU (`sku`, `sku_id`, `item_code`).
    pub sku: Option<String>,
    /// Name (`name`, `item_name`).
    pub name: Option<String>,
    /// Quantity (`quantity`, `qty`).
    pub quantity: Option<Decimal>,
    /// Unit price (`unit_price`, `price`, `rate`).
    pub unit_price: Option<Money>,
    /// Line amount (`amount`).
    pub amount: Option<Money>,
}

/// An order as the ERP returned it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    /// Order id (numbers are turned into text).
    pub id: String,
    /// Status.
    pub status: Option<String>,
    /// Customer.
    pub customer: Option<String>,
    /// Currency.
    pub currency: Option<String>,
    /// Total amount.
    pub total_amount: Option<Money>,
    /// Creation time or date, as the ERP wrote it.
    pub created_at: Option<String>,
    /// Lines.
    pub items: Vec<OrderItem>,
    /// The whole object.
    pub raw: Value,
}

/// Where a decode failed, for [`DecodeError`]s built outside serde.
pub(crate) fn decode_error(operation: &'static str, path: &str, body: &Value, msg: &str) -> Error {
    DecodeError {
        platform: PLATFORM.into(),
        operation: operation.into(),
        path: path.to_owned(),
        excerpt: excerpt(body.to_string().as_bytes()),
        source: de::Error::custom(msg),
    }
    .into()
}

fn first<'a>(obj: &'a Map<String, Value>, keys: &[String]) -> Option<(&'a str, &'a Value)> {
    keys.iter().find_map(|k| {
        obj.get_key_value(k.as_str())
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.as_str(), v))
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn money_at(
    op: &'static str,
    path: &str,
    obj: &Map<String, Value>,
    keys: &[String],
) -> Result<Option<Money>> {
    match first(obj, keys) {
        None => Ok(None),
        // An empty string is how several ERPs write "no amount".
        Some((_, Value::String(s))) if s.trim().is_empty() => Ok(None),
        Some((k, v)) => Money::deserialize(v)
            .map(Some)
            .map_err(|e| decode_error(op, &format!("{path}.{k}"), v, &e.to_string())),
    }
}

fn decimal_at(
    op: &'static str,
    path: &str,
    obj: &Map<String, Value>,
    keys: &[String],
) -> Result<Option<Decimal>> {
    Ok(money_at(op, path, obj, keys)?.map(|m| m.amount()))
}

impl Order {
    /// Reads an order from an ERP object; `path` names where it sat, for errors.
    pub fn from_json(
        operation: &'static str,
        path: &str,
        value: &Value,
        fields: &OrderFields,
    ) -> Result<Order> {
        let obj = value
            .as_object()
            .ok_or_else(|| decode_error(operation, path, value, "expected an order object"))?;
        let id = first(obj, &fields.id)
            .and_then(|(_, v)| text(v))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                decode_error(
                    operation,
                    path,
                    value,
                    &format!("order has no id (looked for {})", fields.id.join(", ")),
                )
            })?;
        let get = |keys: &[String]| first(obj, keys).and_then(|(_, v)| text(v));
        let mut items = Vec::new();
        if let Some((k, v)) = first(obj, &fields.items) {
            let arr = v.as_array().ok_or_else(|| {
                decode_error(operation, &format!("{path}.{k}"), v, "expected an array")
            })?;
            for (i, item) in arr.iter().enumerate() {
                let ipath = format!("{path}.{k}[{i}]");
                let io = item
                    .as_object()
                    .ok_or_else(|| decode_error(operation, &ipath, item, "expected an object"))?;
                let keys = |v: &[&str]| strings(v);
                items.push(OrderItem {
                    sku: first(io, &keys(&["sku", "sku_id", "item_code"]))
                        .and_then(|(_, v)| text(v)),
                    name: first(io, &keys(&["name", "item_name"])).and_then(|(_, v)| text(v)),
                    quantity: decimal_at(operation, &ipath, io, &keys(&["quantity", "qty"]))?,
                    unit_price: money_at(
                        operation,
                        &ipath,
                        io,
                        &keys(&["unit_price", "price", "rate"]),
                    )?,
                    amount: money_at(operation, &ipath, io, &keys(&["amount"]))?,
                });
            }
        }
        Ok(Order {
            id,
            status: get(&fields.status),
            customer: get(&fields.customer),
            currency: get(&fields.currency),
            total_amount: money_at(operation, path, obj, &fields.total_amount)?,
            created_at: get(&fields.created_at),
            items,
            raw: value.clone(),
        })
    }
}

/// One line of a new order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrderItem {
    /// SKU (required).
    pub sku: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Quantity, above zero.
    #[serde(serialize_with = "ser_decimal", deserialize_with = "de_decimal")]
    pub quantity: Decimal,
    /// Unit price, zero or more.
    pub unit_price: Money,
}

impl NewOrderItem {
    /// The line amount, `quantity × unit_price`.
    pub fn amount(&self) -> Money {
        Money(self.quantity * self.unit_price.0)
    }
}

/// An order to create.
///
/// ```
/// use conn_erp::{Money, NewOrder};
/// let o = NewOrder::new("ACME")
///     .item("SKU-1", "2".parse().unwrap(), "9.95".parse().unwrap())
///     .item("SKU-2", "1".parse().unwrap(), "0.10".parse().unwrap());
/// o.validate().unwrap();
/// assert_eq!(o.total().to_string(), "20.00");
/// let err = NewOrder::new("").validate().unwrap_err();
/// assert!(err.to_string().contains("`customer`"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    /// Customer name or id (required).
    pub customer: String,
    /// Lines (at least one).
    pub items: Vec<NewOrderItem>,
    /// ISO 4217 currency (`CNY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The caller's own reference for this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// More fields the ERP wants, merged into the body (may not override the ones above).
    #[serde(default, flatten)]
    pub extra: Map<String, Value>,
}

/// Most lines accepted in one order.
pub const MAX_ORDER_ITEMS: usize = 500;

impl NewOrder {
    /// An order for a customer, without lines yet.
    pub fn new(customer: impl Into<String>) -> Self {
        Self {
            customer: customer.into(),
            items: Vec::new(),
            currency: None,
            external_id: None,
            remark: None,
            extra: Map::new(),
        }
    }

    /// Adds a line.
    pub fn item(mut self, sku: impl Into<String>, quantity: Decimal, unit_price: Money) -> Self {
        self.items.push(NewOrderItem {
            sku: sku.into(),
            name: None,
            quantity,
            unit_price,
        });
        self
    }

    /// Sets the currency.
    pub fn currency(mut self, c: impl Into<String>) -> Self {
        self.currency = Some(c.into());
        self
    }

    /// Sets the caller's reference.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    /// The order total, the sum of the line amounts.
    pub fn total(&self) -> Money {
        self.items.iter().map(NewOrderItem::amount).sum()
    }

    /// Checks the order before any request; the error names the field and the rule.
    pub fn validate(&self) -> Result<()> {
        let customer = self.customer.trim();
        if customer.is_empty() {
            return Err(Error::validation("customer", "is required"));
        }
        if customer.chars().count() > 200 {
            return Err(Error::validation("customer", "at most 200 characters"));
        }
        if self.items.is_empty() {
            return Err(Error::validation("items", "at least one line is required"));
        }
        if self.items.len() > MAX_ORDER_ITEMS {
            return Err(Error::validation(
                "items",
                format!("at most {MAX_ORDER_ITEMS} lines (got {})", self.items.len()),
            ));
        }
        for (i, it) in self.items.iter().enumerate() {
            if it.sku.trim().is_empty() {
                return Err(Error::validation(format!("items[{i}].sku"), "is required"));
            }
            if it.quantity <= Decimal::ZERO {
                return Err(Error::validation(
                    format!("items[{i}].quantity"),
                    format!("must be above zero (got {})", it.quantity),
                ));
            }
            if it.unit_price.is_negative() {
                return Err(Error::validation(
                    format!("items[{i}].unit_price"),
                    format!("must not be negative (got {})", it.unit_price),
                ));
            }
        }
        if let Some(c) = &self.currency {
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Error::validation(
                    "currency",
                    format!("must be a 3-letter ISO 4217 code such as CNY (got {c:?})"),
                ));
            }
        }
        for k in self.extra.keys() {
            if matches!(
                k.as_str(),
                "customer" | "items" | "currency" | "external_id" | "remark" | "total_amount"
            ) {
                return Err(Error::validation(
                    format!("extra.{k}"),
                    "must not override a typed field",
                ));
            }
        }
        Ok(())
    }

    /// The JSON body: the typed fields, line amounts and `total_amount` as decimal strings, then
    /// `extra`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "customer".into(),
            Value::String(self.customer.trim().to_owned()),
        );
        if let Some(c) = &self.currency {
            m.insert("currency".into(), Value::String(c.clone()));
        }
        if let Some(x) = &self.external_id {
            m.insert("external_id".into(), Value::String(x.clone()));
        }
        if let Some(r) = &self.remark {
            m.insert("remark".into(), Value::String(r.clone()));
        }
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|it| {
                let mut o = Map::new();
                o.insert("sku".into(), Value::String(it.sku.clone()));
                if let Some(n) = &it.name {
                    o.insert("name".into(), Value::String(n.clone()));
                }
                o.insert("quantity".into(), Value::String(it.quantity.to_string()));
                o.insert(
                    "unit_price".into(),
                    Value::String(it.unit_price.to_string()),
                );
                o.insert("amount".into(), Value::String(it.amount().to_string()));
                Value::Object(o)
            })
            .collect();
        m.insert("items".into(), Value::Array(items));
        m.insert(
            "total_amount".into(),
            Value::String(self.total().to_string()),
        );
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// What the ERP answered to a create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatedOrder {
    /// The new order's id.
    pub id: String,
    /// Status, if returned.
    pub status: Option<String>,
    /// Total, if returned.
    pub total_amount: Option<Money>,
    /// The idempotency key the call carried (keep it to retry the same logical call later).
    pub idempotency_key: Option<String>,
    /// The whole answer.
    pub raw: Value,
}

/// Financial figures for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinancialData {
    /// The period asked for.
    #[serde(serialize_with = "ser_period")]
    pub period: Period,
    /// Revenue (`revenue`, `income`, `total_revenue`).
    pub revenue: Option<Money>,
    /// Expenses (`expenses`, `cost`, `total_cost`).
    pub expenses: Option<Money>,
    /// Profit (`profit`, `net_profit`).
    pub profit: Option<Money>,
    /// Currency.
    pub currency: Option<String>,
    /// The whole answer.
    pub raw: Value,
}

fn ser_period<S: Serializer>(p: &Period, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(p)
}

impl FinancialData {
    /// Reads the figures from the ERP's data object.
    pub fn from_json(period: Period, value: &Value) -> Result<Self> {
        const OP: &str = "financial_data";
        let obj = value
            .as_object()
            .ok_or_else(|| decode_error(OP, "data", value, "expected an object"))?;
        Ok(Self {
            period,
            revenue: money_at(
                OP,
                "data",
                obj,
                &strings(&["revenue", "income", "total_revenue"]),
            )?,
            expenses: money_at(
                OP,
                "data",
                obj,
                &strings(&["expenses", "cost", "total_cost"]),
            )?,
            profit: money_at(OP, "data", obj, &strings(&["profit", "net_profit"]))?,
            currency: first(obj, &strings(&["currency"])).and_then(|(_, v)| text(v)),
            raw: value.clone(),
        })
    }
}

/// The months of a period, for callers that report month by month.
pub fn months_of(period: &Period) -> Vec<(i32, u32)> {
    let mut out = Vec::new();
    let (mut y, mut m) = (period.start().year(), period.start().month());
    let (ey, em) = (period.end().year(), period.end().month());
    // Bounded by the date range: at most 12 per year between two valid dates.
    while (y, m) <= (ey, em) {
        out.push((y, m));
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_accepts_strings_and_numbers_exactly() {
        let v: Vec<Money> = serde_json::from_value(json!(["0.1", 0.2, 3, "-1.50", "1e2"])).unwrap();
        let total: Money = v.iter().sum();
        assert_eq!(total.to_string(), "101.80");
        assert!(serde_json::from_value::<Money>(json!("abc")).is_err());
        assert!(serde_json::from_value::<Money>(json!(null)).is_err());
        assert!(Money::parse("items[0].unit_price", "x")
            .unwrap_err()
            .to_string()
            .contains("items[0].unit_price"));
    }

    #[test]
    fn periods_validate_and_parse() {
        let p = Period::month(2023, 12).unwrap();
        assert_eq!(
            (p.start().to_string(), p.end().to_string()),
            ("2023-12-01".into(), "2023-12-31".into())
        );
        assert!(Period::month(2023, 13)
            .unwrap_err()
            .to_string()
            .contains("period.month"));
        let r: Period = "2024-01-05/2024-03-02".parse().unwrap();
        assert_eq!(months_of(&r), vec![(2024, 1), (2024, 2), (2024, 3)]);
        assert!("x..2024-01-05"
            .parse::<Period>()
            .unwrap_err()
            .to_string()
            .contains("period.start"));
        assert!("soon"
            .parse::<Period>()
            .unwrap_err()
            .to_string()
            .contains("`period`"));
        let one: Period = NaiveDate::from_ymd_opt(2024, 5, 6).unwrap().into();
        assert!(one.contains(NaiveDate::from_ymd_opt(2024, 5, 6).unwrap()));
    }

    #[test]
    fn order_reads_erpnext_and_generic_shapes() {
        let f = OrderFields::default();
        let o = Order::from_json(
            "t",
            "data[0]",
            &json!({"name": "SAL-ORD-0001", "grand_total": 12.3, "customer": "C",
                    "items": [{"item_code": "I", "qty": 2, "rate": "6.15"}]}),
            &f,
        )
        .unwrap();
        assert_eq!(o.id, "SAL-ORD-0001");
        assert_eq!(o.total_amount.unwrap().to_string(), "12.3");
        assert_eq!(o.items[0].unit_price.unwrap().to_string(), "6.15");
        let e = Order::from_json("t", "data[3]", &json!({"id": 1, "total_amount": "x"}), &f)
            .unwrap_err();
        let Error::Decode(d) = &e else { panic!("{e}") };
        assert_eq!(d.path, "data[3].total_amount");
        assert!(Order::from_json("t", "data[0]", &json!({"x": 1}), &f).is_err());
    }

    #[test]
    fn new_order_validation_names_fields() {
        let ok = NewOrder::new("C").item("S", Decimal::ONE, Money::ZERO);
        ok.validate().unwrap();
        let cases = [
            (NewOrder::new("C"), "items"),
            (
                ok.clone().item("", Decimal::ONE, Money::ZERO),
                "items[1].sku",
            ),
            (
                ok.clone().item("S", Decimal::ZERO, Money::ZERO),
                "items[1].quantity",
            ),
            (
                ok.clone().item("S", Decimal::ONE, "-1".parse().unwrap()),
                "items[1].unit_price",
            ),
            (ok.clone().currency("rmb"), "currency"),
        ];
        for (o, field) in cases {
            let e = o.validate().unwrap_err();
            let Error::Validation(v) = &e else {
                panic!("{e}")
            };
            assert_eq!(v.field, field);
        }
        let mut x = ok.clone();
        x.extra.insert("items".into(), json!([]));
        assert!(x
            .validate()
            .unwrap_err()
            .to_string()
            .contains("extra.items"));
    }
}
