//! [`Order`] as an ERP returns it, read through [`OrderFields`].

use std::fmt;

use conn_core::error::{excerpt, DecodeError};
use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde::de;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::money::Money;
use crate::PLATFORM;

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

pub(super) fn strings(v: &[&str]) -> Vec<String> {
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

pub(super) fn first<'a, K: AsRef<str>>(
    obj: &'a Map<String, Value>,
    keys: &[K],
) -> Option<(&'a str, &'a Value)> {
    keys.iter().find_map(|k| {
        obj.get_key_value(k.as_ref())
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.as_str(), v))
    })
}

pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `path` is formatted only for an error: a page of orders reads hundreds of fields.
pub(super) fn money_at<K: AsRef<str>>(
    op: &'static str,
    path: &dyn fmt::Display,
    obj: &Map<String, Value>,
    keys: &[K],
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

fn decimal_at<K: AsRef<str>>(
    op: &'static str,
    path: &dyn fmt::Display,
    obj: &Map<String, Value>,
    keys: &[K],
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
        let mut order = Self::read(operation, &path, value, fields)?;
        order.raw = value.clone();
        Ok(order)
    }

    /// [`Order::from_json`] taking the object, which becomes `raw` without a copy (a page's
    /// orders are moved out of the page).
    pub(crate) fn from_owned(
        operation: &'static str,
        path: &dyn fmt::Display,
        value: Value,
        fields: &OrderFields,
    ) -> Result<Order> {
        let mut order = Self::read(operation, path, &value, fields)?;
        order.raw = value;
        Ok(order)
    }

    /// The order's fields; `raw` is left `null` for the caller to fill.
    fn read(
        operation: &'static str,
        path: &dyn fmt::Display,
        value: &Value,
        fields: &OrderFields,
    ) -> Result<Order> {
        let obj = value.as_object().ok_or_else(|| {
            decode_error(
                operation,
                &path.to_string(),
                value,
                "expected an order object",
            )
        })?;
        let id = first(obj, &fields.id)
            .and_then(|(_, v)| text(v))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                decode_error(
                    operation,
                    &path.to_string(),
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
                let ipath = format_args!("{path}.{k}[{i}]");
                let io = item.as_object().ok_or_else(|| {
                    decode_error(operation, &ipath.to_string(), item, "expected an object")
                })?;
                items.push(OrderItem {
                    sku: first(io, &["sku", "sku_id", "item_code"]).and_then(|(_, v)| text(v)),
                    name: first(io, &["name", "item_name"]).and_then(|(_, v)| text(v)),
                    quantity: decimal_at(operation, &ipath, io, &["quantity", "qty"])?,
                    unit_price: money_at(operation, &ipath, io, &["unit_price", "price", "rate"])?,
                    amount: money_at(operation, &ipath, io, &["amount"])?,
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
            raw: Value::Null,
        })
    }
}
