//! What comes back: the [`ResponseParts`] an [`EnvelopeDecoder`] reads, and the successful
//! [`Response`] with its decoding.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};

use crate::error::{decode_json, decode_json_secret, Error, OutcomeUnknown, Result, RetryClass};
use crate::retry::parse_retry_after;

/// Response facts handed to an [`EnvelopeDecoder`].
#[derive(Debug, Clone, Copy)]
pub struct ResponseParts<'a> {
    /// Platform name.
    pub platform: &'a str,
    /// Operation name.
    pub operation: &'a str,
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: &'a HeaderMap,
    /// The whole (capped) body.
    pub body: &'a [u8],
}

impl ResponseParts<'_> {
    /// `Retry-After`, parsed (seconds or HTTP-date).
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after_of(self.headers)
    }
}

pub(super) fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Turns a platform's error envelope into a typed error.
///
/// Called for every response, whatever its status, before the status is checked: platforms such
/// as Douyin answer errors with HTTP 200 and a code in the body. Return `None` when the body
/// carries no platform error; the transport then fails non-2xx statuses with an
/// [`HttpError`](crate::error::HttpError).
pub trait EnvelopeDecoder: Send + Sync + fmt::Debug {
    /// The platform error in this response, if any.
    fn decode_error(&self, response: &ResponseParts<'_>) -> Option<Error>;
}

/// No envelope: only the HTTP status counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnvelope;

impl EnvelopeDecoder for NoEnvelope {
    fn decode_error(&self, _: &ResponseParts<'_>) -> Option<Error> {
        None
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status (2xx).
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// Attempts it took.
    pub attempts: u32,
    /// Time spent waiting between attempts (backoff or the server's `Retry-After`).
    pub backoff: Duration,
    pub(super) platform: Cow<'static, str>,
    pub(super) operation: Cow<'static, str>,
    /// Set for the answer to a create: what an unknown outcome reports.
    pub(super) create: Option<Box<CreateFacts>>,
    pub(super) secret_body: bool,
}

/// What a create's answer must report if it cannot be read.
#[derive(Debug, Clone)]
pub(super) struct CreateFacts {
    pub(super) context: Vec<(String, String)>,
    pub(super) idempotency_key: Option<String>,
}

impl Response {
    /// Decodes the body, keeping the failing JSON path and a redacted body excerpt on error
    /// (no excerpt at all for a [`Request::secret_response`](super::Request::secret_response)).
    ///
    /// The answer to a create that cannot be decoded is [`Error::OutcomeUnknown`], the decode
    /// error its source: the platform said "success" and may have done the work, so a resend
    /// could do it twice.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let (platform, operation) = (self.platform.clone(), self.operation.clone());
        self.outcome_of(if self.secret_body {
            decode_json_secret(platform, operation, &self.body)
        } else {
            decode_json(platform, operation, &self.body)
        })
    }

    /// Turns a failure to read this answer into an unknown outcome when it answers a create.
    /// Platform crates that check a success body themselves (a missing id, a shape serde cannot
    /// express) pass their error through here.
    pub fn outcome_of<T>(&self, result: Result<T>) -> Result<T> {
        match (result, &self.create) {
            (Err(e), Some(facts)) if !e.is_outcome_unknown() => {
                tracing::warn!(operation = %self.operation, "a create's success answer could not be read; outcome unknown");
                Err(
                    OutcomeUnknown::new(self.platform.clone(), self.operation.clone(), e)
                        .with_context(facts.context.clone())
                        .with_idempotency_key(facts.idempotency_key.clone())
                        .into(),
                )
            }
            (r, _) => r,
        }
    }

    /// True when this answers a create.
    pub fn is_create(&self) -> bool {
        self.create.is_some()
    }

    /// The operation this answers.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The platform.
    pub fn platform(&self) -> &str {
        &self.platform
    }
}

/// True when the failed attempt may have reached the server and acted: the decision table's
/// "maybe received" row, and a body over the cap (the server answered; what it said is unread).
pub(super) fn maybe_received(e: &Error) -> bool {
    e.retry_class() == RetryClass::IdempotentOnly || matches!(e, Error::BodyTooLarge { .. })
}
