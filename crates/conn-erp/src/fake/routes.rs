//! The fake's request handling: routing, auth verification, operations, faults.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use conn_core::fake::{envelope_answer, Fault, Faults};
use http::Method;
use percent_encoding::percent_decode_str;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use wiremock::{Match, Request, Respond, ResponseTemplate};

use super::responder::{decimal, number, Responder};
use super::verify::{header, Business};
use super::{profiles, FakeOp, Shared};
use crate::pagination::PaginationStyle;
use crate::profile::Profile;

/// A stored idempotent answer.
#[derive(Debug, Clone)]
struct Stored {
    fingerprint: String,
    status: u16,
    body: Value,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) orders: Vec<Value>,
    seeded: usize,
    idempotent: HashMap<String, Stored>,
    pub(crate) counts: HashMap<FakeOp, usize>,
    pub(crate) auth_failures: usize,
    pub(crate) faults: Faults<FakeOp>,
}

impl State {
    /// Seeds `n` orders: ids `SO-000001`…, dates from 2024-01-01, amounts in cents, odd ones as
    /// JSON numbers and even ones as strings (both must be read exactly).
    pub(crate) fn seed(&mut self, n: usize) {
        let day0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        for i in 1..=n {
            let cents = i64::try_from((i * 7919) % 100_000 + 1).unwrap_or(1);
            let amount = Decimal::new(cents, 2);
            let date = day0 + chrono::Days::new(((i - 1) % 366) as u64);
            let amount_json = if i % 2 == 1 {
                serde_json::from_str::<Value>(&amount.to_string())
                    .unwrap_or(Value::String(amount.to_string()))
            } else {
                Value::String(amount.to_string())
            };
            let status = ["paid", "shipped", "draft"][i % 3];
            self.orders.push(json!({
                "id": format!("SO-{i:06}"),
                "status": status,
                "customer": format!("customer-{}", i % 17),
                "currency": "CNY",
                "created_at": date.to_string(),
                "total_amount": amount_json,
                "items": [{"sku": format!("SKU-{}", i % 50), "quantity": 1, "unit_price": amount.to_string(), "amount": amount.to_string()}],
            }));
        }
        self.seeded = self.orders.len();
    }

    pub(crate) fn created(&self) -> Vec<Value> {
        self.orders[self.seeded..].to_vec()
    }

    pub(crate) fn count(&self, op: FakeOp) -> usize {
        self.counts.get(&op).copied().unwrap_or(0)
    }

    pub(crate) fn push_fault(&mut self, op: FakeOp, fault: Fault, times: usize) {
        self.faults.push(op, fault, times);
    }
}

/// Matches the requests of one operation (for expectations).
pub(crate) struct OpMatcher {
    pub(crate) shared: Arc<Shared>,
    pub(crate) op: FakeOp,
}

impl Match for OpMatcher {
    fn matches(&self, request: &Request) -> bool {
        route(&self.shared, request).is_some_and(|(op, _)| op == self.op)
    }
}

fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// The operation (and order id) a request addresses.
pub(crate) fn route(shared: &Shared, req: &Request) -> Option<(FakeOp, Option<String>)> {
    if shared.settings.profile != Profile::Own {
        return profiles::route(shared.settings.profile, req).map(|op| (op, None));
    }
    let p = &shared.settings.paths;
    let path = req.url.path();
    let m = &req.method;
    if *m == Method::GET && path == p.orders {
        return Some((FakeOp::ListOrders, None));
    }
    if *m == Method::POST && path == p.create_order {
        return Some((FakeOp::CreateOrder, None));
    }
    if *m == Method::GET && path == p.financial {
        return Some((FakeOp::FinancialData, None));
    }
    if *m == Method::GET {
        let (pre, post) = p.order.split_once("{id}")?;
        let id = path.strip_prefix(pre)?.strip_suffix(post)?;
        if !id.is_empty() && !id.contains('/') {
            let id = percent_decode_str(id).decode_utf8_lossy().into_owned();
            return Some((FakeOp::GetOrder, Some(id)));
        }
    }
    None
}

fn invalid(msg: &str) -> (u16, Value) {
    (400, json!({"code": 40000, "message": msg}))
}

/// Puts `v` at a JSON pointer, creating objects on the way.
fn put(root: &mut Value, pointer: &str, v: Value) {
    if pointer.is_empty() {
        *root = v;
        return;
    }
    let mut cur = root;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if i + 1 == parts.len() {
            m.insert((*part).to_owned(), v);
            return;
        }
        cur = m
            .entry((*part).to_owned())
            .or_insert(Value::Object(Map::new()));
    }
}

impl Responder {
    fn list(&self, b: &Business) -> (u16, Value) {
        let s = &self.0.settings;
        let (pos_name, size_name) = s.style.param_names();
        let (Some(pos), Some(size)) = (
            number(b.params.get(pos_name)),
            number(b.params.get(size_name)),
        ) else {
            return invalid(&format!("{pos_name} and {size_name} are required"));
        };
        if size == 0 || size > 10_000 {
            return invalid(&format!("{size_name} must be 1 to 10000"));
        }
        let start = match s.style {
            PaginationStyle::PageIndex => {
                if pos == 0 {
                    return invalid("page_index starts at 1");
                }
                (pos - 1).saturating_mul(size)
            }
            PaginationStyle::PageNo => pos.saturating_mul(size),
            PaginationStyle::LimitStart | PaginationStyle::OffsetLimit => pos,
        };
        let st = self.0.lock();
        let total = st.orders.len();
        let from = usize::try_from(start).unwrap_or(usize::MAX).min(total);
        let to = from
            .saturating_add(usize::try_from(size).unwrap_or(usize::MAX))
            .min(total);
        let items = Value::Array(st.orders[from..to].to_vec());
        drop(st);
        let mut body = match s.style {
            // ERPNext answers carry no code.
            PaginationStyle::LimitStart => json!({}),
            _ => json!({"code": 0, "msg": "ok"}),
        };
        put(&mut body, &s.items_pointer, items);
        if s.style == PaginationStyle::PageNo && !s.items_pointer.is_empty() {
            put(&mut body, &s.total_pointer, json!(total));
        }
        (200, body)
    }

    fn detail(&self, id: &str) -> (u16, Value) {
        let st = self.0.lock();
        match st.orders.iter().find(|o| o["id"] == id) {
            Some(o) => (200, json!({"code": 0, "msg": "ok", "data": o})),
            None => (
                404,
                json!({"code": 404, "message": format!("order {id} not found")}),
            ),
        }
    }

    pub(super) fn today(&self) -> NaiveDate {
        DateTime::<Utc>::from(self.0.settings.clock.now()).date_naive()
    }

    fn create(&self, req: &Request, b: &Business) -> (u16, Value) {
        let s = &self.0.settings;
        let Some(body) = &b.body else {
            return invalid("an order body is required");
        };
        let key = s
            .idempotency_header
            .as_ref()
            .and_then(|h| header(req, h.as_str()))
            .map(str::to_owned);
        let fingerprint = body.to_string();
        let mut st = self.0.lock();
        if let Some(k) = &key {
            if let Some(prev) = st.idempotent.get(k) {
                if prev.fingerprint == fingerprint {
                    return (prev.status, prev.body.clone());
                }
                return (
                    422,
                    json!({"code": 42200, "message": "idempotency key reused with a different request"}),
                );
            }
        }
        let answer = match new_order(body, st.orders.len() + 1, self.today()) {
            Ok(order) => {
                st.orders.push(order.clone());
                (200, json!({"code": 0, "msg": "ok", "data": order}))
            }
            Err(e) => e,
        };
        if let Some(k) = key {
            st.idempotent.insert(
                k,
                Stored {
                    fingerprint,
                    status: answer.0,
                    body: answer.1.clone(),
                },
            );
        }
        answer
    }

    fn financial(&self, b: &Business) -> (u16, Value) {
        let date = |name: &str| {
            b.params
                .get(name)
                .and_then(Value::as_str)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        let (Some(start), Some(end)) = (date("start_date"), date("end_date")) else {
            return invalid("start_date and end_date are required (YYYY-MM-DD)");
        };
        if start > end {
            return invalid("start_date is after end_date");
        }
        let st = self.0.lock();
        let mut revenue = Decimal::ZERO;
        let mut count = 0u64;
        for o in &st.orders {
            let d = o["created_at"]
                .as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
            if d.is_some_and(|d| start <= d && d <= end) {
                revenue += decimal(o.get("total_amount")).unwrap_or_default();
                count += 1;
            }
        }
        let expenses = (revenue * Decimal::new(6, 1)).round_dp(2);
        let profit = revenue - expenses;
        // Expenses go out as a JSON number, the rest as strings: clients must read both.
        let expenses_json = serde_json::from_str::<Value>(&expenses.to_string())
            .unwrap_or(Value::String(expenses.to_string()));
        (
            200,
            json!({"code": 0, "msg": "ok", "data": {
                "start_date": start.to_string(),
                "end_date": end.to_string(),
                "currency": "CNY",
                "revenue": revenue.to_string(),
                "expenses": expenses_json,
                "profit": profit.to_string(),
                "order_count": count,
            }}),
        )
    }
}

/// Validates a create body and builds the stored order.
fn new_order(body: &Value, n: usize, today: NaiveDate) -> Result<Value, (u16, Value)> {
    let customer = body
        .get("customer")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid("customer is required"))?;
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid("items must be a non-empty array"))?;
    let mut total = Decimal::ZERO;
    let mut lines = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let sku = it
            .get("sku")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(&format!("items[{i}].sku is required")))?;
        let qty = decimal(it.get("quantity"))
            .filter(|q| *q > Decimal::ZERO)
            .ok_or_else(|| invalid(&format!("items[{i}].quantity must be above zero")))?;
        let price = decimal(it.get("unit_price"))
            .ok_or_else(|| invalid(&format!("items[{i}].unit_price is required")))?;
        let amount = qty * price;
        total += amount;
        lines.push(json!({"sku": sku, "quantity": qty.to_string(), "unit_price": price.to_string(), "amount": amount.to_string()}));
    }
    Ok(json!({
        "id": format!("SO-{n:06}"),
        "status": "draft",
        "customer": customer,
        "currency": body.get("currency").cloned().unwrap_or(json!("CNY")),
        "external_id": body.get("external_id").cloned().unwrap_or(Value::Null),
        "created_at": today.to_string(),
        "total_amount": total.to_string(),
        "items": lines,
    }))
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Some((op, id)) = route(&self.0, req) else {
            return answer(
                404,
                json!({"code": 404, "message": format!("no such route: {} {}", req.method, req.url.path())}),
            );
        };
        let fault = {
            let mut st = self.0.lock();
            *st.counts.entry(op).or_insert(0) += 1;
            st.faults.take(&op)
        };
        if let Some((status, body)) = fault
            .as_ref()
            .and_then(|f| envelope_answer(&self.0.envelope, f))
        {
            return answer(status, body);
        }
        let (status, body) = match self.verify(req) {
            Err(rejection) => {
                self.0.lock().auth_failures += 1;
                rejection
            }
            Ok(b) => match (self.0.settings.profile, op) {
                (Profile::Own, _) => self.own(op, id.as_deref(), req, &b),
                (p, FakeOp::CreateOrder) => self.profile_create(p, &b),
                (Profile::Erpnext, FakeOp::GetOrder) => self.profile_detail(Profile::Erpnext, req),
                (p, _) => self.profile_list(p, &b),
            },
        };
        if let Some(Fault::Cut) = fault {
            // The work is done; the answer stops mid-body.
            let text = body.to_string();
            let half = text.len() / 2;
            let cut = text.get(..half).unwrap_or_default().to_owned();
            return ResponseTemplate::new(200).set_body_raw(cut, "application/json");
        }
        let mut t = answer(status, body);
        if let Some(Fault::Delay(d)) = fault {
            t = t.set_delay(d);
        }
        t
    }
}

impl Responder {
    fn own(&self, op: FakeOp, id: Option<&str>, req: &Request, b: &Business) -> (u16, Value) {
        match op {
            FakeOp::ListOrders => self.list(b),
            FakeOp::GetOrder => self.detail(id.unwrap_or_default()),
            FakeOp::CreateOrder => self.create(req, b),
            FakeOp::FinancialData => self.financial(b),
        }
    }
}
