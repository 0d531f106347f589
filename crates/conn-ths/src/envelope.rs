//! iFinD's response envelope: `{"errorcode": 0, "errmsg": "", ...}`, and what each error code
//! of the manual's error table means to a client: [`ERROR_TABLE`] is that table, in one place.
//!
//! | [`Action`](crate::Action) | codes | [`ApiErrorKind`](conn_core::error::ApiErrorKind) | retried |
//! |---|---|---|---|
//! | replay once after a new token | -1302, -1010 | `TokenExpired` | once, after `get_access_token` |
//! | re-configure the refresh token | -1300, -1301, -4100 | `ReauthRequired` | no |
//! | empty result | -4001 (no data), -4211 (no trading day in the range) | none: an empty [`Tables`](crate::Tables) | - |
//! | validation naming the parameter | -1003, -1004, -1201..-1203, -4203..-4210, -4212, -4213, -5000, -5001, -5003, -5010, -5101 | `InvalidRequest` | no |
//! | limit naming the limit ([`Limit`](crate::Limit)) | size per command, date range: `InvalidRequest`; trial windows and quotas: `QuotaExceeded` | no |
//! | permission | -1005, -1303, -4230, -4320, -5100, -5103, -5104 | `PermissionDenied` | no |
//! | rate limit | -4400 | `RateLimited` | yes, any operation, after slowing the account's limiter |
//! | retry later | -1000..-1002, -4101, -4102, -4201, -5002 (busy), -5004..-5009 | `ServerError` (`Busy` for -5002) | reads only |
//! | stop | -4103 (account locked), -1305 (daily token limit) | `PermissionDenied`/`QuotaExceeded` | no |
//! | anything else | | `Other` | no |
//!
//! The code is kept as text (`"-1302"`) in [`ApiError::code`](conn_core::error::ApiError::code) and `errmsg` in
//! [`ApiError::message`](conn_core::error::ApiError::message); the English line of [`describe`] (and the limit, for limit codes) is
//! added as detail.
//!
//! This module holds the functions and constants; the types ([`Action`](crate::Action)(crate::Action),
//! [`Limit`](crate::Limit)(crate::Limit), [`CodeInfo`](crate::CodeInfo), [`RateSignal`](crate::RateSignal))
//! are at the crate root.

pub(crate) mod table;

pub(crate) use table::IfindEnvelope;
pub use table::{
    action_of, api_error, describe, info, kind_of, limit_of, read_envelope, read_envelope_full,
    ERROR_TABLE, NO_DATA, NO_TRADING_DAY, RATE_LIMITED, TOKEN_EXPIRED, TOKEN_INVALIDATED,
};
