//! A profile's response envelope: where the status code and message sit, and what they mean.

use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::transport::{EnvelopeDecoder, ResponseParts};
use conn_core::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pointer::Pointer;

/// Where a platform puts its status code and message, and which codes mean what.
///
/// Codes are compared as text, so `0` and `"0"` are the same code (platforms send both).
/// A response whose code field is absent is a success (Zhihu-style APIs only send an `error`
/// object on failure); a non-2xx response without an envelope becomes an HTTP error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Where the code sits (`/code`, `/data/error_code`, `/error/code`); `None`: only the HTTP
    /// status counts.
    #[serde(default)]
    pub code: Option<Pointer>,
    /// The code meaning success; `None`: any code present is an error.
    #[serde(default)]
    pub success: Option<Value>,
    /// Where the message sits.
    #[serde(default)]
    pub message: Option<Pointer>,
    /// Where a boolean success flag sits (小红书 ark `/success`): `false` is an error whatever
    /// the code says, so a failure can never pass as a success.
    #[serde(default)]
    pub success_flag: Option<Pointer>,
    /// Where a log/request id sits, kept on errors.
    #[serde(default)]
    pub log_id: Option<Pointer>,
    /// Codes meaning the credentials were rejected (token, API key or signature).
    #[serde(default)]
    pub auth_codes: Vec<Value>,
    /// Codes meaning the content does not exist.
    #[serde(default)]
    pub not_found_codes: Vec<Value>,
    /// Codes meaning "too many requests" (retried for any operation).
    #[serde(default)]
    pub rate_limit_codes: Vec<Value>,
    /// True when the platform sends error envelopes with HTTP 200 (ByteDance style); false when
    /// it uses a matching status (401, 404, …). Only the fake uses it, to answer as the platform.
    #[serde(default)]
    pub errors_with_http_200: bool,
}

/// The text of a code value: `0` and `"0"` are both `0`.
pub(crate) fn code_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Envelope {
    /// No envelope: only the HTTP status counts.
    pub fn none() -> Self {
        Self {
            code: None,
            success: None,
            message: None,
            success_flag: None,
            log_id: None,
            auth_codes: Vec::new(),
            not_found_codes: Vec::new(),
            rate_limit_codes: Vec::new(),
            errors_with_http_200: false,
        }
    }

    /// The platform error carried by `body`, if any (`(code, message)`).
    pub fn error_in(&self, body: &Value) -> Option<(String, String)> {
        let flag_failed = self
            .success_flag
            .as_ref()
            .and_then(|p| p.get(body))
            .and_then(Value::as_bool)
            == Some(false);
        let code = self
            .code
            .as_ref()
            .and_then(|p| p.get(body))
            .filter(|c| !c.is_null());
        let text = match code {
            Some(c) => code_text(c),
            None if flag_failed => "success_false".to_owned(),
            None => return None,
        };
        if !flag_failed && self.success.as_ref().is_some_and(|s| code_text(s) == text) {
            return None;
        }
        let message = self
            .message
            .as_ref()
            .and_then(|p| p.get(body))
            .map(|m| match m {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        Some((text, message))
    }

    fn is_in(list: &[Value], code: &str) -> bool {
        list.iter().any(|c| code_text(c) == code)
    }

    /// What a code means to a client.
    pub fn kind_of(&self, code: &str, status: http::StatusCode) -> ApiErrorKind {
        if Self::is_in(&self.auth_codes, code) {
            ApiErrorKind::InvalidCredentials
        } else if Self::is_in(&self.not_found_codes, code) || status == http::StatusCode::NOT_FOUND
        {
            ApiErrorKind::NotFound
        } else if Self::is_in(&self.rate_limit_codes, code)
            || status == http::StatusCode::TOO_MANY_REQUESTS
        {
            ApiErrorKind::RateLimited
        } else if status.is_server_error() {
            ApiErrorKind::ServerError
        } else if status == http::StatusCode::BAD_REQUEST
            || status == http::StatusCode::UNPROCESSABLE_ENTITY
        {
            ApiErrorKind::InvalidRequest
        } else {
            ApiErrorKind::Other
        }
    }

    /// A body carrying `code` and `message` where this envelope reads them (what a server of the
    /// profile answers; the fake uses it). Without a code pointer the body is `{}`.
    pub fn body_with(&self, code: Value, message: &str) -> Value {
        let mut body = Value::Object(serde_json::Map::new());
        if let Some(p) = &self.code {
            // Pointers of a valid profile never cross a scalar, so these writes cannot fail.
            let _ = p.set(&mut body, code.clone());
        }
        if let Some(p) = &self.message {
            let _ = p.set(&mut body, Value::String(message.to_owned()));
        }
        if let Some(p) = &self.success_flag {
            let ok = self
                .success
                .as_ref()
                .is_some_and(|s| code_text(s) == code_text(&code));
            let _ = p.set(&mut body, Value::Bool(ok));
        }
        body
    }

    /// A success body: the success code (when the envelope has one) and the message `success`.
    pub fn success_body(&self) -> Value {
        match &self.success {
            Some(s) => self.body_with(s.clone(), "success"),
            None => Value::Object(serde_json::Map::new()),
        }
    }
}

/// The transport's [`EnvelopeDecoder`] for a profile.
#[derive(Debug, Clone)]
pub(crate) struct ProfileEnvelope {
    pub(crate) envelope: Envelope,
}

impl EnvelopeDecoder for ProfileEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        if self.envelope.code.is_none() && self.envelope.success_flag.is_none() {
            return None;
        }
        let body: Value = serde_json::from_slice(r.body).ok()?;
        let (code, message) = self.envelope.error_in(&body)?;
        let kind = self.envelope.kind_of(&code, r.status);
        let log_id = self
            .envelope
            .log_id
            .as_ref()
            .and_then(|p| p.get(&body))
            .map(code_text);
        let err = ApiError::new(r.platform.to_owned(), code, message, kind)
            .with_status(r.status)
            .with_log_id(log_id)
            .with_retry_after(r.retry_after());
        Some(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xhs_ark_failures_are_errors_whatever_the_code() {
        // The ark envelope as PLATFORMS.md describes it: HTTP 200, {error_code, success, data, error_msg}.
        let ark = super::super::Profile::xiaohongshu().envelope;
        assert_eq!(
            ark.error_in(&json!({"error_code": 0, "success": true, "data": {}})),
            None
        );
        assert_eq!(
            ark.error_in(&json!({"error_code": 0, "success": false, "error_msg": "签名错误"})),
            Some(("0".into(), "签名错误".into()))
        );
        assert_eq!(
            ark.error_in(
                &json!({"error_code": 1001, "success": false, "error_msg": "token expired"})
            ),
            Some(("1001".into(), "token expired".into()))
        );
        assert_eq!(
            ark.error_in(&json!({"success": false})),
            Some(("success_false".into(), String::new()))
        );
        assert_eq!(ark.error_in(&ark.body_with(json!(0), "ok")), None);
        assert!(ark.error_in(&ark.body_with(json!(7), "bad")).is_some());
    }

    fn bytedance() -> Envelope {
        Envelope {
            code: Some("/data/error_code".into()),
            success: Some(json!(0)),
            message: Some("/data/description".into()),
            success_flag: None,
            log_id: Some("/extra/logid".into()),
            auth_codes: vec![json!(10008)],
            not_found_codes: vec![],
            rate_limit_codes: vec![json!(28003018)],
            errors_with_http_200: true,
        }
    }

    #[test]
    fn codes_compare_as_text() {
        let e = bytedance();
        assert_eq!(e.error_in(&json!({"data": {"error_code": "0"}})), None);
        assert_eq!(
            e.error_in(&json!({"data": {"error_code": "10008", "description": "expired"}})),
            Some(("10008".into(), "expired".into()))
        );
        assert_eq!(
            e.kind_of("10008", http::StatusCode::OK),
            ApiErrorKind::InvalidCredentials
        );
        assert_eq!(
            e.kind_of("28003018", http::StatusCode::OK),
            ApiErrorKind::RateLimited
        );
        assert_eq!(
            e.kind_of("1", http::StatusCode::BAD_GATEWAY),
            ApiErrorKind::ServerError
        );
    }

    #[test]
    fn absent_code_is_success_and_bodies_nest() {
        let zhihu = Envelope {
            code: Some("/error/code".into()),
            message: Some("/error/message".into()),
            ..Envelope::none()
        };
        assert_eq!(zhihu.error_in(&json!({"id": 1})), None);
        assert_eq!(
            zhihu.error_in(&zhihu.body_with(json!(100), "bad token")),
            Some(("100".into(), "bad token".into()))
        );
        assert_eq!(
            bytedance().success_body(),
            json!({"data": {"error_code": 0, "description": "success"}})
        );
    }
}
