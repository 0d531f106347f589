//! A stateful fake of Toutiao's OAuth token endpoints on 127.0.0.1.
//!
//! [`FakeToutiaoOAuth`] issues authorization codes (single use), exchanges them for tokens,
//! refreshes access tokens (rotating the refresh token unless told not to), renews refresh
//! tokens (the old one dies at once; five renewals at most, then `10020`), and answers every
//! failure as the platform does: HTTP 200 with `data.error_code`. It takes the parameters from
//! the query or a form body (the sources disagree on which, see [`crate::toutiao`]) and records
//! which style each request used.
//!
//! ```
//! use conn_content::fake::FakeToutiaoOAuth;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let fake = FakeToutiaoOAuth::start().await;
//! let oauth = fake.oauth();
//! let tokens = oauth.exchange_code(&fake.issue_code("open-1")).await.unwrap();
//! assert!(fake.is_live(tokens.access_token.expose_secret()));
//! assert_eq!(tokens.account.as_deref(), Some("open-1"));
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use conn_core::fake::{FakeServer, Fault, FaultTarget, Faults};
use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::transport::TransportConfig;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::toutiao::ToutiaoOAuth;

/// The fake's client key.
pub const FAKE_CLIENT_KEY: &str = "tt-fake-client-key";
/// The fake's client secret.
pub const FAKE_CLIENT_SECRET: &str = "tt-fake-client-secret";
/// Access token lifetime the fake answers (15 days).
pub const ACCESS_LIFETIME: u64 = 1_296_000;
/// Refresh token lifetime the fake answers (30 days).
pub const REFRESH_LIFETIME: u64 = 2_592_000;
/// Renewals allowed per authorization.
pub const MAX_RENEWALS: u32 = 5;

/// One token request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTokenRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// True when the parameters came in a form body, false when in the query.
    pub form: bool,
    /// The parameter names received, sorted (values are secrets and are not kept).
    pub params: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    next: u64,
    /// code → (open_id, used)
    codes: HashMap<String, (String, bool)>,
    /// access token → open_id
    access: HashMap<String, String>,
    /// refresh token → (open_id, renewals so far)
    refresh: HashMap<String, (String, u32)>,
    rotate: bool,
    faults: Faults<TokenOp>,
    log: Vec<FakeTokenRequest>,
}

struct Shared(conn_core::fake::Shared<State>);

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock()
    }

    /// Takes a pending [`Fault::Drop`] for the request's endpoint (and logs the request).
    fn take_drop(&self, req: &Request) -> bool {
        let op = TokenOp::of(req.url.path());
        let mut st = self.state();
        if st.faults.peek(&op) != Some(&Fault::Drop) {
            return false;
        }
        st.faults.take(&op);
        st.log.push(FakeTokenRequest {
            method: req.method.to_string(),
            path: req.url.path().to_owned(),
            form: is_form(req),
            params: param_names(&params_of(req)),
        });
        true
    }
}

/// The token endpoints of the fake a fault can be queued for.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenOp {
    /// `/oauth/access_token/` (code exchange).
    AccessToken,
    /// `/oauth/refresh_token/`.
    RefreshToken,
    /// `/oauth/renew_refresh_token/`.
    RenewRefreshToken,
    /// Any token request (also to an unknown path).
    Any,
}

impl TokenOp {
    fn of(path: &str) -> Self {
        match path {
            "/oauth/access_token/" => Self::AccessToken,
            "/oauth/refresh_token/" => Self::RefreshToken,
            "/oauth/renew_refresh_token/" => Self::RenewRefreshToken,
            _ => Self::Any,
        }
    }
}

impl FaultTarget for TokenOp {
    fn covers(&self, op: &Self) -> bool {
        self == op || *self == TokenOp::Any
    }
}

fn is_form(req: &Request) -> bool {
    req.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn params_of(req: &Request) -> HashMap<String, String> {
    if is_form(req) {
        conn_core::reexports::url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect()
    } else {
        req.url.query_pairs().into_owned().collect()
    }
}

fn param_names(params: &HashMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = params.keys().cloned().collect();
    names.sort();
    names
}

/// The fake Toutiao OAuth server. Cheap to clone (clones share state).
#[derive(Clone)]
pub struct FakeToutiaoOAuth {
    server: Arc<FakeServer>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeToutiaoOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeToutiaoOAuth")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

impl FakeToutiaoOAuth {
    /// Starts the fake (refresh tokens rotate on every refresh).
    pub async fn start() -> Self {
        let server = FakeServer::start().await;
        let shared = Arc::new(Shared(conn_core::fake::Shared::new(State {
            rotate: true,
            ..State::default()
        })));
        let drops = shared.clone();
        server
            .drop_connections_when("fake toutiao oauth", move |req: &Request| {
                drops.take_drop(req)
            })
            .await;
        Mock::given(any())
            .respond_with(Responder(shared.clone()))
            .named("fake toutiao oauth")
            .mount(&server)
            .await;
        Self {
            server: Arc::new(server),
            shared,
        }
    }

    /// The base URI (`http://127.0.0.1:PORT`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client of the fake with fast retries (post_form style).
    ///
    /// # Panics
    /// When the client cannot be built (a test fixture fails loudly).
    pub fn oauth(&self) -> ToutiaoOAuth {
        self.oauth_with(crate::toutiao::TokenRequestStyle::PostForm)
    }

    /// A client of the fake sending parameters in the given style.
    ///
    /// # Panics
    /// As [`FakeToutiaoOAuth::oauth`].
    pub fn oauth_with(&self, style: crate::toutiao::TokenRequestStyle) -> ToutiaoOAuth {
        let transport = TransportConfig::new(&self.uri())
            .map(|t| {
                t.with_retry(
                    RetryPolicy::default()
                        .with_base_delay(Duration::from_millis(1))
                        .with_max_delay(Duration::from_millis(20))
                        .with_jitter(Jitter::None),
                )
            })
            .and_then(|t| {
                ToutiaoOAuth::builder(FAKE_CLIENT_KEY, FAKE_CLIENT_SECRET)
                    .base_url(self.uri())
                    .request_style(style)
                    .transport(t)
                    .build()
            });
        match transport {
            Ok(o) => o,
            Err(e) => panic!("FakeToutiaoOAuth: cannot build a client: {e}"),
        }
    }

    /// A fresh single-use authorization code for `open_id` (what the redirect would bring).
    pub fn issue_code(&self, open_id: &str) -> String {
        let mut st = self.shared.state();
        let code = format!("code-{}", bump(&mut st));
        st.codes.insert(code.clone(), (open_id.to_owned(), false));
        code
    }

    /// Whether refresh answers carry a new refresh token (the old one then dies).
    pub fn rotate_refresh_tokens(&self, rotate: bool) {
        self.shared.state().rotate = rotate;
    }

    /// True when `access_token` is one the fake issued and has not expired or revoked.
    pub fn is_live(&self, access_token: &str) -> bool {
        self.shared.state().access.contains_key(access_token)
    }

    /// Expires every access token (what 15 days do).
    pub fn expire_access_tokens(&self) {
        self.shared.state().access.clear();
    }

    /// Kills every refresh token (30 days, or a revoked authorization): refreshing answers 10010.
    pub fn kill_refresh_tokens(&self) {
        self.shared.state().refresh.clear();
    }

    /// Queues `fault` for the next `times` requests of `op` ([`TokenOp::Any`]: any token
    /// request). Errors are answered as the platform does, HTTP 200 with `data.error_code`:
    /// `Code` as that code, `Busy` as 2100004, `RateLimited` as 28003018, `TokenExpired` as
    /// 10008; `Status` is that status with an empty body. `Delay` and `Cut` do the work and
    /// answer late or cut; `Drop` closes the connection unanswered.
    pub fn fail_next(&self, op: TokenOp, fault: Fault, times: usize) {
        self.shared.state().faults.push(op, fault, times);
    }

    /// Every token request received, in order.
    pub fn requests(&self) -> Vec<FakeTokenRequest> {
        self.shared.state().log.clone()
    }

    /// A check of bearer tokens for [`super::FakeContent::accept_tokens_of`].
    pub(super) fn token_check(&self) -> super::routes::TokenCheck {
        let shared = self.shared.clone();
        Arc::new(move |t: &str| shared.state().access.contains_key(t))
    }

    /// How many requests hit `path`.
    pub fn count(&self, path: &str) -> usize {
        self.shared
            .state()
            .log
            .iter()
            .filter(|r| r.path == path)
            .count()
    }
}

fn bump(st: &mut State) -> u64 {
    st.next += 1;
    st.next
}

struct Responder(Arc<Shared>);

fn error(code: i64, description: &str) -> (u16, Value) {
    (
        200,
        json!({
            "data": {"error_code": code, "description": description},
            "message": "error",
        }),
    )
}

fn tokens(st: &mut State, open_id: &str, refresh_token: Option<String>) -> Value {
    let n = bump(st);
    let access = format!("act.fake{n}");
    st.access.insert(access.clone(), open_id.to_owned());
    let mut data = json!({
        "error_code": 0, "description": "",
        "access_token": access, "expires_in": ACCESS_LIFETIME,
        "open_id": open_id, "scope": "user_info",
    });
    if let (Some(rt), Some(m)) = (refresh_token, data.as_object_mut()) {
        m.insert("refresh_token".into(), json!(rt));
        m.insert("refresh_expires_in".into(), json!(REFRESH_LIFETIME));
    }
    json!({"data": data, "message": "success"})
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let params = params_of(req);
        let path = req.url.path().to_owned();
        let op = TokenOp::of(&path);
        let mut st = self.0.state();
        st.log.push(FakeTokenRequest {
            method: req.method.to_string(),
            path: path.clone(),
            form: is_form(req),
            params: param_names(&params),
        });
        // A delay and an error can meet the same request: each kind is taken separately.
        let delay = match st.faults.take_if(&op, |f| matches!(f, Fault::Delay(_))) {
            Some(Fault::Delay(d)) => Some(d),
            _ => None,
        };
        let cut = st.faults.take_if(&op, |f| *f == Fault::Cut).is_some();
        let injected = match st
            .faults
            .take_if(&op, |f| !f.is_processed() && *f != Fault::Drop)
        {
            Some(Fault::Status(s)) => Some((s, Value::Null)),
            Some(Fault::Code(c, m)) if m.is_empty() => Some(error(c, "injected")),
            Some(Fault::Code(c, m)) => Some(error(c, &m)),
            Some(Fault::Busy) => Some(error(2100004, "系统繁忙")),
            Some(Fault::RateLimited) => Some(error(28003018, "请求过于频繁")),
            Some(Fault::TokenExpired) => Some(error(10008, "access_token 已过期")),
            _ => None,
        };
        let (status, body) = match injected {
            Some(answer) => answer,
            None => answer(&mut st, &path, &params),
        };
        drop(st);
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let text = if cut {
            // The work is done; the answer stops mid-body.
            text.get(..text.len() / 2).unwrap_or_default().to_owned()
        } else {
            text
        };
        let tpl = ResponseTemplate::new(status).set_body_raw(text, "application/json");
        match delay {
            Some(d) => tpl.set_delay(d),
            None => tpl,
        }
    }
}

/// The platform's answer to a token request.
fn answer(st: &mut State, path: &str, params: &HashMap<String, String>) -> (u16, Value) {
    let p = |k: &str| params.get(k).map(String::as_str).unwrap_or_default();
    if p("client_key") != FAKE_CLIENT_KEY {
        return error(10003, "client_key 错误");
    }
    match path {
        "/oauth/access_token/" => {
            if p("client_secret") != FAKE_CLIENT_SECRET {
                return error(10013, "client_secret 错误");
            }
            if p("grant_type") != "authorization_code" {
                return error(10002, "grant_type 错误");
            }
            let open_id = match st.codes.get_mut(p("code")) {
                Some((open_id, used)) if !*used => {
                    *used = true;
                    open_id.clone()
                }
                _ => return error(10007, "授权码过期或已使用"),
            };
            let rt = format!("rft.fake{}", bump(st));
            st.refresh.insert(rt.clone(), (open_id.clone(), 0));
            (200, tokens(st, &open_id, Some(rt)))
        }
        "/oauth/refresh_token/" => {
            if p("grant_type") != "refresh_token" {
                return error(10002, "grant_type 错误");
            }
            let Some((open_id, renewals)) = st.refresh.get(p("refresh_token")).cloned() else {
                return error(10010, "refresh_token 已过期");
            };
            let rotated = if st.rotate {
                st.refresh.remove(p("refresh_token"));
                let rt = format!("rft.fake{}", bump(st));
                st.refresh.insert(rt.clone(), (open_id.clone(), renewals));
                Some(rt)
            } else {
                None
            };
            (200, tokens(st, &open_id, rotated))
        }
        "/oauth/renew_refresh_token/" => {
            let Some((open_id, renewals)) = st.refresh.remove(p("refresh_token")) else {
                return error(10010, "refresh_token 已过期");
            };
            if renewals >= MAX_RENEWALS {
                st.refresh
                    .insert(p("refresh_token").to_owned(), (open_id, renewals));
                return error(10020, "刷新次数超过上限");
            }
            let rt = format!("rft.fake{}", bump(st));
            st.refresh.insert(rt.clone(), (open_id, renewals + 1));
            (
                200,
                json!({
                    "data": {"error_code": 0, "description": "", "refresh_token": rt, "expires_in": REFRESH_LIFETIME},
                    "message": "success",
                }),
            )
        }
        _ => (404, Value::Null),
    }
}
