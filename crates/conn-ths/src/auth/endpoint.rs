//! The token endpoints of iFinD and the refresher on them; the public view is
//! [`crate::auth`] (functions and constants) and the crate root ([`crate::IfindRefresher`]).

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use chrono::{FixedOffset, TimeZone};
use conn_core::clock::SharedClock;
use conn_core::error::{ApiErrorKind, ReauthRequired};
use conn_core::retry::Idempotency;
use conn_core::secret::{AccessToken, RefreshToken};
use conn_core::token::{TokenRefresher, TokenSet};
use conn_core::transport::{Request, Transport};
use conn_core::Result;
use http::HeaderName;
use sha2::{Digest, Sha256};

use crate::params::parse_datetime;
use crate::tables::shape_error;
use crate::PLATFORM;

/// The header carrying the refresh token.
pub const REFRESH_TOKEN_HEADER: &str = "refresh_token";
/// The header carrying the access token (a plain header, not `Authorization: Bearer`).
pub const ACCESS_TOKEN_HEADER: &str = "access_token";
/// `TokenSet::extra` key holding a fingerprint of the refresh token a token was fetched with.
pub const FINGERPRINT_KEY: &str = "refresh_token_fingerprint";

/// The endpoint that returns the current access token.
pub const GET_ACCESS_TOKEN: &str = "get_access_token";
/// The endpoint that forces a new access token, invalidating older ones.
pub const UPDATE_ACCESS_TOKEN: &str = "update_access_token";

/// A short, non-reversible fingerprint of a refresh token (first 8 bytes of SHA-256, hex): lets a
/// stored access token be matched to the refresh token it came from without storing the latter.
pub fn fingerprint(rt: &RefreshToken) -> String {
    let digest = Sha256::digest(rt.expose_secret().as_bytes());
    hex::encode(&digest[..8])
}

/// Fetches access tokens for conn-core's token manager.
pub struct IfindRefresher {
    transport: Transport,
    refresh_token: RefreshToken,
    lifetime: Duration,
    fingerprint: String,
    account: String,
    /// The clock a fetched token's expiry is counted from.
    clock: SharedClock,
    /// Set when a freshly fetched token was still rejected: the next refresh that starts from
    /// exactly this token calls `update_access_token`.
    update_for: Mutex<Option<AccessToken>>,
}

impl fmt::Debug for IfindRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IfindRefresher")
            .field("refresh_token", &self.refresh_token)
            .field("lifetime", &self.lifetime)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl IfindRefresher {
    pub(crate) fn new(
        transport: Transport,
        refresh_token: RefreshToken,
        lifetime: Duration,
        account: String,
        clock: SharedClock,
    ) -> Self {
        let fingerprint = fingerprint(&refresh_token);
        Self {
            transport,
            refresh_token,
            lifetime,
            fingerprint,
            account,
            clock,
            update_for: Mutex::new(None),
        }
    }

    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Asks for `update_access_token` on the next refresh that replaces `rejected`.
    pub(crate) fn request_update(&self, rejected: &AccessToken) {
        let mut g = self.update_for.lock().unwrap_or_else(|p| p.into_inner());
        *g = Some(rejected.clone());
    }

    fn take_update(&self, current: Option<&TokenSet>) -> bool {
        let mut g = self.update_for.lock().unwrap_or_else(|p| p.into_inner());
        let hit = match (&*g, current) {
            (Some(rejected), Some(cur)) => *rejected == cur.access_token,
            _ => false,
        };
        if hit {
            *g = None;
        }
        hit
    }

    async fn fetch(&self, endpoint: &'static str) -> Result<TokenSet> {
        // Each update kills the token before it, so it is never replayed blindly.
        let idem = if endpoint == UPDATE_ACCESS_TOKEN {
            Idempotency::NonIdempotent
        } else {
            Idempotency::Idempotent
        };
        // secret_response: the transport keeps no excerpt of a token answer in any error.
        let req = Request::post(endpoint, format!("/{endpoint}"), idem)
            .secret_response()
            .secret_header(
                HeaderName::from_static(REFRESH_TOKEN_HEADER),
                self.refresh_token.as_secret(),
            )?;
        let resp = match self.transport.execute(&req).await {
            Ok(r) => r,
            Err(e) if e.api_kind() == Some(ApiErrorKind::ReauthRequired) => {
                return Err(ReauthRequired {
                    platform: PLATFORM.into(),
                    account: Some(self.account.clone()),
                    reason: format!(
                        "iFinD rejected the refresh token ({}); copy a new refresh_token from \
                         the iFinD client into THS_REFRESH_TOKEN",
                        e.platform_code().unwrap_or("?")
                    ),
                    source: Some(Box::new(e)),
                }
                .into())
            }
            Err(e) => return Err(without_excerpts(e)),
        };
        let mut ts = parse_token_response(endpoint, &resp.body, self.clock.now(), self.lifetime)?;
        ts.extra
            .insert(FINGERPRINT_KEY.to_owned(), self.fingerprint.clone());
        tracing::info!(
            endpoint,
            expires_in_s = ts
                .expires_at
                .and_then(|e| e.duration_since(self.clock.now()).ok())
                .map(|d| d.as_secs()),
            "iFinD access token obtained"
        );
        Ok(ts)
    }
}

#[async_trait]
impl TokenRefresher for IfindRefresher {
    async fn refresh(&self, current: Option<&TokenSet>) -> Result<TokenSet> {
        if !self.take_update(current) {
            return self.fetch(GET_ACCESS_TOKEN).await;
        }
        tracing::warn!(
            "a freshly fetched access token was rejected; calling update_access_token (this \
             invalidates every older token of the account)"
        );
        match self.fetch(UPDATE_ACCESS_TOKEN).await {
            // The update may have happened: its token is now the account's current one, which
            // get_access_token returns.
            Err(e) if e.is_outcome_unknown() => {
                tracing::warn!(error = %e, "update_access_token outcome unknown; reading the current token");
                self.fetch(GET_ACCESS_TOKEN).await
            }
            other => other,
        }
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    #[serde(default)]
    data: Option<TokenData>,
}

#[derive(serde::Deserialize)]
struct TokenData {
    #[serde(default)]
    access_token: Option<AccessToken>,
    #[serde(default)]
    expired_time: Option<serde_json::Value>,
}

/// Drops every body excerpt from an error of a token endpoint (at any depth): a token
/// answer's body may hold a token, and no error text may.
pub fn without_excerpts(e: conn_core::Error) -> conn_core::Error {
    use conn_core::Error as E;
    match e {
        E::Http(mut h) => {
            h.body_excerpt.clear();
            E::Http(h)
        }
        E::Decode(mut d) => {
            d.excerpt.clear();
            E::Decode(d)
        }
        E::OutcomeUnknown(mut o) => {
            let inner = std::mem::replace(&mut *o.source, E::validation("", ""));
            *o.source = without_excerpts(inner);
            E::OutcomeUnknown(o)
        }
        E::DeadlineExceeded {
            platform,
            operation,
            limit,
            elapsed,
            last,
        } => E::DeadlineExceeded {
            platform,
            operation,
            limit,
            elapsed,
            last: last.map(|l| Box::new(without_excerpts(*l))),
        },
        other => other,
    }
}

/// A decode error of a token answer. It keeps **no excerpt of the body**: a token answer holds
/// the access token, and an error's text must never carry a secret.
fn token_decode_error(operation: &'static str, path: &str, msg: &str) -> conn_core::Error {
    shape_error(operation, path, msg, b"")
}

/// The longest access-token lifetime believed from the wire: the manual says a token lives
/// seven days; an `expired_time` further away (or absurd: `1e25`, negative, NaN) is clamped to
/// the configured default lifetime, never trusted and never a panic.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(8 * 24 * 3600);

/// Parses a `get_access_token`/`update_access_token` answer into a token set. Errors never
/// quote the body.
pub fn parse_token_response(
    operation: &'static str,
    body: &[u8],
    now: SystemTime,
    default_lifetime: Duration,
) -> Result<TokenSet> {
    let r: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        // serde's message names a position and an expectation, never the input text, but
        // the column alone is kept to be sure.
        let what = if e.is_eof() {
            "the answer is cut short"
        } else {
            "the answer is not the expected JSON"
        };
        token_decode_error(
            operation,
            &format!("line {} column {}", e.line(), e.column()),
            what,
        )
    })?;
    let data = r.data.unwrap_or(TokenData {
        access_token: None,
        expired_time: None,
    });
    let Some(at) = data.access_token.filter(|t| !t.is_empty()) else {
        return Err(token_decode_error(
            operation,
            "data.access_token",
            "the response carries no access token",
        ));
    };
    let mut ts = TokenSet::new(at);
    let expiry = data
        .expired_time
        .as_ref()
        .and_then(|v| parse_expiry(v, now));
    let fallback = now.checked_add(default_lifetime).unwrap_or(now);
    let ceiling = now.checked_add(MAX_TOKEN_LIFETIME).unwrap_or(now);
    ts.expires_at = Some(match expiry {
        Some(e) if e > now && e <= ceiling => e,
        Some(_) => {
            tracing::warn!("expired_time is in the past or implausibly far; assuming the default token lifetime");
            fallback
        }
        None => fallback,
    });
    Ok(ts)
}

/// Reads `expired_time`: `YYYY-MM-DD HH:MM:SS` in Beijing time (UTC+8), Unix seconds or
/// milliseconds (as a number or a string), or a number of seconds from now when below 10⁹.
/// Any value that does not fit a `SystemTime` (`1e25`, `NaN`, negative) is `None`: never a
/// panic.
pub fn parse_expiry(v: &serde_json::Value, now: SystemTime) -> Option<SystemTime> {
    let from_number = |n: f64| -> Option<SystemTime> {
        if !n.is_finite() || n <= 0.0 {
            return None;
        }
        let (origin, secs) = if n >= 1e12 {
            (UNIX_EPOCH, n / 1000.0)
        } else if n >= 1e9 {
            (UNIX_EPOCH, n)
        } else {
            (now, n)
        };
        origin.checked_add(Duration::try_from_secs_f64(secs).ok()?)
    };
    match v {
        serde_json::Value::Number(n) => n.as_f64().and_then(from_number),
        serde_json::Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<f64>() {
                return from_number(n);
            }
            let local = parse_datetime(s)?;
            let beijing = FixedOffset::east_opt(8 * 3600)?;
            let at = beijing.from_local_datetime(&local).single()?;
            let secs = u64::try_from(at.timestamp()).ok()?;
            UNIX_EPOCH.checked_add(Duration::from_secs(secs))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200); // 2024-01-01T00:00:00Z
        let v = serde_json::json!("2024-01-08 08:00:00");
        assert_eq!(
            parse_expiry(&v, now),
            Some(UNIX_EPOCH + Duration::from_secs(1_704_672_000))
        );
        assert_eq!(
            parse_expiry(&serde_json::json!(1_704_672_000), now),
            Some(UNIX_EPOCH + Duration::from_secs(1_704_672_000))
        );
        assert_eq!(
            parse_expiry(&serde_json::json!("1704672000000"), now),
            Some(UNIX_EPOCH + Duration::from_secs(1_704_672_000))
        );
        assert_eq!(
            parse_expiry(&serde_json::json!(3600), now),
            Some(now + Duration::from_secs(3600))
        );
        assert_eq!(parse_expiry(&serde_json::json!("soon"), now), None);
    }

    #[test]
    fn absurd_expiries_never_panic_and_fall_back() {
        let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let week = Duration::from_secs(7 * 86400);
        for v in [
            serde_json::json!(1e25),
            serde_json::json!("1e25"),
            serde_json::json!(-5),
            serde_json::json!("NaN"),
            serde_json::json!("inf"),
            serde_json::json!(f64::MAX),
            serde_json::json!(u64::MAX),
            serde_json::json!("9999-12-31 23:59:59"),
            serde_json::json!("1970-01-01 00:00:00"),
        ] {
            let _ = parse_expiry(&v, now);
            let body = serde_json::json!({"errorcode": 0, "data": {"access_token": "at", "expired_time": v}});
            let ts =
                parse_token_response("get_access_token", body.to_string().as_bytes(), now, week)
                    .unwrap_or_else(|e| panic!("{v}: {e}"));
            assert_eq!(ts.expires_at, Some(now + week), "{v}");
        }
    }

    #[test]
    fn token_decode_errors_quote_no_body() {
        let now = UNIX_EPOCH;
        for body in [
            &br#"{"errorcode":0,"data":{"access_token":"canary-at-0042","expired_time":[}"#[..],
            br#"{"errorcode":0,"data":{"access_token":"canary-at-0042""#,
            br#"{"data":{"access_token":42, "x":"canary-at-0042"}}"#,
        ] {
            let e = parse_token_response("get_access_token", body, now, Duration::from_secs(1))
                .unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(!text.contains("canary-at-0042"), "{text}");
        }
    }

    #[test]
    fn token_response_with_and_without_expiry() {
        let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let week = Duration::from_secs(7 * 86400);
        let ts = parse_token_response(
            "get_access_token",
            br#"{"errorcode":0,"errmsg":"Success!","data":{"access_token":"at-1"}}"#,
            now,
            week,
        )
        .unwrap();
        assert_eq!(ts.access_token.expose_secret(), "at-1");
        assert_eq!(ts.expires_at, Some(now + week));
        let ts = parse_token_response(
            "get_access_token",
            br#"{"errorcode":0,"data":{"access_token":"at-2","expired_time":"2024-01-02 08:00:00"}}"#,
            now,
            week,
        )
        .unwrap();
        assert_eq!(ts.expires_at, Some(now + Duration::from_secs(86400)));
        let e = parse_token_response(
            "get_access_token",
            br#"{"errorcode":0,"data":{}}"#,
            now,
            week,
        )
        .unwrap_err();
        assert!(e.to_string().contains("data.access_token"), "{e}");
    }

    #[test]
    fn fingerprint_is_stable_and_short() {
        let a = fingerprint(&RefreshToken::new("rt"));
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint(&RefreshToken::new("rt")));
        assert_ne!(a, fingerprint(&RefreshToken::new("rt2")));
    }
}
