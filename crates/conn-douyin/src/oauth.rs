//! OAuth: the authorization URL, and the four token endpoints with their encodings.
//!
//! | operation | request | body |
//! |---|---|---|
//! | code → token | `POST /oauth/access_token/` | form: `client_key, client_secret, code, grant_type=authorization_code` |
//! | refresh | `POST /oauth/refresh_token/` | form: `client_key, grant_type=refresh_token, refresh_token` |
//! | renew refresh token | `POST /oauth/renew_refresh_token/` | form: `client_key, refresh_token` |
//! | client (app) token | `POST /oauth/client_token/` | JSON: `client_key, client_secret, grant_type=client_credential` |
//!
//! ⚠ Whether a refresh returns a new `refresh_token` is not confirmed by the platform's
//! documentation: whatever comes back is stored, and the previous one is kept when none does.
//!
//! Every token request is a [`Request::secret_response`]: no error of these four endpoints
//! keeps any part of the answer (it holds the tokens). Lifetimes (`expires_in`,
//! `refresh_expires_in`) arrive as numbers or strings; a negative, NaN or non-numeric one is a
//! decode error, and one beyond ten years is clamped to
//! [`conn_core::lenient::MAX_WIRE_DURATION`].

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use conn_core::error::{Error, Result};
use conn_core::retry::Idempotency;
use conn_core::secret::{AccessToken, ClientSecret, RefreshToken};
use conn_core::token::TokenSet;
use conn_core::transport::{Request, Transport};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::endpoint::{
    ACCESS_TOKEN_PATH, AUTHORIZE_PATH, CLIENT_TOKEN_PATH, REFRESH_TOKEN_PATH,
    RENEW_REFRESH_TOKEN_PATH,
};
use crate::envelope::data_of;
use conn_core::lenient;

/// Shortest accepted `state`.
pub(crate) const STATE_MIN_LEN: usize = 16;
/// Longest accepted `state`.
pub(crate) const STATE_MAX_LEN: usize = 128;

/// What to put in an authorization URL.
///
/// ```
/// use conn_douyin::AuthorizeRequest;
/// let req = AuthorizeRequest::new(["user_info", "video.create.bind"])
///     .optional_scope("video.data.bind", true)
///     .redirect_uri("http://127.0.0.1:8765/callback");
/// # let _ = req;
/// ```
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    scopes: Vec<String>,
    optional_scopes: Vec<(String, bool)>,
    state: Option<String>,
    redirect_uri: Option<String>,
}

impl AuthorizeRequest {
    /// Required scopes.
    pub fn new<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            scopes: scopes.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// An optional scope the user may untick, pre-ticked when `checked`.
    pub fn optional_scope(mut self, scope: impl Into<String>, checked: bool) -> Self {
        self.optional_scopes.push((scope.into(), checked));
        self
    }

    /// A given state (checked for length and URL-safe characters); default: 16 random bytes.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// A redirect URI for this request (a CLI's loopback listener), instead of the configured one.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }
}

/// An authorization URL and the state it carries (compare it with the state of the redirect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeUrl {
    /// The URL the user opens.
    pub url: url::Url,
    /// The CSRF state.
    pub state: String,
}

/// A fresh state: 16 bytes from the operating system's CSPRNG, base64url without padding.
pub(crate) fn generate_state() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a caller-given state: 16 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
pub(crate) fn check_state(state: &str) -> Result<()> {
    let n = state.chars().count();
    if !(STATE_MIN_LEN..=STATE_MAX_LEN).contains(&n) {
        return Err(Error::validation(
            "state",
            format!("between {STATE_MIN_LEN} and {STATE_MAX_LEN} characters (got {n})"),
        ));
    }
    if let Some(c) = state
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
    {
        return Err(Error::validation(
            "state",
            format!("only URL-safe characters A-Z a-z 0-9 - . _ ~ (found {c:?})"),
        ));
    }
    Ok(())
}

/// Builds the authorization URL (no request is made).
pub(crate) fn authorize_url(config: &Config, req: &AuthorizeRequest) -> Result<AuthorizeUrl> {
    let client_key = config.require_client_key()?;
    if req.scopes.is_empty() {
        return Err(Error::validation("scopes", "at least one scope"));
    }
    let unknown: Vec<&str> = req
        .scopes
        .iter()
        .map(String::as_str)
        .chain(req.optional_scopes.iter().map(|(s, _)| s.as_str()))
        .filter(|s| !config.is_known_scope(s))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::validation(
            "scopes",
            format!(
                "unknown scope(s): {} (known: {}; add others with ConfigBuilder::extra_scope)",
                unknown.join(", "),
                crate::config::KNOWN_SCOPES.join(", ")
            ),
        ));
    }
    let redirect = match &req.redirect_uri {
        Some(s) => crate::config::check_redirect_uri(s)
            .map_err(|rule| Error::validation("redirect_uri", rule))?,
        None => config.redirect_uri.clone().ok_or_else(|| {
            Error::config_var(
                "DOUYIN_REDIRECT_URI",
                "not set; set it to the redirect URI configured for the app (or pass one in AuthorizeRequest::redirect_uri)",
            )
        })?,
    };
    let state = match &req.state {
        Some(s) => {
            check_state(s)?;
            s.clone()
        }
        None => generate_state(),
    };
    let base = config.transport.base_url.as_str().trim_end_matches('/');
    let mut url = url::Url::parse(&format!("{base}{AUTHORIZE_PATH}")).map_err(|e| {
        Error::validation(
            "base_url",
            format!("cannot build the authorization URL: {e}"),
        )
    })?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_key", client_key)
            .append_pair("response_type", "code")
            .append_pair("scope", &req.scopes.join(","));
        if !req.optional_scopes.is_empty() {
            let optional: Vec<String> = req
                .optional_scopes
                .iter()
                .map(|(s, on)| format!("{s},{}", u8::from(*on)))
                .collect();
            q.append_pair("optionalScope", &optional.join(","));
        }
        q.append_pair("redirect_uri", redirect.as_str())
            .append_pair("state", &state);
    }
    Ok(AuthorizeUrl { url, state })
}

/// A user token from `/oauth/access_token/` or `/oauth/refresh_token/`. `Debug` redacts tokens.
#[derive(Clone)]
pub(crate) struct UserToken {
    /// `act.…`
    pub access_token: AccessToken,
    /// Access token lifetime (15 days on Douyin).
    pub expires_in: Duration,
    /// `rft.…`, when the response carried one.
    pub refresh_token: Option<RefreshToken>,
    /// Refresh token lifetime (30 days), when sent.
    pub refresh_expires_in: Option<Duration>,
    /// The account.
    pub open_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The platform's log id.
    pub log_id: Option<String>,
}

impl fmt::Debug for UserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserToken")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("refresh_expires_in", &self.refresh_expires_in)
            .field("open_id", &self.open_id)
            .field("scopes", &self.scopes)
            .field("log_id", &self.log_id)
            .finish()
    }
}

impl UserToken {
    /// The token set to store, keeping from `previous` what the response did not carry (the
    /// refresh token and its expiry, scopes, renewal count).
    pub(crate) fn into_token_set(self, now: SystemTime, previous: Option<&TokenSet>) -> TokenSet {
        let mut ts = TokenSet::new(self.access_token)
            .with_expires_in(now, self.expires_in)
            .with_account(self.open_id);
        ts.refresh_token = self
            .refresh_token
            .or_else(|| previous.and_then(|p| p.refresh_token.clone()));
        ts.refresh_expires_at = match self.refresh_expires_in {
            Some(d) => Some(conn_core::token::expiry_after(now, d)),
            None => previous.and_then(|p| p.refresh_expires_at),
        };
        ts.scopes = if self.scopes.is_empty() {
            previous.map(|p| p.scopes.clone()).unwrap_or_default()
        } else {
            self.scopes
        };
        if let Some(p) = previous {
            ts.extra = p.extra.clone();
        }
        ts
    }
}

/// A renewed refresh token from `/oauth/renew_refresh_token/`. `Debug` redacts it.
#[derive(Clone)]
pub(crate) struct RenewedRefreshToken {
    /// The new refresh token (the old one is dead).
    pub refresh_token: RefreshToken,
    /// Its lifetime (30 days).
    pub expires_in: Duration,
    /// The platform's log id.
    pub log_id: Option<String>,
}

impl fmt::Debug for RenewedRefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenewedRefreshToken")
            .field("refresh_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("log_id", &self.log_id)
            .finish()
    }
}

/// An app token from `/oauth/client_token/`. `Debug` redacts it.
#[derive(Clone)]
pub(crate) struct ClientToken {
    /// `clt.…`
    pub access_token: AccessToken,
    /// Lifetime (2 hours).
    pub expires_in: Duration,
    /// The platform's log id.
    pub log_id: Option<String>,
}

impl fmt::Debug for ClientToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientToken")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("log_id", &self.log_id)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenData {
    access_token: AccessToken,
    #[serde(default, deserialize_with = "lenient::opt_seconds")]
    expires_in: Option<Duration>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, deserialize_with = "lenient::opt_seconds")]
    refresh_expires_in: Option<Duration>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    open_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    log_id: Option<String>,
}

#[derive(Deserialize)]
struct RenewData {
    refresh_token: RefreshToken,
    #[serde(default, deserialize_with = "lenient::opt_seconds")]
    expires_in: Option<Duration>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    log_id: Option<String>,
}

/// Lifetimes used when a response omits them: the platform's documented values.
const USER_TOKEN_LIFETIME: Duration = Duration::from_secs(1_296_000);
const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(2_592_000);
const CLIENT_TOKEN_LIFETIME: Duration = Duration::from_secs(7_200);

fn scopes_of(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

#[derive(Serialize)]
struct CodeForm<'a> {
    client_key: &'a str,
    client_secret: &'a str,
    code: &'a str,
    grant_type: &'static str,
}

#[derive(Serialize)]
struct RefreshForm<'a> {
    client_key: &'a str,
    grant_type: &'static str,
    refresh_token: &'a str,
}

#[derive(Serialize)]
struct RenewForm<'a> {
    client_key: &'a str,
    refresh_token: &'a str,
}

#[derive(Serialize)]
struct ClientTokenBody<'a> {
    client_key: &'a str,
    client_secret: &'a str,
    grant_type: &'static str,
}

/// The token endpoints, shared by the client and its token refreshers.
#[derive(Clone)]
pub(crate) struct OAuth {
    transport: Transport,
    client_key: Option<String>,
    client_secret: Option<ClientSecret>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("client_key", &self.client_key)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    pub(crate) fn new(transport: Transport, config: &Config) -> Self {
        Self {
            transport,
            client_key: config.client_key.clone(),
            client_secret: config.client_secret.clone(),
        }
    }

    fn key(&self) -> Result<&str> {
        self.client_key.as_deref().ok_or_else(|| {
            Error::config_var(
                "DOUYIN_CLIENT_KEY",
                "not set; token requests need the app's client key (or DOUYIN_APP_ID)",
            )
        })
    }

    fn secret(&self) -> Result<&ClientSecret> {
        self.client_secret.as_ref().ok_or_else(|| {
            Error::config_var(
                "DOUYIN_CLIENT_SECRET",
                "not set; this token request needs the app's client secret (or DOUYIN_APP_SECRET)",
            )
        })
    }

    fn user_token(data: TokenData, fallback_open_id: Option<&str>) -> Result<UserToken> {
        let open_id = data
            .open_id
            .or_else(|| fallback_open_id.map(str::to_owned))
            .ok_or_else(|| {
                Error::from(conn_core::error::ApiError::new(
                    crate::PLATFORM,
                    "missing_open_id",
                    "the token response carries no open_id",
                    conn_core::error::ApiErrorKind::Other,
                ))
            })?;
        Ok(UserToken {
            access_token: data.access_token,
            expires_in: data.expires_in.unwrap_or(USER_TOKEN_LIFETIME),
            refresh_token: data.refresh_token.filter(|t| !t.is_empty()),
            refresh_expires_in: data.refresh_expires_in,
            open_id,
            scopes: scopes_of(data.scope),
            log_id: data.log_id,
        })
    }

    /// `POST /oauth/access_token/` (form).
    pub(crate) async fn exchange_code(&self, code: &str) -> Result<UserToken> {
        if code.trim().is_empty() {
            return Err(Error::validation("code", "required"));
        }
        let form = CodeForm {
            client_key: self.key()?,
            client_secret: self.secret()?.expose_secret(),
            code,
            grant_type: "authorization_code",
        };
        let req = Request::post("access_token", ACCESS_TOKEN_PATH, Idempotency::Idempotent)
            .form(&form)?
            .secret_response();
        let resp = self.transport.execute(&req).await?;
        let mut tok = Self::user_token(data_of(&resp)?, None)?;
        // The code exchange always starts a refresh token's 30 days.
        if tok.refresh_token.is_some() && tok.refresh_expires_in.is_none() {
            tok.refresh_expires_in = Some(REFRESH_TOKEN_LIFETIME);
        }
        Ok(tok)
    }

    /// `POST /oauth/refresh_token/` (form, no secret).
    pub(crate) async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        open_id: &str,
    ) -> Result<UserToken> {
        let form = RefreshForm {
            client_key: self.key()?,
            grant_type: "refresh_token",
            refresh_token: refresh_token.expose_secret(),
        };
        let req = Request::post("refresh_token", REFRESH_TOKEN_PATH, Idempotency::Idempotent)
            .form(&form)?
            .secret_response();
        let resp = self.transport.execute(&req).await?;
        Self::user_token(data_of(&resp)?, Some(open_id))
    }

    /// `POST /oauth/renew_refresh_token/` (form).
    pub(crate) async fn renew(&self, refresh_token: &RefreshToken) -> Result<RenewedRefreshToken> {
        let form = RenewForm {
            client_key: self.key()?,
            refresh_token: refresh_token.expose_secret(),
        };
        // Not replayed after it may have been received: renewal kills the old refresh token at
        // once, so a blind replay with the old one would answer "refresh token invalid" and the
        // account's tokens would be deleted. An unknown outcome is reported as such instead.
        let req = Request::post(
            "renew_refresh_token",
            RENEW_REFRESH_TOKEN_PATH,
            Idempotency::NonIdempotent,
        )
        .form(&form)?
        .secret_response();
        let resp = self.transport.execute(&req).await?;
        let d: RenewData = data_of(&resp)?;
        Ok(RenewedRefreshToken {
            refresh_token: d.refresh_token,
            expires_in: d.expires_in.unwrap_or(REFRESH_TOKEN_LIFETIME),
            log_id: d.log_id,
        })
    }

    /// `POST /oauth/client_token/` (JSON).
    pub(crate) async fn client_token(&self) -> Result<ClientToken> {
        let body = ClientTokenBody {
            client_key: self.key()?,
            client_secret: self.secret()?.expose_secret(),
            grant_type: "client_credential",
        };
        let req = Request::post("client_token", CLIENT_TOKEN_PATH, Idempotency::Idempotent)
            .json(&body)?
            .secret_response();
        let resp = self.transport.execute(&req).await?;
        let d: TokenData = data_of(&resp)?;
        Ok(ClientToken {
            access_token: d.access_token,
            expires_in: d.expires_in.unwrap_or(CLIENT_TOKEN_LIFETIME),
            log_id: d.log_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token endpoint payloads and the token set made of them print no secret.
    #[test]
    fn debug_of_token_types_shows_no_secret() {
        let user = UserToken {
            access_token: AccessToken::new("SECRET-act"),
            expires_in: Duration::from_secs(1),
            refresh_token: Some(RefreshToken::new("SECRET-rft")),
            refresh_expires_in: Some(Duration::from_secs(2)),
            open_id: "o".into(),
            scopes: vec!["user_info".into()],
            log_id: None,
        };
        let renewed = RenewedRefreshToken {
            refresh_token: RefreshToken::new("SECRET-renewed"),
            expires_in: Duration::from_secs(1),
            log_id: None,
        };
        let clt = ClientToken {
            access_token: AccessToken::new("SECRET-clt"),
            expires_in: Duration::from_secs(1),
            log_id: None,
        };
        let ts = user
            .clone()
            .into_token_set(std::time::SystemTime::now(), None);
        for printed in [
            format!("{user:?}"),
            format!("{renewed:?}"),
            format!("{clt:?}"),
            format!("{ts:?}"),
            format!("{:?}", ts.to_stored()),
        ] {
            assert!(!printed.contains("SECRET"), "{printed}");
        }
    }

    #[test]
    fn states() {
        let s = generate_state();
        assert_eq!(s.len(), 22);
        assert!(check_state(&s).is_ok());
        assert_ne!(s, generate_state());
        assert!(check_state("short")
            .unwrap_err()
            .to_string()
            .contains("between 16 and 128"));
        assert!(check_state(&"a".repeat(129)).is_err());
        let e = check_state("abcdefghijklmnop&").unwrap_err().to_string();
        assert!(e.contains("'&'"), "{e}");
        assert!(check_state("abc-DEF.ghi_JKL~0123").is_ok());
    }

    /// The token decoders on hostile answers: no panic, lifetimes bounded, errors short and
    /// free of the token. Seeded; 10,000 cases.
    #[test]
    fn token_decoders_never_panic_and_bound_lifetimes() {
        use conn_core::testing::fuzz;
        use proptest::prelude::*;
        #[derive(Deserialize)]
        struct Wrap<T> {
            data: T,
        }
        let num = prop_oneof![
            any::<i64>().prop_map(|v| v.to_string()),
            any::<u64>().prop_map(|v| v.to_string()),
            any::<f64>().prop_map(|v| if v.is_finite() {
                v.to_string()
            } else {
                "1e999".into()
            }),
            Just("\"9223372036854775807\"".to_owned()),
            Just("\"1e25\"".to_owned()),
            Just("\"NaN\"".to_owned()),
            Just("\"-1\"".to_owned()),
            Just("null".to_owned()),
            Just("\"\"".to_owned()),
            any::<String>().prop_map(|s| serde_json::Value::String(s).to_string()),
            Just("{}".to_owned()),
        ];
        let doc = (num.clone(), num.clone(), num, any::<bool>(), 0usize..400).prop_map(
            |(e, r, o, with_refresh, cut)| {
                let refresh = if with_refresh { r#","refresh_token":"rft.CANARY-fz""# } else { "" };
                let s = format!(
                    r#"{{"data":{{"access_token":"act.CANARY-fz","expires_in":{e},"refresh_expires_in":{r},"open_id":{o}{refresh},"scope":"a,b"}}}}"#
                );
                // Sometimes cut, as a dropped answer is.
                let cut = if cut < 200 { s.len() } else { cut.min(s.len()) };
                s.as_bytes()[..cut].to_vec()
            },
        );
        let ran = fuzz(10_000, doc, |body| {
            match conn_core::error::decode_json_secret::<Wrap<TokenData>>("douyin", "t", &body) {
                Ok(w) => {
                    if let Ok(t) = OAuth::user_token(w.data, Some("o")) {
                        prop_assert!(t.expires_in <= conn_core::lenient::MAX_WIRE_DURATION);
                        let ts = t.into_token_set(SystemTime::now(), None);
                        prop_assert!(ts.expires_at.is_some());
                    }
                }
                Err(e) => {
                    let text = format!("{e} {e:?}");
                    prop_assert!(!text.contains("CANARY"), "{text}");
                    prop_assert!(text.len() <= 2048);
                }
            }
            if let Err(e) =
                conn_core::error::decode_json_secret::<Wrap<RenewData>>("douyin", "r", &body)
            {
                let printed = format!("{e:?}");
                prop_assert!(!printed.contains("CANARY"));
            }
            Ok(())
        });
        assert_eq!(ran, 10_000);
    }

    #[test]
    fn token_debug_is_redacted() {
        let t = UserToken {
            access_token: AccessToken::new("act.SECRET1"),
            expires_in: Duration::from_secs(1),
            refresh_token: Some(RefreshToken::new("rft.SECRET2")),
            refresh_expires_in: None,
            open_id: "o".into(),
            scopes: vec![],
            log_id: None,
        };
        let d = format!(
            "{t:?} {:?}",
            ClientToken {
                access_token: AccessToken::new("clt.SECRET3"),
                expires_in: Duration::from_secs(1),
                log_id: None
            }
        );
        assert!(!d.contains("SECRET"), "{d}");
    }
}
