//! Douyin's response envelopes and its error-code table.
//!
//! Almost every Douyin error is HTTP 200 with a code in the body. A call succeeded only when
//! `data.error_code == 0` and, where present, `extra.error_code == 0` and
//! `extra.sub_error_code == 0`. Two envelope shapes exist:
//!
//! - OAuth endpoints: `{"data":{…, "error_code", "description", "log_id"}, "message"}`;
//! - resource APIs: `{"data":{"error_code","description",…}, "extra":{"error_code","description",
//!   "sub_error_code","sub_description","logid","now"}}`.
//!
//! Codes may arrive as numbers or strings. [`DouyinEnvelope`] turns any non-zero code into a
//! typed [`conn_core::error::ApiError`] carrying the platform's log id (`extra.logid`, else
//! `data.log_id`, else the `x-tt-logid` header), the HTTP status and a `Retry-After` if sent.
//! [`CODE_TABLE`] is the table of PLATFORMS.md; [`douyin_code`] recovers the Douyin meaning of
//! an error.
//!
//! ```
//! use conn_douyin::{decode_error, douyin_code, DouyinCode};
//! use conn_core::error::ApiErrorKind;
//!
//! let body = br#"{"data":{"error_code":"2190008","description":"access_token expired"},
//!                 "extra":{"error_code":2190008,"logid":"20240101LOG","sub_error_code":0}}"#;
//! let err = decode_error(http::StatusCode::OK, &http::HeaderMap::new(), body, "video_list").unwrap();
//! assert_eq!(err.api_kind(), Some(ApiErrorKind::TokenExpired));
//! assert_eq!(err.log_id(), Some("20240101LOG"));
//! assert_eq!(douyin_code(&err), Some(DouyinCode::AccessTokenInvalid));
//! ```

use std::fmt;

use conn_core::error::{ApiError, ApiErrorKind, Error, Result};
use conn_core::transport::{EnvelopeDecoder, Response, ResponseParts};
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::PLATFORM;
use conn_core::lenient::LooseI64;

/// What a Douyin error code means, finer than [`ApiErrorKind`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DouyinCode {
    /// The access token is invalid or expired: refresh once, replay once.
    AccessTokenInvalid,
    /// The refresh token is invalid or expired: the user must authorize again.
    RefreshTokenInvalid,
    /// The authorization code expired (10 minutes) or was already used.
    CodeInvalid,
    /// The refresh token was renewed 5 times: the user must authorize again.
    RenewLimitReached,
    /// `client_key`/`client_secret` are wrong: fix the configuration.
    BadClientCredentials,
    /// A scope or permission is missing.
    ScopeMissing,
    /// The token does not belong to the `open_id` of the request.
    AccountMismatch,
    /// The platform is busy and did not take the work.
    SystemBusy,
    /// A quota is used up.
    QuotaExceeded,
    /// Too many requests.
    TooFrequent,
    /// The account's daily publish limit is reached.
    DailyPublishLimit,
    /// The file is too big.
    FileTooBig,
    /// The video is too long.
    VideoTooLong,
    /// The `video_id` is invalid (unknown, or already used by another post).
    BadVideoId,
}

/// One row of the error-code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code.
    pub code: i64,
    /// What it means on Douyin.
    pub meaning: DouyinCode,
    /// How a client treats it (retry class, category).
    pub kind: ApiErrorKind,
}

const fn row(code: i64, meaning: DouyinCode, kind: ApiErrorKind) -> CodeInfo {
    CodeInfo {
        code,
        meaning,
        kind,
    }
}

/// Every error code of PLATFORMS.md with its meaning and kind.
///
/// | meaning | codes | kind |
/// |---|---|---|
/// | access token invalid/expired | 10008, 2190002, 2190008, 28001003, 28001008 | `TokenExpired` (refresh once, replay once) |
/// | refresh token invalid/expired | 10010 | `ReauthRequired` |
/// | code expired / used | 10007 | `InvalidRequest` |
/// | renew limit reached | 10020 | `ReauthRequired` |
/// | bad client_key/secret | 10003, 10013 | `InvalidCredentials` (config error, never retried) |
/// | scope missing | 10004, 2190003, 2190004, 28001012, 28001018 | `PermissionDenied` (detail names the scope) |
/// | token/open_id mismatch | 2190015, 28001015 | `AccountMismatch` |
/// | system busy | 2100004, 28001005, 28001006 | `Busy` (retried for any operation) |
/// | quota used up | 2190001, 28003017 | `QuotaExceeded` |
/// | too frequent | 28003018, 28001052 | `RateLimited` (retried with backoff) |
/// | daily publish limit | 2114007 | `QuotaExceeded` |
/// | file too big / too long / bad video_id | 2190005, 2190006, 2190007 | `InvalidRequest` (detail names the field) |
pub const CODE_TABLE: &[CodeInfo] = {
    use ApiErrorKind as K;
    use DouyinCode as D;
    &[
        row(10008, D::AccessTokenInvalid, K::TokenExpired),
        row(2190002, D::AccessTokenInvalid, K::TokenExpired),
        row(2190008, D::AccessTokenInvalid, K::TokenExpired),
        row(28001003, D::AccessTokenInvalid, K::TokenExpired),
        row(28001008, D::AccessTokenInvalid, K::TokenExpired),
        row(10010, D::RefreshTokenInvalid, K::ReauthRequired),
        row(10007, D::CodeInvalid, K::InvalidRequest),
        row(10020, D::RenewLimitReached, K::ReauthRequired),
        row(10003, D::BadClientCredentials, K::InvalidCredentials),
        row(10013, D::BadClientCredentials, K::InvalidCredentials),
        row(10004, D::ScopeMissing, K::PermissionDenied),
        row(2190003, D::ScopeMissing, K::PermissionDenied),
        row(2190004, D::ScopeMissing, K::PermissionDenied),
        row(28001012, D::ScopeMissing, K::PermissionDenied),
        row(28001018, D::ScopeMissing, K::PermissionDenied),
        row(2190015, D::AccountMismatch, K::AccountMismatch),
        row(28001015, D::AccountMismatch, K::AccountMismatch),
        row(2100004, D::SystemBusy, K::Busy),
        row(28001005, D::SystemBusy, K::Busy),
        row(28001006, D::SystemBusy, K::Busy),
        row(2190001, D::QuotaExceeded, K::QuotaExceeded),
        row(28003017, D::QuotaExceeded, K::QuotaExceeded),
        row(28003018, D::TooFrequent, K::RateLimited),
        row(28001052, D::TooFrequent, K::RateLimited),
        row(2114007, D::DailyPublishLimit, K::QuotaExceeded),
        row(2190005, D::FileTooBig, K::InvalidRequest),
        row(2190006, D::VideoTooLong, K::InvalidRequest),
        row(2190007, D::BadVideoId, K::InvalidRequest),
    ]
};

/// The table row of a code.
pub fn code_info(code: i64) -> Option<&'static CodeInfo> {
    CODE_TABLE.iter().find(|r| r.code == code)
}

/// The Douyin meaning of an error, when it is (or wraps) a Douyin code of [`CODE_TABLE`].
pub fn douyin_code(err: &Error) -> Option<DouyinCode> {
    let code = err.platform_code()?.parse::<i64>().ok()?;
    code_info(code).map(|r| r.meaning)
}

/// The scope (or app permission) an operation needs, named in "scope missing" errors.
pub(crate) fn scope_for_operation(operation: &str) -> Option<&'static str> {
    Some(match operation {
        "upload_video"
        | "init_video_part_upload"
        | "upload_video_part"
        | "complete_video_part_upload"
        | "create_video"
        | "upload_image"
        | "create_image_text" => "video.create.bind",
        "video_list" => "video.list.bind",
        "video_data" => "video.data.bind",
        "renew_refresh_token" => "renew_refresh_token",
        _ => return None,
    })
}

/// The code that means "renewal limit reached" on [`RENEW_OPERATION`] and rate limiting elsewhere.
pub(crate) const RENEW_LIMIT_CODE: i64 = 10020;
/// The operation name of `/oauth/renew_refresh_token/`.
pub(crate) const RENEW_OPERATION: &str = "renew_refresh_token";

/// The envelope decoder the Douyin transport uses.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DouyinEnvelope;

impl EnvelopeDecoder for DouyinEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        decode_error(r.status, r.headers, r.body, r.operation)
    }
}

fn text(map: Option<&Map<String, Value>>, key: &str) -> Option<String> {
    match map?.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn code(map: Option<&Map<String, Value>>, key: &str) -> Option<i64> {
    let v = map?.get(key)?;
    LooseI64::deserialize(v).ok()?.0.filter(|c| *c != 0)
}

/// Every key that carries a Douyin error code, in both envelope shapes and at the top level
/// (the official SDK's check also reads `err_no`, `errcode`, `error_code`, `errno`, `error`).
const CODE_KEYS: &[&[u8]] = &[
    b"\"error_code\"",
    b"\"sub_error_code\"",
    b"\"err_no\"",
    b"\"errcode\"",
    b"\"errno\"",
    b"\"error\"",
];

/// The scan over [`CODE_KEYS`], built once: its searcher is not rebuilt per response.
static CODE_SCAN: std::sync::LazyLock<conn_core::code_scan::CodeScan> =
    std::sync::LazyLock::new(|| conn_core::code_scan::CodeScan::from_quoted(CODE_KEYS));

/// Top-level code keys the official Node SDK (`@open-dy/open_api_sdk`) treats as an error when
/// non-zero, even in a body without `data`/`extra`.
const TOP_LEVEL_CODES: &[&str] = &["err_no", "errcode", "error_code", "errno", "error"];
/// Top-level message keys that go with them.
const TOP_LEVEL_MESSAGES: &[&str] = &[
    "err_msg",
    "errmsg",
    "error_msg",
    "err_tips",
    "description",
    "message",
];

/// The platform error carried by a response, if any (both envelope shapes, codes as numbers or
/// strings). `None` for a success envelope or a body that is not a Douyin envelope; the
/// transport then judges the HTTP status alone.
pub fn decode_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    operation: &str,
) -> Option<Error> {
    // Almost every response is a success: when every code in it reads zero there is no error,
    // and the body need not be parsed a second time (the caller decodes it once).
    if CODE_SCAN.all_zero(body) {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let data = obj.get("data").and_then(Value::as_object);
    let extra = obj.get("extra").and_then(Value::as_object);

    let data_code = code(data, "error_code");
    let extra_code = code(extra, "error_code");
    let sub_code = code(extra, "sub_error_code");
    let (code, message) = if let Some(c) = data_code {
        (
            c,
            text(data, "description").or_else(|| text(extra, "description")),
        )
    } else if let Some(c) = extra_code {
        (
            c,
            text(extra, "description").or_else(|| text(data, "description")),
        )
    } else if let Some(c) = sub_code {
        (
            c,
            text(extra, "sub_description").or_else(|| text(extra, "description")),
        )
    } else if let Some(c) = TOP_LEVEL_CODES.iter().find_map(|k| code(Some(obj), k)) {
        (
            c,
            TOP_LEVEL_MESSAGES.iter().find_map(|k| text(Some(obj), k)),
        )
    } else {
        return None;
    };
    let message = message
        .or_else(|| text(Some(obj), "message"))
        .unwrap_or_else(|| "(no description)".to_owned());

    let info = code_info(code);
    let kind = match info {
        // ⚠ 10020 is "renewal limit reached" on the renewal endpoint only; a life-services page
        // uses it on other endpoints for "more than 500 calls in 5 minutes". Stored tokens are
        // removed only on re-authorization, so elsewhere it must read as rate limiting.
        Some(_) if code == RENEW_LIMIT_CODE && operation != RENEW_OPERATION => {
            ApiErrorKind::RateLimited
        }
        Some(r) => r.kind,
        // An unknown code: the status says what it can (conn-core's one table).
        None => ApiErrorKind::of_status(status),
    };
    let mut details = Vec::new();
    if let Some(meaning) = info.map(|r| r.meaning) {
        match meaning {
            DouyinCode::ScopeMissing => {
                if let Some(scope) = scope_for_operation(operation) {
                    details.push(format!("missing scope `{scope}`"));
                }
            }
            DouyinCode::FileTooBig => details.push("field `video`: file too big".to_owned()),
            DouyinCode::VideoTooLong => details.push("field `video`: video too long".to_owned()),
            DouyinCode::BadVideoId => details.push("field `video_id`: invalid".to_owned()),
            _ => {}
        }
    }
    if let (Some(sub), false) = (sub_code, Some(code) == sub_code) {
        let sub_desc = text(extra, "sub_description").unwrap_or_default();
        details.push(
            format!("sub_error_code {sub} {sub_desc}")
                .trim_end()
                .to_owned(),
        );
    }
    let log_id = text(extra, "logid")
        .or_else(|| text(data, "log_id"))
        .or_else(|| text(extra, "log_id"))
        .or_else(|| {
            headers
                .get("x-tt-logid")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    let retry_after = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| conn_core::retry::parse_retry_after(v, std::time::SystemTime::now()));
    let mut err = ApiError::new(PLATFORM, code.to_string(), message, kind)
        .with_status(status)
        .with_log_id(log_id)
        .with_retry_after(retry_after);
    if !details.is_empty() {
        err = err.with_detail(details.join("; "));
    }
    Some(err.into())
}

/// `{"data": T, ...}`: the success shape of every endpoint.
#[derive(Deserialize)]
struct DataOf<T> {
    data: T,
}

impl<T> fmt::Debug for DataOf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataOf")
    }
}

/// Decodes the `data` object of a successful response.
pub(crate) fn data_of<T: DeserializeOwned>(resp: &Response) -> Result<T> {
    Ok(resp.json::<DataOf<T>>()?.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &str, op: &str) -> Option<Error> {
        decode_error(StatusCode::OK, &HeaderMap::new(), body.as_bytes(), op)
    }

    #[test]
    fn success_envelopes_are_not_errors() {
        assert!(decode(r#"{"data":{"error_code":0,"description":""},"extra":{"error_code":"0","sub_error_code":0,"logid":"x"}}"#, "video_list").is_none());
        assert!(decode(
            r#"{"data":{"access_token":"act.1","error_code":"0"},"message":"success"}"#,
            "access_token"
        )
        .is_none());
        assert!(decode("not json", "x").is_none());
        assert!(decode("[1,2]", "x").is_none());
    }

    #[test]
    fn oauth_shape_keeps_data_log_id() {
        let e = decode(
            r#"{"data":{"error_code":10010,"description":"refresh_token expired","log_id":"LOG-OAUTH"},"message":"error"}"#,
            "refresh_token",
        )
        .unwrap();
        assert_eq!(e.platform_code(), Some("10010"));
        assert_eq!(e.log_id(), Some("LOG-OAUTH"));
        assert!(e.is_reauth_required());
        assert_eq!(
            e.to_string(),
            "douyin error 10010: refresh_token expired [log id LOG-OAUTH]"
        );
    }

    #[test]
    fn extra_code_and_sub_code_count() {
        let e = decode(
            r#"{"data":{"error_code":0,"description":""},"extra":{"error_code":"2100004","description":"busy","sub_error_code":"7","sub_description":"try later","logid":"L2"}}"#,
            "create_video",
        )
        .unwrap();
        assert_eq!(e.platform_code(), Some("2100004"));
        assert_eq!(e.api_kind(), Some(ApiErrorKind::Busy));
        assert_eq!(
            e.api_error().unwrap().detail.as_deref(),
            Some("sub_error_code 7 try later")
        );
        let e = decode(
            r#"{"data":{"error_code":0},"extra":{"error_code":0,"sub_error_code":123,"sub_description":"odd"}}"#,
            "video_list",
        )
        .unwrap();
        assert_eq!(e.platform_code(), Some("123"));
        assert_eq!(e.api_kind(), Some(ApiErrorKind::Other));
        assert_eq!(e.to_string(), "douyin error 123: odd");
    }

    #[test]
    fn scope_missing_names_the_scope() {
        let e = decode(
            r#"{"data":{"error_code":2190004,"description":"no scope"}}"#,
            "video_data",
        )
        .unwrap();
        assert_eq!(
            e.api_error().unwrap().detail.as_deref(),
            Some("missing scope `video.data.bind`")
        );
        assert!(e.to_string().contains("video.data.bind"));
    }

    #[test]
    fn unknown_code_on_5xx_is_a_server_error_and_header_log_id_is_used() {
        let mut h = HeaderMap::new();
        h.insert("x-tt-logid", "HDRLOG".parse().unwrap());
        let e = decode_error(
            StatusCode::BAD_GATEWAY,
            &h,
            br#"{"data":{"error_code":99,"description":"upstream"}}"#,
            "video_list",
        )
        .unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::ServerError));
        assert_eq!(e.log_id(), Some("HDRLOG"));
        assert_eq!(e.status(), Some(StatusCode::BAD_GATEWAY));
    }

    #[test]
    fn unknown_codes_follow_the_core_status_table() {
        let body = br#"{"data":{"error_code":99,"description":"x"}}"#;
        let kind = |s: StatusCode| {
            decode_error(s, &HeaderMap::new(), body, "video_list").and_then(|e| e.api_kind())
        };
        assert_eq!(
            kind(StatusCode::TOO_MANY_REQUESTS),
            Some(ApiErrorKind::RateLimited)
        );
        assert_eq!(kind(StatusCode::NOT_FOUND), Some(ApiErrorKind::NotFound));
        assert_eq!(kind(StatusCode::NOT_IMPLEMENTED), Some(ApiErrorKind::Other));
        assert_eq!(kind(StatusCode::OK), Some(ApiErrorKind::Other));
    }

    #[test]
    fn code_10020_reads_as_reauthorize_only_on_renewal() {
        // PLATFORMS.md (Douyin, corrections): 10020 is the renewal limit on
        // /oauth/renew_refresh_token/ and "500 calls in 5 minutes" on client_token.
        let body = r#"{"data":{"error_code":10020,"description":"renew limit"},"message":"error"}"#;
        let renew = decode(body, RENEW_OPERATION).unwrap();
        assert!(renew.is_reauth_required(), "{renew:?}");
        for op in ["client_token", "refresh_token", "video_list"] {
            let e = decode(body, op).unwrap();
            assert!(!e.is_reauth_required(), "{op}: {e:?}");
            assert_eq!(e.api_kind(), Some(ApiErrorKind::RateLimited), "{op}");
            assert!(e.is_retryable(), "{op}");
        }
    }

    #[test]
    fn the_official_sdks_top_level_codes_are_errors() {
        // The official Node SDK's response check reads top-level `err_no`, `errcode`,
        // `error_code`, `errno` and `error` (PLATFORMS.md, corrections).
        for key in ["err_no", "errcode", "error_code", "errno", "error"] {
            let body = format!(r#"{{"{key}":28003018,"err_msg":"too frequent"}}"#);
            let e = decode(&body, "video_list").unwrap_or_else(|| panic!("{key}"));
            assert_eq!(e.platform_code(), Some("28003018"), "{key}");
            assert!(e.to_string().contains("too frequent"), "{key}: {e}");
            let ok = format!(r#"{{"{key}":0,"data":{{"error_code":0}}}}"#);
            assert!(decode(&ok, "video_list").is_none(), "{key} zero");
            let string_zero = format!(r#"{{"{key}":"0","data":{{}}}}"#);
            assert!(decode(&string_zero, "video_list").is_none(), "{key} \"0\"");
        }
        // A zero data code does not hide a non-zero top-level one.
        let e = decode(
            r#"{"data":{"error_code":0},"err_no":2100004}"#,
            "create_video",
        )
        .unwrap();
        assert_eq!(e.platform_code(), Some("2100004"));
    }

    #[test]
    fn table_has_no_duplicates() {
        let mut codes: Vec<i64> = CODE_TABLE.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
        assert_eq!(n, 28);
    }
}
