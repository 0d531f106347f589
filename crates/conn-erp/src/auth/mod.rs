//! Authentication and request signing.
//!
//! Every auth mode is a [`RequestSigner`]: it is handed the request as it will go on the wire
//! (method, full URL path, query parameters, headers, body) and a [`SigningContext`] (timestamp
//! and nonce, drawn once per logical call from the configured clock and [`NonceSource`]), and
//! mutates it: adds headers, query parameters or form fields. An ERP whose scheme is not built
//! in gets a signer of its own, passed as [`Auth::custom`], without forking this crate.
//!
//! | mode | type | targets |
//! |---|---|---|
//! | `api_key` | [`ApiKeyAuth`] | the original system's own ERP, most in-house REST services |
//! | `basic` | [`BasicAuth`] | the original system's own ERP, Odoo/Dolibarr behind Basic auth |
//! | `token` | [`TokenAuth`] | ERPNext / Frappe (`Authorization: token key:secret`) |
//! | `bearer` | [`BearerAuth`] | Odoo API keys (`Authorization: bearer key`), OAuth-fronted ERPs |
//! | `jst_md5` | [`SortedMd5Signer::jushuitan`] | 聚水潭 open platform |
//! | `wdt_md5` | [`WdtSigner`] | 旺店通 ERP 旗舰版 |
//! | `kingdee_hmac` | [`KingdeeHmacSigner`] | Kingdee 金蝶云星空 K3Cloud WebAPI |
//! | `none` | [`NoAuth`] | an ERP on a trusted network |

//!
//! This module holds the signing functions and constants; the types are at the crate root.

pub(crate) mod header;
pub(crate) mod kingdee;
pub(crate) mod md5;
pub(crate) mod signing;
pub(crate) mod wdt;

pub(crate) use header::{ApiKeyAuth, BasicAuth, BearerAuth, NoAuth, TokenAuth};
pub(crate) use kingdee::{KingdeeHmacSigner, KingdeeIdentity};
pub(crate) use md5::SortedMd5Signer;
pub(crate) use signing::plain_header;
pub(crate) use signing::{
    Auth, AuthMode, NonceSource, RandomNonce, RequestSigner, SignBody, SignableRequest,
    SigningContext,
};
pub(crate) use wdt::WdtSigner;

pub use header::DEFAULT_API_KEY_HEADER;
pub use kingdee::{
    derive_client_secret, hmac_signature, kingdee_encode_path, kingdee_string_to_sign,
};
pub use md5::{md5_signature, string_to_sign};
pub use wdt::{wdt_signature, WDT_EPOCH, WDT_METHOD_PARAM};
