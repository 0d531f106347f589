//! Kingdee 金蝶云星空: `ExecuteBillQuery` and `Save` on the sales order form `SAL_SaleOrder`
//! (`kingdee_hmac` signing).
//!
//! Service names and body shapes as the official SDK sends them (PyPI `kingdee.cdp.webapi.sdk`,
//! `K3CloudApiSdk.ExecuteBillQuery(data)` → `{"data": data}`, `Save(formid, data)` →
//! `{"formid": …, "data": data}`), posted to `{server}/{service}.common.kdsvc`.
//! - list: `{"data":{"FormId":"SAL_SaleOrder","FieldKeys":"FID,FBillNo,FDate,FCustId.FNumber,
//!   FBillAllAmount,FDocumentStatus","FilterString":…,"OrderString":"FID ASC","StartRow":k·s,
//!   "Limit":s}}`; the answer is a bare array of rows in `FieldKeys` order.
//! - create: `{"formid":"SAL_SaleOrder","data":{"Model":{"FBillNo","FBillTypeID","FDate",
//!   "FSaleOrgId","FCustId","FSaleOrderEntry":[{"FMaterialId","FQty","FTaxPrice"}]}}}`; the
//!   answer `{"Result":{"ResponseStatus":{"IsSuccess":true,…},"Id","Number"}}`.
//! - detail: the same query with `FilterString` `FBillNo='id'` and `Limit` 1.
//! - Errors: `Result.ResponseStatus.IsSuccess:false` with `Errors[].Message`, HTTP 200, at the
//!   top level or inside the row array of a query (`[[{"Result":…}]]`).
//! - The outer number is `FBillNo` (⚠ only when the account's numbering rule accepts manual
//!   numbers; Kingdee then refuses a second bill with the same number).

use chrono::NaiveDate;
use conn_core::retry::Idempotency;
use conn_core::transport::Request;
use conn_core::Result;
use serde_json::{json, Map, Value};

use super::{Flow, ProfileOptions};
use crate::envelope::{at, code_list, generic, without_code_kinds};
use crate::model::{decode_error, NewOrder};
use crate::pagination::OrderQuery;
use conn_core::envelope::Envelope;

/// The form of sales orders.
pub(crate) const FORM: &str = "SAL_SaleOrder";
/// Path of the query service, relative to the server URL (which ends in `/k3cloud/`).
pub(crate) const QUERY_PATH: &str =
    "/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc";
/// Path of the save service.
pub(crate) const SAVE_PATH: &str =
    "/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc";
/// The columns asked for, in the order the rows come back. ⚠
pub(crate) const FIELD_KEYS: [&str; 6] = [
    "FID",
    "FBillNo",
    "FDate",
    "FCustId.FNumber",
    "FBillAllAmount",
    "FDocumentStatus",
];

/// `Result.ResponseStatus.IsSuccess`, also inside a query's row array.
pub(crate) fn envelope() -> Envelope {
    without_code_kinds(Envelope {
        code: at(&[
            "/Result/ResponseStatus/MsgCode",
            "/Result/ResponseStatus/ErrorCode",
        ]),
        message: at(&[
            "/Result/ResponseStatus/Errors/0/Message",
            "/Result/ResponseStatus/Errors/0/FieldName",
            "message",
        ]),
        success_flag: at(&["/Result/ResponseStatus/IsSuccess"]),
        // A success answer carries MsgCode 0; any other code with IsSuccess:true is not read
        // as a failure (the flag decides).
        success: code_list(&["0"]),
        unwrap_rows: true,
        ..generic()
    })
}

/// A Kingdee filter value: single quotes doubled.
fn quoted(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

pub(crate) struct Kingdee;

impl Flow for Kingdee {
    fn list_request(
        &self,
        _: &ProfileOptions,
        q: &OrderQuery,
        page: u64,
        size: u32,
    ) -> Result<Request> {
        // `FilterString` is passed as written; other filters become `key='value'`.
        let mut parts: Vec<String> = Vec::new();
        for (k, v) in &q.filters {
            if k == "FilterString" {
                parts.push(format!("({v})"));
            } else {
                parts.push(format!("{k}={}", quoted(v)));
            }
        }
        let data = json!({
            "FormId": FORM,
            "FieldKeys": FIELD_KEYS.join(","),
            "FilterString": parts.join(" and "),
            "OrderString": "FID ASC",
            "TopRowCount": 0,
            "StartRow": page.saturating_mul(u64::from(size)),
            "Limit": size,
        });
        Request::post("list_orders", QUERY_PATH, Idempotency::Idempotent)
            .json(&json!({"data": data}))
    }

    fn page_items(&self, body: &Value) -> Result<(Vec<Value>, Option<u64>)> {
        let rows = body
            .as_array()
            .ok_or_else(|| decode_error("list_orders", "", body, "expected an array of rows"))?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let cells = row.as_array().ok_or_else(|| {
                decode_error(
                    "list_orders",
                    &format!("[{i}]"),
                    row,
                    "expected a row array",
                )
            })?;
            let obj: Map<String, Value> = FIELD_KEYS
                .iter()
                .zip(cells.iter())
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            out.push(Value::Object(obj));
        }
        Ok((out, None))
    }

    fn normalise(&self, o: &Value) -> Value {
        let mut m = Map::new();
        super::copy(&mut m, o, "id", &["FBillNo", "FID"]);
        super::copy(&mut m, o, "status", &["FDocumentStatus"]);
        super::copy(&mut m, o, "customer", &["FCustId.FNumber"]);
        super::copy(&mut m, o, "total_amount", &["FBillAllAmount"]);
        super::copy(&mut m, o, "created_at", &["FDate"]);
        Value::Object(m)
    }

    fn period_filters(&self, start: NaiveDate, end: NaiveDate) -> Vec<(String, String)> {
        vec![(
            "FilterString".into(),
            format!("FDate>='{start}' and FDate<='{end} 23:59:59'"),
        )]
    }

    fn create_request(
        &self,
        o: &ProfileOptions,
        order: &NewOrder,
        number: &str,
        idem: Idempotency,
    ) -> Result<Request> {
        let entries: Vec<Value> = order
            .items
            .iter()
            .map(|it| {
                json!({
                    "FMaterialId": {"FNumber": it.sku},
                    "FQty": it.quantity.to_string(),
                    "FTaxPrice": it.unit_price.to_string(),
                })
            })
            .collect();
        let mut model = json!({
            "FBillNo": number,
            "FBillTypeID": {"FNUMBER": o.kingdee_bill_type},
            "FSaleOrgId": {"FNumber": o.kingdee_sale_org},
            "FCustId": {"FNumber": order.customer.trim()},
            "FSaleOrderEntry": entries,
        });
        if let Some(m) = model.as_object_mut() {
            if let Some(r) = &order.remark {
                m.insert("FNote".into(), json!(r));
            }
            for (k, v) in &order.extra {
                m.insert(k.clone(), v.clone());
            }
        }
        Request::post("create_order", SAVE_PATH, idem)
            .json(&json!({"formid": FORM, "data": {"Model": model}}))
    }

    fn detail_request(&self, _: &ProfileOptions, id: &str) -> Result<Request> {
        let data = json!({
            "FormId": FORM,
            "FieldKeys": FIELD_KEYS.join(","),
            "FilterString": format!("FBillNo={}", quoted(id)),
            "OrderString": "FID ASC",
            "TopRowCount": 0,
            "StartRow": 0,
            "Limit": 1,
        });
        Request::post("get_order", QUERY_PATH, Idempotency::Idempotent).json(&json!({"data": data}))
    }

    fn created_id(&self, body: &Value, number: &str) -> Result<String> {
        let r = body.pointer("/Result").ok_or_else(|| {
            decode_error(
                "create_order",
                "Result",
                body,
                "no Result in the save answer",
            )
        })?;
        Ok(match r.get("Number") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => number.to_owned(),
        })
    }
}
