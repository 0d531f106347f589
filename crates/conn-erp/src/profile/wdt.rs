//! 旺店通 ERP 旗舰版: trade query and raw trade push (`wdt_md5` signing).
//!
//! Every call is `POST /openapi?method=…` (system parameters added by the signer) with the
//! method's arguments as a JSON array.
//! - list: `sales.TradeQuery.queryWithDetail`, query `page_size`, `page_no` (0-based),
//!   `calc_total=1`, body `[{start_time, end_time, …filters}]`; answer
//!   `{"status":0,"data":{"total_count","order":[{trade_no, src_tid, trade_status, receivable,
//!   paid, customer_name, trade_time, detail_list:[{goods_no, spec_no, goods_name, num, price,
//!   order_price, share_amount}]}]}}`.
//! - create: `sales.RawTrade.pushSelf`, body `[shop_no, [raw trade], [raw trade orders]]`;
//!   answer `{"status":0,"data":{"chg_count","new_count"}}`.
//! - detail: the list method with `page_size=1`, `page_no=0`, body `[{"src_tid": id}]` (⚠).
//! - The outer number is `tid`: pushing it again updates the same raw trade.
//! - Errors: `status` ≠ 0 with `message`; 100 is the generic business error (not credentials).

use chrono::NaiveDate;
use conn_core::retry::Idempotency;
use conn_core::transport::Request;
use conn_core::Result;
use serde_json::{json, Map, Value};

use super::{
    array_at, copy, copy_items, count_at, filters_object, require_shop, Flow, ProfileOptions,
};
use crate::auth::WDT_METHOD_PARAM;
use crate::envelope::{at, code_list, generic, without_code_kinds};
use crate::model::NewOrder;
use crate::pagination::OrderQuery;
use conn_core::envelope::Envelope;

pub(crate) const PATH: &str = "/openapi";
pub(crate) const LIST_METHOD: &str = "sales.TradeQuery.queryWithDetail";
pub(crate) const CREATE_METHOD: &str = "sales.RawTrade.pushSelf";

/// `{"status":0|n,"message":…}`. ⚠ The platform publishes no code table: every non-zero status
/// is an error of kind `Other`, retried only as the HTTP status allows.
pub(crate) fn envelope() -> Envelope {
    without_code_kinds(Envelope {
        code: at(&["status"]),
        success: code_list(&["0"]),
        ..generic()
    })
}

pub(crate) struct Wdt;

impl Flow for Wdt {
    fn list_request(
        &self,
        _: &ProfileOptions,
        q: &OrderQuery,
        page: u64,
        size: u32,
    ) -> Result<Request> {
        Request::post("list_orders", PATH, Idempotency::Idempotent)
            .query(WDT_METHOD_PARAM, LIST_METHOD)
            .query("page_size", size.to_string())
            .query("page_no", page.to_string())
            .query("calc_total", "1")
            .json(&json!([Value::Object(filters_object(q))]))
    }

    fn page_items(&self, body: &Value) -> Result<(Vec<Value>, Option<u64>)> {
        Ok((
            array_at(body, "/data/order")?,
            count_at(body, "/data/total_count"),
        ))
    }

    fn normalise(&self, o: &Value) -> Value {
        let mut m = Map::new();
        copy(&mut m, o, "id", &["src_tid", "trade_no"]);
        copy(&mut m, o, "status", &["trade_status"]);
        copy(
            &mut m,
            o,
            "customer",
            &["customer_name", "buyer_nick", "receiver_name"],
        );
        copy(&mut m, o, "total_amount", &["receivable", "paid"]);
        copy(&mut m, o, "created_at", &["trade_time", "created"]);
        copy_items(
            &mut m,
            o,
            "detail_list",
            &[
                ("sku", &["spec_no", "goods_no"]),
                ("name", &["goods_name"]),
                ("quantity", &["num"]),
                ("unit_price", &["order_price", "price"]),
                ("amount", &["share_amount"]),
            ],
        );
        Value::Object(m)
    }

    fn period_filters(&self, start: NaiveDate, end: NaiveDate) -> Vec<(String, String)> {
        vec![
            ("start_time".into(), format!("{start} 00:00:00")),
            ("end_time".into(), format!("{end} 23:59:59")),
        ]
    }

    fn create_request(
        &self,
        o: &ProfileOptions,
        order: &NewOrder,
        number: &str,
        idem: Idempotency,
    ) -> Result<Request> {
        let shop = require_shop(o)?;
        let total = order.total().to_string();
        let mut trade = json!({
            "tid": number, "trade_status": 30, "pay_status": 2, "delivery_term": 1,
            "buyer_nick": order.customer.trim(), "receivable": total, "paid": total, "post_amount": "0",
        });
        if let Some(m) = trade.as_object_mut() {
            if let Some(r) = &order.remark {
                m.insert("buyer_message".into(), json!(r));
            }
            for (k, v) in &order.extra {
                m.insert(k.clone(), v.clone());
            }
        }
        let lines: Vec<Value> = order
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                json!({
                    "tid": number, "oid": format!("{number}-{}", i + 1), "status": 30, "refund_status": 0,
                    "goods_no": it.sku, "spec_no": it.sku,
                    "goods_name": it.name.clone().unwrap_or_else(|| it.sku.clone()),
                    "num": it.quantity.to_string(), "price": it.unit_price.to_string(),
                    "adjust_amount": "0", "discount": "0", "share_discount": "0",
                })
            })
            .collect();
        Request::post("create_order", PATH, idem)
            .query(WDT_METHOD_PARAM, CREATE_METHOD)
            .json(&json!([shop, [trade], lines]))
    }

    fn detail_request(&self, _: &ProfileOptions, id: &str) -> Result<Request> {
        Request::post("get_order", PATH, Idempotency::Idempotent)
            .query(WDT_METHOD_PARAM, LIST_METHOD)
            .query("page_size", "1")
            .query("page_no", "0")
            .json(&json!([{"src_tid": id}]))
    }

    fn created_id(&self, _body: &Value, number: &str) -> Result<String> {
        // pushSelf answers counts, not ids: the raw trade is known by its tid.
        Ok(number.to_owned())
    }
}
