//! Credentials and request signing (see [`Credentials`]).

use std::fmt;

use conn_core::clock::{self, SharedClock};
use conn_core::secret::{AccessToken, ApiKey, ClientSecret, Secret};
use conn_core::token::TokenManager;
use conn_core::transport::Request;
use conn_core::{Error, Result};
use http::HeaderName;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::profile::{AuthScheme, Profile};

/// The secrets a profile may need. Which ones are required depends on its [`AuthScheme`]:
/// bearer → `access_token`; API key → `api_key`; `xhs_sign` → `app_id`, `app_secret` and
/// `access_token`. `Debug` shows which are set, never their values.
///
/// Credentials and the three ways a request is authenticated: bearer token, API-key header,
/// Xiaohongshu open-platform md5 signing.
#[derive(Clone, Default)]
pub struct Credentials {
    /// `<P>_ACCESS_TOKEN` (`XIAOHONGSHU_ACCESS_TOKEN`, `ZHIHU_ACCESS_TOKEN`, `TOUTIAO_ACCESS_TOKEN`).
    pub access_token: Option<AccessToken>,
    /// `<P>_API_KEY`.
    pub api_key: Option<ApiKey>,
    /// `<P>_APP_ID` (Xiaohongshu `appId`; not a secret).
    pub app_id: Option<String>,
    /// `<P>_APP_SECRET` (Xiaohongshu `appSecret`).
    pub app_secret: Option<ClientSecret>,
}

impl Credentials {
    /// No credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// A bearer token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self {
            access_token: Some(AccessToken::new(token)),
            ..Self::default()
        }
    }

    /// An API key.
    pub fn api_key(key: impl Into<String>) -> Self {
        Self {
            api_key: Some(ApiKey::new(key)),
            ..Self::default()
        }
    }

    /// Xiaohongshu signing credentials.
    pub fn xhs(
        app_id: impl Into<String>,
        app_secret: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Self {
        Self {
            access_token: Some(AccessToken::new(access_token)),
            api_key: None,
            app_id: Some(app_id.into()),
            app_secret: Some(ClientSecret::new(app_secret)),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |b: bool| if b { "[redacted]" } else { "none" };
        f.debug_struct("Credentials")
            .field("access_token", &set(self.access_token.is_some()))
            .field("api_key", &set(self.api_key.is_some()))
            .field("app_id", &self.app_id)
            .field("app_secret", &set(self.app_secret.is_some()))
            .finish()
    }
}

/// The Xiaohongshu open-platform signature: lowercase hex
/// `md5(method + "?appId=" + appId + "&timestamp=" + timestamp + "&version=" + version + appSecret)`.
///
/// ```
/// use conn_content::xhs_sign;
/// use conn_core::secret::Secret;
/// // printf '%s' 'a.b?appId=1&timestamp=2&version=2.0s' | md5sum
/// assert_eq!(
///     xhs_sign("a.b", "1", "2", "2.0", &Secret::new("s")),
///     "a9791507cc3774d9ea7863666e74ab75"
/// );
/// ```
pub fn xhs_sign(
    method: &str,
    app_id: &str,
    timestamp: &str,
    version: &str,
    app_secret: &Secret,
) -> String {
    let mut h = Md5::new();
    h.update(method.as_bytes());
    h.update(b"?appId=");
    h.update(app_id.as_bytes());
    h.update(b"&timestamp=");
    h.update(timestamp.as_bytes());
    h.update(b"&version=");
    h.update(version.as_bytes());
    h.update(app_secret.expose_secret().as_bytes());
    hex::encode(h.finalize())
}

/// Signs JSON bodies the Xiaohongshu open-platform way, with an injectable clock.
///
/// ```
/// use conn_content::XhsSigner;
/// use conn_core::clock::ManualClock;
/// use std::sync::Arc;
/// let s = XhsSigner::new("app-1", "secret", "token", "2.0")
///     .with_clock(Arc::new(ManualClock::at_unix(1_700_000_000)));
/// let f = s.sign_fields("content.publish");
/// assert_eq!(f["timestamp"], "1700000000");
/// assert_eq!(f["appId"], "app-1");
/// assert_eq!(f["version"], "2.0");
/// ```
#[derive(Clone)]
pub struct XhsSigner {
    app_id: String,
    app_secret: ClientSecret,
    access_token: AccessToken,
    version: String,
    clock: SharedClock,
}

impl fmt::Debug for XhsSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XhsSigner")
            .field("app_id", &self.app_id)
            .field("app_secret", &self.app_secret)
            .field("access_token", &self.access_token)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl XhsSigner {
    /// A signer on the system clock.
    pub fn new(
        app_id: impl Into<String>,
        app_secret: impl Into<ClientSecret>,
        access_token: impl Into<AccessToken>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            access_token: access_token.into(),
            version: version.into(),
            clock: clock::system(),
        }
    }

    /// Uses another clock (tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The fields added to the body: `appId`, `method`, `version`, `timestamp` (seconds, as a
    /// string), `accessToken`, `sign`.
    pub fn sign_fields(&self, api_method: &str) -> Map<String, Value> {
        let ts = self.clock.unix_seconds().to_string();
        let sign = xhs_sign(
            api_method,
            &self.app_id,
            &ts,
            &self.version,
            self.app_secret.as_secret(),
        );
        let mut m = Map::new();
        m.insert("appId".into(), Value::String(self.app_id.clone()));
        m.insert("method".into(), Value::String(api_method.to_owned()));
        m.insert("version".into(), Value::String(self.version.clone()));
        m.insert("timestamp".into(), Value::String(ts));
        m.insert(
            "accessToken".into(),
            Value::String(self.access_token.expose_secret().to_owned()),
        );
        m.insert("sign".into(), Value::String(sign));
        m
    }
}

/// A profile's scheme with its credentials, ready to authenticate requests.
#[derive(Clone)]
pub(crate) enum Authenticator {
    None,
    Bearer(AccessToken),
    ApiKey(HeaderName, ApiKey),
    Xhs(XhsSigner),
    /// A bearer token taken from a token manager (OAuth), refreshed as it expires.
    Managed(TokenManager),
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authenticator::None => f.write_str("None"),
            Authenticator::Bearer(_) => f.write_str("Bearer([redacted])"),
            Authenticator::ApiKey(h, _) => write!(f, "ApiKey({h}: [redacted])"),
            Authenticator::Xhs(s) => s.fmt(f),
            Authenticator::Managed(m) => write!(f, "Managed({})", m.key()),
        }
    }
}

impl Authenticator {
    /// Pairs the profile's scheme with the credentials; a missing one is a config error naming
    /// the variable to set.
    pub(crate) fn new(profile: &Profile, creds: &Credentials, clock: SharedClock) -> Result<Self> {
        let missing = |suffix: &str, what: &str| {
            let var = profile.env_var(suffix);
            Error::config_var(
                var.clone(),
                format!(
                    "profile `{}` uses {} auth and needs {what}; set {var}",
                    profile.name,
                    profile.auth.name()
                ),
            )
        };
        Ok(match &profile.auth {
            AuthScheme::None => Authenticator::None,
            AuthScheme::Bearer => Authenticator::Bearer(
                creds
                    .access_token
                    .clone()
                    .ok_or_else(|| missing("ACCESS_TOKEN", "an access token"))?,
            ),
            AuthScheme::ApiKey { header } => {
                let name = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
                    Error::config_var(
                        profile.env_var("API_KEY_HEADER"),
                        format!("{header:?} is not a valid header name"),
                    )
                })?;
                Authenticator::ApiKey(
                    name,
                    creds
                        .api_key
                        .clone()
                        .ok_or_else(|| missing("API_KEY", "an API key"))?,
                )
            }
            AuthScheme::XhsSign { version } => {
                let app_id = creds
                    .app_id
                    .clone()
                    .ok_or_else(|| missing("APP_ID", "an app id"))?;
                let secret = creds
                    .app_secret
                    .clone()
                    .ok_or_else(|| missing("APP_SECRET", "an app secret"))?;
                let token = creds
                    .access_token
                    .clone()
                    .ok_or_else(|| missing("ACCESS_TOKEN", "an access token"))?;
                Authenticator::Xhs(
                    XhsSigner::new(app_id, secret, token, version.clone()).with_clock(clock),
                )
            }
        })
    }

    /// Adds authentication to `req` and sets its JSON body (when there is one). The signing
    /// scheme adds its fields to the body, so it needs a JSON object.
    pub(crate) fn authorize(
        &self,
        req: Request,
        body: Option<Value>,
        api_method: &str,
    ) -> Result<Request> {
        let (req, body) = match self {
            Authenticator::None => (req, body),
            Authenticator::Bearer(t) => (req.bearer(t.as_secret())?, body),
            // The client asks the manager for the token and authorizes as Bearer.
            Authenticator::Managed(_) => {
                return Err(Error::config(
                    "a managed token is applied per call by the client, not here",
                ))
            }
            Authenticator::ApiKey(h, k) => (req.secret_header(h.clone(), k.as_secret())?, body),
            Authenticator::Xhs(s) => {
                let mut obj =
                    match body {
                        Some(Value::Object(m)) => m,
                        Some(_) | None => return Err(Error::validation(
                            "data",
                            "xhs_sign needs a JSON object body to sign (use POST with an object)",
                        )),
                    };
                // Business fields that collide with the signed ones would be signed over.
                for (k, v) in s.sign_fields(api_method) {
                    obj.insert(k, v);
                }
                (req, Some(Value::Object(obj)))
            }
        };
        match body {
            Some(b) => req.json(&b),
            None => Ok(req),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::clock::ManualClock;
    use std::sync::Arc;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::xhs("app-1", "app-secret-value", "token-value");
        let c = Credentials {
            api_key: Some(ApiKey::new("api-key-value")),
            ..c
        };
        let d = format!("{c:?}");
        for s in ["app-secret-value", "token-value", "api-key-value"] {
            assert!(!d.contains(s), "{d}");
        }
        assert!(d.contains("app-1"));
        let signer = XhsSigner::new("a", "app-secret-value", "token-value", "2.0");
        let d = format!("{signer:?} {:?}", Authenticator::Xhs(signer.clone()));
        assert!(
            !d.contains("app-secret-value") && !d.contains("token-value"),
            "{d}"
        );
    }

    #[test]
    fn signed_fields_are_deterministic_with_a_fixed_clock() {
        let s = XhsSigner::new("a", "s", "t", "2.0").with_clock(Arc::new(ManualClock::at_unix(2)));
        let f = s.sign_fields("a.b");
        // printf '%s' 'a.b?appId=a&timestamp=2&version=2.0s' | md5sum
        assert_eq!(f["sign"], "d4779052992fd9f19e79d96d1219ea50");
        assert_eq!(f["accessToken"], "t");
    }

    #[test]
    fn missing_credentials_name_the_variable() {
        let p = Profile::xiaohongshu().with_auth(AuthScheme::xhs_sign());
        let e = Authenticator::new(&p, &Credentials::bearer("t"), clock::system()).unwrap_err();
        assert!(e.to_string().contains("XIAOHONGSHU_APP_ID"), "{e}");
        let e = Authenticator::new(&Profile::zhihu(), &Credentials::new(), clock::system())
            .unwrap_err();
        assert!(e.to_string().contains("ZHIHU_ACCESS_TOKEN"), "{e}");
    }
}
