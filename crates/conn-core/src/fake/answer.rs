//! The answer a fake speaking an [`Envelope`] gives to a fault that is not processed.

use serde_json::Value;

use super::Fault;
use crate::envelope::{Code, Envelope};

/// The status and body a server speaking `envelope` answers to `fault`, for the faults that
/// are answered instead of the work (`Status`, `Code`, `Busy`, `RateLimited`, `TokenExpired`);
/// `None` for the others, which the fake applies to its normal answer.
///
/// `Busy`, `RateLimited` and `TokenExpired` use the envelope's first busy, rate-limit or auth
/// code, with HTTP 200 when the platform sends its errors that way
/// ([`Envelope::errors_with_http_200`]); an envelope without such a code answers with the
/// status that says it (503, 429, 401).
///
/// ```
/// use conn_core::envelope::Envelope;
/// use conn_core::fake::{envelope_answer, Fault};
/// use serde_json::json;
/// let e: Envelope = serde_json::from_value(json!({
///     "code": "code", "message": "msg", "success": 0, "rate_limit_codes": [42900]
/// })).unwrap();
/// assert_eq!(
///     envelope_answer(&e, &Fault::RateLimited),
///     Some((429, json!({"code": 42900, "msg": "too many requests"})))
/// );
/// assert_eq!(envelope_answer(&e, &Fault::Busy).map(|a| a.0), Some(503));
/// assert_eq!(envelope_answer(&e, &Fault::Cut), None);
/// ```
pub fn envelope_answer(envelope: &Envelope, fault: &Fault) -> Option<(u16, Value)> {
    let platform_status = |fallback: u16| {
        if envelope.errors_with_http_200 {
            200
        } else {
            fallback
        }
    };
    let listed = |codes: &[Code], fallback: u16, message: &str| match codes.first() {
        Some(code) => (platform_status(fallback), envelope.body_with(code, message)),
        None => (
            fallback,
            envelope.body_with(&Code::from(u32::from(fallback)), message),
        ),
    };
    Some(match fault {
        Fault::Status(s) => (
            *s,
            envelope.body_with(&Code::from(u32::from(*s)), "injected fault"),
        ),
        Fault::Code(c, m) => {
            let message = if m.is_empty() { "injected error" } else { m };
            (
                platform_status(400),
                envelope.body_with(&Code::from(*c), message),
            )
        }
        Fault::Busy => listed(&envelope.busy_codes, 503, "busy, not processed"),
        Fault::RateLimited => listed(&envelope.rate_limit_codes, 429, "too many requests"),
        Fault::TokenExpired => listed(&envelope.auth_codes, 401, "access token expired"),
        _ => return None,
    })
}
