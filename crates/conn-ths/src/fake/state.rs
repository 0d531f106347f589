//! The fake's state and request handling: tokens, the rate window, faults, counters, portfolio
//! deals, and the answers of each endpoint.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};

use super::data::{
    apply_shapes, bar_times, by_period, cell, entry, fnv1a, market_cell, offset_days, weekdays,
    Shape,
};
use super::market;
use super::schema;
use crate::params::{parse_date, parse_datetime};
use crate::security_codes::SecurityCode;

/// Endpoints the fake serves.
pub(crate) const TOKEN_ENDPOINTS: [&str; 2] = ["get_access_token", "update_access_token"];

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this iFinD `errorcode` (the request is not processed).
    Code(i64),
    /// Process the request normally but delay the answer (for timeouts: the work is done).
    Delay(Duration),
    /// Answer with this HTTP status and a non-JSON body (a gateway failure; not processed).
    Http(u16),
    /// Hand out the current access token from `get_access_token` even when it is expired (a
    /// token the server then still rejects).
    StaleToken,
}

#[derive(Debug)]
struct Queued {
    endpoint: Option<String>,
    fault: Fault,
    remaining: u32,
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
    faults: Vec<Queued>,
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
            faults: Vec::new(),
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

    pub(crate) fn inject(&mut self, endpoint: Option<&str>, fault: Fault, times: u32) {
        if times > 0 {
            self.faults.push(Queued {
                endpoint: endpoint.map(str::to_owned),
                fault,
                remaining: times,
            });
        }
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
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
        let is_token = TOKEN_ENDPOINTS.contains(&endpoint);
        let pos = self.faults.iter().position(|q| {
            let hit = match &q.endpoint {
                Some(e) => e == endpoint,
                None => !is_token,
            };
            hit && pred(&q.fault)
        })?;
        let q = &mut self.faults[pos];
        q.remaining -= 1;
        let f = q.fault.clone();
        if q.remaining == 0 {
            self.faults.remove(pos);
        }
        Some(f)
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
        let mut delay = None;
        if let Some(Fault::Delay(d)) = self.take_fault(&endpoint, |f| matches!(f, Fault::Delay(_)))
        {
            delay = Some(d);
        }
        match self.take_fault(&endpoint, |f| matches!(f, Fault::Code(_) | Fault::Http(_))) {
            Some(Fault::Code(c)) => {
                let mut a = self.code(c, "injected fault");
                a.delay = delay;
                return a;
            }
            Some(Fault::Http(s)) => {
                return Answer {
                    status: s,
                    body: b"<html><body>gateway error</body></html>".to_vec(),
                    json: false,
                    delay,
                }
            }
            _ => {}
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
        a.delay = delay;
        a
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
                .take_fault(endpoint, |f| matches!(f, Fault::StaleToken))
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

    fn real_time(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let codes = codes(req)?;
        let inds = list(req, "indicators")?;
        let t = self
            .settings
            .quote_time
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        Ok(codes
            .iter()
            .map(|c| {
                let mut table = Map::new();
                for i in &inds {
                    let v = market::quote(c, i, self.settings.quote_time);
                    table.insert(i.clone(), json!([market_cell(c, i, v, &t)]));
                }
                entry(Some(c), Some(vec![t.clone()]), table)
            })
            .collect())
    }

    fn history(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let codes = codes(req)?;
        let inds = list(req, "indicators")?;
        let start = date(req, "startdate")?;
        let end = date(req, "enddate")?;
        let period = req
            .get("functionpara")
            .and_then(|p| p.get("Interval"))
            .and_then(Value::as_str)
            .unwrap_or("D")
            .to_owned();
        let days = by_period(weekdays(start, end, 20_000), &period);
        let times: Vec<String> = days
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        Ok(series(&codes, &inds, &times))
    }

    fn intraday(&self, req: &Map<String, Value>, ticks: bool) -> Result<Vec<Value>, Refusal> {
        let codes = codes(req)?;
        let inds = list(req, "indicators")?;
        let start = datetime(req, "starttime")?;
        let end = datetime(req, "endtime")?;
        let minutes = if ticks {
            1
        } else {
            req.get("functionpara")
                .and_then(|p| p.get("Interval"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(1)
        };
        let fmt = if ticks {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%Y-%m-%d %H:%M"
        };
        let bars = bar_times(start, end, minutes, 20_000);
        let times: Vec<String> = bars.iter().map(|t| t.format(fmt).to_string()).collect();
        Ok(codes
            .iter()
            .map(|c| {
                let mut table = Map::new();
                for i in &inds {
                    let vals: Vec<Value> = bars
                        .iter()
                        .zip(&times)
                        .map(|(b, t)| market_cell(c, i, market::bar(c, i, *b, minutes), t))
                        .collect();
                    table.insert(i.clone(), Value::Array(vals));
                }
                entry(Some(c), Some(times.clone()), table)
            })
            .collect())
    }

    fn basic(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let codes = codes(req)?;
        let paras = indipara(req)?;
        Ok(codes
            .iter()
            .map(|c| {
                let mut table = Map::new();
                for (ind, params) in &paras {
                    table.insert(ind.clone(), json!([cell(c, ind, &params.join(","))]));
                }
                entry(Some(c), None, table)
            })
            .collect())
    }

    fn date_sequence(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let codes = codes(req)?;
        let paras = indipara(req)?;
        let inds: Vec<String> = paras.into_iter().map(|(i, _)| i).collect();
        let start = date(req, "startdate")?;
        let end = date(req, "enddate")?;
        let times: Vec<String> = weekdays(start, end, 20_000)
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        Ok(series(&codes, &inds, &times))
    }

    fn edb(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let ids = list(req, "indicators")?;
        let start = date(req, "startdate")?;
        let end = date(req, "enddate")?;
        let times: Vec<String> = weekdays(start, end, 20_000)
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        Ok(ids
            .iter()
            .map(|id| {
                let vals: Vec<Value> = times.iter().map(|t| cell(id, "value", t)).collect();
                json!({"id": id, "time": times, "table": {"value": vals}})
            })
            .collect())
    }

    fn data_pool(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let report = string(req, "reportname")?;
        let mut fields: Vec<String> = req
            .get("outputpara")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split(',')
            .filter_map(|f| f.split(':').next())
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        if fields.is_empty() {
            fields = vec![format!("{report}_f001"), format!("{report}_f002")];
        }
        let rows: Vec<String> = (0..3)
            .map(|i| {
                format!(
                    "{:06}.SZ",
                    300_000 + fnv1a(&[&report, &i.to_string()]) % 1000
                )
            })
            .collect();
        let mut table = Map::new();
        for (k, f) in fields.iter().enumerate() {
            let vals: Vec<Value> = if k == 0 {
                rows.iter().map(|r| json!(r)).collect()
            } else {
                rows.iter().map(|r| cell(r, f, &report)).collect()
            };
            table.insert(f.clone(), Value::Array(vals));
        }
        Ok(vec![entry(None, None, table)])
    }

    fn picking(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let q = string(req, "searchstring")?;
        let kind = req
            .get("searchtype")
            .and_then(Value::as_str)
            .unwrap_or("stock")
            .to_owned();
        let codes: Vec<String> = (0..5)
            .map(|i| {
                format!(
                    "{:06}.SH",
                    600_000 + fnv1a(&[&q, &kind, &i.to_string()]) % 1000
                )
            })
            .collect();
        let mut table = Map::new();
        table.insert("股票代码".into(), json!(codes));
        table.insert(
            "股票简称".into(),
            json!(codes.iter().map(|c| format!("简称{c}")).collect::<Vec<_>>()),
        );
        table.insert(
            "最新价".into(),
            Value::Array(codes.iter().map(|c| cell(c, "最新价", &q)).collect()),
        );
        Ok(vec![entry(None, None, table)])
    }

    /// Functions answering one column per `outputpara` field, one row per code.
    fn outputs(&self, endpoint: &str, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
        let fields: Vec<String> = string(req, "outputpara")?
            .split(',')
            .filter_map(|f| f.split(':').next())
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let codes: Vec<String> = req
            .get("codes")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(codes
            .iter()
            .map(|c| {
                let mut table = Map::new();
                for f in &fields {
                    table.insert(f.clone(), json!([cell(c, f, endpoint)]));
                }
                entry(Some(c), None, table)
            })
            .collect())
    }

    fn thscode(&self, req: &Map<String, Value>) -> Vec<Value> {
        let key = req.get("seccode").or_else(|| req.get("secname"));
        let q = key.and_then(Value::as_str).unwrap_or_default();
        let code = if q.bytes().all(|b| b.is_ascii_digit()) && q.len() == 6 {
            let market = if q.starts_with('6') { "SH" } else { "SZ" };
            format!("{q}.{market}")
        } else {
            format!("{:06}.SZ", 300_000 + fnv1a(&[q]) % 1000)
        };
        vec![json!({"table": {"thscode": [code]}})]
    }

    fn trade_dates(&self, req: &Map<String, Value>) -> Result<Value, Refusal> {
        string(req, "marketcode")?;
        let start = date(req, "startdate")?;
        let fp = req.get("functionpara");
        let offset = fp
            .and_then(|p| p.get("offset"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i32>().ok());
        let days = match (req.get("enddate"), offset) {
            (Some(_), _) => weekdays(start, date(req, "enddate")?, 20_000),
            (None, Some(n)) => offset_days(start, n),
            (None, None) => return Err((-1202, "enddate or functionpara.offset required".into())),
        };
        let period = fp
            .and_then(|p| p.get("period"))
            .and_then(Value::as_str)
            .unwrap_or("D");
        let times: Vec<String> = by_period(days, period)
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        if fp.and_then(|p| p.get("mode")).and_then(Value::as_str) == Some("2") {
            return Ok(
                json!({"errorcode": 0, "errmsg": "Success!", "tables": {"table": {"count": [times.len()]}}}),
            );
        }
        if times.is_empty() {
            return Err((
                -4211,
                "sorry, there is no trading date in the date range".into(),
            ));
        }
        Ok(json!({"errorcode": 0, "errmsg": "Success!", "tables": {"time": times}}))
    }

    fn portfolio(&mut self, req: &Map<String, Value>) -> Result<Value, Refusal> {
        let func = string(req, "func")?;
        let portfid = match req.get("portfid") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let today = self
            .settings
            .quote_time
            .date()
            .format("%Y-%m-%d")
            .to_string();
        let mine = |d: &&RecordedDeal| d.portfid == portfid;
        match func.as_str() {
            "newportf" => {
                self.portfolios += 1;
                let id = 160_000 + self.portfolios;
                Ok(ok_tables(json!([{"table": {"portfid": [id]}}])))
            }
            "importf" | "fileimport" => {
                self.jobs += 1;
                Ok(ok_tables(json!([{"table": {"jobid": [self.jobs]}}])))
            }
            "query_commit" => Ok(ok_tables(json!([{"table": {"status": ["finished"]}}]))),
            "cashacs" => {
                let fp = req.get("functionpara").and_then(Value::as_object);
                let amount: f64 = fp
                    .and_then(|p| p.get("amount"))
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0.0);
                let sign =
                    if fp.and_then(|p| p.get("acesscls")).and_then(Value::as_str) == Some("102") {
                        -1.0
                    } else {
                        1.0
                    };
                *self.cash.entry(portfid).or_default() += sign * amount;
                Ok(ok_tables(json!([])))
            }
            "deal" => {
                let Some(Value::Object(p)) = req.get("functionpara") else {
                    return Err((-1202, "functionpara required".into()));
                };
                let mut params: BTreeMap<String, String> = p
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect();
                params.insert("date".into(), today);
                // The trade log and the holdings name securities with their market suffix.
                let suffix = match params.get("marketCode").map(String::as_str) {
                    Some("212001") => ".SH",
                    Some("212100") => ".SZ",
                    Some("212200") => ".HK",
                    _ => "",
                };
                let full = format!("{}{suffix}", params["thscode"]);
                params.insert("code".into(), full);
                self.deals.push(RecordedDeal { portfid, params });
                let id = self.deals.len();
                Ok(ok_tables(json!([{"table": {"dealid": [id]}}])))
            }
            "query_exchange_records" => {
                let start = date(req, "startdate")?;
                let end = date(req, "enddate")?;
                let rows: Vec<&RecordedDeal> = self
                    .deals
                    .iter()
                    .filter(mine)
                    .filter(|d| {
                        parse_date(&d.params["date"]).is_some_and(|x| x >= start && x <= end)
                    })
                    .collect();
                let col = |k: &str| -> Vec<Value> {
                    rows.iter()
                        .map(|d| json!(d.params.get(k).cloned().unwrap_or_default()))
                        .collect()
                };
                let num = |k: &str| -> Vec<Value> {
                    rows.iter()
                        .map(|d| {
                            json!(d
                                .params
                                .get(k)
                                .and_then(|v| v.parse::<f64>().ok())
                                .unwrap_or(0.0))
                        })
                        .collect()
                };
                let business: Vec<Value> = rows
                    .iter()
                    .map(|d| {
                        json!(if d.params["direct"] == "sell" {
                            "卖出"
                        } else {
                            "买入"
                        })
                    })
                    .collect();
                Ok(ok_tables(json!([{"table": {
                    "date": col("date"), "code": col("code"), "name": col("codeName"),
                    "dealPrice": num("price"), "dealNumber": num("volume"),
                    "businessName": business, "serviceCharge": num("fee"),
                    "currency": col("currency"), "exchangeRate": num("rate")
                }}])))
            }
            "query_positions" | "query_overview" => {
                let mut pos: BTreeMap<String, (f64, f64)> = BTreeMap::new();
                for d in self.deals.iter().filter(mine) {
                    let vol: f64 = d.params["volume"].parse().unwrap_or(0.0);
                    let price: f64 = d.params["price"].parse().unwrap_or(0.0);
                    let sign = if d.params["direct"] == "sell" {
                        -1.0
                    } else {
                        1.0
                    };
                    let e = pos.entry(d.params["code"].clone()).or_default();
                    e.0 += sign * vol;
                    e.1 += sign * vol * price;
                }
                let codes: Vec<&String> = pos.keys().collect();
                let vols: Vec<f64> = pos.values().map(|v| v.0).collect();
                let costs: Vec<f64> = pos
                    .values()
                    .map(|v| (v.1 * 100.0).round() / 100.0)
                    .collect();
                if func == "query_positions" {
                    Ok(ok_tables(
                        json!([{"table": {"thsCode": codes, "amount": vols, "cost": costs}}]),
                    ))
                } else {
                    // Cash is one more row, as iFinD lists it among the assets.
                    let cash = self.cash.get(&portfid).copied().unwrap_or(0.0);
                    let mut codes: Vec<String> = codes.into_iter().cloned().collect();
                    let (mut vols, mut costs) = (vols, costs);
                    codes.push("CNY".into());
                    vols.push(cash);
                    costs.push(cash);
                    Ok(ok_tables(json!([{"table": {
                        "thscode": codes, "number": vols, "positionCost": costs
                    }}])))
                }
            }
            "query_perform" | "query_risk_profits" => {
                let start = date(req, "startdate")?;
                let end = date(req, "enddate")?;
                let times: Vec<String> = weekdays(start, end, 2_000)
                    .iter()
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .collect();
                let vals: Vec<Value> = times.iter().map(|t| cell(&portfid, &func, t)).collect();
                Ok(ok_tables(
                    json!([{"time": times, "table": {"value": vals}}]),
                ))
            }
            other => Err((-1202, format!("unknown func {other}"))),
        }
    }
}

fn series(codes: &[String], inds: &[String], times: &[String]) -> Vec<Value> {
    codes
        .iter()
        .map(|c| {
            let mut table = Map::new();
            for i in inds {
                let vals: Vec<Value> = times.iter().map(|t| cell(c, i, t)).collect();
                table.insert(i.clone(), Value::Array(vals));
            }
            entry(Some(c), Some(times.to_vec()), table)
        })
        .collect()
}

fn string(req: &Map<String, Value>, key: &str) -> Result<String, Refusal> {
    match req.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err((-1202, format!("{key} required"))),
    }
}

fn list(req: &Map<String, Value>, key: &str) -> Result<Vec<String>, Refusal> {
    let s = string(req, key)?;
    Ok(s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect())
}

fn codes(req: &Map<String, Value>) -> Result<Vec<String>, Refusal> {
    let codes = list(req, "codes")?;
    for c in &codes {
        if SecurityCode::parse(c).is_err() {
            return Err((-4203, format!("invalid code {c}")));
        }
    }
    Ok(codes)
}

fn indipara(req: &Map<String, Value>) -> Result<Vec<(String, Vec<String>)>, Refusal> {
    let Some(Value::Array(items)) = req.get("indipara") else {
        return Err((-1202, "indipara required".into()));
    };
    let mut out = Vec::new();
    for it in items {
        let Some(ind) = it.get("indicator").and_then(Value::as_str) else {
            return Err((-4211, "indipara.indicator required".into()));
        };
        let params = it
            .get("indiparams")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        out.push((ind.to_owned(), params));
    }
    if out.is_empty() {
        return Err((-1202, "indipara is empty".into()));
    }
    Ok(out)
}

fn date(req: &Map<String, Value>, key: &str) -> Result<chrono::NaiveDate, Refusal> {
    let s = string(req, key)?;
    parse_date(&s).ok_or((-4210, format!("{key}: not a date: {s}")))
}

fn datetime(req: &Map<String, Value>, key: &str) -> Result<NaiveDateTime, Refusal> {
    let s = string(req, key)?;
    parse_datetime(&s).ok_or((-4210, format!("{key}: not a time: {s}")))
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

/// The text fields of a multipart body (`name="func"` ... ), and `file` when a file part is
/// present: enough for `fileimport`.
fn multipart_fields(body: &[u8]) -> Option<Map<String, Value>> {
    let text = String::from_utf8_lossy(body);
    if !text.contains("Content-Disposition: form-data") {
        return None;
    }
    let mut m = Map::new();
    for part in text.split("Content-Disposition: form-data; ").skip(1) {
        let name = part.strip_prefix("name=\"")?.split('"').next()?.to_owned();
        let value = part.split("\r\n\r\n").nth(1).unwrap_or_default();
        let value = value.split("\r\n--").next().unwrap_or_default().to_owned();
        if name == "portfid" {
            if let Ok(n) = value.parse::<u64>() {
                m.insert(name, json!(n));
                continue;
            }
        }
        m.insert(name, json!(value));
    }
    Some(m)
}
