//! The fake's request handling: routing, the profile's auth checked exactly, the mapping
//! validated, items stored, replays answered from memory.

use std::sync::{Arc, MutexGuard};

use conn_core::secret::Secret;
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::state::{FakeItem, FakeOp, State};
use crate::auth::{xhs_sign, Credentials};
use crate::profile::{
    value_text, AuthScheme, Code, HttpMethod, Pointer, Profile, DEFAULT_PUBLISH_API_METHOD,
    DEFAULT_STATS_API_METHOD,
};
use conn_core::fake::{envelope_answer, Fault};

/// The signing fields Xiaohongshu adds to a body; not part of the stored content.
const XHS_FIELDS: [&str; 6] = [
    "appId",
    "method",
    "version",
    "timestamp",
    "accessToken",
    "sign",
];

/// Decides whether a bearer token is live (tokens issued by an OAuth fake).
pub(super) type TokenCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub(super) struct Shared {
    pub(super) profile: Profile,
    pub(super) credentials: Credentials,
    pub(super) state: conn_core::fake::Shared<State>,
    /// When set, bearer tokens are checked by it instead of against the credentials.
    pub(super) token_check: conn_core::fake::Shared<Option<TokenCheck>>,
}

impl Shared {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }
}

pub(super) struct Responder(pub(super) Arc<Shared>);

enum Route {
    Publish,
    /// Stats, with the id when it was in the path.
    Stats(Option<String>),
    Unknown,
}

/// A failure answered in the profile's envelope.
struct Failure {
    status: u16,
    code: Code,
    message: String,
}

impl Route {
    fn op(&self) -> FakeOp {
        match self {
            Route::Publish => FakeOp::Publish,
            Route::Stats(_) => FakeOp::Stats,
            Route::Unknown => FakeOp::Any,
        }
    }
}

impl Shared {
    /// Counts a request of `route` (every answer, dropped ones included, is counted).
    fn count(st: &mut State, route: &Route) {
        st.requests += 1;
        match route {
            Route::Publish => st.publish_requests += 1,
            Route::Stats(_) => st.stats_requests += 1,
            Route::Unknown => {}
        }
    }

    /// Takes a pending [`Fault::Drop`] for the request's route (and counts the request).
    pub(super) fn take_drop(&self, req: &Request) -> bool {
        let route = route(&self.profile, req);
        let op = route.op();
        let mut st = self.state();
        if st.faults.peek(&op) != Some(&Fault::Drop) {
            return false;
        }
        st.faults.take(&op);
        Self::count(&mut st, &route);
        true
    }
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let shared = &self.0;
        let mut st = shared.state();
        let route = route(&shared.profile, req);
        Shared::count(&mut st, &route);
        let op = route.op();
        // A delay and an error can meet the same request: each kind is taken separately.
        let delay = match st.faults.take_if(&op, |f| matches!(f, Fault::Delay(_))) {
            Some(Fault::Delay(d)) => Some(d),
            _ => None,
        };
        let cut = st.faults.take_if(&op, |f| *f == Fault::Cut).is_some();
        let injected = st
            .faults
            .take_if(&op, |f| !f.is_processed() && *f != Fault::Drop)
            .and_then(|f| envelope_answer(&shared.profile.envelope, &f));
        let (status, body) = match injected {
            Some(answer) => answer,
            None => match handle(shared, &mut st, req, route) {
                Ok(ok) => ok,
                Err(f) => failure(&shared.profile, f),
            },
        };
        let tpl = if cut {
            // The work is done; the answer stops mid-body.
            let text = body.to_string();
            let half = text.get(..text.len() / 2).unwrap_or_default().to_owned();
            ResponseTemplate::new(status).set_body_raw(half, "application/json")
        } else {
            ResponseTemplate::new(status).set_body_json(body)
        };
        match delay {
            Some(d) => tpl.set_delay(d),
            None => tpl,
        }
    }
}

/// The status and body of a platform error: HTTP 200 where the platform does (ByteDance
/// style), else the error's status.
fn failure(profile: &Profile, f: Failure) -> (u16, Value) {
    let status = if profile.envelope.errors_with_http_200 {
        200
    } else {
        f.status
    };
    (status, profile.envelope.body_with(&f.code, &f.message))
}

fn first_or(codes: &[Code], fallback: u16) -> Code {
    codes
        .first()
        .cloned()
        .unwrap_or_else(|| Code::from(u32::from(fallback)))
}

fn route(profile: &Profile, req: &Request) -> Route {
    let path = req.url.path();
    let method = req.method.as_str();
    let publish = &profile.publish;
    if path == publish.path && method == publish.method.as_http().as_str() {
        return Route::Publish;
    }
    let stats = &profile.stats;
    if method != stats.method.as_http().as_str() {
        return Route::Unknown;
    }
    match stats.path.split_once("{id}") {
        None if path == stats.path => Route::Stats(None),
        Some((pre, post))
            if path.len() > pre.len() + post.len()
                && path.starts_with(pre)
                && path.ends_with(post) =>
        {
            let raw = &path[pre.len()..path.len() - post.len()];
            match percent_decode_str(raw).decode_utf8() {
                Ok(id) if !id.contains('/') => Route::Stats(Some(id.into_owned())),
                _ => Route::Unknown,
            }
        }
        _ => Route::Unknown,
    }
}

fn handle(
    shared: &Shared,
    st: &mut State,
    req: &Request,
    route: Route,
) -> Result<(u16, Value), Failure> {
    let profile = &shared.profile;
    let not_found = |what: String| Failure {
        status: 404,
        code: first_or(&profile.envelope.not_found_codes, 404),
        message: what,
    };
    if matches!(route, Route::Unknown) {
        return Err(not_found(format!(
            "no such endpoint: {} {}",
            req.method,
            req.url.path()
        )));
    }
    let body: Option<Value> = if req.body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => Some(v),
            Err(e) => return Err(invalid(format!("body is not JSON: {e}"))),
        }
    };
    let api_method = match &route {
        Route::Publish => profile
            .publish
            .api_method
            .as_deref()
            .unwrap_or(DEFAULT_PUBLISH_API_METHOD),
        _ => profile
            .stats
            .api_method
            .as_deref()
            .unwrap_or(DEFAULT_STATS_API_METHOD),
    };
    let token_check = shared.token_check.lock().clone();
    if let Err(why) = check_auth(
        profile,
        &shared.credentials,
        token_check.as_ref(),
        req,
        body.as_ref(),
        api_method,
    ) {
        st.auth_failures += 1;
        return Err(Failure {
            status: 401,
            code: first_or(&profile.envelope.auth_codes, 401),
            message: format!("authentication failed: {why}"),
        });
    }
    match route {
        Route::Publish => publish(profile, st, req, body),
        Route::Stats(id) => {
            let id = match id {
                Some(id) => id,
                None => match stats_id(profile, req, body.as_ref()) {
                    Some(id) => id,
                    None => {
                        return Err(invalid(format!(
                            "missing content id `{}`",
                            profile.stats.id_field
                        )))
                    }
                },
            };
            if !st.items.iter().any(|i| i.id == id) {
                return Err(not_found(format!("content {id} does not exist")));
            }
            let s = st.stats.get(&id).copied().unwrap_or_default();
            let mut out = profile.envelope.success_body();
            let m = &profile.response.stats;
            for (ptr, v) in [
                (&m.views, s.views),
                (&m.likes, s.likes),
                (&m.comments, s.comments),
                (&m.shares, s.shares),
                (&m.favorites, s.favorites),
            ] {
                if let Some(p) = ptr {
                    set(&mut out, p, json!(v));
                }
            }
            Ok((200, out))
        }
        Route::Unknown => Err(not_found("no such endpoint".into())),
    }
}

fn invalid(message: String) -> Failure {
    Failure {
        status: 400,
        code: Code::from(400),
        message,
    }
}

/// Writes into a response; pointers of a validated profile never cross a scalar.
fn set(doc: &mut Value, p: &Pointer, v: Value) {
    let _ = p.set(doc, v);
}

fn stats_id(profile: &Profile, req: &Request, body: Option<&Value>) -> Option<String> {
    let field = &profile.stats.id_field;
    match profile.stats.method {
        HttpMethod::Get => req
            .url
            .query_pairs()
            .find(|(k, _)| k == field.as_str())
            .map(|(_, v)| v.into_owned()),
        HttpMethod::Post | HttpMethod::Put => body
            .and_then(|b| Pointer::new(field).get(b))
            .map(value_text),
    }
    .filter(|s| !s.is_empty())
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the request's credentials the way the profile's server would; the error says what
/// did not match (never the expected secret).
fn check_auth(
    profile: &Profile,
    creds: &Credentials,
    token_check: Option<&TokenCheck>,
    req: &Request,
    body: Option<&Value>,
    api_method: &str,
) -> Result<(), String> {
    let eq = |got: Option<&str>, want: Option<&Secret>| match (got, want) {
        (Some(g), Some(w)) => Secret::new(g) == *w,
        _ => false,
    };
    match &profile.auth {
        AuthScheme::None => Ok(()),
        AuthScheme::Bearer => {
            let got = header(req, "authorization").and_then(|v| v.strip_prefix("Bearer "));
            let managed = token_check
                .as_ref()
                .map(|check| got.is_some_and(|g| check(g)));
            if managed
                .unwrap_or_else(|| eq(got, creds.access_token.as_ref().map(|t| t.as_secret())))
            {
                Ok(())
            } else {
                Err("missing or wrong bearer token".into())
            }
        }
        AuthScheme::ApiKey { header: name } => {
            if eq(
                header(req, name),
                creds.api_key.as_ref().map(|k| k.as_secret()),
            ) {
                Ok(())
            } else {
                Err(format!("missing or wrong {name} header"))
            }
        }
        AuthScheme::XhsSign { version } => {
            let body = body.ok_or("no JSON body to verify")?;
            let field = |k: &str| body.get(k).map(value_text);
            let app_id = field("appId").ok_or("appId missing")?;
            if Some(&app_id) != creds.app_id.as_ref() {
                return Err("unknown appId".into());
            }
            let method = field("method").ok_or("method missing")?;
            if method != api_method {
                return Err(format!("method {method:?} is not served here"));
            }
            let got_version = field("version").ok_or("version missing")?;
            if &got_version != version {
                return Err(format!("unsupported version {got_version:?}"));
            }
            let ts = field("timestamp").ok_or("timestamp missing")?;
            if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
                return Err("timestamp must be whole seconds".into());
            }
            if !eq(
                field("accessToken").as_deref(),
                creds.access_token.as_ref().map(|t| t.as_secret()),
            ) {
                return Err("invalid accessToken".into());
            }
            let secret = creds
                .app_secret
                .as_ref()
                .ok_or("no app secret configured")?;
            let want = xhs_sign(&method, &app_id, &ts, &got_version, secret.as_secret());
            if field("sign").as_deref() != Some(want.as_str()) {
                return Err("sign mismatch".into());
            }
            Ok(())
        }
    }
}

fn publish(
    profile: &Profile,
    st: &mut State,
    req: &Request,
    body: Option<Value>,
) -> Result<(u16, Value), Failure> {
    let key = profile
        .idempotency_header
        .as_deref()
        .and_then(|h| header(req, h))
        .map(str::to_owned);
    if let Some(k) = &key {
        if let Some(first) = st.by_key.get(k) {
            return Ok(first.clone());
        }
    }
    let mut body = body.ok_or_else(|| invalid("empty body".into()))?;
    if matches!(profile.auth, AuthScheme::XhsSign { .. }) {
        if let Some(o) = body.as_object_mut() {
            for f in XHS_FIELDS {
                o.remove(f);
            }
        }
    }
    let content = profile.mapping.read(&body).map_err(invalid)?;
    if let Err(e) = profile.limits.check(&content) {
        return Err(invalid(e.to_string()));
    }
    st.next_id += 1;
    let id = format!("{}-{:06}", profile.name, st.next_id);
    st.items.push(FakeItem {
        id: id.clone(),
        content,
        raw: body,
        idempotency_key: key.clone(),
    });
    let mut out = profile.envelope.success_body();
    set(&mut out, &profile.response.id, Value::String(id));
    if let Some(k) = key {
        st.by_key.insert(k, (200, out.clone()));
    }
    Ok((200, out))
}
