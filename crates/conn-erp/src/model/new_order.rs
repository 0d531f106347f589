//! [`NewOrder`]: an order to create, validated before any request; [`CreatedOrder`].

use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::money::{ser_decimal, Money};

/// One line of a new order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrderItem {
    /// SKU (required).
    pub sku: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Quantity, above zero.
    #[serde(
        serialize_with = "ser_decimal",
        deserialize_with = "conn_core::lenient::decimal"
    )]
    pub quantity: Decimal,
    /// Unit price, zero or more.
    pub unit_price: Money,
}

impl NewOrderItem {
    /// The line amount, `quantity × unit_price`.
    pub fn amount(&self) -> Money {
        Money::new(self.quantity * self.unit_price.amount())
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
