//! What the Toutiao OAuth endpoints answer: the `{"data": {…, "error_code", "description"},
//! "message"}` envelope, its code table, and the token fields.

use std::time::Duration;

use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::lenient;
use conn_core::oauth::TokenAnswer;
use conn_core::secret::{AccessToken, RefreshToken};
use conn_core::transport::{EnvelopeDecoder, ResponseParts};
use conn_core::Error;
use serde::Deserialize;

use super::PLATFORM;

/// Longest lifetime believed from the wire (a year): an absurd `expires_in` is clamped.
const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// The operation names of the token requests (also in logs and errors).
pub(crate) const OP_EXCHANGE: &str = "oauth.access_token";
pub(crate) const OP_REFRESH: &str = "oauth.refresh_token";
pub(crate) const OP_RENEW: &str = "oauth.renew_refresh_token";

/// What a ByteDance OAuth `error_code` means to a client. ⚠ Toutiao publishes no table of its
/// own: these are the ByteDance open platform's codes (the Douyin table), which share the
/// scheme and the host family.
pub fn kind_of(code: i64, operation: &str) -> ApiErrorKind {
    match code {
        10008 | 2190002 | 2190008 | 28001003 | 28001008 => ApiErrorKind::TokenExpired,
        // The refresh token is dead: only a new authorization helps.
        10010 => ApiErrorKind::ReauthRequired,
        // "Renew limit reached" on the renewal only; elsewhere it has been seen as "too many
        // calls", so it must not make a caller throw its tokens away.
        10020 if operation == OP_RENEW => ApiErrorKind::ReauthRequired,
        10020 | 28003018 | 28001052 => ApiErrorKind::RateLimited,
        10003 | 10013 => ApiErrorKind::InvalidCredentials,
        10004 | 2190003 | 2190004 | 28001012 | 28001018 => ApiErrorKind::PermissionDenied,
        // The code expired or was used: the user must go through the authorization page again.
        10007 => ApiErrorKind::InvalidRequest,
        2100004 | 28001005 | 28001006 => ApiErrorKind::Busy,
        _ => ApiErrorKind::Other,
    }
}

#[derive(Deserialize)]
struct ErrorProbe {
    #[serde(default)]
    data: Option<ErrorData>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    message: Option<String>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    error_code: lenient::LooseI64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    log_id: Option<String>,
}

/// The envelope of the token endpoints: a non-zero `data.error_code` is an error whatever the
/// HTTP status (errors come with HTTP 200).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TokenEnvelope;

impl EnvelopeDecoder for TokenEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        // Only the envelope's own fields are read: nothing else of a token answer (it holds
        // tokens) can reach an error.
        let probe: ErrorProbe = serde_json::from_slice(r.body).ok()?;
        let data = probe.data?;
        let code = data.error_code.0.filter(|c| *c != 0)?;
        let message = data
            .description
            .filter(|d| !d.is_empty())
            .or(probe.message)
            .unwrap_or_default();
        Some(
            ApiError::new(
                PLATFORM,
                code.to_string(),
                message,
                kind_of(code, r.operation),
            )
            .with_status(r.status)
            .with_log_id(data.log_id)
            .into(),
        )
    }
}

/// `data` of a token answer. Numbers may arrive as strings.
#[derive(Deserialize)]
pub(crate) struct TokenData {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    expires_in: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    refresh_expires_in: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    open_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    scope: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TokenBody {
    pub(crate) data: TokenData,
}

fn lifetime(field: &'static str, v: Option<String>) -> conn_core::Result<Option<Duration>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => lenient::parse_seconds(s, MAX_LIFETIME)
            .map(Some)
            // The value is not shown: a hostile answer could put a token there.
            .map_err(|_| Error::validation(field, "is not a lifetime in seconds")),
    }
}

impl TokenData {
    /// The answer as conn-core's scheme-neutral token answer. For a renewal, `expires_in` is
    /// the new refresh token's lifetime (the access token is untouched).
    pub(crate) fn into_answer(self, renewal: bool) -> conn_core::Result<TokenAnswer> {
        let expires_in = lifetime("expires_in", self.expires_in)?;
        let refresh_expires_in = lifetime("refresh_expires_in", self.refresh_expires_in)?;
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(TokenAnswer {
            access_token: nonempty(self.access_token).map(AccessToken::new),
            expires_in: if renewal { None } else { expires_in },
            refresh_token: nonempty(self.refresh_token).map(RefreshToken::new),
            refresh_expires_in: if renewal {
                expires_in
            } else {
                refresh_expires_in
            },
            account: nonempty(self.open_id),
            scopes: self
                .scope
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    fn decode(body: &str, operation: &str) -> Option<Error> {
        TokenEnvelope.decode_error(&ResponseParts {
            platform: PLATFORM,
            operation,
            status: StatusCode::OK,
            headers: &HeaderMap::new(),
            body: body.as_bytes(),
        })
    }

    #[test]
    fn codes_become_kinds_and_successes_pass() {
        assert!(decode(
            r#"{"data":{"error_code":0,"access_token":"act.x"}}"#,
            OP_EXCHANGE
        )
        .is_none());
        assert!(decode(r#"{"data":{"error_code":"0"}}"#, OP_EXCHANGE).is_none());
        assert!(decode("not json", OP_EXCHANGE).is_none());
        let e = decode(
            r#"{"data":{"error_code":"10010","description":"refresh_token 过期","log_id":"L1"},"message":"error"}"#,
            OP_REFRESH,
        )
        .unwrap();
        assert!(e.is_reauth_required(), "{e}");
        assert_eq!(e.log_id(), Some("L1"));
        assert!(e.to_string().contains("10010"));
        let renew = decode(r#"{"data":{"error_code":10020}}"#, OP_RENEW).unwrap();
        assert!(renew.is_reauth_required());
        let elsewhere = decode(r#"{"data":{"error_code":10020}}"#, OP_REFRESH).unwrap();
        assert!(!elsewhere.is_reauth_required() && elsewhere.is_retryable());
        assert!(decode(r#"{"data":{"error_code":10008}}"#, OP_REFRESH)
            .unwrap()
            .is_token_expired());
    }

    #[test]
    fn lifetimes_accept_strings_and_clamp() {
        let d: TokenBody = serde_json::from_str(
            r#"{"data":{"access_token":"a","expires_in":"1296000","refresh_expires_in":99999999999999,"scope":"user_info, video.create"}}"#,
        )
        .unwrap();
        let a = d.data.into_answer(false).unwrap();
        assert_eq!(a.expires_in, Some(Duration::from_secs(1_296_000)));
        assert_eq!(a.refresh_expires_in, Some(MAX_LIFETIME));
        assert_eq!(a.scopes, vec!["user_info", "video.create"]);
        let bad: TokenBody =
            serde_json::from_str(r#"{"data":{"access_token":"a","expires_in":"soon"}}"#).unwrap();
        let e = bad.data.into_answer(false).unwrap_err();
        assert!(e.to_string().contains("expires_in"), "{e}");
    }
}
