//! Response envelopes: where a platform puts its code, message and success flag in a body, and
//! what they mean. The one engine behind the ERP and content connectors' decoders (Douyin and
//! iFinD keep hand-written decoders for their fixed shapes, on the same status table).
//!
//! An answer is an error when
//! - its body has a code (the first of [`Envelope::code`] present) that is not one of the
//!   [`Envelope::success`] codes (with no success codes, any code present is an error); or
//! - a success flag ([`Envelope::success_flag`]) is `false`, whatever the code says; or
//! - its status is 401 or 403, whatever the body; or
//! - its status is not 2xx and the body carries a code or a message.
//!
//! Other non-2xx answers are left to the transport's [`HttpError`](crate::error::HttpError).
//!
//! The error's code is the body's code; without one, `success_false` (a failed flag) or
//! `http_{status}`. Its kind comes from the code lists first ([`Envelope::auth_codes`] …), then
//! from the status ([`ApiErrorKind::of_status`]), else `Other`. Its message is the first of
//! [`Envelope::message`] present (`HTTP {status}` without one), cut to
//! [`EXCERPT_LIMIT`](crate::error::EXCERPT_LIMIT) bytes and passed through
//! [`redact`](crate::redact::redact): a platform that echoes a token in its message does not
//! put it in a log.
//!
//! ```
//! use conn_core::envelope::{Code, Envelope};
//! use conn_core::error::ApiErrorKind;
//! use http::StatusCode;
//! use serde_json::json;
//!
//! let envelope: Envelope = serde_json::from_value(json!({
//!     "code": ["code", "/data/error_code"],
//!     "success": [0, "ok"],
//!     "message": "msg",
//!     "auth_codes": [40001],
//! }))
//! .unwrap();
//! let found = envelope
//!     .error_in(StatusCode::OK, Some(&json!({"code": 40001, "msg": "bad sign"})))
//!     .unwrap();
//! assert_eq!(found.code, "40001");
//! assert_eq!(found.kind, ApiErrorKind::InvalidCredentials);
//! assert_eq!(found.message.as_deref(), Some("bad sign"));
//! assert!(envelope.error_in(StatusCode::OK, Some(&json!({"code": "OK"}))).is_none());
//! ```

mod code;
mod project;
#[cfg(test)]
mod tests;

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ApiErrorKind};
use crate::pointer::Pointer;
use crate::transport::{EnvelopeDecoder, ResponseParts};
use crate::Error;

pub use code::Code;

/// How deep [`Envelope::unwrap_rows`] looks into nested arrays. Kingdee nests two levels; the
/// bound keeps a hostile answer from making the walk deep.
const ROW_DEPTH: usize = 4;

/// Where a platform puts its code, message, success flag and log id, and which codes mean
/// what. Every location is a list of [`Pointer`]s, first present wins; a bare name is a
/// top-level field. In JSON each list may be written as one value.
///
/// [`Envelope::default()`] reads nothing: only the status counts (401 and 403 are errors).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Envelope {
    /// Where the code sits (`code`, `/data/error_code`, `/error/code`).
    #[serde(with = "code::pointers")]
    pub code: Vec<Pointer>,
    /// The codes meaning success; empty: any code present is an error.
    #[serde(with = "code::codes")]
    pub success: Vec<Code>,
    /// Where the message sits.
    #[serde(with = "code::pointers")]
    pub message: Vec<Pointer>,
    /// Where a boolean success flag sits (小红书 ark `/success`, Kingdee
    /// `/Result/ResponseStatus/IsSuccess`): `false` is an error whatever the code says, so a
    /// failure can never pass as a success.
    #[serde(with = "code::pointers")]
    pub success_flag: Vec<Pointer>,
    /// Where a log or request id sits, kept on errors.
    #[serde(with = "code::pointers")]
    pub log_id: Vec<Pointer>,
    /// A response header holding the log id when the body has none (`x-request-id`).
    pub log_id_header: Option<String>,
    /// Codes meaning the credentials (token, API key or signature) were rejected.
    #[serde(with = "code::codes")]
    pub auth_codes: Vec<Code>,
    /// Codes meaning a permission is missing.
    #[serde(with = "code::codes")]
    pub permission_codes: Vec<Code>,
    /// Codes meaning the object does not exist.
    #[serde(with = "code::codes")]
    pub not_found_codes: Vec<Code>,
    /// Codes meaning "too many requests" (retried for any operation).
    #[serde(with = "code::codes")]
    pub rate_limit_codes: Vec<Code>,
    /// Codes meaning "busy, not processed" (retried for any operation).
    #[serde(with = "code::codes")]
    pub busy_codes: Vec<Code>,
    /// Codes meaning the request was invalid.
    #[serde(with = "code::codes")]
    pub invalid_codes: Vec<Code>,
    /// Also look for the envelope in the first cell of row arrays (`[[{…}]]`), where Kingdee's
    /// queries put their errors.
    pub unwrap_rows: bool,
    /// True when the platform sends error envelopes with HTTP 200 (ByteDance style); false when
    /// it uses a matching status (401, 404, …). Decoding does not depend on it: fakes read it
    /// to answer as the platform does.
    pub errors_with_http_200: bool,
}

/// An error an [`Envelope`] found in an answer, before it becomes an [`ApiError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Found {
    /// The code: the body's, else `success_false` or `http_{status}`.
    pub code: String,
    /// The body's message, if it has one (uncut: the [`ApiError`] cuts and redacts it).
    pub message: Option<String>,
    /// What the code (or else the status) means.
    pub kind: ApiErrorKind,
    /// The body's log id.
    pub log_id: Option<String>,
}

/// The text of a code or message value: strings (non-empty) and numbers and booleans as
/// written; `null`, objects and arrays are no code.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn first_text(obj: &Value, at: &[Pointer]) -> Option<String> {
    at.iter().find_map(|p| p.get(obj).and_then(scalar_text))
}

impl Envelope {
    /// True when the envelope reads anything from a body.
    fn reads_body(&self) -> bool {
        !(self.code.is_empty()
            && self.message.is_empty()
            && self.success_flag.is_empty()
            && self.log_id.is_empty())
    }

    /// The object the envelope is read from: the body, or with `unwrap_rows` the first object
    /// found in the first cells of nested arrays.
    fn object<'a>(&self, body: &'a Value) -> Option<&'a Value> {
        let mut v = body;
        for _ in 0..ROW_DEPTH {
            match v {
                Value::Object(_) => return Some(v),
                Value::Array(a) if self.unwrap_rows => v = a.first()?,
                _ => return None,
            }
        }
        None
    }

    /// The kind a listed code has, if it is listed.
    pub fn kind_of_code(&self, code: &str) -> Option<ApiErrorKind> {
        [
            (&self.auth_codes, ApiErrorKind::InvalidCredentials),
            (&self.permission_codes, ApiErrorKind::PermissionDenied),
            (&self.not_found_codes, ApiErrorKind::NotFound),
            (&self.rate_limit_codes, ApiErrorKind::RateLimited),
            (&self.busy_codes, ApiErrorKind::Busy),
            (&self.invalid_codes, ApiErrorKind::InvalidRequest),
        ]
        .into_iter()
        .find(|(list, _)| Code::listed(list, code))
        .map(|(_, kind)| kind)
    }

    /// True for a success code.
    pub fn is_success(&self, code: &str) -> bool {
        Code::listed(&self.success, code)
    }

    /// The error an answer with this status and (parsed) body carries, if any; see the
    /// [module docs](self) for the rules.
    pub fn error_in(&self, status: StatusCode, body: Option<&Value>) -> Option<Found> {
        let obj = body.and_then(|b| self.object(b));
        let code = obj.and_then(|o| first_text(o, &self.code));
        // The message is read only when it matters: on a failed status (where it alone makes
        // an error) or once the answer is known to be an error. Successes allocate nothing.
        let message_of = || obj.and_then(|o| first_text(o, &self.message));
        let flag = obj.and_then(|o| {
            self.success_flag
                .iter()
                .find_map(|p| p.get(o).and_then(Value::as_bool))
        });
        let ok_status = status.is_success();
        let code_failed = code.as_deref().is_some_and(|c| !self.is_success(c));
        let flag_failed = flag == Some(false);
        let mut message = None;
        let is_error = code_failed
            || flag_failed
            || status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
            || (!ok_status
                && (code.is_some() || {
                    message = message_of();
                    message.is_some()
                }));
        if !is_error {
            return None;
        }
        let message = message.or_else(message_of);
        let listed = code
            .as_deref()
            .filter(|_| code_failed)
            .and_then(|c| self.kind_of_code(c));
        let kind = listed.unwrap_or(if ok_status {
            ApiErrorKind::Other
        } else {
            ApiErrorKind::of_status(status)
        });
        let code = match code {
            Some(c) if code_failed || flag_failed => c,
            None if flag_failed => "success_false".to_owned(),
            _ => format!("http_{}", status.as_u16()),
        };
        let log_id = obj.and_then(|o| first_text(o, &self.log_id));
        Some(Found {
            code,
            message,
            kind,
            log_id,
        })
    }

    /// The typed error an answer carries, if any: [`Envelope::error_in`] on the parsed body,
    /// with the message cut and redacted and the status, log id and `Retry-After` kept. A
    /// transport decodes through [`Envelope::decoder`], which prepares the reading once.
    pub fn decode(&self, r: &ResponseParts<'_>) -> Option<Error> {
        self.decoder_ref().decode(self, r)
    }

    /// The transport's [`EnvelopeDecoder`] for this envelope, with what it reads from a body
    /// worked out once rather than per answer.
    ///
    /// ```
    /// use conn_core::envelope::Envelope;
    /// use conn_core::transport::{Transport, TransportConfig};
    /// let envelope: Envelope =
    ///     serde_json::from_value(serde_json::json!({"code": "code", "success": 0})).unwrap();
    /// let config = TransportConfig::new("https://api.example.com").unwrap();
    /// let transport = Transport::new("example", config, envelope.decoder()).unwrap();
    /// # let _ = transport;
    /// ```
    pub fn decoder(self) -> Decoder {
        let reading = self.decoder_ref();
        Decoder {
            envelope: self,
            reading,
        }
    }

    /// What this envelope reads from a body.
    fn decoder_ref(&self) -> Reading {
        Reading {
            needs: self.reads_body().then(|| {
                project::Needs::of(
                    self.code
                        .iter()
                        .chain(&self.message)
                        .chain(&self.success_flag)
                        .chain(&self.log_id),
                )
            }),
            rows: if self.unwrap_rows { ROW_DEPTH } else { 0 },
        }
    }

    /// A body carrying `code` and `message` where this envelope reads them, with the success
    /// flag set to whether `code` is a success code: what a server speaking this envelope
    /// answers (fakes use it). Without a code location the body is `{}`.
    ///
    /// ```
    /// use conn_core::envelope::{Code, Envelope};
    /// use serde_json::json;
    /// let e: Envelope = serde_json::from_value(json!({
    ///     "code": "/data/error_code", "message": "/data/description", "success": 0
    /// })).unwrap();
    /// assert_eq!(
    ///     e.body_with(&Code::from(10008), "expired"),
    ///     json!({"data": {"error_code": 10008, "description": "expired"}})
    /// );
    /// ```
    pub fn body_with(&self, code: &Code, message: &str) -> Value {
        let mut body = Value::Object(serde_json::Map::new());
        // A write fails only through a scalar on the way; the body starts empty and each
        // location is written once, so the first location of each list is always writable
        // unless two locations cross (then that one field is left out).
        if let Some(p) = self.code.first() {
            let _ = p.set(&mut body, code.to_json());
        }
        if let Some(p) = self.message.first() {
            let _ = p.set(&mut body, Value::String(message.to_owned()));
        }
        if let Some(p) = self.success_flag.first() {
            let ok = self.success.iter().any(|s| code.matches(&s.text()));
            let _ = p.set(&mut body, Value::Bool(ok));
        }
        body
    }

    /// A success body: the first success code (when the envelope has one) and the message
    /// `success`.
    pub fn success_body(&self) -> Value {
        match self.success.first() {
            Some(s) => self.body_with(s, "success"),
            None => Value::Object(serde_json::Map::new()),
        }
    }
}

/// What an [`Envelope`] reads from a body: the members on its pointers, and how deep rows go.
#[derive(Debug)]
struct Reading {
    /// `None`: the envelope reads no body (only the status counts).
    needs: Option<project::Needs>,
    rows: usize,
}

impl Reading {
    fn decode(&self, envelope: &Envelope, r: &ResponseParts<'_>) -> Option<Error> {
        // Most answers are 2xx successes; an envelope that reads no body decides on the status
        // alone, without parsing, and one that does keeps only the members it reads.
        let body = self
            .needs
            .as_ref()
            .and_then(|needs| project::project(r.body, needs, self.rows));
        let found = envelope.error_in(r.status, body.as_ref())?;
        // `ApiError::new` cuts and redacts the message, as it does every platform's text.
        let message = found
            .message
            .unwrap_or_else(|| format!("HTTP {}", r.status.as_u16()));
        let log_id = found.log_id.or_else(|| {
            let name = envelope.log_id_header.as_deref()?;
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        Some(
            ApiError::new(r.platform.to_owned(), found.code, message, found.kind)
                .with_status(r.status)
                .with_log_id(log_id)
                .with_retry_after(r.retry_after())
                .into(),
        )
    }
}

/// An [`Envelope`] ready to decode answers: the transport's [`EnvelopeDecoder`]
/// ([`Envelope::decoder`]).
#[derive(Debug)]
pub struct Decoder {
    envelope: Envelope,
    reading: Reading,
}

impl Decoder {
    /// The envelope it decodes.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

impl EnvelopeDecoder for Decoder {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        self.reading.decode(&self.envelope, r)
    }
}
