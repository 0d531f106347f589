//! The manual's request rules, enforced by the fake before it answers: each function's
//! required keys and its enums. A client sending the wrong shape gets the manual's codes
//! (-1202 parameter error for a missing key, -4210 for a value outside its enum, -4206 for a
//! malformed code, -4209 for a snapshot over two days), so its tests fail.

use serde_json::{Map, Value};

use crate::options::{
    is_tech_indicator, Adjust, Currency, Days, HfAdjust, Interval, Minutes, PriceType,
    SequenceFill, TimeFormat,
};
use crate::params::{parse_date, parse_datetime};
use crate::security_codes::SecurityCode;

/// A refusal: the code and a message.
pub(crate) type Refusal = (i64, String);

fn missing(key: &str) -> Refusal {
    (-1202, format!("{key} is required"))
}

fn bad(key: &str, v: &str, allowed: &str) -> Refusal {
    (-4210, format!("{key}: {v:?} is not one of {allowed}"))
}

fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

fn required<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a str, Refusal> {
    match m.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(missing(key)),
    }
}

fn present(m: &Map<String, Value>, key: &str) -> Result<(), Refusal> {
    m.get(key).map(|_| ()).ok_or_else(|| missing(key))
}

fn object<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a Map<String, Value>, Refusal> {
    m.get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| missing(key))
}

fn one_of(fp: &Map<String, Value>, key: &str, allowed: &[&str]) -> Result<(), Refusal> {
    match fp.get(key) {
        None => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(v) => Err(bad(
            &format!("functionpara.{key}"),
            &v.to_string(),
            &allowed.join("|"),
        )),
    }
}

fn need_one_of(fp: &Map<String, Value>, key: &str, allowed: &[&str]) -> Result<(), Refusal> {
    if !fp.contains_key(key) {
        return Err(missing(&format!("functionpara.{key}")));
    }
    one_of(fp, key, allowed)
}

macro_rules! wires {
    ($t:ty) => {
        <$t>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()
    };
}

fn codes(m: &Map<String, Value>) -> Result<(), Refusal> {
    for c in required(m, "codes")?.split(',') {
        // The fake knows the markets of MARKETS; a real server knows its securities.
        let known = SecurityCode::parse(c).is_ok_and(|s| {
            crate::security_codes::MARKETS
                .iter()
                .any(|(m, _)| *m == s.market())
        });
        if !known {
            return Err((-4206, format!("include the wrong thscode: {c}")));
        }
    }
    Ok(())
}

fn date(m: &Map<String, Value>, key: &str) -> Result<(), Refusal> {
    let s = required(m, key)?;
    parse_date(s)
        .map(|_| ())
        .ok_or((-4204, format!("wrong time format: {key}={s}")))
}

fn datetime(m: &Map<String, Value>, key: &str) -> Result<(), Refusal> {
    let s = required(m, key)?;
    parse_datetime(s)
        .map(|_| ())
        .ok_or((-4204, format!("wrong time format: {key}={s}")))
}

fn fill_ok(v: &str, named: &[&str]) -> bool {
    named.contains(&v) || v.parse::<f64>().is_ok()
}

fn indipara(m: &Map<String, Value>) -> Result<(), Refusal> {
    let Some(Value::Array(items)) = m.get("indipara") else {
        return Err(missing("indipara"));
    };
    if items.is_empty()
        || items
            .iter()
            .any(|i| i.get("indicator").and_then(Value::as_str).is_none())
    {
        return Err(missing("indipara[].indicator"));
    }
    Ok(())
}

/// Checks one request of `endpoint` against the manual.
pub(crate) fn check(endpoint: &str, m: &Map<String, Value>) -> Result<(), Refusal> {
    let empty = Map::new();
    let fp = m
        .get("functionpara")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    match endpoint {
        "basic_data_service" => {
            codes(m)?;
            indipara(m)
        }
        "date_sequence" => {
            codes(m)?;
            date(m, "startdate")?;
            date(m, "enddate")?;
            indipara(m)?;
            one_of(fp, "Interval", &wires!(Interval))?;
            one_of(fp, "Days", &wires!(Days))?;
            one_of(fp, "Fill", &wires!(SequenceFill))
        }
        "cmd_history_quotation" => {
            codes(m)?;
            required(m, "indicators")?;
            date(m, "startdate")?;
            date(m, "enddate")?;
            if fp.contains_key("Interval") && fp.contains_key("SampleInterval") {
                return Err((
                    -4210,
                    "Interval and SampleInterval exclude each other".into(),
                ));
            }
            one_of(fp, "Interval", &wires!(Interval))?;
            one_of(fp, "SampleInterval", &wires!(Interval))?;
            one_of(fp, "CPS", &wires!(Adjust))?;
            one_of(fp, "PriceType", &wires!(PriceType))?;
            one_of(fp, "Currency", &wires!(Currency))?;
            if let Some(f) = str_of(fp, "Fill") {
                if !fill_ok(f, &["Previous", "Blank", "Omit"]) {
                    return Err(bad("functionpara.Fill", f, "Previous|Blank|Omit|a number"));
                }
            }
            Ok(())
        }
        "high_frequency" => {
            codes(m)?;
            let inds = required(m, "indicators")?;
            datetime(m, "starttime")?;
            datetime(m, "endtime")?;
            one_of(fp, "Interval", &wires!(Minutes))?;
            one_of(fp, "CPS", &wires!(HfAdjust))?;
            one_of(fp, "Timeformat", &wires!(TimeFormat))?;
            if let Some(f) = str_of(fp, "Fill") {
                if !fill_ok(f, &["Previous", "Blank", "Original"]) {
                    return Err(bad(
                        "functionpara.Fill",
                        f,
                        "Previous|Blank|Original|a number",
                    ));
                }
            }
            let calc = fp.get("calculate").and_then(Value::as_object);
            for i in inds.split(',').filter(|i| is_tech_indicator(i)) {
                if calc
                    .and_then(|c| c.get(i))
                    .and_then(Value::as_str)
                    .is_none()
                {
                    return Err(missing(&format!("functionpara.calculate.{i}")));
                }
            }
            Ok(())
        }
        "real_time_quotation" => {
            codes(m)?;
            required(m, "indicators").map(|_| ())
        }
        "snap_shot" => {
            codes(m)?;
            required(m, "indicators")?;
            datetime(m, "starttime")?;
            datetime(m, "endtime")?;
            let day = |k| str_of(m, k).and_then(parse_datetime).map(|t| t.date());
            if day("starttime") != day("endtime") {
                return Err((
                    -4209,
                    "the startDate and endDate of Snapshot should be the same".into(),
                ));
            }
            Ok(())
        }
        "edb_service" => {
            required(m, "indicators")?;
            date(m, "startdate")?;
            date(m, "enddate")
        }
        "data_pool" => {
            required(m, "reportname")?;
            object(m, "functionpara")?;
            required(m, "outputpara").map(|_| ())
        }
        "smart_stock_picking" => {
            required(m, "searchstring")?;
            required(m, "searchtype").map(|_| ())
        }
        "fund_valuation" => {
            codes(m)?;
            let fp = object(m, "functionpara")?;
            need_one_of(fp, "onlyLastest", &["0", "1"])?;
            if str_of(fp, "onlyLastest") == Some("0") {
                datetime(fp, "beginTime")?;
                datetime(fp, "endTime")?;
            }
            required(m, "outputpara").map(|_| ())
        }
        "final_fund_valuation" => {
            codes(m)?;
            let fp = object(m, "functionpara")?;
            date(fp, "beginDate")?;
            date(fp, "endDate")?;
            required(m, "outputpara").map(|_| ())
        }
        "get_trade_dates" => {
            required(m, "marketcode")?;
            date(m, "startdate")?;
            let fp = object(m, "functionpara")?;
            need_one_of(fp, "dateType", &["0", "1"])?;
            need_one_of(fp, "dateFormat", &["0", "1", "2"])?;
            need_one_of(fp, "period", &wires!(Interval))?;
            if m.contains_key("enddate") {
                date(m, "enddate")?;
                need_one_of(fp, "mode", &["1", "2"])
            } else {
                let off = required(fp, "offset")?;
                if off.parse::<i32>().is_err() {
                    return Err(bad("functionpara.offset", off, "a whole number"));
                }
                need_one_of(fp, "output", &["sequencedate", "singledate"])
            }
        }
        "get_thscode" => {
            let fp = object(m, "functionpara")?;
            let mode = required(fp, "mode")?;
            if !["seccode", "secname"].contains(&mode) {
                return Err(bad("functionpara.mode", mode, "seccode|secname"));
            }
            required(m, mode)?;
            for k in ["sectype", "market"] {
                present(fp, k)?;
            }
            need_one_of(fp, "tradestatus", &["0", "1", "2"])?;
            need_one_of(fp, "isexact", &["0", "1"])
        }
        "report_query" => {
            if str_of(m, "codes").is_none_or(str::is_empty) {
                required(fp, "mode")?;
            } else {
                codes(m)?;
            }
            required(m, "outputpara").map(|_| ())
        }
        "get_error_message" => m
            .get("errorcode")
            .and_then(Value::as_i64)
            .map(|_| ())
            .ok_or_else(|| missing("errorcode")),
        "get_data_volume" => Ok(()),
        "portfolio_manage" => portfolio(m),
        other => Err((-1202, format!("unknown interface {other}"))),
    }
}

fn portfid(m: &Map<String, Value>) -> Result<(), Refusal> {
    match m.get("portfid") {
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(()),
        Some(Value::String(s)) if s.parse::<u64>().is_ok() => Ok(()),
        _ => Err(missing("portfid")),
    }
}

fn portfolio(m: &Map<String, Value>) -> Result<(), Refusal> {
    let func = required(m, "func")?;
    if func != "newportf" {
        portfid(m)?;
    }
    match func {
        "newportf" => {
            required(m, "name")?;
            m.get("group")
                .and_then(Value::as_u64)
                .map(|_| ())
                .ok_or_else(|| missing("group"))?;
            one_of(m, "currency", &["CNY", "HKD", "USD"])
        }
        "importf" => match m.get("content") {
            Some(Value::Array(rows)) if rows.len() >= 2 && rows.iter().all(Value::is_array) => {
                Ok(())
            }
            _ => Err(missing("content")),
        },
        "fileimport" => required(m, "file").map(|_| ()),
        "query_commit" => m
            .get("jobid")
            .and_then(Value::as_u64)
            .map(|_| ())
            .ok_or_else(|| missing("jobid")),
        "cashacs" => {
            let fp = object(m, "functionpara")?;
            need_one_of(fp, "acesscls", &["101", "102"])?;
            let a = required(fp, "amount")?;
            a.parse::<f64>()
                .map(|_| ())
                .map_err(|_| bad("functionpara.amount", a, "a number"))
        }
        "deal" => {
            let fp = object(m, "functionpara")?;
            for k in [
                "thscode",
                "codeName",
                "marketCode",
                "securityType",
                "currency",
                "fee",
                "rate",
            ] {
                required(fp, k)?;
            }
            for k in ["price", "volume", "feep"] {
                if !fp.get(k).is_some_and(Value::is_number) {
                    return Err(missing(&format!("functionpara.{k}")));
                }
            }
            need_one_of(fp, "direct", &["buy", "sell"])?;
            one_of(fp, "bonus", &["", "1", "2"])?;
            let code = str_of(fp, "thscode").unwrap_or_default();
            if code.contains('.') {
                return Err((-4206, format!("thscode is the bare symbol, got {code}")));
            }
            Ok(())
        }
        "query_exchange_records" => {
            required(m, "indicators")?;
            date(m, "startdate")?;
            date(m, "enddate")
        }
        "query_overview" => required(m, "indicators").map(|_| ()),
        "query_positions" => {
            required(m, "indicators")?;
            let fp = object(m, "functionpara")?;
            need_one_of(fp, "penetrate", &["true", "false"])
        }
        "query_perform" => {
            required(m, "performbm")?;
            date(m, "startdate")?;
            date(m, "enddate")?;
            let fp = object(m, "functionpara")?;
            need_one_of(fp, "pfclass", &["perform", "nasset", "utnv"])?;
            need_one_of(
                fp,
                "cycle",
                &["rquota", "day", "week", "month", "halfYear", "year"],
            )
        }
        "query_risk_profits" => {
            match m.get("indicators") {
                Some(Value::Array(a)) if !a.is_empty() => {}
                Some(Value::String(s)) if !s.is_empty() => {}
                _ => return Err(missing("indicators")),
            }
            date(m, "startdate")?;
            date(m, "enddate")?;
            let fp = object(m, "functionpara")?;
            need_one_of(fp, "cycle", &["day", "week", "month", "season", "year"])?;
            required(fp, "benchmark").map(|_| ())
        }
        other => Err((-1202, format!("unknown func {other}"))),
    }
}
