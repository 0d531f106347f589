//! Error envelopes of typical ERP answers.
//!
//! An answer is an error when
//! - its body has a `code` (or `error_code`, `errcode`, `errorCode`: [`ErrorCodes::code_fields`],
//!   `ERP_ERROR_CODE_FIELDS`; a name starting with `/` is a JSON pointer) outside the success
//!   codes (`0`, `200`, `ok`, `success` by default), or a success flag
//!   ([`ErrorCodes::success_flags`], `success` by default; Kingdee
//!   `/Result/ResponseStatus/IsSuccess`) is `false`; or
//! - its status is 401 or 403 (whatever the body); or
//! - its status is not 2xx and the body carries a code or a message.
//!
//! The message comes from `message`, `msg`, `errmsg`, `error_description`, `description`,
//! `error` or `exception` (ERPNext). The kind is taken from the code lists first (an auth code
//! means the configured credentials or signature are wrong: [`ApiErrorKind::InvalidCredentials`]),
//! then from the HTTP status: 401 → `InvalidCredentials`, 403 → `PermissionDenied`, 404 →
//! `NotFound`, 429 → `RateLimited`, 400/409/422 → `InvalidRequest`, 5xx → `ServerError`.
//! Other non-2xx answers without a body code fall through to conn-core's `HttpError`.

use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::transport::{EnvelopeDecoder, ResponseParts};
use conn_core::Error;
use serde_json::Value;

/// Which body fields carry a code and a message, and which codes mean what. Codes are compared
/// case-insensitively as text (`40001` and `"40001"` match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCodes {
    /// Top-level fields holding the code: `code`, `error_code`, `errcode`, `errorCode`
    /// (`ERP_ERROR_CODE_FIELDS`; empty: only the status and `success` decide). ⚠ An ERP that
    /// answers a bare object whose `code` is a document number needs this changed.
    pub code_fields: Vec<String>,
    /// Top-level fields holding the message: `message`, `msg`, `errmsg`, `error_description`,
    /// `description`, `error`, `exception`.
    pub message_fields: Vec<String>,
    /// Success: `0`, `200`, `ok`, `success`.
    pub success: Vec<String>,
    /// Wrong credentials or signature: `401`, `40001` (the fake's signature error),
    /// `invalid_signature`, `unauthorized`. Configurable with `ERP_AUTH_ERROR_CODES`. (`100` is
    /// not in the list: 旺店通 uses it for any business error, and 聚水潭's profile adds it.)
    pub auth: Vec<String>,
    /// Permission missing: `403`, `40003`.
    pub permission: Vec<String>,
    /// Not found: `404`, `40004`.
    pub not_found: Vec<String>,
    /// Too many requests: `429`, `42900`.
    pub rate_limited: Vec<String>,
    /// Busy, not processed, retry: `busy`, `50300`.
    pub busy: Vec<String>,
    /// Invalid request: `400`, `422`, `40000`, `42200`.
    pub invalid: Vec<String>,
    /// Fields (names or JSON pointers) holding a boolean success flag: `false` is an error
    /// whatever the code says. `success` by default.
    pub success_flags: Vec<String>,
    /// Also look for the envelope in the first cell of a row array (`[[{…}]]`), where Kingdee's
    /// queries put their errors.
    pub unwrap_rows: bool,
}

fn list(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for ErrorCodes {
    fn default() -> Self {
        Self {
            code_fields: list(&["code", "error_code", "errcode", "errorCode"]),
            message_fields: list(&[
                "message",
                "msg",
                "errmsg",
                "error_description",
                "description",
                "error",
                "exception",
            ]),
            success: list(&["0", "200", "ok", "success"]),
            auth: list(&["401", "40001", "invalid_signature", "unauthorized"]),
            permission: list(&["403", "40003"]),
            not_found: list(&["404", "40004"]),
            rate_limited: list(&["429", "42900"]),
            busy: list(&["busy", "50300"]),
            invalid: list(&["400", "422", "40000", "42200"]),
            success_flags: list(&["success"]),
            unwrap_rows: false,
        }
    }
}

impl ErrorCodes {
    fn has(list: &[String], code: &str) -> bool {
        list.iter().any(|c| c.eq_ignore_ascii_case(code))
    }

    /// The kind a body code maps to, if it is listed.
    pub fn kind_of(&self, code: &str) -> Option<ApiErrorKind> {
        let pairs: [(&[String], ApiErrorKind); 6] = [
            (&self.auth, ApiErrorKind::InvalidCredentials),
            (&self.permission, ApiErrorKind::PermissionDenied),
            (&self.not_found, ApiErrorKind::NotFound),
            (&self.rate_limited, ApiErrorKind::RateLimited),
            (&self.busy, ApiErrorKind::Busy),
            (&self.invalid, ApiErrorKind::InvalidRequest),
        ];
        pairs
            .into_iter()
            .find(|(l, _)| Self::has(l, code))
            .map(|(_, k)| k)
    }

    /// True for a success code.
    pub fn is_success(&self, code: &str) -> bool {
        Self::has(&self.success, code)
    }
}

/// The envelope decoder of the ERP connector.
#[derive(Debug, Clone, Default)]
pub struct ErpEnvelope {
    codes: ErrorCodes,
}

impl ErpEnvelope {
    /// A decoder with these code lists.
    pub fn new(codes: ErrorCodes) -> Self {
        Self { codes }
    }
}

/// The object an envelope is read from: the body, or with `unwrap_rows` the first object
/// found in the first cells of nested arrays (`[[{…}]]`).
fn envelope_object(body: &Value, unwrap_rows: bool) -> Option<&Value> {
    let mut v = body;
    // Bounded: Kingdee nests two levels; a hostile answer cannot make this walk deep.
    for _ in 0..4 {
        match v {
            Value::Object(_) => return Some(v),
            Value::Array(a) if unwrap_rows => v = a.first()?,
            _ => return None,
        }
    }
    None
}

/// A field by name, or by JSON pointer when it starts with `/`.
fn lookup<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    if name.starts_with('/') {
        obj.pointer(name)
    } else {
        obj.get(name)
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn kind_of_status(status: u16) -> ApiErrorKind {
    match status {
        401 => ApiErrorKind::InvalidCredentials,
        403 => ApiErrorKind::PermissionDenied,
        404 => ApiErrorKind::NotFound,
        429 => ApiErrorKind::RateLimited,
        400 | 409 | 422 => ApiErrorKind::InvalidRequest,
        500..=599 => ApiErrorKind::ServerError,
        _ => ApiErrorKind::Other,
    }
}

impl EnvelopeDecoder for ErpEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        let body: Option<Value> = serde_json::from_slice(r.body).ok();
        let obj = body
            .as_ref()
            .and_then(|b| envelope_object(b, self.codes.unwrap_rows));
        let field = |names: &[String]| {
            obj.and_then(|o| names.iter().find_map(|n| lookup(o, n).and_then(text_of)))
        };
        let code = field(&self.codes.code_fields);
        let message = field(&self.codes.message_fields);
        let success_flag = obj.and_then(|o| {
            self.codes
                .success_flags
                .iter()
                .find_map(|n| lookup(o, n).and_then(Value::as_bool))
        });
        let status = r.status.as_u16();
        let code_failed = code.as_deref().is_some_and(|c| !self.codes.is_success(c));
        let is_error = code_failed
            || success_flag == Some(false)
            || status == 401
            || status == 403
            || (!r.status.is_success() && (code.is_some() || message.is_some()));
        if !is_error {
            return None;
        }
        let kind = code
            .as_deref()
            .filter(|_| code_failed)
            .and_then(|c| self.codes.kind_of(c))
            .unwrap_or_else(|| {
                if r.status.is_success() {
                    ApiErrorKind::Other
                } else {
                    kind_of_status(status)
                }
            });
        let code_text = match (&code, code_failed) {
            (Some(c), true) => c.clone(),
            _ if success_flag == Some(false) && r.status.is_success() => "success_false".to_owned(),
            _ if !r.status.is_success() => format!("http_{status}"),
            (Some(c), false) => c.clone(),
            (None, _) => "error".to_owned(),
        };
        let log_id =
            field(&list(&["request_id", "requestId", "trace_id", "traceId"])).or_else(|| {
                r.headers
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
        Some(
            ApiError::new(
                r.platform.to_owned(),
                code_text,
                message.unwrap_or_else(|| format!("HTTP {status}")),
                kind,
            )
            .with_status(r.status)
            .with_log_id(log_id)
            .with_retry_after(r.retry_after())
            .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    fn decode(status: u16, body: &str) -> Option<Error> {
        let headers = HeaderMap::new();
        ErpEnvelope::default().decode_error(&ResponseParts {
            platform: "erp",
            operation: "t",
            status: StatusCode::from_u16(status).unwrap(),
            headers: &headers,
            body: body.as_bytes(),
        })
    }

    #[test]
    fn success_shapes_pass() {
        assert!(decode(200, r#"{"code":0,"data":[]}"#).is_none());
        assert!(decode(200, r#"{"code":"200","msg":"ok"}"#).is_none());
        assert!(decode(200, r#"{"data":[]}"#).is_none());
        assert!(decode(200, "not json").is_none());
        assert!(decode(503, "").is_none(), "left to HttpError");
    }

    #[test]
    fn error_shapes_map_to_kinds() {
        let e = decode(200, r#"{"code":40001,"msg":"invalid sign"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::InvalidCredentials));
        assert_eq!(e.platform_code(), Some("40001"));
        assert!(e.to_string().contains("invalid sign"));
        let e = decode(401, "").unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::InvalidCredentials));
        assert_eq!(e.platform_code(), Some("http_401"));
        let e = decode(403, r#"{"exc_type":"PermissionError","exception":"no"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::PermissionDenied));
        let e = decode(500, r#"{"code":500,"message":"boom"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::ServerError));
        assert!(e.is_retryable_for(true) && !e.is_retryable_for(false));
        let e = decode(200, r#"{"success":false,"message":"nope"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::Other));
        let e = decode(404, r#"{"code":404,"message":"order not found"}"#).unwrap();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::NotFound));
        let e = decode(200, r#"{"code":"busy","msg":"try later"}"#).unwrap();
        assert!(e.is_retryable_for(false));
    }

    #[test]
    fn code_fields_are_configurable() {
        let headers = HeaderMap::new();
        let parts = ResponseParts {
            platform: "erp",
            operation: "t",
            status: StatusCode::OK,
            headers: &headers,
            body: br#"{"id":7,"code":"SO-7"}"#,
        };
        assert!(ErpEnvelope::default().decode_error(&parts).is_some());
        let codes = ErrorCodes {
            code_fields: vec!["errcode".into()],
            ..ErrorCodes::default()
        };
        assert!(ErpEnvelope::new(codes).decode_error(&parts).is_none());
    }
}
