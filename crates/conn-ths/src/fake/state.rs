//! The fake's state and request handling: tokens, the rate window, faults, counters. The
//! answers of the data endpoints are in `answers`, the `portfolio_manage` functions in
//! `portfolio`.

mod answers;
mod portfolio;

use portfolio::multipart_fields;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use conn_core::fake::{Fault, FaultTarget, Faults};
use serde_json::{json, Map, Value};

use super::data::{apply_shapes, Shape};
use super::market::fnv1a;
use super::schema;

/// Endpoints the fake serves.
pub(crate) const TOKEN_ENDPOINTS: [&str; 2] = ["get_access_token", "update_access_token"];

/// Where a fault is queued: one endpoint, or (`"*"`, [`ANY_DATA_ENDPOINT`]) any data endpoint
/// but not the token endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target(pub String);

/// The endpoint name that queues a fault for any data endpoint (not the token endpoints).
pub const ANY_DATA_ENDPOINT: &str = "*";

impl FaultTarget for Target {
    fn covers(&self, op: &Self) -> bool {
        self == op || (self.0 == ANY_DATA_ENDPOINT && !TOKEN_ENDPOINTS.contains(&op.0.as_str()))
    }
}

#[derive(Debug)]
struct Issued {
    value: String,
    expires: SystemTime,
    valid: bool,
}

/// A recorded `deal`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedDeal {
    /// `portfid`.
    pub portfid: String,
    /// The deal's `functionpara`.
    pub params: BTreeMap<String, String>,
}

#[derive(Debug)]
pub(crate) struct Settings {
    pub refresh_token: String,
    pub rate_limit: Option<(u32, Duration)>,
    pub token_lifetime: Duration,
    pub send_expired_time: bool,
    pub quote_time: NaiveDateTime,
    pub token_fetch_limit: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub settings: Settings,
    tokens: Vec<Issued>,
    issued: u64,
    token_fetches: u32,
    revoked: bool,
    window: VecDeque<Instant>,
    faults: Faults<Target>,
    stale_tokens: usize,
    pub shapes: Vec<Shape>,
    pub counts: BTreeMap<String, usize>,
    pub rate_limited: usize,
    pub answered_codes: BTreeMap<i64, usize>,
    pub quota_code: Option<i64>,
    pub deals: Vec<RecordedDeal>,
    portfolios: u64,
    jobs: u64,
    cash: BTreeMap<String, f64>,
}

/// One answer: status, body, delay.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub json: bool,
    pub delay: Option<Duration>,
}

fn envelope(code: i64, msg: &str) -> Value {
    json!({"errorcode": code, "errmsg": msg})
}

fn ok_tables(tables: Value) -> Value {
    json!({
        "errorcode": 0,
        "errmsg": "Success!",
        "tables": tables,
        "datatype": [],
        "inputParams": {},
        "perf": 7,
        "dataVol": 0
    })
}

use super::schema::Refusal;

impl State {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            tokens: Vec::new(),
            issued: 0,
            token_fetches: 0,
            revoked: false,
            window: VecDeque::new(),
            faults: Faults::default(),
            stale_tokens: 0,
            shapes: Vec::new(),
            counts: BTreeMap::new(),
            rate_limited: 0,
            answered_codes: BTreeMap::new(),
            quota_code: None,
            deals: Vec::new(),
            portfolios: 0,
            jobs: 0,
            cash: BTreeMap::new(),
        }
    }

    pub(crate) fn inject(&mut self, endpoint: &str, fault: Fault, times: usize) {
        self.faults.push(Target(endpoint.to_owned()), fault, times);
    }

    pub(crate) fn serve_stale_tokens(&mut self, times: usize) {
        self.stale_tokens = self.stale_tokens.saturating_add(times);
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
        self.stale_tokens = 0;
        self.quota_code = None;
    }

    pub(crate) fn expire_tokens(&mut self) {
        let past = SystemTime::now() - Duration::from_secs(1);
        for t in &mut self.tokens {
            t.expires = past;
        }
    }

    pub(crate) fn revoke(&mut self) {
        self.revoked = true;
        for t in &mut self.tokens {
            t.valid = false;
        }
    }

    pub(crate) fn valid_tokens(&self) -> Vec<String> {
        let now = SystemTime::now();
        self.tokens
            .iter()
            .filter(|t| t.valid && t.expires > now)
            .map(|t| t.value.clone())
            .collect()
    }

    fn take_fault(&mut self, endpoint: &str, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        self.faults.take_if(&Target(endpoint.to_owned()), pred)
    }

    /// True when this arrival exceeds the window (it is then not counted in it).
    fn over_limit(&mut self, now: Instant) -> bool {
        let Some((n, window)) = self.settings.rate_limit else {
            return false;
        };
        while let Some(front) = self.window.front() {
            if now.duration_since(*front) >= window {
                self.window.pop_front();
            } else {
                break;
            }
        }
        if self.window.len() >= n as usize {
            return true;
        }
        self.window.push_back(now);
        false
    }

    pub(crate) fn handle(&mut self, path: &str, headers: &http::HeaderMap, body: &[u8]) -> Answer {
        let now = Instant::now();
        let Some(endpoint) = path
            .strip_prefix("/api/v1/")
            .map(|e| e.trim_end_matches('/'))
        else {
            return Answer {
                status: 404,
                body: format!("no such path {path}").into_bytes(),
                json: false,
                delay: None,
            };
        };
        let endpoint = endpoint.to_owned();
        *self.counts.entry(endpoint.clone()).or_default() += 1;
        if self.over_limit(now) {
            self.rate_limited += 1;
            return self.code(
                -4400,
                "请求频率超限: more than the allowed requests per minute",
            );
        }
        // A delay and an error can meet the same request: each kind is taken separately.
        let delay = match self.take_fault(&endpoint, |f| matches!(f, Fault::Delay(_))) {
            Some(Fault::Delay(d)) => Some(d),
            _ => None,
        };
        let cut = self.take_fault(&endpoint, |f| *f == Fault::Cut).is_some();
        let error = self.take_fault(&endpoint, |f| !f.is_processed() && *f != Fault::Drop);
        let injected = match error {
            Some(Fault::Code(c, m)) if m.is_empty() => Some((c, "injected fault".to_owned())),
            Some(Fault::Code(c, m)) => Some((c, m)),
            Some(Fault::Busy) => Some((-5002, "data server busy".to_owned())),
            Some(Fault::RateLimited) => {
                Some((-4400, "more than 600 requests per minute".to_owned()))
            }
            Some(Fault::TokenExpired) => Some((-1302, "access_token expired".to_owned())),
            Some(Fault::Status(s)) => {
                return Answer {
                    status: s,
                    body: b"<html><body>gateway error</body></html>".to_vec(),
                    json: false,
                    delay,
                }
            }
            _ => None,
        };
        if let Some((c, m)) = injected {
            let mut a = self.code(c, &m);
            a.delay = delay;
            return a;
        }
        let result = if TOKEN_ENDPOINTS.contains(&endpoint.as_str()) {
            self.token_endpoint(&endpoint, headers)
        } else {
            self.data_endpoint(&endpoint, headers, body)
        };
        let mut a = match result {
            Ok(v) => Answer {
                status: 200,
                body: serde_json::to_vec(&v).unwrap_or_default(),
                json: true,
                delay: None,
            },
            Err((c, m)) => self.code(c, &m),
        };
        if cut {
            // The work is done; the answer stops mid-body.
            let half = a.body.len() / 2;
            a.body.truncate(half);
        }
        a.delay = delay;
        a
    }

    /// Takes a pending [`Fault::Drop`] for `path`'s endpoint and counts the request.
    pub(crate) fn take_drop(&mut self, path: &str) -> bool {
        let Some(endpoint) = path
            .strip_prefix("/api/v1/")
            .map(|e| e.trim_end_matches('/'))
        else {
            return false;
        };
        let target = Target(endpoint.to_owned());
        if self.faults.peek(&target) != Some(&Fault::Drop) {
            return false;
        }
        self.faults.take(&target);
        *self.counts.entry(endpoint.to_owned()).or_default() += 1;
        true
    }

    fn code(&mut self, code: i64, msg: &str) -> Answer {
        *self.answered_codes.entry(code).or_default() += 1;
        Answer {
            status: 200,
            body: serde_json::to_vec(&envelope(code, msg)).unwrap_or_default(),
            json: true,
            delay: None,
        }
    }

    fn token_endpoint(
        &mut self,
        endpoint: &str,
        headers: &http::HeaderMap,
    ) -> Result<Value, Refusal> {
        let rt = headers
            .get("refresh_token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if rt.is_empty() {
            return Err((-1300, "refresh_token header missing".into()));
        }
        if self.revoked || rt != self.settings.refresh_token {
            return Err((-1301, "refresh_token invalid".into()));
        }
        self.token_fetches += 1;
        if self
            .settings
            .token_fetch_limit
            .is_some_and(|l| self.token_fetches > l)
        {
            return Err((-1305, "daily access_token fetch limit reached".into()));
        }
        let now = SystemTime::now();
        let stale = endpoint == "get_access_token"
            && self
                .stale_tokens
                .checked_sub(1)
                .map(|left| self.stale_tokens = left)
                .is_some();
        let current = self
            .tokens
            .iter()
            .rposition(|t| t.valid && (stale || t.expires > now));
        let idx = match (endpoint, current) {
            ("get_access_token", Some(i)) => i,
            _ => {
                if endpoint == "update_access_token" {
                    for t in &mut self.tokens {
                        t.valid = false;
                    }
                }
                self.issued += 1;
                let value = format!(
                    "fake-at-{}-{:016x}",
                    self.issued,
                    fnv1a(&[&self.settings.refresh_token, &self.issued.to_string()])
                );
                self.tokens.push(Issued {
                    value,
                    expires: now + self.settings.token_lifetime,
                    valid: true,
                });
                self.tokens.len() - 1
            }
        };
        let t = &self.tokens[idx];
        let mut data = Map::new();
        data.insert("access_token".into(), json!(t.value));
        if self.settings.send_expired_time {
            data.insert("expired_time".into(), json!(beijing(t.expires)));
        }
        Ok(json!({"errorcode": 0, "errmsg": "Success!", "data": data}))
    }

    fn check_access(&self, headers: &http::HeaderMap) -> Result<(), Refusal> {
        let Some(at) = headers.get("access_token").and_then(|v| v.to_str().ok()) else {
            return Err((-1300, "access_token header missing".into()));
        };
        if self.revoked {
            return Err((
                -1300,
                "token invalid: the refresh_token was regenerated".into(),
            ));
        }
        let now = SystemTime::now();
        match self.tokens.iter().find(|t| t.value == at) {
            Some(t) if t.valid && t.expires > now => Ok(()),
            _ => Err((-1302, "access_token expired".into())),
        }
    }

    fn data_endpoint(
        &mut self,
        endpoint: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Value, Refusal> {
        self.check_access(headers)?;
        if let Some(q) = self.quota_code {
            return Err((q, "data quota used up".into()));
        }
        let req: Map<String, Value> = match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => m,
            _ => match multipart_fields(body) {
                Some(m) => m,
                None => {
                    return Err((
                        -1203,
                        "parsing failed: the body must be a JSON object".into(),
                    ))
                }
            },
        };
        schema::check(endpoint, &req)?;
        let tables = match endpoint {
            "real_time_quotation" => self.real_time(&req)?,
            "cmd_history_quotation" => self.history(&req)?,
            "high_frequency" => self.intraday(&req, false)?,
            "snap_shot" => self.intraday(&req, true)?,
            "basic_data_service" => self.basic(&req)?,
            "date_sequence" => self.date_sequence(&req)?,
            "edb_service" => self.edb(&req)?,
            "data_pool" => self.data_pool(&req)?,
            "smart_stock_picking" => self.picking(&req)?,
            "fund_valuation" | "final_fund_valuation" | "report_query" => {
                self.outputs(endpoint, &req)?
            }
            "get_thscode" => self.thscode(&req),
            "get_error_message" => {
                let code = req
                    .get("errorcode")
                    .and_then(Value::as_i64)
                    .unwrap_or_default();
                let msg = crate::envelope::describe(code).unwrap_or("unknown error code");
                return Ok(
                    json!({"errorcode": 0, "errmsg": "Success!", "tables": [{"table": {"errorcode": [code], "errmsg": [msg]}}]}),
                );
            }
            "get_data_volume" => {
                let used: usize = self.counts.values().sum();
                return Ok(
                    json!({"errorcode": 0, "errmsg": "Success!", "tables": [{"table": {"dataVol": [used]}}]}),
                );
            }
            "get_trade_dates" => return self.trade_dates(&req),
            "portfolio_manage" => return self.portfolio(&req),
            other => return Err((-1202, format!("unknown interface {other}"))),
        };
        let mut tables = tables;
        if !self.shapes.is_empty() {
            for e in &mut tables {
                apply_shapes(e, &self.shapes);
            }
        }
        Ok(ok_tables(Value::Array(tables)))
    }
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time, as iFinD writes `expired_time`.
fn beijing(t: SystemTime) -> String {
    let utc: DateTime<Utc> = t.into();
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => utc
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => utc.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}
