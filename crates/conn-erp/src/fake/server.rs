//! The fake's request handling: routing, auth verification, operations, faults.

use std::collections::{HashMap, VecDeque};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use conn_core::secret::Secret;
use http::Method;
use percent_encoding::percent_decode_str;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use wiremock::{Match, Request, Respond, ResponseTemplate};

use super::{FakeOp, Shared};
use crate::auth::{canonical_string, hmac_signature, md5_signature, Auth};
use crate::pagination::PaginationStyle;

/// An injected fault.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Answer with this status without processing.
    Fail(u16),
    /// Process, then answer late.
    Delay(Duration),
}

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
    faults: HashMap<FakeOp, VecDeque<Fault>>,
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

    pub(crate) fn push_fault(&mut self, op: FakeOp, times: usize, f: Fault) {
        let q = self.faults.entry(op).or_default();
        q.extend(std::iter::repeat_n(f, times));
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

/// The responder shared by every mock of the fake.
pub(crate) struct Responder(pub(crate) Arc<Shared>);

fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// The operation (and order id) a request addresses.
fn route(shared: &Shared, req: &Request) -> Option<(FakeOp, Option<String>)> {
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

/// What an authenticated request asks: its business parameters and body.
struct Business {
    params: Map<String, Value>,
    body: Option<Value>,
}

/// A rejected request's answer.
type Rejection = (u16, Value);

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

fn same(a: &str, b: &str) -> bool {
    // Constant-time comparison through conn-core's Secret.
    Secret::new(a) == Secret::new(b)
}

fn pairs_to_map(pairs: Vec<(String, String)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

impl Responder {
    fn now_millis(&self) -> i64 {
        self.0
            .settings
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn in_tolerance(&self, ts_millis: i64) -> bool {
        match self.0.settings.tolerance {
            None => true,
            Some(t) => {
                let tol = i64::try_from(t.as_millis()).unwrap_or(i64::MAX);
                (self.now_millis() - ts_millis).abs() <= tol
            }
        }
    }

    /// Checks the request's authentication as the real ERP would.
    fn verify(&self, req: &Request) -> Result<Business, Rejection> {
        let c = &self.0.settings.credentials;
        let unauthorized = |msg: &str| (401, json!({"code": 401, "message": msg}));
        let plain = || -> Result<Business, Rejection> {
            if req.method == Method::GET {
                return Ok(Business {
                    params: pairs_to_map(query_pairs(req)),
                    body: None,
                });
            }
            let body = serde_json::from_slice::<Value>(&req.body)
                .map_err(|_| (400, json!({"code": 40000, "message": "body is not JSON"})))?;
            Ok(Business {
                params: pairs_to_map(query_pairs(req)),
                body: Some(body),
            })
        };
        let auth_header = header(req, "authorization").unwrap_or("");
        match &self.0.auth {
            Auth::None(_) | Auth::Custom(_) => plain(),
            Auth::ApiKey(a) => match header(req, a.header().as_str()) {
                Some(k) if same(k, &c.api_key) => plain(),
                Some(_) => Err(unauthorized("invalid api key")),
                None => Err(unauthorized("api key missing")),
            },
            Auth::Basic(_) => {
                let raw = format!("{}:{}", c.username, c.password);
                let want = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                );
                if same(auth_header, &want) {
                    plain()
                } else {
                    Err(unauthorized("invalid username or password"))
                }
            }
            Auth::Token(_) => {
                if same(
                    auth_header,
                    &format!("token {}:{}", c.api_key, c.api_secret),
                ) {
                    plain()
                } else {
                    Err((
                        401,
                        json!({"exc_type": "AuthenticationError", "exception": "frappe.exceptions.AuthenticationError", "message": "invalid token"}),
                    ))
                }
            }
            Auth::Bearer(_) => {
                let ok = auth_header
                    .split_once(' ')
                    .is_some_and(|(s, t)| s.eq_ignore_ascii_case("bearer") && same(t, &c.api_key));
                if ok {
                    plain()
                } else {
                    Err(unauthorized("invalid bearer token"))
                }
            }
            Auth::Md5(s) => self.verify_md5(req, s),
            Auth::Kingdee(k) => self.verify_kingdee(req, k),
        }
    }

    fn verify_md5(
        &self,
        req: &Request,
        s: &crate::auth::SortedMd5Signer,
    ) -> Result<Business, Rejection> {
        let c = &self.0.settings.credentials;
        let bad = |msg: &str| (200, json!({"code": 40001, "msg": msg}));
        let params: Vec<(String, String)> = if req.method == Method::GET {
            query_pairs(req)
        } else {
            serde_urlencoded::from_bytes(&req.body)
                .map_err(|_| bad("expected form-encoded system parameters"))?
        };
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let n = s.names();
        if get(&n.app_key) != Some(c.app_key.as_str()) {
            return Err(bad("invalid app key"));
        }
        let ts = get(&n.timestamp)
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| bad("timestamp missing"))?;
        if !self.in_tolerance(ts.saturating_mul(1000)) {
            return Err(bad("timestamp expired"));
        }
        if s.access_token().is_some()
            && !get(&n.access_token).is_some_and(|t| same(t, &c.access_token))
        {
            return Err(bad("invalid access token"));
        }
        for (k, v) in s.extra_params() {
            if get(k) != Some(v.as_str()) {
                return Err(bad(&format!("missing system parameter {k}")));
            }
        }
        let sign = get(&n.sign).ok_or_else(|| bad("sign missing"))?;
        let want = md5_signature(&c.app_secret, &params, &n.sign, s.wrap());
        if !same(sign, &want) {
            return Err(bad("invalid sign"));
        }
        let biz: Value = get(&n.biz)
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| bad("biz is not JSON"))?
            .unwrap_or(Value::Object(Map::new()));
        if req.method == Method::GET {
            let params = match biz {
                Value::Object(m) => m,
                _ => return Err(bad("biz must be an object")),
            };
            Ok(Business { params, body: None })
        } else {
            Ok(Business {
                params: pairs_to_map(query_pairs(req)),
                body: Some(biz),
            })
        }
    }

    fn verify_kingdee(
        &self,
        req: &Request,
        k: &crate::auth::KingdeeHmacSigner,
    ) -> Result<Business, Rejection> {
        let c = &self.0.settings.credentials;
        let bad = |msg: &str| {
            (
                401,
                json!({"errorCode": "invalid_signature", "description": msg}),
            )
        };
        let h = k.headers();
        if header(req, h.app_key.as_str()) != Some(c.app_key.as_str()) {
            return Err(bad("unknown client id"));
        }
        let ts = header(req, h.timestamp.as_str())
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| bad("timestamp missing"))?;
        if !self.in_tolerance(ts) {
            return Err(bad("timestamp expired"));
        }
        let nonce = header(req, h.nonce.as_str())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad("nonce missing"))?;
        let sig = header(req, h.signature.as_str()).ok_or_else(|| bad("signature missing"))?;
        let (pe, qe) = k.encodings();
        let query = query_pairs(req);
        let canonical = canonical_string(
            req.method.as_str(),
            req.url.path(),
            &query,
            h.nonce.as_str(),
            nonce,
            h.timestamp.as_str(),
            ts,
            pe,
            qe,
        );
        if !same(sig, &hmac_signature(&c.app_secret, &canonical)) {
            return Err(bad("signature mismatch"));
        }
        let body = if req.method == Method::GET {
            None
        } else {
            Some(
                serde_json::from_slice::<Value>(&req.body)
                    .map_err(|_| (400, json!({"code": 40000, "message": "body is not JSON"})))?,
            )
        };
        Ok(Business {
            params: pairs_to_map(query),
            body,
        })
    }
}

fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn decimal(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
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

    fn today(&self) -> NaiveDate {
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
            st.faults.get_mut(&op).and_then(VecDeque::pop_front)
        };
        if let Some(Fault::Fail(status)) = fault {
            return answer(status, json!({"code": status, "message": "injected fault"}));
        }
        let (status, body) = match self.verify(req) {
            Err(rejection) => {
                self.0.lock().auth_failures += 1;
                rejection
            }
            Ok(b) => match op {
                FakeOp::ListOrders => self.list(&b),
                FakeOp::GetOrder => self.detail(id.as_deref().unwrap_or_default()),
                FakeOp::CreateOrder => self.create(req, &b),
                FakeOp::FinancialData => self.financial(&b),
            },
        };
        let mut t = answer(status, body);
        if let Some(Fault::Delay(d)) = fault {
            t = t.set_delay(d);
        }
        t
    }
}
