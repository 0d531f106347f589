//! `portfolio_manage`: the functions of the manual over the fake's portfolios, cash and deals.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::answers::{date, string};
use super::{ok_tables, RecordedDeal, State};
use crate::fake::data::{cell, weekdays};
use crate::fake::schema::Refusal;
use crate::params::parse_date;

impl State {
    pub(super) fn portfolio(&mut self, req: &Map<String, Value>) -> Result<Value, Refusal> {
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

/// The text fields of a multipart body (`name="func"` ... ), and `file` when a file part is
/// present: enough for `fileimport`.
pub(super) fn multipart_fields(body: &[u8]) -> Option<Map<String, Value>> {
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
