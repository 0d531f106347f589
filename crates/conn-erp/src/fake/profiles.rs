//! The fake's built-in ERP profiles: their routes, and their answers in each ERP's own shape.
//!
//! Orders are stored in one neutral shape (`id, status, customer, currency, created_at,
//! total_amount, items[sku, quantity, unit_price, amount]`) and rendered per ERP; creates are
//! read from each ERP's request shape and deduplicated as the ERP does (聚水潭 `so_id` and
//! 旺店通 `tid` update the same order, Kingdee refuses a second `FBillNo`).

use chrono::NaiveDate;
use http::Method;
use percent_encoding::percent_decode_str;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use wiremock::Request;

use super::responder::{decimal, number, Responder};
use super::verify::{query_pairs, Business};
use super::FakeOp;
use crate::profile::{self, Profile};

/// A create as the fake reads it: the outer number, the customer, lines of (sku, qty, price).
type ParsedCreate = (Option<String>, String, Vec<(String, Decimal, Decimal)>);

/// The operation a request of a built-in profile addresses.
pub(super) fn route(p: Profile, req: &Request) -> Option<FakeOp> {
    let path = percent_decode_str(req.url.path())
        .decode_utf8_lossy()
        .into_owned();
    let post = req.method == Method::POST;
    match p {
        Profile::Own => None,
        Profile::Jushuitan if post && path == profile::jst::LIST_PATH => {
            Some(list_or_detail(req_has(req, "so_ids")))
        }
        Profile::Jushuitan if post && path == profile::jst::CREATE_PATH => {
            Some(FakeOp::CreateOrder)
        }
        Profile::Wangdiantong if post && path == profile::wdt::PATH => {
            let q = query_pairs(req);
            match q
                .iter()
                .find(|(k, _)| k == "method")
                .map(|(_, v)| v.as_str())
            {
                Some(profile::wdt::LIST_METHOD) => Some(list_or_detail(req_has(req, "src_tid"))),
                Some(profile::wdt::CREATE_METHOD) => Some(FakeOp::CreateOrder),
                _ => None,
            }
        }
        Profile::Kingdee if post && path == profile::kingdee::QUERY_PATH => {
            Some(list_or_detail(req_has(req, "FBillNo=")))
        }
        Profile::Kingdee if post && path == profile::kingdee::SAVE_PATH => {
            Some(FakeOp::CreateOrder)
        }
        Profile::Erpnext if req.method == Method::GET && erpnext_name(req).is_some() => {
            Some(FakeOp::GetOrder)
        }
        Profile::Erpnext if path == profile::erpnext::PATH => match req.method {
            Method::GET => Some(FakeOp::ListOrders),
            Method::POST => Some(FakeOp::CreateOrder),
            _ => None,
        },
        _ => None,
    }
}

fn list_or_detail(detail: bool) -> FakeOp {
    if detail {
        FakeOp::GetOrder
    } else {
        FakeOp::ListOrders
    }
}

/// True when the raw body or query mentions `marker` (the detail filter of a list call; the
/// signed body is parsed properly by the handler, this only routes and counts).
fn req_has(req: &Request, marker: &str) -> bool {
    let body = String::from_utf8_lossy(&req.body);
    let decoded = percent_decode_str(&body.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned();
    decoded.contains(marker) || req.url.query().is_some_and(|q| q.contains(marker))
}

/// The document name of an ERPNext detail path (`/api/resource/Sales%20Order/<name>`).
pub(super) fn erpnext_name(req: &Request) -> Option<String> {
    let prefix = format!("{}/", profile::erpnext::PATH.replace(' ', "%20"));
    let rest = req.url.path().strip_prefix(&prefix)?;
    (!rest.is_empty()).then(|| percent_decode_str(rest).decode_utf8_lossy().into_owned())
}

fn date_of(o: &Value) -> Option<NaiveDate> {
    let s = o.get("created_at")?.as_str()?;
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// An error in the ERP's own envelope (what a real server answers to a bad request).
pub(super) fn refusal(p: Profile, msg: &str) -> (u16, Value) {
    match p {
        Profile::Jushuitan => (200, json!({"code": 130, "msg": msg, "data": null})),
        Profile::Wangdiantong => (200, json!({"status": 100, "message": msg})),
        Profile::Kingdee => (
            200,
            json!({"Result": {"ResponseStatus": {"IsSuccess": false, "ErrorCode": 500, "MsgCode": 11,
                "Errors": [{"FieldName": "", "Message": msg, "DIndex": 0}]}}}),
        ),
        _ => (
            417,
            json!({"exc_type": "ValidationError", "exception": format!("frappe.exceptions.ValidationError: {msg}"),
                "_server_messages": json!([json!({"message": msg}).to_string()]).to_string()}),
        ),
    }
}

fn items_of(o: &Value) -> Vec<Value> {
    o.get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn render(p: Profile, o: &Value, n: usize) -> Value {
    let id = o["id"].clone();
    let total = o["total_amount"].clone();
    let date = o["created_at"].as_str().unwrap_or_default().to_owned();
    match p {
        Profile::Jushuitan => json!({
            "o_id": n, "so_id": id, "status": "WaitConfirm", "shop_status": o["status"],
            "pay_amount": total, "order_date": format!("{date} 00:00:00"), "shop_buyer_id": o["customer"],
            "items": items_of(o).iter().map(|i| json!({"sku_id": i["sku"], "name": i["sku"],
                "qty": i["quantity"], "price": i["unit_price"], "amount": i["amount"]})).collect::<Vec<_>>(),
        }),
        Profile::Wangdiantong => json!({
            "trade_no": format!("JY{n:08}"), "src_tid": id, "trade_status": 30, "receivable": total,
            "paid": total, "customer_name": o["customer"], "trade_time": format!("{date} 00:00:00"),
            "detail_list": items_of(o).iter().map(|i| json!({"spec_no": i["sku"], "goods_no": i["sku"],
                "goods_name": i["sku"], "num": i["quantity"], "order_price": i["unit_price"],
                "share_amount": i["amount"]})).collect::<Vec<_>>(),
        }),
        Profile::Kingdee => {
            // Rows in FieldKeys order; Kingdee sends numbers as JSON numbers.
            let amount = decimal(Some(&total))
                .and_then(|d| serde_json::from_str::<Value>(&d.to_string()).ok())
                .unwrap_or(Value::Null);
            json!([
                100_000 + n,
                id,
                format!("{date}T00:00:00"),
                o["customer"],
                amount,
                "A"
            ])
        }
        _ => json!({
            "name": id, "customer": o["customer"], "grand_total": total, "status": "Draft",
            "transaction_date": date, "currency": o["currency"],
        }),
    }
}

/// The ids a list call is narrowed to (聚水潭 `so_ids`, 旺店通 `src_tid`, Kingdee
/// `FBillNo='…'` in `FilterString`), as each ERP reads them.
fn detail_id(p: Profile, body: &Value) -> Option<Vec<String>> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    match p {
        Profile::Jushuitan => body
            .get("so_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(text).collect()),
        Profile::Wangdiantong => body
            .get(0)
            .and_then(|a| a.get("src_tid"))
            .and_then(text)
            .map(|t| vec![t]),
        Profile::Kingdee => {
            let f = body.pointer("/data/FilterString").and_then(Value::as_str)?;
            let rest = f.split("FBillNo='").nth(1)?;
            // Kingdee doubles quotes inside a literal; the literal ends at a lone quote.
            let mut out = String::new();
            let mut chars = rest.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(c);
            }
            Some(vec![out])
        }
        _ => None,
    }
}

impl Responder {
    /// One ERPNext document by name, or Frappe's `DoesNotExistError`.
    pub(super) fn profile_detail(&self, p: Profile, req: &Request) -> (u16, Value) {
        let name = erpnext_name(req).unwrap_or_default();
        let st = self.0.lock();
        match st
            .orders
            .iter()
            .enumerate()
            .find(|(_, o)| o["id"] == json!(name))
        {
            Some((n, o)) => {
                let mut doc = render(p, o, n + 1);
                if let Some(m) = doc.as_object_mut() {
                    m.insert(
                        "items".into(),
                        items_of(o)
                            .iter()
                            .map(|i| {
                                json!({"item_code": i["sku"], "qty": i["quantity"],
                                "rate": i["unit_price"], "amount": i["amount"]})
                            })
                            .collect(),
                    );
                }
                (200, json!({"data": doc}))
            }
            None => (
                404,
                json!({"exc_type": "DoesNotExistError",
                    "exception": format!("frappe.exceptions.DoesNotExistError: Sales Order {name} not found")}),
            ),
        }
    }

    /// A page of orders in the profile's request and answer shapes.
    pub(super) fn profile_list(&self, p: Profile, b: &Business) -> (u16, Value) {
        let body = b.body.clone().unwrap_or(Value::Null);
        // (first index, page size, from, to) per ERP.
        let (start, size, from, to): (u64, u64, Option<NaiveDate>, Option<NaiveDate>) = match p {
            Profile::Jushuitan => {
                let (Some(pi), Some(ps)) = (
                    number(body.get("page_index")),
                    number(body.get("page_size")),
                ) else {
                    return refusal(p, "page_index and page_size are required");
                };
                if pi == 0 || ps == 0 || ps > 100 {
                    return refusal(p, "page_index starts at 1; page_size is 1 to 100");
                }
                let from = body
                    .get("modified_begin")
                    .and_then(Value::as_str)
                    .and_then(day);
                let to = body
                    .get("modified_end")
                    .and_then(Value::as_str)
                    .and_then(day);
                if let (Some(f), Some(t)) = (from, to) {
                    if (t - f).num_days() > 7 {
                        return refusal(
                            p,
                            "modified_begin and modified_end may be at most 7 days apart",
                        );
                    }
                }
                ((pi - 1).saturating_mul(ps), ps, from, to)
            }
            Profile::Wangdiantong => {
                let (Some(pn), Some(ps)) = (
                    number(b.params.get("page_no")),
                    number(b.params.get("page_size")),
                ) else {
                    return refusal(p, "page_no and page_size are required");
                };
                let args = body.get(0).cloned().unwrap_or(Value::Null);
                let from = args.get("start_time").and_then(Value::as_str).and_then(day);
                let to = args.get("end_time").and_then(Value::as_str).and_then(day);
                (pn.saturating_mul(ps), ps, from, to)
            }
            Profile::Kingdee => {
                let d = body.get("data").cloned().unwrap_or(Value::Null);
                if d.get("FormId").and_then(Value::as_str) != Some(profile::kingdee::FORM) {
                    return refusal(p, "FormId must be SAL_SaleOrder");
                }
                let keys = profile::kingdee::FIELD_KEYS.join(",");
                if d.get("FieldKeys").and_then(Value::as_str) != Some(keys.as_str()) {
                    return refusal(p, "unexpected FieldKeys");
                }
                let filter = d
                    .get("FilterString")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let after = |marker: &str| filter.split(marker).nth(1).and_then(day);
                (
                    number(d.get("StartRow")).unwrap_or(0),
                    number(d.get("Limit")).unwrap_or(0),
                    after("FDate>='"),
                    after("FDate<='"),
                )
            }
            _ => {
                let (Some(ls), Some(ps)) = (
                    number(b.params.get("limit_start")),
                    number(b.params.get("limit_page_length")),
                ) else {
                    return refusal(p, "limit_start and limit_page_length are required");
                };
                let f: Value = b
                    .params
                    .get("filters")
                    .and_then(Value::as_str)
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or(Value::Null);
                let range = f
                    .get(0)
                    .filter(|c| c.get(0) == Some(&json!("transaction_date")))
                    .and_then(|c| c.get(2));
                let pick = |i: usize| {
                    range
                        .and_then(|r| r.get(i))
                        .and_then(Value::as_str)
                        .and_then(day)
                };
                (ls, ps, pick(0), pick(1))
            }
        };
        if size == 0 || size > 10_000 {
            return refusal(p, "page size must be 1 to 10000");
        }
        let only = detail_id(p, &body);
        let st = self.0.lock();
        let selected: Vec<(usize, &Value)> = st
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                let d = date_of(o);
                from.is_none_or(|f| d.is_some_and(|d| d >= f))
                    && to.is_none_or(|t| d.is_some_and(|d| d <= t))
                    && only
                        .as_ref()
                        .is_none_or(|ids| ids.iter().any(|i| o["id"] == json!(i)))
            })
            .collect();
        let total = selected.len();
        let first = usize::try_from(start).unwrap_or(usize::MAX).min(total);
        let last = first
            .saturating_add(usize::try_from(size).unwrap_or(usize::MAX))
            .min(total);
        let page: Vec<Value> = selected[first..last]
            .iter()
            .map(|(n, o)| render(p, o, n + 1))
            .collect();
        drop(st);
        match p {
            Profile::Jushuitan => (
                200,
                json!({"code": 0, "msg": "执行成功", "data": {
                "page_index": start / size + 1, "page_size": size, "data_count": total,
                "has_next": last < total, "orders": page}}),
            ),
            Profile::Wangdiantong => (
                200,
                json!({"status": 0, "data": {"total_count": total, "order": page}}),
            ),
            Profile::Kingdee => (200, Value::Array(page)),
            _ => (200, json!({"data": page})),
        }
    }

    /// A create in the profile's request and answer shapes, deduplicated as the ERP does.
    pub(super) fn profile_create(&self, p: Profile, b: &Business) -> (u16, Value) {
        let body = b.body.clone().unwrap_or(Value::Null);
        let shop = self.0.settings.shop.clone();
        // (outer number, customer, lines as (sku, qty, price)).
        let parsed: Result<ParsedCreate, String> = (|| {
            let lines = |arr: Option<&Vec<Value>>,
                         sku: &dyn Fn(&Value) -> Option<String>,
                         q: &str,
                         pr: &str| {
                let arr = arr
                    .filter(|a| !a.is_empty())
                    .ok_or("the order has no lines")?;
                arr.iter()
                    .map(|i| {
                        let s = sku(i).ok_or("a line has no sku")?;
                        let qty = decimal(i.get(q))
                            .filter(|d| *d > Decimal::ZERO)
                            .ok_or("a line's quantity must be above zero")?;
                        let price = decimal(i.get(pr)).ok_or("a line has no price")?;
                        Ok::<_, &str>((s, qty, price))
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            let text = |v: &Value| v.as_str().map(str::to_owned);
            match p {
                Profile::Jushuitan => {
                    let row = body.get(0).ok_or("biz must be an array of orders")?;
                    if row
                        .get("shop_id")
                        .map(|s| s.to_string().trim_matches('"').to_owned())
                        != Some(shop.clone())
                    {
                        return Err("unknown shop_id".into());
                    }
                    let so = row.get("so_id").and_then(text).ok_or("so_id is required")?;
                    let cust = row.get("shop_buyer_id").and_then(text).unwrap_or_default();
                    let l = lines(
                        row.get("items").and_then(Value::as_array),
                        &|i| i.get("sku_id").and_then(text),
                        "qty",
                        "base_price",
                    )?;
                    Ok((Some(so), cust, l))
                }
                Profile::Wangdiantong => {
                    if body.get(0).and_then(Value::as_str) != Some(shop.as_str()) {
                        return Err("店铺不存在".into());
                    }
                    let trade = body
                        .get(1)
                        .and_then(|t| t.get(0))
                        .ok_or("rawTradeList is empty")?;
                    let tid = trade.get("tid").and_then(text).ok_or("tid is required")?;
                    let cust = trade.get("buyer_nick").and_then(text).unwrap_or_default();
                    let l = lines(
                        body.get(2).and_then(Value::as_array),
                        &|i| i.get("spec_no").and_then(text),
                        "num",
                        "price",
                    )?;
                    Ok((Some(tid), cust, l))
                }
                Profile::Kingdee => {
                    if body.get("formid").and_then(Value::as_str) != Some(profile::kingdee::FORM) {
                        return Err("formid must be SAL_SaleOrder".into());
                    }
                    let m = body
                        .pointer("/data/Model")
                        .ok_or("data.Model is required")?;
                    let no = m.get("FBillNo").and_then(text).filter(|s| !s.is_empty());
                    let cust = m
                        .pointer("/FCustId/FNumber")
                        .and_then(text)
                        .ok_or("FCustId is required")?;
                    let l = lines(
                        m.get("FSaleOrderEntry").and_then(Value::as_array),
                        &|i| i.pointer("/FMaterialId/FNumber").and_then(text),
                        "FQty",
                        "FTaxPrice",
                    )?;
                    Ok((no, cust, l))
                }
                _ => {
                    let cust = body
                        .get("customer")
                        .and_then(text)
                        .filter(|s| !s.is_empty())
                        .ok_or("customer is mandatory")?;
                    let l = lines(
                        body.get("items").and_then(Value::as_array),
                        &|i| i.get("item_code").and_then(text),
                        "qty",
                        "rate",
                    )?;
                    Ok((None, cust, l))
                }
            }
        })();
        let (number, customer, lines) = match parsed {
            Ok(x) => x,
            Err(msg) => return refusal(p, &msg),
        };
        let today = self.today();
        let mut st = self.0.lock();
        let n = st.orders.len() + 1;
        let id = number.clone().unwrap_or_else(|| format!("SAL-ORD-{n:05}"));
        let existing = st.orders.iter().position(|o| o["id"] == json!(id));
        if existing.is_some() && p == Profile::Kingdee {
            return refusal(p, &format!("单据编号 {id} 已存在 (duplicate bill number)"));
        }
        let mut total = Decimal::ZERO;
        let items: Vec<Value> = lines
            .iter()
            .map(|(sku, q, pr)| {
                let amount = *q * *pr;
                total += amount;
                json!({"sku": sku, "quantity": q.to_string(), "unit_price": pr.to_string(), "amount": amount.to_string()})
            })
            .collect();
        let order = json!({"id": id, "status": "draft", "customer": customer, "currency": "CNY",
            "external_id": number, "created_at": today.to_string(), "total_amount": total.to_string(), "items": items});
        let updated = match existing {
            Some(i) => {
                st.orders[i] = order;
                true
            }
            None => {
                st.orders.push(order);
                false
            }
        };
        drop(st);
        match p {
            Profile::Jushuitan => (
                200,
                json!({"code": 0, "msg": "执行成功", "data": {"datas": [
                {"issuccess": true, "msg": "", "o_id": n, "so_id": id}]}}),
            ),
            Profile::Wangdiantong => (
                200,
                json!({"status": 0, "data": {
                "chg_count": u8::from(updated), "new_count": u8::from(!updated)}}),
            ),
            Profile::Kingdee => (
                200,
                json!({"Result": {"ResponseStatus": {"IsSuccess": true, "Errors": [],
                "SuccessEntitys": [{"Id": 100_000 + n, "Number": id, "DIndex": 0}], "SuccessMessages": [], "MsgCode": 0},
                "Id": 100_000 + n, "Number": id, "NeedReturnData": [{}]}}),
            ),
            _ => (
                200,
                json!({"data": {"name": id, "customer": customer, "grand_total": total.to_string(),
                "status": "Draft", "transaction_date": today.to_string()}}),
            ),
        }
    }
}
