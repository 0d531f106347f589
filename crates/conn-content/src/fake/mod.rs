//! A stateful fake of a profile's endpoints (feature `fake`), for this crate's tests, users'
//! tests and the CLI sandbox.
//!
//! [`FakeContent`] runs a wiremock server on 127.0.0.1 that behaves as a server of the profile
//! would: it checks the profile's auth exactly (the bearer token, the API-key header, or the
//! Xiaohongshu md5 `sign` recomputed from the received JSON; a mismatch gets the profile's
//! auth error envelope), reads the publish body back through the profile's mapping (a field
//! not where the profile says gets an invalid-request envelope), enforces the profile's limits,
//! stores published items and answers with their id at the profile's id pointer, serves stats
//! for stored ids (not-found envelope otherwise), answers a replay carrying a known idempotency
//! key with the first answer, injects faults on demand and counts requests.
//!
//! ```
//! use conn_content::fake::FakeContent;
//! use conn_content::{Builtin, Content};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let fake = FakeContent::start(Builtin::Zhihu).await;
//! let client = fake.client();
//! let published = client.publish(&Content::new("标题", "正文")).await.unwrap();
//! assert_eq!(fake.published()[0].id, published.id);
//! // What a shell needs to point `Client::from_env("zhihu")` at the fake:
//! let vars = fake.env_vars();
//! assert!(vars.iter().any(|(k, _)| k == "ZHIHU_BASE_URL"));
//! assert!(vars.iter().any(|(k, _)| k == "ZHIHU_ACCESS_TOKEN"));
//! # }
//! ```

mod routes;
mod state;
mod toutiao;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use conn_core::fake::FakeServer;
use conn_core::retry::{Jitter, RetryPolicy};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

use self::routes::{Responder, Shared};
pub use self::state::{FakeItem, FakeOp, FakeStats};
pub use self::toutiao::{
    FakeTokenRequest, FakeToutiaoOAuth, TokenOp, ACCESS_LIFETIME, FAKE_CLIENT_KEY,
    FAKE_CLIENT_SECRET, MAX_RENEWALS, REFRESH_LIFETIME,
};
use crate::auth::Credentials;
use crate::client::Client;
use crate::config::{Config, PROFILES_FILE_VAR, PROFILES_VAR};
use crate::profile::{AuthScheme, Builtin, Profile};
pub use conn_core::fake::Fault;

/// What to fake: a built-in, a profile name (a built-in, else a generic custom profile) or a
/// whole [`Profile`] (its base URL is replaced by the fake's).
#[derive(Debug, Clone)]
pub enum FakeTarget {
    /// A built-in profile.
    Builtin(Builtin),
    /// Any profile.
    Profile(Box<Profile>),
}

impl From<Builtin> for FakeTarget {
    fn from(b: Builtin) -> Self {
        FakeTarget::Builtin(b)
    }
}

impl From<Profile> for FakeTarget {
    fn from(p: Profile) -> Self {
        FakeTarget::Profile(Box::new(p))
    }
}

impl From<&str> for FakeTarget {
    fn from(name: &str) -> Self {
        FakeTarget::Profile(Box::new(Profile::builtin_or_custom(name)))
    }
}

impl FakeTarget {
    fn into_profile(self) -> Profile {
        match self {
            FakeTarget::Builtin(b) => b.profile(),
            FakeTarget::Profile(p) => *p,
        }
    }
}

/// A running fake; see the [module docs](self). Dropping it stops the server.
pub struct FakeContent {
    server: FakeServer,
    shared: Arc<Shared>,
    profile: Profile,
    credentials: Credentials,
    config: Config,
    client: Client,
    profile_file: Option<tempfile::TempDir>,
}

impl fmt::Debug for FakeContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeContent")
            .field("uri", &self.server.uri())
            .field("profile", &self.profile.name)
            .field("auth", &self.profile.auth.name())
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// Test credentials for a profile's scheme (only the ones it uses).
fn test_credentials(p: &Profile) -> Credentials {
    let n = &p.name;
    match &p.auth {
        AuthScheme::None => Credentials::new(),
        AuthScheme::Bearer => Credentials::bearer(format!("fake-{n}-access-token-7f3a9c")),
        AuthScheme::ApiKey { .. } => Credentials::api_key(format!("fake-{n}-api-key-51e2d0")),
        AuthScheme::XhsSign { .. } => Credentials::xhs(
            format!("fake-{n}-app"),
            format!("fake-{n}-app-secret-c4b8e1"),
            format!("fake-{n}-access-token-7f3a9c"),
        ),
    }
}

impl FakeContent {
    /// Starts a fake of a built-in (`Builtin::Xiaohongshu`), a name (`"zhihu"`, `"myblog"`) or a
    /// profile, with test credentials for the profile's auth scheme.
    ///
    /// # Panics
    /// When the profile is invalid or the profile file for [`FakeContent::env_vars`] cannot be
    /// written (it is a test fixture: failing loudly is its job).
    pub async fn start(target: impl Into<FakeTarget>) -> Self {
        let profile = target.into().into_profile();
        let credentials = test_credentials(&profile);
        Self::start_with(profile, credentials).await
    }

    /// Starts a fake of `target` that accepts exactly `credentials`.
    ///
    /// # Panics
    /// As [`FakeContent::start`].
    pub async fn start_with(target: impl Into<FakeTarget>, credentials: Credentials) -> Self {
        let server = FakeServer::start().await;
        let profile = target.into().into_profile().with_base_url(server.uri());
        let config = match Config::builder()
            .profile(profile.clone())
            .credentials(credentials.clone())
            .build()
        {
            Ok(c) => {
                // Fast retries so fault tests take milliseconds; per-attempt timeout generous
                // enough for a loaded CI machine.
                let transport = c
                    .transport()
                    .clone()
                    .with_retry(
                        RetryPolicy::default()
                            .with_base_delay(Duration::from_millis(1))
                            .with_max_delay(Duration::from_millis(20))
                            .with_jitter(Jitter::None),
                    )
                    .with_attempt_timeout(Duration::from_secs(10));
                c.with_transport(transport)
            }
            Err(e) => panic!("FakeContent: profile `{}` is not usable: {e}", profile.name),
        };
        let client = match Client::new(config.clone()) {
            Ok(c) => c,
            Err(e) => panic!("FakeContent: cannot build a client: {e}"),
        };
        let profile_file = write_profile_file(&profile);
        let shared = Arc::new(Shared {
            profile: profile.clone(),
            credentials: credentials.clone(),
            state: Default::default(),
            token_check: Default::default(),
        });
        let drops = shared.clone();
        server
            .drop_connections_when(
                &format!("fake {}", profile.name),
                move |req: &wiremock::Request| drops.take_drop(req),
            )
            .await;
        Mock::given(any())
            .respond_with(Responder(shared.clone()))
            .named(format!("fake {}", profile.name))
            .mount(&server)
            .await;
        Self {
            server,
            shared,
            profile,
            credentials,
            config,
            client,
            profile_file,
        }
    }

    /// Accepts as bearer tokens exactly the live access tokens of `oauth` (instead of the
    /// fixed test token), so a client whose token manager refreshes through the OAuth fake
    /// sees expiry and refresh as on the platform.
    pub fn accept_tokens_of(&self, oauth: &FakeToutiaoOAuth) {
        *self.shared.token_check.lock() = Some(oauth.token_check());
    }

    /// A client of this fake whose bearer token comes from `tokens` (with the fake's fast
    /// retries).
    ///
    /// # Panics
    /// When the profile does not use bearer auth (a test fixture fails loudly).
    pub fn managed_client(&self, tokens: conn_core::token::TokenManager) -> Client {
        let cfg = Config::builder()
            .profile(self.profile.clone())
            .managed_token()
            .build()
            .map(|c| c.with_transport(self.config.transport().clone()));
        match cfg.and_then(|c| Client::builder(c).token_manager(tokens).build()) {
            Ok(c) => c,
            Err(e) => panic!("FakeContent: cannot build a managed client: {e}"),
        }
    }

    /// The server's base URI (`http://127.0.0.1:PORT`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The wiremock server (to read `received_requests()`).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The profile, with its base URL pointing at the fake.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The credentials the fake accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A configuration pointing at the fake with matching credentials, 1 ms retry delays without
    /// jitter and a 10 s attempt timeout (adjust with the `with_*` methods).
    pub fn config(&self) -> Config {
        self.config.clone()
    }

    /// A client built from [`FakeContent::config`].
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The environment variables that point `Client::from_env(name)` at the fake, in a
    /// fixed order: `<P>_BASE_URL`, `<P>_AUTH`, the credentials of the scheme
    /// (`<P>_ACCESS_TOKEN`; `<P>_API_KEY` and `<P>_API_KEY_HEADER`; `<P>_APP_ID`,
    /// `<P>_APP_SECRET` and `<P>_ACCESS_TOKEN`), then `CONTENT_PROFILES_FILE` (a file the fake
    /// wrote, for a profile whose shape differs from the built-in or generic one) or
    /// `CONTENT_PROFILES` (a custom profile of the generic shape). The CLI sandbox prints them.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let p = &self.profile;
        let c = &self.credentials;
        let mut v = vec![
            (p.env_var("BASE_URL"), self.uri()),
            (p.env_var("AUTH"), p.auth.name().to_owned()),
        ];
        if let Some(t) = &c.access_token {
            v.push((p.env_var("ACCESS_TOKEN"), t.expose_secret().to_owned()));
        }
        if let Some(k) = &c.api_key {
            v.push((p.env_var("API_KEY"), k.expose_secret().to_owned()));
        }
        if let Some(h) = p.api_key_header() {
            v.push((p.env_var("API_KEY_HEADER"), h.to_owned()));
        }
        if let Some(a) = &c.app_id {
            v.push((p.env_var("APP_ID"), a.clone()));
        }
        if let Some(s) = &c.app_secret {
            v.push((p.env_var("APP_SECRET"), s.expose_secret().to_owned()));
        }
        match &self.profile_file {
            Some(dir) => v.push((
                PROFILES_FILE_VAR.to_owned(),
                dir.path().join(PROFILE_FILE).display().to_string(),
            )),
            None if !p.is_builtin() => v.push((PROFILES_VAR.to_owned(), p.name.clone())),
            None => {}
        }
        v
    }

    /// Queues `fault` for the next `times` requests of `op` ([`FakeOp::Any`]: whatever they
    /// are). Errors (`Status`, `Code`, `Busy`, `RateLimited`, `TokenExpired`) are answered in
    /// the profile's envelope without doing the work
    /// ([`envelope_answer`](conn_core::fake::envelope_answer)); `Delay` and `Cut` do the work
    /// and answer late or cut (both can meet one request with an error); `Drop` closes the
    /// connection unanswered.
    ///
    /// ```no_run
    /// # async fn f() {
    /// use conn_content::fake::{FakeContent, FakeOp, Fault};
    /// use conn_content::Builtin;
    /// let fake = FakeContent::start(Builtin::Zhihu).await;
    /// fake.fail_next(FakeOp::Publish, Fault::Status(503), 2);
    /// # }
    /// ```
    pub fn fail_next(&self, op: FakeOp, fault: Fault, times: usize) {
        self.shared.state().faults.push(op, fault, times);
    }

    /// Sets the counters served for a stored item; false when no item has that id.
    pub fn set_stats(&self, id: &str, stats: FakeStats) -> bool {
        let mut st = self.shared.state();
        if !st.items.iter().any(|i| i.id == id) {
            return false;
        }
        st.stats.insert(id.to_owned(), stats);
        true
    }

    /// The items published so far, in order.
    pub fn published(&self) -> Vec<FakeItem> {
        self.shared.state().items.clone()
    }

    /// Requests received (all routes, faults included).
    pub fn request_count(&self) -> usize {
        self.shared.state().requests
    }

    /// Requests received on the publish endpoint.
    pub fn publish_requests(&self) -> usize {
        self.shared.state().publish_requests
    }

    /// Requests received on the stats endpoint.
    pub fn stats_requests(&self) -> usize {
        self.shared.state().stats_requests
    }

    /// Requests rejected for their credentials.
    pub fn auth_failures(&self) -> usize {
        self.shared.state().auth_failures
    }
}

const PROFILE_FILE: &str = "profiles.json";

/// Writes the profile to a file when the variables alone cannot describe it (its shape differs
/// from the built-in or generic profile of its name).
fn write_profile_file(profile: &Profile) -> Option<tempfile::TempDir> {
    let mut base = Profile::builtin_or_custom(&profile.name);
    base.base_url = profile.base_url.clone();
    base.auth = profile.auth.clone();
    if &base == profile {
        return None;
    }
    let doc = serde_json::json!({ "profiles": [profile] });
    let written = tempfile::tempdir().and_then(|dir| {
        let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
        std::fs::write(dir.path().join(PROFILE_FILE), text)?;
        Ok(dir)
    });
    match written {
        Ok(dir) => Some(dir),
        Err(e) => panic!("FakeContent: cannot write the profile file: {e}"),
    }
}
