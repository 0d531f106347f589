//! # conn-erp
//!
//! A generic ERP REST connector replacing the original system's `ERPAPIConnector`: financial
//! data for a period, the order list (as a [`futures::Stream`] over four pagination styles),
//! order detail, and order creation with an idempotency key. Authentication is pluggable: static
//! headers (API key, Basic, ERPNext token, bearer) and request signing (聚水潭 and 旺店通旗舰版
//! MD5, Kingdee K3Cloud WebAPI HMAC-SHA256, each checked against the vendor's own SDK), or a
//! signer of your own. Built-in [`Profile`]s speak each ERP's own requests and envelope
//! (`ERP_PROFILE`: `own`, `jushuitan`, `wangdiantong`, `kingdee`, `erpnext`). Amounts are exact
//! decimals ([`Money`]), never floats.
//!
//! ## Quick start
//!
//! ```no_run
//! use conn_erp::{Client, NewOrder, OrderQuery, Period};
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> conn_core::Result<()> {
//! // ERP_API_URL=http://localhost:8013 ERP_API_KEY=…  (or ERP_USERNAME/ERP_PASSWORD, or
//! // ERP_AUTH_MODE=jst_md5 ERP_APP_KEY=… ERP_APP_SECRET=…)
//! let erp = Client::from_env()?;
//!
//! let jan = erp.financial_data(&Period::month(2024, 1)?).await?;
//! println!("revenue {:?}", jan.revenue);
//!
//! let mut orders = erp.list_orders(OrderQuery::new().filter("status", "paid"));
//! while let Some(order) = orders.try_next().await? {
//!     println!("{} {:?}", order.id, order.total_amount);
//! }
//!
//! let created = erp
//!     .create_order(&NewOrder::new("ACME").item("SKU-1", "2".parse().unwrap(), "9.90".parse()?))
//!     .await?;
//! println!("created {} (key {:?})", created.id, created.idempotency_key);
//! # Ok(()) }
//! ```
//!
//! Or build the configuration in code with [`Config::builder`].
//!
//! ## Auth modes (`ERP_AUTH_MODE`)
//!
//! | mode | sends | targets | variables |
//! |---|---|---|---|
//! | `api_key` | `X-API-Key: key` (`ERP_API_KEY_HEADER`) | the original system's own ERP | `ERP_API_KEY` |
//! | `basic` | `Authorization: Basic …` | the original system's own ERP, Odoo/Dolibarr behind Basic | `ERP_USERNAME`, `ERP_PASSWORD` |
//! | `token` | `Authorization: token key:secret` | ERPNext / Frappe | `ERP_API_KEY`, `ERP_API_SECRET` |
//! | `bearer` | `Authorization: Bearer key` | Odoo API keys | `ERP_API_KEY` |
//! | `jst_md5` | `app_key, timestamp, charset, version, [access_token], biz, sign` | 聚水潭 | `ERP_APP_KEY`, `ERP_APP_SECRET`, `ERP_ACCESS_TOKEN` |
//! | `wdt_md5` | query `sid, key, salt, method, timestamp (s − 1325347200), v, sign`; body the JSON argument array | 旺店通旗舰版 | `ERP_WDT_SID`, `ERP_APP_KEY`, `ERP_APP_SECRET` (`secret:salt`) |
//! | `kingdee_hmac` | `X-Api-ClientID`, `X-Api-Auth-Version`, `x-api-timestamp`, `x-api-nonce`, `x-api-signheaders`, `X-Api-Signature`, `X-Kd-Appkey`, `X-Kd-Appdata`, `X-Kd-Signature` | Kingdee 金蝶云星空 | `ERP_APP_KEY` (AppId), `ERP_APP_SECRET`, `ERP_KINGDEE_ACCT_ID`, `ERP_KINGDEE_USERNAME` |
//! | `none` | nothing | an ERP on a trusted network | |
//!
//! Unset, the mode is inferred (`ERP_API_KEY` → `api_key`, `ERP_USERNAME`+`ERP_PASSWORD` →
//! `basic`, nothing → `none`); contradictory settings are a configuration error naming the
//! variables. Signing schemes use their own `ERP_APP_KEY`/`ERP_APP_SECRET` pair rather than
//! reusing `ERP_API_KEY`, so a leftover key of another mode is reported, not silently signed with.
//!
//! ### Signing rules
//!
//! - **聚水潭** ([`SortedMd5Signer`]): drop `sign`, sort the parameters by key,
//!   concatenate `key + value`, prefix the secret, MD5, lowercase hex; the business payload
//!   travels as compact JSON in `biz`; timestamp in seconds.
//! - **旺店通旗舰版** ([`WdtSigner`]): system parameters in the query,
//!   `md5(secret + sorted(k+v over the query and body=<raw body>) + secret)`; the salt of the
//!   `secret:salt` app secret goes in the query; timestamps count from 2012-01-01.
//! - **Kingdee** ([`KingdeeHmacSigner`]): the official SDK's nine headers; the gateway
//!   signature is keyed with the client secret derived from the AppId
//!   ([`auth::derive_client_secret`]), the `X-Kd-Signature` with the app secret.
//!
//! Known answers for all three come from running the vendors' public SDKs (`tests/vectors/`).
//! Timestamps and nonces come from the configured clock and [`NonceSource`]
//! ([`ClientBuilder::clock`], [`ConfigBuilder::nonce_source`]), drawn once per logical call, so
//! tests can pin them and every retry of a call carries the same signature.
//!
//! ### ⚠ Configurable details
//!
//! Where the public documentation leaves a detail open, it is configurable with a default:
//!
//! | detail | default | setting |
//! |---|---|---|
//! | 聚水潭 app key parameter name | `app_key` | `ERP_SIGN_APP_KEY_NAME`, [`Md5ParamNames`] |
//! | 聚水潭 fixed extra parameters | `charset=utf-8&version=2` | `ERP_SIGN_EXTRA_PARAMS` |
//! | which answer fields carry a code (`own`) | `code, error_code, errcode, errorCode` | `ERP_ERROR_CODE_FIELDS` |
//! | auth error codes in a 200 answer (`own`) | `401, 40001, invalid_signature, unauthorized` | `ERP_AUTH_ERROR_CODES` |
//! | where the orders are in a list answer (`own`) | `/data` | `ERP_ORDERS_LIST_POINTER` (`.` for a bare array) |
//! | where the total is (`own`) | `/total_count` | `ERP_ORDERS_TOTAL_POINTER` |
//! | where the payload of other answers is (`own`) | `/data` (whole body when absent) | `ERP_DATA_POINTER` |
//! | order id / amount keys (`own`) | `id, order_id, name, o_id, so_id` / `total_amount, grand_total, pay_amount, amount, total` | `ERP_ORDER_ID_FIELD`, `ERP_ORDER_AMOUNT_FIELD`, [`OrderFields`] |
//! | financial-data windows of the profiles | 聚水潭 7 days, 旺店通 1 day | `ERP_PERIOD_WINDOW_DAYS` |
//! | Kingdee sale organisation | `100` | `ERP_KINGDEE_SALE_ORG` |
//!
//! ### A custom signer
//!
//! Implement [`RequestSigner`]; it receives the method, the full path, the query, the headers
//! and the body, plus the call's timestamp and nonce, and adds what the ERP wants:
//!
//! ```
//! use conn_erp::{RequestSigner, SignableRequest, SigningContext};
//! use conn_erp::{Auth, Config};
//! use conn_core::secret::{sensitive_header_str, ClientSecret};
//!
//! /// `?ts=<s>&sig=hex(sha256(secret + path + ts))`
//! #[derive(Debug)]
//! struct PathSigner(ClientSecret);
//!
//! impl RequestSigner for PathSigner {
//!     fn sign(&self, req: &mut SignableRequest, ctx: &SigningContext) -> conn_core::Result<()> {
//!         use sha2::{Digest, Sha256};
//!         let ts = ctx.unix_seconds().to_string();
//!         let input = format!("{}{}{ts}", self.0.expose_secret(), req.path());
//!         let sig = hex::encode(Sha256::digest(input.as_bytes()));
//!         req.query.push(("ts".into(), ts));
//!         req.query.push(("sig".into(), sig));
//!         Ok(())
//!     }
//! }
//!
//! let cfg = Config::builder()
//!     .base_url("https://erp.example.com")
//!     .auth(Auth::custom(PathSigner(ClientSecret::new("s3cret"))))
//!     .build()
//!     .unwrap();
//! assert!(cfg.auth_mode().is_none());
//! ```
//!
//! ## Pagination
//!
//! `ERP_PAGINATION` = `page_index` (1-based `page_index/page_size`, the default), `page_no`
//! (0-based `page_no/page_size`, answer with `total_count`), `limit_start`
//! (ERPNext `limit_start/limit_page_length`) or `offset_limit` (`offset/limit`);
//! `ERP_PAGE_SIZE` (100). [`Client::list_orders`] yields each order once; see
//! [`Pagination`] for the stop conditions.
//!
//! ## Idempotent creation
//!
//! [`Client::create_order`] generates one key per logical call
//! ([`conn_core::retry::Idempotency::new_key`]) and sends it in `ERP_IDEMPOTENCY_HEADER`
//! (`Idempotency-Key`) on every attempt, so a timed-out create is retried safely. With
//! `ERP_IDEMPOTENCY_HEADER=none` a create is never replayed once it may have been received: it
//! fails with [`conn_core::Error::OutcomeUnknown`]. 聚水潭 and 旺店通 dedupe on the ERP's own outer
//! number (`so_id`, `tid`: the order's `external_id`, or a fresh one per call), which is then the
//! key; Kingdee (`FBillNo`) and ERPNext creates are never replayed (see [`Profile`]).
//!
//! ## Errors
//!
//! Each profile's [`Envelope`] says where its ERP puts the code and message
//! ([`Profile::envelope`]; change it with [`ConfigBuilder::envelope`]). The rules are
//! conn-core's ([`conn_core::envelope`]): HTTP 401/403 and auth codes in the body
//! (`{"code":40001,"msg":…}`) become `ApiErrorKind::InvalidCredentials` / `PermissionDenied`,
//! other failed statuses follow the one status table ([`conn_core::error::ApiErrorKind::of_status`]).
//!
//! ## Fake
//!
//! With the `fake` feature, [`fake::FakeErp`] is a stateful wiremock ERP that checks every auth
//! mode and signature as a real server would; `FakeErp::start(AuthMode::JstMd5).await` and
//! `fake.config()?` or `fake.env_vars()` point a client at it.

// On docs.rs, feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod client;
mod config;
mod connector;
mod envelope;
mod keyed;
mod model;
mod pagination;
mod profile;

#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;

use conn_core::env::EnvVarDoc;

pub use auth::header::{ApiKeyAuth, BasicAuth, BearerAuth, NoAuth, TokenAuth};
pub use auth::kingdee::{KingdeeHmacSigner, KingdeeIdentity};
pub use auth::md5::{Md5ParamNames, Md5Wrap, SortedMd5Signer};
pub use auth::signing::{
    Auth, AuthMode, FixedNonce, NonceSource, RandomNonce, RequestSigner, SignBody, SignableRequest,
    SigningContext,
};
pub use auth::wdt::WdtSigner;
pub use client::{Client, ClientBuilder, MAX_ORDER_ID_LEN};
pub use config::{Config, ConfigBuilder, Paths, DEFAULT_API_URL, DEFAULT_IDEMPOTENCY_HEADER};
pub use conn_core::envelope::{Code, Envelope};
pub use conn_core::pointer::Pointer;
pub use keyed::CREATE_ORDER_OP;
pub use model::{
    months_of, CreatedOrder, FinancialData, Money, NewOrder, NewOrderItem, Order, OrderFields,
    OrderItem, Period, MAX_ORDER_ITEMS,
};
pub use pagination::{
    OrderQuery, OrderStream, OrdersPage, Pagination, PaginationStyle, DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
};
pub use profile::{Profile, ProfileOptions};

/// The platform name in errors, logs and counters.
pub const PLATFORM: &str = "erp";

/// Every environment variable this crate reads (conn-core's `API_*` variables apply too).
pub const ENV_VARS: &[EnvVarDoc] = &[
    EnvVarDoc::new("ERP_API_URL", DEFAULT_API_URL, "Base URL of the ERP API."),
    EnvVarDoc::new(
        "ERP_AUTH_MODE",
        "",
        "api_key | basic | token | bearer | jst_md5 | wdt_md5 | kingdee_hmac | none; unset: inferred from the credentials set.",
    ),
    EnvVarDoc::secret(
        "ERP_API_KEY",
        "API key (api_key mode), ERPNext API key (token mode) or Odoo API key (bearer mode).",
    ),
    EnvVarDoc::new(
        "ERP_API_KEY_HEADER",
        "X-API-Key",
        "Header carrying ERP_API_KEY in api_key mode.",
    ),
    EnvVarDoc::secret(
        "ERP_API_SECRET",
        "ERPNext API secret (token mode: Authorization: token key:secret).",
    ),
    EnvVarDoc::new("ERP_USERNAME", "", "User name for Basic auth."),
    EnvVarDoc::secret("ERP_PASSWORD", "Password for Basic auth."),
    EnvVarDoc::new(
        "ERP_APP_KEY",
        "",
        "App key of a signing scheme (jst_md5 app key, wdt_md5 key, kingdee_hmac AppId).",
    ),
    EnvVarDoc::secret(
        "ERP_APP_SECRET",
        "App secret of a signing scheme (wdt_md5: secret:salt as issued).",
    ),
    EnvVarDoc::secret(
        "ERP_ACCESS_TOKEN",
        "Access token sent and signed as access_token in jst_md5 (聚水潭 requires one).",
    ),
    EnvVarDoc::new(
        "ERP_SIGN_APP_KEY_NAME",
        "",
        "App key parameter name of jst_md5 (app_key).",
    ),
    EnvVarDoc::new(
        "ERP_SIGN_EXTRA_PARAMS",
        "",
        "Fixed extra signed parameters for md5 modes, form-encoded (jst default: charset=utf-8&version=2).",
    ),
    EnvVarDoc::new(
        "ERP_PROFILE",
        "",
        "own | jushuitan | wangdiantong | kingdee | erpnext; unset: own (wdt_md5 and kingdee_hmac imply their ERP).",
    ),
    EnvVarDoc::new(
        "ERP_SHOP",
        "",
        "Shop orders are created in: 聚水潭 shop_id, 旺店通 shop_no.",
    ),
    EnvVarDoc::new("ERP_WDT_SID", "", "旺店通 seller account (sid)."),
    EnvVarDoc::new(
        "ERP_KINGDEE_ACCT_ID",
        "",
        "Kingdee data centre (账套) id, sent in X-Kd-Appdata.",
    ),
    EnvVarDoc::new("ERP_KINGDEE_USERNAME", "", "Kingdee user name."),
    EnvVarDoc::new("ERP_KINGDEE_LCID", "2052", "Kingdee locale id."),
    EnvVarDoc::new("ERP_KINGDEE_ORG_NUM", "0", "Kingdee organisation number (X-Kd-Appdata)."),
    EnvVarDoc::new(
        "ERP_KINGDEE_SALE_ORG",
        "100",
        "Kingdee sale organisation of created sales orders (FSaleOrgId.FNumber).",
    ),
    EnvVarDoc::new(
        "ERP_PERIOD_WINDOW_DAYS",
        "",
        "Days per order query when a profile sums financial data (jushuitan 7, wangdiantong 1).",
    ),
    EnvVarDoc::new("ERP_ORDERS_PATH", "/api/orders", "Order list path (GET)."),
    EnvVarDoc::new(
        "ERP_ORDER_PATH",
        "/api/orders/{id}",
        "Order detail path (GET); {id} is replaced by the order id.",
    ),
    EnvVarDoc::new(
        "ERP_CREATE_ORDER_PATH",
        "/api/orders",
        "Create order path (POST).",
    ),
    EnvVarDoc::new(
        "ERP_FINANCIAL_PATH",
        "/api/financial",
        "Financial data path (GET, with start_date and end_date).",
    ),
    EnvVarDoc::new(
        "ERP_PAGINATION",
        "page_index",
        "page_index (1-based) | page_no (0-based, total_count) | limit_start (ERPNext) | offset_limit.",
    ),
    EnvVarDoc::new("ERP_PAGE_SIZE", "100", "Orders per page (1-10000)."),
    EnvVarDoc::new(
        "ERP_ORDERS_LIST_POINTER",
        "/data",
        "JSON pointer to the orders array in a list answer (. for a bare array).",
    ),
    EnvVarDoc::new(
        "ERP_ORDERS_TOTAL_POINTER",
        "/total_count",
        "JSON pointer to the total count in a list answer.",
    ),
    EnvVarDoc::new(
        "ERP_DATA_POINTER",
        "/data",
        "JSON pointer to the payload of detail/create/financial answers (whole body when absent).",
    ),
    EnvVarDoc::new(
        "ERP_ORDER_ID_FIELD",
        "",
        "Key of the order id (default: first of id, order_id, name, o_id, so_id).",
    ),
    EnvVarDoc::new(
        "ERP_ORDER_AMOUNT_FIELD",
        "",
        "Key of the order total (default: first of total_amount, grand_total, pay_amount, amount, total).",
    ),
    EnvVarDoc::new(
        "ERP_IDEMPOTENCY_HEADER",
        "Idempotency-Key",
        "Header carrying create_order's idempotency key; none disables it (creates are then never replayed).",
    ),
    EnvVarDoc::new(
        "ERP_ERROR_CODE_FIELDS",
        "code,error_code,errcode,errorCode",
        "Top-level answer fields holding an error code (comma-separated; none: status only).",
    ),
    EnvVarDoc::new(
        "ERP_AUTH_ERROR_CODES",
        "401,40001,invalid_signature,unauthorized",
        "Body codes meaning wrong credentials or signature (comma-separated).",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_are_unique_and_include_the_original_ones() {
        let mut names: Vec<&str> = ENV_VARS.iter().map(|v| v.name).collect();
        for v in ["ERP_API_URL", "ERP_API_KEY", "ERP_USERNAME", "ERP_PASSWORD"] {
            assert!(names.contains(&v), "{v}");
        }
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        for secret in [
            "ERP_API_KEY",
            "ERP_API_SECRET",
            "ERP_PASSWORD",
            "ERP_APP_SECRET",
            "ERP_ACCESS_TOKEN",
        ] {
            assert!(
                ENV_VARS.iter().any(|v| v.name == secret && v.secret),
                "{secret}"
            );
        }
    }
}
