//! 聚水潭: order query and upload on the open platform (`jst_md5` signing, POST form).
//!
//! - list: `POST /open/orders/single/query`, biz `{page_index, page_size, modified_begin,
//!   modified_end, …filters}`; answer `{"code":0,"data":{"data_count","orders":[{o_id, so_id,
//!   status, pay_amount, order_date, shop_buyer_id, items:[{sku_id, name, qty, price, amount}]}]}}`.
//! - create: `POST /open/jushuitan/orders/upload`, biz `[{shop_id, so_id, order_date,
//!   shop_status, shop_buyer_id, pay_amount, freight, items:[{sku_id, shop_sku_id, name,
//!   base_price, qty, amount, outer_oi_id}]}]`; answer `{"code":0,"data":{"datas":[{"issuccess",
//!   "msg","o_id","so_id"}]}}`: a row with `issuccess:false` is a refusal even under `code:0`.
//! - detail: the list call with biz `{page_index: 1, page_size: 1, so_ids: [id]}`.
//! - The outer number is `so_id`: uploading it again updates the same order.

use chrono::NaiveDate;
use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::retry::Idempotency;
use conn_core::transport::Request;
use conn_core::Result;
use serde_json::{json, Map, Value};

use super::{
    array_at, copy, copy_items, count_at, filters_object, require_shop, Flow, ProfileOptions,
};
use crate::envelope::{at, code_list, generic};
use crate::model::{decode_error, NewOrder};
use crate::pagination::OrderQuery;
use crate::PLATFORM;
use conn_core::envelope::Envelope;

pub(crate) const LIST_PATH: &str = "/open/orders/single/query";
pub(crate) const CREATE_PATH: &str = "/open/jushuitan/orders/upload";

/// `{"code":0,"msg":…}`; ⚠ the open platform's auth codes are not published in one table:
/// 100 (signature) and 10 (token) are the ones its pages show.
pub(crate) fn envelope() -> Envelope {
    Envelope {
        code: at(&["code"]),
        success: code_list(&["0"]),
        auth_codes: code_list(&["100", "10"]),
        ..generic()
    }
}

pub(crate) struct Jst;

impl Flow for Jst {
    fn list_request(
        &self,
        _: &ProfileOptions,
        q: &OrderQuery,
        page: u64,
        size: u32,
    ) -> Result<Request> {
        let mut biz = filters_object(q);
        biz.insert("page_index".into(), json!(page.saturating_add(1)));
        biz.insert("page_size".into(), json!(size));
        Request::post("list_orders", LIST_PATH, Idempotency::Idempotent).json(&Value::Object(biz))
    }

    fn page_items(&self, body: &Value) -> Result<(Vec<Value>, Option<u64>)> {
        Ok((
            array_at(body, "/data/orders")?,
            count_at(body, "/data/data_count"),
        ))
    }

    fn normalise(&self, o: &Value) -> Value {
        let mut m = Map::new();
        copy(&mut m, o, "id", &["so_id", "o_id"]);
        copy(&mut m, o, "status", &["status", "shop_status"]);
        copy(&mut m, o, "customer", &["shop_buyer_id", "receiver_name"]);
        copy(&mut m, o, "total_amount", &["pay_amount", "paid_amount"]);
        copy(&mut m, o, "created_at", &["order_date", "created"]);
        copy_items(
            &mut m,
            o,
            "items",
            &[
                ("sku", &["sku_id", "shop_sku_id"]),
                ("name", &["name"]),
                ("quantity", &["qty"]),
                ("unit_price", &["price", "base_price"]),
                ("amount", &["amount"]),
            ],
        );
        Value::Object(m)
    }

    fn period_filters(&self, start: NaiveDate, end: NaiveDate) -> Vec<(String, String)> {
        vec![
            ("modified_begin".into(), format!("{start} 00:00:00")),
            ("modified_end".into(), format!("{end} 23:59:59")),
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
        let shop_id: Value = shop
            .parse::<u64>()
            .map_or_else(|_| json!(shop), |n| json!(n));
        let items: Vec<Value> = order
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                json!({
                    "sku_id": it.sku, "shop_sku_id": it.sku,
                    "name": it.name.clone().unwrap_or_else(|| it.sku.clone()),
                    "base_price": it.unit_price.to_string(), "qty": it.quantity.to_string(),
                    "amount": it.amount().to_string(), "outer_oi_id": format!("{number}-{}", i + 1),
                })
            })
            .collect();
        let mut row = json!({
            "shop_id": shop_id, "so_id": number,
            "order_date": order.extra.get("order_date").cloned().unwrap_or(Value::Null),
            "shop_status": "WAIT_SELLER_SEND_GOODS", "shop_buyer_id": order.customer.trim(),
            "pay_amount": order.total().to_string(), "freight": "0", "items": items,
        });
        if let (Some(r), Some(m)) = (&order.remark, row.as_object_mut()) {
            m.insert("remark".into(), json!(r));
        }
        if let Some(m) = row.as_object_mut() {
            for (k, v) in &order.extra {
                m.insert(k.clone(), v.clone());
            }
            m.retain(|_, v| !v.is_null());
        }
        Request::post("create_order", CREATE_PATH, idem).json(&Value::Array(vec![row]))
    }

    fn detail_request(&self, _: &ProfileOptions, id: &str) -> Result<Request> {
        let biz = json!({"page_index": 1, "page_size": 1, "so_ids": [id]});
        Request::post("get_order", LIST_PATH, Idempotency::Idempotent).json(&biz)
    }

    fn created_id(&self, body: &Value, number: &str) -> Result<String> {
        let rows = array_at(body, "/data/datas")?;
        let Some(row) = rows.first() else {
            return Err(decode_error(
                "create_order",
                "data.datas",
                body,
                "no result row",
            ));
        };
        if row.get("issuccess").and_then(Value::as_bool) != Some(true) {
            let msg = row
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or("upload refused");
            return Err(ApiError::new(
                PLATFORM,
                "issuccess_false",
                msg,
                ApiErrorKind::InvalidRequest,
            )
            .into());
        }
        Ok(row
            .get("so_id")
            .and_then(Value::as_str)
            .unwrap_or(number)
            .to_owned())
    }
}
