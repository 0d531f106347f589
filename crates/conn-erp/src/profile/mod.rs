//! The built-in ERP profiles; what each speaks is on [`Profile`].

pub(crate) mod erpnext;
pub(crate) mod jst;
pub(crate) mod kingdee;
pub(crate) mod wdt;

use std::fmt;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use conn_core::retry::Idempotency;
use conn_core::transport::Request;
use conn_core::{Error, Result};
use serde_json::{Map, Value};

use crate::auth::AuthMode;
use crate::model::{decode_error, NewOrder, Order, OrderFields, Period};
use crate::pagination::{OrderQuery, OrdersPage, PaginationStyle};
use conn_core::envelope::Envelope;

/// A built-in ERP profile.
///
/// Built-in ERP profiles: for each ERP, the requests of the seed's operations (list orders,
/// financial data, create an order), how its answers map to [`Order`], and its error envelope.
///
/// | profile (`ERP_PROFILE`) | auth | list orders | create an order | duplicates |
/// |---|---|---|---|---|
/// | `own` (default) | any | `GET ERP_ORDERS_PATH` | `POST ERP_CREATE_ORDER_PATH` | `Idempotency-Key` header |
/// | `jushuitan` 聚水潭 | `jst_md5` | `POST /open/orders/single/query` | `POST /open/jushuitan/orders/upload` | `so_id`: a re-upload updates the order |
/// | `wangdiantong` 旺店通旗舰版 | `wdt_md5` | `sales.TradeQuery.queryWithDetail` | `sales.RawTrade.pushSelf` | `tid`: a re-push updates the raw trade |
/// | `kingdee` 金蝶云星空 | `kingdee_hmac` | `ExecuteBillQuery` on `SAL_SaleOrder` | `Save` on `SAL_SaleOrder` | ⚠ `FBillNo` (when the numbering rule takes manual numbers): a second save is *refused*, so a create is not replayed; an unknown outcome carries the number (`bill_no`) to look the order up |
/// | `erpnext` | `token` | `GET /api/resource/Sales Order` | `POST /api/resource/Sales Order` | none: a create that may have been received is never replayed |
///
/// Sources: 聚水潭 — the open platform's API pages (`openapi.jushuitan.com`, `/open/orders/single/query`
/// and `/open/jushuitan/orders/upload`) and github.com/zmoyi/jushuitan's route table; 旺店通 —
/// the 旗舰版 API pages (`sales.TradeQuery.queryWithDetail`, `sales.RawTrade.pushSelf`) and
/// github.com/westng/wangdian-sdk-php's examples; Kingdee — the PyPI SDK `kingdee.cdp.webapi.sdk`
/// (`K3CloudApiSdk.ExecuteBillQuery`, `Save`: service names and body shapes); ERPNext — the
/// Frappe REST API documentation (`/api/resource/{DocType}`).
///
/// Order detail ([`crate::Client::order`]) asks each ERP's list call for the one order
/// (聚水潭 `so_ids: [id]`, 旺店通 `src_tid`, Kingdee `FilterString` `FBillNo='id'`), and
/// ERPNext's `GET /api/resource/Sales Order/{name}` (Frappe REST documentation); an empty
/// answer is `ApiErrorKind::NotFound`.
///
/// ⚠ What no source confirms, and is configurable or stated:
/// - The detail filters `so_ids` (聚水潭) and `src_tid` (旺店通) are the names the vendors'
///   API pages give; no public SDK run here confirms them.
/// - No profile but `own` has a financial endpoint that a public source confirms: financial data
///   is the period's orders summed (revenue only; expenses and profit stay empty), fetched in
///   windows of `ERP_PERIOD_WINDOW_DAYS` days (聚水潭 7: its query spans at most 7 days;
///   旺店通 1 ⚠; the others: the whole period).
/// - Kingdee's field keys (`FID, FBillNo, FDate, FCustId.FNumber, FBillAllAmount,
///   FDocumentStatus`), bill type `XSDD01_SYS` and sale organisation (`ERP_KINGDEE_SALE_ORG`,
///   default `100`) are the standard demo account's; real accounts may differ.
/// - 聚水潭 `shop_id` and 旺店通 `shop_no` come from `ERP_SHOP` (required for creates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// The team's own service (the seed's setup): configurable paths and pointers.
    Own,
    /// 聚水潭 open platform.
    Jushuitan,
    /// 旺店通 ERP 旗舰版.
    Wangdiantong,
    /// Kingdee 金蝶云星空 K3Cloud WebAPI.
    Kingdee,
    /// ERPNext / Frappe.
    Erpnext,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 5] = [
        Profile::Own,
        Profile::Jushuitan,
        Profile::Wangdiantong,
        Profile::Kingdee,
        Profile::Erpnext,
    ];

    /// The name in `ERP_PROFILE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Own => "own",
            Profile::Jushuitan => "jushuitan",
            Profile::Wangdiantong => "wangdiantong",
            Profile::Kingdee => "kingdee",
            Profile::Erpnext => "erpnext",
        }
    }

    /// The auth mode the ERP uses (`None` for `own`: any).
    pub fn auth_mode(self) -> Option<AuthMode> {
        match self {
            Profile::Own => None,
            Profile::Jushuitan => Some(AuthMode::JstMd5),
            Profile::Wangdiantong => Some(AuthMode::WdtMd5),
            Profile::Kingdee => Some(AuthMode::KingdeeHmac),
            Profile::Erpnext => Some(AuthMode::Token),
        }
    }

    /// The profile an auth mode implies when `ERP_PROFILE` is unset: the 旺店通 and Kingdee
    /// signatures only fit their own ERP's requests.
    pub fn implied_by(mode: AuthMode) -> Profile {
        match mode {
            AuthMode::WdtMd5 => Profile::Wangdiantong,
            AuthMode::KingdeeHmac => Profile::Kingdee,
            _ => Profile::Own,
        }
    }

    /// The ERP's response envelope (where its code and message sit, which codes mean what).
    pub fn envelope(self) -> Envelope {
        match self {
            Profile::Own => crate::envelope::generic(),
            Profile::Jushuitan => jst::envelope(),
            Profile::Wangdiantong => wdt::envelope(),
            Profile::Kingdee => kingdee::envelope(),
            Profile::Erpnext => erpnext::envelope(),
        }
    }

    /// The pagination style of the order list.
    pub fn pagination_style(self) -> Option<PaginationStyle> {
        match self {
            Profile::Own => None,
            Profile::Jushuitan => Some(PaginationStyle::PageIndex),
            Profile::Wangdiantong => Some(PaginationStyle::PageNo),
            Profile::Kingdee => Some(PaginationStyle::OffsetLimit),
            Profile::Erpnext => Some(PaginationStyle::LimitStart),
        }
    }

    /// The largest page the ERP serves (the default page size of the profile).
    pub fn page_size(self) -> Option<u32> {
        match self {
            Profile::Own => None,
            Profile::Jushuitan | Profile::Wangdiantong => Some(50),
            Profile::Kingdee | Profile::Erpnext => Some(100),
        }
    }

    /// The default window (days) financial data is fetched in.
    pub fn window_days(self) -> Option<u32> {
        match self {
            Profile::Jushuitan => Some(7),
            Profile::Wangdiantong => Some(1),
            _ => None,
        }
    }

    /// Reads one page answer of this ERP (its envelope aside) into typed orders; `own` is
    /// configured by pointers instead, so it is a configuration error here.
    ///
    /// ```
    /// use conn_erp::Profile;
    /// let body = serde_json::json!({"status": 0, "data": {"total_count": 1, "order": [
    ///     {"src_tid": "T1", "trade_status": 30, "receivable": "9.90", "detail_list": []}]}});
    /// let page = Profile::Wangdiantong.parse_page(0, &body).unwrap();
    /// assert_eq!(page.orders[0].id, "T1");
    /// assert_eq!(page.total, Some(1));
    /// ```
    pub fn parse_page(self, page: u64, body: &Value) -> Result<OrdersPage> {
        match flow(self) {
            Some(f) => parse_page(f, page, body),
            None => Err(Error::config_var(
                "ERP_PROFILE",
                "the own profile reads pages through ERP_ORDERS_LIST_POINTER",
            )),
        }
    }

    /// True when sending the same outer number again updates the first order instead of
    /// creating a second, so a create may be replayed with the same number.
    pub fn dedupes_by_number(self) -> bool {
        matches!(self, Profile::Jushuitan | Profile::Wangdiantong)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "own" | "default" | "seed" => Ok(Profile::Own),
            "jushuitan" | "jst" => Ok(Profile::Jushuitan),
            "wangdiantong" | "wdt" => Ok(Profile::Wangdiantong),
            "kingdee" | "k3cloud" => Ok(Profile::Kingdee),
            "erpnext" | "frappe" => Ok(Profile::Erpnext),
            _ => Err(()),
        }
    }
}

/// Settings of the built-in profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileOptions {
    /// 聚水潭 `shop_id` / 旺店通 `shop_no` orders are created in (`ERP_SHOP`).
    pub shop: Option<String>,
    /// Kingdee sale organisation number (`ERP_KINGDEE_SALE_ORG`, `100`). ⚠
    pub kingdee_sale_org: String,
    /// Kingdee sales order bill type (`XSDD01_SYS`). ⚠
    pub kingdee_bill_type: String,
    /// Days per financial-data window (`ERP_PERIOD_WINDOW_DAYS`); `None`: the profile's.
    pub window_days: Option<u32>,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        Self {
            shop: None,
            kingdee_sale_org: "100".to_owned(),
            kingdee_bill_type: "XSDD01_SYS".to_owned(),
            window_days: None,
        }
    }
}

/// What a built-in profile does for each operation.
pub(crate) trait Flow: Send + Sync {
    /// The request of one page of orders.
    fn list_request(
        &self,
        o: &ProfileOptions,
        q: &OrderQuery,
        page: u64,
        size: u32,
    ) -> Result<Request>;
    /// The orders (as the ERP wrote them) and the total of a page answer.
    fn page_items(&self, body: &Value) -> Result<(Vec<Value>, Option<u64>)>;
    /// An ERP order as the typed fields' keys (`id`, `status`, …, `items[sku, quantity, …]`).
    fn normalise(&self, order: &Value) -> Value;
    /// The filters selecting the orders of `[start, end]`.
    fn period_filters(&self, start: NaiveDate, end: NaiveDate) -> Vec<(String, String)>;
    /// The create request; `number` is the outer order number the ERP dedupes on.
    fn create_request(
        &self,
        o: &ProfileOptions,
        order: &NewOrder,
        number: &str,
        idem: Idempotency,
    ) -> Result<Request>;
    /// The created order's id from the answer, or the ERP's per-row refusal as an error.
    fn created_id(&self, body: &Value, number: &str) -> Result<String>;
    /// The request of one order by the id [`Flow::normalise`] gives it (the outer number for
    /// 聚水潭, 旺店通 and Kingdee, the document name for ERPNext).
    fn detail_request(&self, o: &ProfileOptions, id: &str) -> Result<Request>;
    /// The order in a detail answer (as the ERP wrote it), `None` when there is none.
    fn detail_item(&self, body: &Value) -> Result<Option<Value>> {
        Ok(self.page_items(body)?.0.into_iter().next())
    }
}

/// Reads a detail answer of a built-in profile into a typed order; no order is a `NotFound`
/// error naming the id.
pub(crate) fn parse_detail(flow: &dyn Flow, id: &str, body: &Value) -> Result<Order> {
    let Some(raw) = flow.detail_item(body)? else {
        return Err(conn_core::error::ApiError::new(
            crate::PLATFORM,
            "not_found",
            format!("no order {id:?}"),
            conn_core::error::ApiErrorKind::NotFound,
        )
        .into());
    };
    let mut o = Order::from_json(
        "get_order",
        "order",
        &flow.normalise(&raw),
        &OrderFields::default(),
    )?;
    o.raw = raw;
    Ok(o)
}

pub(crate) fn flow(p: Profile) -> Option<&'static dyn Flow> {
    match p {
        Profile::Own => None,
        Profile::Jushuitan => Some(&jst::Jst),
        Profile::Wangdiantong => Some(&wdt::Wdt),
        Profile::Kingdee => Some(&kingdee::Kingdee),
        Profile::Erpnext => Some(&erpnext::Erpnext),
    }
}

/// Reads a page answer of a built-in profile into typed orders.
pub(crate) fn parse_page(flow: &dyn Flow, page: u64, body: &Value) -> Result<OrdersPage> {
    let (items, total) = flow.page_items(body)?;
    let fields = OrderFields::default();
    let mut orders = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let mut o = Order::from_owned(
            "list_orders",
            &format_args!("orders[{i}]"),
            flow.normalise(&raw),
            &fields,
        )?;
        o.raw = raw;
        orders.push(o);
    }
    Ok(OrdersPage {
        page,
        orders,
        total,
    })
}

/// The windows a period is fetched in.
pub(crate) fn windows(period: &Period, days: Option<u32>) -> Vec<(NaiveDate, NaiveDate)> {
    let (start, end) = (period.start(), period.end());
    let Some(days) = days.filter(|d| *d > 0) else {
        return vec![(start, end)];
    };
    let mut out = Vec::new();
    let mut s = start;
    while s <= end {
        let e = s
            .checked_add_days(Days::new(u64::from(days) - 1))
            .map_or(end, |e| e.min(end));
        out.push((s, e));
        match e.checked_add_days(Days::new(1)) {
            Some(n) => s = n,
            None => break,
        }
    }
    out
}

/// The array at `pointer`, or a decode error naming it.
pub(crate) fn array_at(body: &Value, pointer: &str) -> Result<Vec<Value>> {
    match body.pointer(pointer) {
        Some(Value::Array(a)) => Ok(a.clone()),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(other) => Err(decode_error(
            "list_orders",
            pointer.trim_start_matches('/'),
            other,
            "expected an array of orders",
        )),
    }
}

/// A number at `pointer` (JSON number or numeric text).
pub(crate) fn count_at(body: &Value, pointer: &str) -> Option<u64> {
    match body.pointer(pointer)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Copies `from` keys of `src` into `dst` under `to` (first present wins).
pub(crate) fn copy(dst: &mut Map<String, Value>, src: &Value, to: &str, from: &[&str]) {
    if let Some(v) = from
        .iter()
        .find_map(|k| src.get(*k).filter(|v| !v.is_null()))
    {
        dst.insert(to.to_owned(), v.clone());
    }
}

/// Copies the line items listed under `list` in `src` into `dst["items"]`, each field `to` from
/// the first of its `from` keys present: one answer mapping for every profile.
pub(crate) fn copy_items(
    dst: &mut Map<String, Value>,
    src: &Value,
    list: &str,
    fields: &[(&str, &[&str])],
) {
    let items: Vec<Value> = src
        .get(list)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|it| {
                    let mut i = Map::new();
                    for (to, from) in fields {
                        copy(&mut i, it, to, from);
                    }
                    Value::Object(i)
                })
                .collect()
        })
        .unwrap_or_default();
    dst.insert("items".into(), Value::Array(items));
}

/// The filters of a query as a JSON object of strings (the business parameters of the
/// signed ERPs).
pub(crate) fn filters_object(q: &OrderQuery) -> Map<String, Value> {
    q.filters
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

pub(crate) fn require_shop(o: &ProfileOptions) -> Result<&str> {
    o.shop
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            Error::config_var(
                "ERP_SHOP",
                "not set; creating an order needs the shop it belongs to",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_windows_cover_the_period() {
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
        }
        let jan = Period::month(2024, 1).unwrap();
        let w = windows(&jan, Some(7));
        assert_eq!(w.len(), 5);
        assert_eq!(w[0].0, jan.start());
        assert_eq!(w[4].1, jan.end());
        for pair in w.windows(2) {
            assert_eq!(pair[0].1.succ_opt(), Some(pair[1].0));
        }
        assert_eq!(windows(&jan, None), vec![(jan.start(), jan.end())]);
        assert_eq!(windows(&jan, Some(0)).len(), 1);
    }
}
