//! The operation loop: one span per operation, retries by the decision table, and each
//! attempt's send, capped read, envelope check and status check.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, CONTENT_TYPE};
use tokio::time::Instant;
use tracing::{field, Instrument, Span};

use super::request::Body;
use super::response::{maybe_received, retry_after_of, CreateFacts};
use super::{Request, Response, ResponseParts, Transport};
use crate::error::{
    excerpt, Error, HttpError, OutcomeUnknown, Result, TransportError, TransportErrorKind,
};
use crate::retry::{classify, retry_tracked, GiveUpReason, RetryObserver};
use crate::stats::PlatformStats;

impl Transport {
    /// Sends a request with retries and returns the successful response.
    ///
    /// A create ([`Request::is_create`]) any of whose attempts may have reached the server comes
    /// back, if it finally fails, as [`Error::OutcomeUnknown`] carrying the request's outcome
    /// context, its idempotency key, the first "maybe received" cause and the last error.
    pub async fn execute(&self, req: &Request) -> Result<Response> {
        let inner = &self.inner;
        // DEBUG, as smithy-rs does: at the usual INFO level the span is disabled and costs
        // nothing; at DEBUG every field below is recorded.
        let span = tracing::debug_span!(
            "connector.request",
            platform = %inner.platform,
            operation = %req.operation,
            method = %req.method,
            path = %req.path,
            attempt = field::Empty,
            status = field::Empty,
            platform_code = field::Empty,
            latency_ms = field::Empty,
            outcome = field::Empty,
        );
        if span.is_disabled() {
            // No subscriber wants it: skip entering and leaving a dead span on every poll.
            self.execute_in(req, &span).await
        } else {
            self.execute_in(req, &span).instrument(span.clone()).await
        }
    }

    async fn execute_in(&self, req: &Request, span: &Span) -> Result<Response> {
        let inner = &self.inner;
        let start = Instant::now();
        inner.stats.record_call();
        let url = self.url_for(&req.path, &req.query)?;
        let mut policy = req.retry.clone().unwrap_or_else(|| inner.cfg.retry.clone());
        if let Some(d) = inner.cfg.operation_deadline {
            policy.total_time_limit = Some(policy.total_time_limit.map_or(d, |t| t.min(d)));
        }
        let deadline = inner.cfg.operation_deadline.map(|d| start + d);
        let idempotent = req.idempotency.is_idempotent();
        let mut observer = Observer {
            stats: &inner.stats,
            backoff: Duration::ZERO,
        };
        let result = retry_tracked(
            &policy,
            |e: &Error| classify(e, idempotent),
            maybe_received,
            &mut observer,
            // Boxed: the attempt future is large, and boxing it once is cheaper than moving
            // it through the retry loop's state machine.
            |attempt| Box::pin(self.attempt(req, &url, attempt, deadline, span)),
        )
        .await;
        span.record("latency_ms", start.elapsed().as_millis() as u64);
        match result {
            Ok(mut resp) => {
                inner.stats.record_success();
                span.record("outcome", "ok");
                resp.backoff = observer.backoff;
                Ok(resp)
            }
            Err(g) => {
                inner.stats.record_failure();
                if g.reason != GiveUpReason::NotRetryable {
                    inner.stats.record_give_up();
                }
                span.record("outcome", "error");
                let last_maybe_received = maybe_received(&g.error);
                let err = if g.reason == GiveUpReason::TimeLimit {
                    Error::DeadlineExceeded {
                        platform: inner.platform.clone(),
                        operation: req.operation.clone(),
                        limit: policy.total_time_limit.unwrap_or_default(),
                        elapsed: g.elapsed,
                        last: Some(Box::new(g.error)),
                    }
                } else {
                    g.error
                };
                // Once any attempt of a create may have been received, its failure is an
                // unknown outcome, whatever the later attempts said: a plain create must not be
                // resent, a keyed one only with the same key.
                if req.is_create() && (g.first_maybe_received.is_some() || last_maybe_received) {
                    let (first, last) = match g.first_maybe_received {
                        Some(first) => (first, Some(err)),
                        None => (err, None),
                    };
                    tracing::warn!(
                        attempts = g.attempts,
                        "a create failed after it may have been received; outcome unknown"
                    );
                    return Err(OutcomeUnknown::new(
                        inner.platform.clone(),
                        req.operation.clone(),
                        first,
                    )
                    .with_context(req.context.clone())
                    .with_idempotency_key(req.idempotency.key().map(str::to_owned))
                    .with_last(last)
                    .into());
                }
                tracing::debug!(attempts = g.attempts, reason = ?g.reason, error = %err, "operation failed");
                Err(err)
            }
        }
    }

    async fn attempt(
        &self,
        req: &Request,
        url: &url::Url,
        attempt: u32,
        deadline: Option<Instant>,
        span: &Span,
    ) -> Result<Response> {
        let inner = &self.inner;
        span.record("attempt", attempt);
        let (hooked, hooked_url);
        let (req, url) = match &inner.hook {
            None => (req, url),
            Some(hook) => {
                let mut r = req.clone();
                hook.before_attempt(&mut r, attempt).await?;
                hooked_url = self.url_for(&r.path, &r.query)?;
                hooked = r;
                (&hooked, &hooked_url)
            }
        };
        let mut timeout = req.attempt_timeout.unwrap_or(inner.cfg.attempt_timeout);
        if let Some(dl) = deadline {
            let left = dl.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Nothing was sent this attempt: the loop's time limit reports the deadline.
                return Err(self.timeout_error(false));
            }
            timeout = timeout.min(left);
        }
        let t0 = Instant::now();
        let builder = self.build(req, url)?;
        let max = inner.cfg.max_body_bytes;
        let platform = inner.platform.clone();
        let fut = async move {
            let mut resp = builder
                .send()
                .await
                .map_err(|e| map_reqwest(&platform, e, false))?;
            let status = resp.status();
            // Taken, not cloned: the body is read through the response without its headers.
            let headers = std::mem::take(resp.headers_mut());
            let body = read_capped(&platform, resp, max).await?;
            Ok::<_, Error>((status, headers, body))
        };
        let outcome = tokio::time::timeout(timeout, fut).await;
        let latency = t0.elapsed();
        let (status, headers, body) = match outcome {
            Err(_) => {
                tracing::debug!(attempt, ?latency, "attempt timed out");
                return Err(self.timeout_error(true));
            }
            Ok(Err(e)) => {
                tracing::debug!(attempt, ?latency, error = %e, "attempt failed");
                return Err(e);
            }
            Ok(Ok(parts)) => parts,
        };
        span.record("status", status.as_u16());
        tracing::debug!(
            attempt,
            status = status.as_u16(),
            latency_ms = latency.as_millis() as u64,
            bytes = body.len(),
            "response"
        );
        let parts = ResponseParts {
            platform: &inner.platform,
            operation: &req.operation,
            status,
            headers: &headers,
            body: &body,
        };
        if let Some(err) = inner.envelope.decode_error(&parts) {
            if let Some(code) = err.platform_code() {
                span.record("platform_code", code);
            }
            return Err(err);
        }
        if !status.is_success() {
            let log_id = inner.cfg.request_id_headers.iter().find_map(|h| {
                headers
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
            return Err(HttpError {
                platform: inner.platform.clone(),
                status,
                body_excerpt: if req.secret_response {
                    String::new()
                } else {
                    excerpt(&body)
                },
                retry_after: retry_after_of(&headers),
                log_id,
            }
            .into());
        }
        Ok(Response {
            status,
            headers,
            body,
            attempts: attempt,
            backoff: Duration::ZERO,
            platform: inner.platform.clone(),
            operation: req.operation.clone(),
            create: req.is_create().then(|| {
                Box::new(CreateFacts {
                    context: req.context.clone(),
                    idempotency_key: req.idempotency.key().map(str::to_owned),
                })
            }),
            secret_body: req.secret_response,
        })
    }

    /// Sends a request and decodes the JSON body into `T`.
    pub async fn execute_json<T: serde::de::DeserializeOwned>(&self, req: &Request) -> Result<T> {
        self.execute(req).await?.json()
    }

    fn timeout_error(&self, sent: bool) -> Error {
        TransportError {
            platform: self.inner.platform.clone(),
            kind: TransportErrorKind::Timeout,
            request_sent: sent,
            source: None,
        }
        .into()
    }

    fn build(&self, req: &Request, url: &url::Url) -> Result<reqwest::RequestBuilder> {
        let mut b = self
            .inner
            .client
            .request(req.method.clone(), url.clone())
            .headers(req.headers.clone());
        b = match &req.body {
            Body::Empty => b,
            Body::Json(bytes) => b
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(bytes.clone()),
            Body::Form(s) => b
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(s.clone()),
            Body::Bytes { content_type, data } => b
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_str(content_type).map_err(|_| {
                        Error::validation("content_type", "not a valid header value")
                    })?,
                )
                .body(data.clone()),
            Body::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                for p in parts {
                    let len = p.data.len() as u64;
                    let mut part = reqwest::multipart::Part::stream_with_length(
                        reqwest::Body::from(p.data.clone()),
                        len,
                    );
                    if let Some(f) = &p.file_name {
                        part = part.file_name(f.clone());
                    }
                    if let Some(ct) = &p.content_type {
                        part = part.mime_str(ct).map_err(|_| {
                            Error::validation(
                                format!("{}.content_type", p.name),
                                "not a valid MIME type",
                            )
                        })?;
                    }
                    form = form.part(p.name.clone(), part);
                }
                b.multipart(form)
            }
            Body::StreamingMultipart(p) => {
                let mut part =
                    reqwest::multipart::Part::stream_with_length(p.body.to_reqwest(), p.body.len());
                if let Some(f) = &p.file_name {
                    part = part.file_name(f.clone());
                }
                if let Some(ct) = &p.content_type {
                    part = part.mime_str(ct).map_err(|_| {
                        Error::validation(
                            format!("{}.content_type", p.name),
                            "not a valid MIME type",
                        )
                    })?;
                }
                b.multipart(reqwest::multipart::Form::new().part(p.name.clone(), part))
            }
        };
        Ok(b)
    }
}

struct Observer<'a> {
    stats: &'a PlatformStats,
    backoff: Duration,
}

impl RetryObserver for Observer<'_> {
    fn on_attempt(&mut self, _attempt: u32) {
        self.stats.record_attempt();
    }
    fn on_retry(&mut self, attempt: u32, delay: Duration) {
        self.stats.record_retry();
        self.backoff = self.backoff.saturating_add(delay);
        tracing::info!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
    }
}

/// Reads the whole body, refusing one over `max` bytes. A body that arrives as one chunk (the
/// usual small answer) is returned as that chunk, not copied; a body of several chunks is
/// copied once into a buffer sized from `Content-Length` when declared.
async fn read_capped(platform: &str, mut resp: reqwest::Response, max: usize) -> Result<Bytes> {
    let too_large = || Error::BodyTooLarge {
        platform: platform.to_owned().into(),
        limit: max as u64,
    };
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut total = 0usize;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| map_reqwest(platform, e, true))?
    {
        total = total.saturating_add(chunk.len());
        if total > max {
            return Err(too_large());
        }
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            None => buf.extend_from_slice(&chunk),
            Some(f) => {
                let cap = declared.map_or(0, |n| n as usize).max(total).min(max);
                buf.reserve(cap);
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

/// Classifies a reqwest error: did the request leave, and what kind of failure is it?
fn map_reqwest(platform: &str, e: reqwest::Error, reading_body: bool) -> Error {
    let (kind, sent) = if e.is_connect() {
        (TransportErrorKind::Connect, false)
    } else if e.is_builder() {
        (TransportErrorKind::Other, false)
    } else if e.is_timeout() {
        (TransportErrorKind::Timeout, true)
    } else if reading_body || e.is_body() || e.is_decode() || e.is_request() {
        (TransportErrorKind::Interrupted, true)
    } else {
        (TransportErrorKind::Other, true)
    };
    TransportError {
        platform: platform.to_owned().into(),
        kind,
        request_sent: sent,
        // reqwest's error may print the URL, which can hold query ids but never our secrets:
        // tokens travel in headers or bodies, never in the query.
        source: Some(Box::new(e.without_url())),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{NoEnvelope, TransportConfig};

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn operation_futures_are_send() {
        // Connectors are used from multi-threaded runtimes and spawned tasks.
        let t = Transport::new(
            "t",
            TransportConfig::new("http://127.0.0.1:1").unwrap(),
            NoEnvelope,
        )
        .unwrap();
        let req = Request::get("op", "/");
        assert_send(&t.execute(&req));
        assert_send(&t.execute_json::<serde_json::Value>(&req));
    }
}
