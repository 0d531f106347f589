//! The data endpoints' answers: market data drawn from `market` (so history, high frequency,
//! snapshot and quote agree), reference data, the calendar, and the request readers they share.

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::State;
use crate::fake::data::{bar_times, by_period, cell, entry, market_cell, offset_days, weekdays};
use crate::fake::market;
use crate::fake::market::fnv1a;
use crate::fake::schema::Refusal;
use crate::params::{parse_date, parse_datetime};
use crate::security_codes::SecurityCode;

impl State {
    pub(super) fn real_time(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn history(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn intraday(
        &self,
        req: &Map<String, Value>,
        ticks: bool,
    ) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn basic(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn date_sequence(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn edb(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn data_pool(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn picking(&self, req: &Map<String, Value>) -> Result<Vec<Value>, Refusal> {
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
    pub(super) fn outputs(
        &self,
        endpoint: &str,
        req: &Map<String, Value>,
    ) -> Result<Vec<Value>, Refusal> {
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

    pub(super) fn thscode(&self, req: &Map<String, Value>) -> Vec<Value> {
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

    pub(super) fn trade_dates(&self, req: &Map<String, Value>) -> Result<Value, Refusal> {
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
}

pub(super) fn series(codes: &[String], inds: &[String], times: &[String]) -> Vec<Value> {
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

pub(super) fn string(req: &Map<String, Value>, key: &str) -> Result<String, Refusal> {
    match req.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err((-1202, format!("{key} required"))),
    }
}

pub(super) fn list(req: &Map<String, Value>, key: &str) -> Result<Vec<String>, Refusal> {
    let s = string(req, key)?;
    Ok(s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect())
}

pub(super) fn codes(req: &Map<String, Value>) -> Result<Vec<String>, Refusal> {
    let codes = list(req, "codes")?;
    for c in &codes {
        if SecurityCode::parse(c).is_err() {
            return Err((-4203, format!("invalid code {c}")));
        }
    }
    Ok(codes)
}

pub(super) fn indipara(req: &Map<String, Value>) -> Result<Vec<(String, Vec<String>)>, Refusal> {
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

pub(super) fn date(req: &Map<String, Value>, key: &str) -> Result<chrono::NaiveDate, Refusal> {
    let s = string(req, key)?;
    parse_date(&s).ok_or((-4210, format!("{key}: not a date: {s}")))
}

pub(super) fn datetime(req: &Map<String, Value>, key: &str) -> Result<NaiveDateTime, Refusal> {
    let s = string(req, key)?;
    parse_datetime(&s).ok_or((-4210, format!("{key}: not a time: {s}")))
}
