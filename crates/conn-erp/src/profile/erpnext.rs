//! ERPNext / Frappe: the `Sales Order` resource (`token` auth).
//!
//! - list: `GET /api/resource/Sales Order?fields=[…]&limit_start=&limit_page_length=&filters=[…]`;
//!   answer `{"data":[{name, customer, grand_total, status, transaction_date, currency}]}`.
//! - create: `POST /api/resource/Sales Order` with `{customer, transaction_date, delivery_date,
//!   items:[{item_code, qty, rate}]}`; answer `{"data":{"name":…}}`.
//! - detail: `GET /api/resource/Sales Order/{name}`; answer `{"data":{…, items:[…]}}`.
//! - Errors: HTTP 4xx/5xx with `exc_type`, `exception`, `_server_messages`.
//! - No duplicate protection: Frappe names new documents itself; a create that may have been
//!   received is never replayed.

use chrono::NaiveDate;
use conn_core::retry::Idempotency;
use conn_core::transport::Request;
use conn_core::{Error, Result};
use serde_json::{json, Map, Value};

use super::{array_at, copy, copy_items, Flow, ProfileOptions};
use crate::envelope::{at, code_list, generic};
use crate::model::{decode_error, NewOrder};
use crate::pagination::OrderQuery;
use conn_core::envelope::Envelope;

pub(crate) const PATH: &str = "/api/resource/Sales Order";
const FIELDS: &str = r#"["name","customer","grand_total","status","transaction_date","currency"]"#;

/// `exc_type` names the failure; the message is in `exception` or `_server_messages`.
pub(crate) fn envelope() -> Envelope {
    Envelope {
        code: at(&["exc_type"]),
        message: at(&["exception", "_server_messages", "message"]),
        success: Vec::new(),
        auth_codes: code_list(&["AuthenticationError"]),
        permission_codes: code_list(&["PermissionError"]),
        not_found_codes: code_list(&["DoesNotExistError"]),
        invalid_codes: code_list(&["ValidationError", "MandatoryError", "LinkValidationError"]),
        ..generic()
    }
}

pub(crate) struct Erpnext;

impl Flow for Erpnext {
    fn list_request(
        &self,
        _: &ProfileOptions,
        q: &OrderQuery,
        page: u64,
        size: u32,
    ) -> Result<Request> {
        // `filters` is Frappe's JSON filter list; a caller's plain filters become `[k, "=", v]`.
        let mut list: Vec<Value> = Vec::new();
        for (k, v) in &q.filters {
            if k == "filters" {
                let parsed: Value = serde_json::from_str(v)
                    .map_err(|_| Error::validation("filters", "is not a JSON filter list"))?;
                match parsed {
                    Value::Array(a) => list.extend(a),
                    _ => return Err(Error::validation("filters", "must be a JSON array")),
                }
            } else {
                list.push(json!([k, "=", v]));
            }
        }
        let mut req = Request::get("list_orders", PATH)
            .query("fields", FIELDS)
            .query(
                "limit_start",
                page.saturating_mul(u64::from(size)).to_string(),
            )
            .query("limit_page_length", size.to_string());
        if !list.is_empty() {
            req = req.query("filters", Value::Array(list).to_string());
        }
        Ok(req)
    }

    fn page_items(&self, body: &Value) -> Result<(Vec<Value>, Option<u64>)> {
        Ok((array_at(body, "/data")?, None))
    }

    fn normalise(&self, o: &Value) -> Value {
        let mut m = Map::new();
        copy(&mut m, o, "id", &["name"]);
        copy(&mut m, o, "status", &["status"]);
        copy(&mut m, o, "customer", &["customer", "customer_name"]);
        copy(&mut m, o, "currency", &["currency"]);
        copy(&mut m, o, "total_amount", &["grand_total"]);
        copy(&mut m, o, "created_at", &["transaction_date"]);
        copy_items(
            &mut m,
            o,
            "items",
            &[
                ("sku", &["item_code"]),
                ("name", &["item_name"]),
                ("quantity", &["qty"]),
                ("unit_price", &["rate"]),
                ("amount", &["amount"]),
            ],
        );
        Value::Object(m)
    }

    fn period_filters(&self, start: NaiveDate, end: NaiveDate) -> Vec<(String, String)> {
        let f = json!([[
            "transaction_date",
            "between",
            [start.to_string(), end.to_string()]
        ]]);
        vec![("filters".into(), f.to_string())]
    }

    fn create_request(
        &self,
        _: &ProfileOptions,
        order: &NewOrder,
        _number: &str,
        idem: Idempotency,
    ) -> Result<Request> {
        let items: Vec<Value> = order
            .items
            .iter()
            .map(|it| json!({"item_code": it.sku, "qty": it.quantity.to_string(), "rate": it.unit_price.to_string()}))
            .collect();
        let mut doc = json!({"customer": order.customer.trim(), "items": items});
        if let Some(m) = doc.as_object_mut() {
            if let Some(c) = &order.currency {
                m.insert("currency".into(), json!(c));
            }
            if let Some(x) = &order.external_id {
                m.insert("po_no".into(), json!(x));
            }
            for (k, v) in &order.extra {
                m.insert(k.clone(), v.clone());
            }
        }
        Request::post("create_order", PATH, idem).json(&doc)
    }

    fn detail_request(&self, _: &ProfileOptions, id: &str) -> Result<Request> {
        // The name is one path segment: escaped so `/`, `?` and `#` stay inside it.
        const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let name = percent_encoding::utf8_percent_encode(id, UNRESERVED);
        Ok(Request::get("get_order", format!("{PATH}/{name}")))
    }

    fn detail_item(&self, body: &Value) -> Result<Option<Value>> {
        Ok(body.get("data").filter(|d| d.is_object()).cloned())
    }

    fn created_id(&self, body: &Value, _number: &str) -> Result<String> {
        body.pointer("/data/name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| decode_error("create_order", "data.name", body, "no document name"))
    }
}
