//! [`Config`] from environment variables, reporting every problem at once.

use conn_core::env::Env;
use conn_core::error::{Error, Result};
use conn_core::secret::{AccessToken, ClientSecret};
use conn_core::transport::TransportConfig;

use super::{check_redirect_uri, Config, UploadSettings, DEFAULT_AUTO_RENEW_BEFORE};
use crate::endpoint::DEFAULT_BASE_URL;
use crate::models::Limits;

impl Config {
    /// From the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(&Env::process())
    }

    /// From environment variables (see the module docs). Every problem found is in the one
    /// error ([`conn_core::error::ConfigError::also`] holds all but the first);
    /// [`Config::from_env_report`] returns them as a list.
    ///
    /// ```
    /// use conn_core::env::{Env, MapEnv};
    /// use conn_douyin::Config;
    /// let env = Env::from_source(MapEnv::new().set("DOUYIN_CLIENT_KEY", "a").set("DOUYIN_APP_ID", "b"));
    /// let err = Config::from_env_with(&env).unwrap_err().to_string();
    /// assert!(err.contains("DOUYIN_CLIENT_KEY") && err.contains("DOUYIN_APP_ID"));
    ///
    /// let env = Env::from_source(MapEnv::new().set("DOUYIN_REDIRECT_URI", "not a url"));
    /// let err = Config::from_env_with(&env).unwrap_err().to_string();
    /// assert!(err.contains("DOUYIN_CLIENT_KEY") && err.contains("DOUYIN_REDIRECT_URI"), "{err}");
    /// ```
    pub fn from_env_with(env: &Env) -> Result<Self> {
        Self::from_env_report(env).map_err(Error::config_all)
    }

    /// From environment variables, reporting every problem at once.
    pub fn from_env_report(env: &Env) -> std::result::Result<Self, Vec<Error>> {
        let mut errors = Vec::new();
        let (client_key, key_ok) = match aliased_plain(env, "DOUYIN_CLIENT_KEY", "DOUYIN_APP_ID") {
            Ok(v) => (v, true),
            Err(e) => {
                errors.push(e);
                (None, false)
            }
        };
        let (client_secret, secret_ok) =
            match aliased_secret(env, "DOUYIN_CLIENT_SECRET", "DOUYIN_APP_SECRET") {
                Ok(v) => (v.map(ClientSecret::from), true),
                Err(e) => {
                    errors.push(e);
                    (None, false)
                }
            };
        let access_token = env.secret("DOUYIN_ACCESS_TOKEN").map(AccessToken::from);
        if access_token.is_none() {
            if client_key.is_none() && key_ok {
                errors.push(Error::config_var(
                    "DOUYIN_CLIENT_KEY",
                    "not set; set it (or its original name DOUYIN_APP_ID) to the app's client key, or set DOUYIN_ACCESS_TOKEN to use a fixed token",
                ));
            }
            if client_secret.is_none() && secret_ok {
                errors.push(Error::config_var(
                    "DOUYIN_CLIENT_SECRET",
                    "not set; set it (or its original name DOUYIN_APP_SECRET) to the app's client secret, or set DOUYIN_ACCESS_TOKEN to use a fixed token",
                ));
            }
        }
        let redirect_uri = match env.get("DOUYIN_REDIRECT_URI") {
            None => None,
            Some(s) => match check_redirect_uri(&s) {
                Ok(u) => Some(u),
                Err(rule) => {
                    errors.push(Error::config_var("DOUYIN_REDIRECT_URI", rule));
                    None
                }
            },
        };
        let base = env
            .get("DOUYIN_BASE_URL")
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let transport = match TransportConfig::from_env(env, &base, Some("DOUYIN_BASE_URL")) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let (Some(transport), true) = (transport, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(Self {
            client_key,
            client_secret,
            previous_client_secret: env
                .secret("DOUYIN_CLIENT_SECRET_PREVIOUS")
                .map(ClientSecret::from),
            access_token,
            default_open_id: env.get("DOUYIN_OPEN_ID"),
            redirect_uri,
            transport,
            upload: UploadSettings::default(),
            limits: Limits::default(),
            extra_scopes: Vec::new(),
            auto_renew_before: Some(DEFAULT_AUTO_RENEW_BEFORE),
            webhook_max_body_bytes: conn_core::webhook::DEFAULT_MAX_BODY_BYTES,
        })
    }
}

fn aliased_plain(env: &Env, name: &str, alias: &str) -> Result<Option<String>> {
    match (env.get(name), env.get(alias)) {
        (Some(a), Some(b)) if a != b => Err(Error::config_var(
            name,
            format!("{name} and {alias} are both set, to different values; set only one ({alias} is the original name)"),
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

fn aliased_secret(env: &Env, name: &str, alias: &str) -> Result<Option<conn_core::secret::Secret>> {
    match (env.secret(name), env.secret(alias)) {
        // Secret's equality is constant-time; the values are never quoted.
        (Some(a), Some(b)) if a != b => Err(Error::config_var(
            name,
            format!("{name} and {alias} are both set, to different values; set only one ({alias} is the original name)"),
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}
